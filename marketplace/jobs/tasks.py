"""The jobs' work the task queue runs (marketplace.tasks): telling vendors of an answer given while the lab's
verdicts were being re-screened (jobs.service.answer_question), so that no web request screens every vendor live.

Idempotent: the question is locked and its told_at read again, so a retry or a second copy tells no one twice; a
starting worker queues again every answer not yet told (an enqueue lost with Redis down, say).
"""

from typing import cast

from sqlalchemy import select
from sqlmodel import col

from marketplace import tasks
from marketplace.extensions import db
from marketplace.jobs import service
from marketplace.jobs.models import Job, Question
from marketplace.locking import lock_row


def tell_answer(question_id: int) -> dict:
    """Tell the vendors that may see the question's job of its answer, unless they were told already. Run after the
    lab's re-screen (queued before it, on the same queue) it reads the stored verdicts; run beside it (a second
    worker), vendor_ids_seeing screens live: slower, never wrong."""
    session = db.session
    question = lock_row(session, Question, question_id)
    if question is None or question.answered_at is None or question.told_at is not None:
        session.rollback()
        return {"question_id": question_id, "done": "already"}
    job = cast(Job, session.get(Job, question.job_id))
    told = service.tell_answer(session, job, question)
    session.commit()
    return {"question_id": question_id, "users_told": told}


def requeue_on_worker_start() -> None:
    """A starting worker first queues again every answer whose vendors were not yet told."""
    untold = list(
        db.session.execute(
            select(col(Question.id)).where(col(Question.answered_at).is_not(None), col(Question.told_at).is_(None))
        ).scalars()
    )
    db.session.close()
    for question_id in untold:
        tasks.enqueue(
            service.TELL_ANSWER_TASK,
            question_id,
            job_id=service.tell_answer_job_id(question_id),
            description=f"tell the vendors of the answer to question {question_id} (queued again)",
        )
    if untold:
        tasks.log.info("Queued %d untold answers again", len(untold))
