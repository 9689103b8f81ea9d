"""Questions and answers over the API, as on the job page: a vendor asks, the lab answers, every vendor that may
see the job reads the answer without learning who asked."""

from flask import url_for

from marketplace import visibility
from marketplace.accounts.models import User
from marketplace.api.routing import Created, operation
from marketplace.api.schemas import AnswerIn, QuestionIn, QuestionList, QuestionOut
from marketplace.extensions import db
from marketplace.jobs import service
from marketplace.ndas import service as ndas


def _questions(user: User, job_id: int) -> list[QuestionOut]:
    job = visibility.get_visible_job(db.session, user, job_id)
    if ndas.gate(db.session, user, job):  # the questions are part of the brief, behind the lab's NDA
        return []
    return [
        QuestionOut(
            id=view.id,
            text=view.text,
            asked_at=view.asked_at,
            answer=view.answer or None,
            answered_at=view.answered_at,
            asked_by_your_organisation=view.mine,
        )
        for view in service.questions_for(db.session, user, job)
    ]


def _one(user: User, job_id: int, question_id: int) -> QuestionOut:
    return next(question for question in _questions(user, job_id) if question.id == question_id)


@operation(
    "GET",
    "/jobs/<int:job_id>/questions",
    summary="Read a job's questions and answers",
    scope="jobs:read",
    response=QuestionList,
    tag="questions",
)
def list_questions(user: User, job_id: int) -> QuestionList:
    """Answered questions for everyone who may see the job; unanswered ones for the lab and the asker's side."""
    return QuestionList(items=_questions(user, job_id))


@operation(
    "POST",
    "/jobs/<int:job_id>/questions",
    summary="Ask about a job",
    scope="questions:write",
    response=QuestionOut,
    body=QuestionIn,
    status=201,
    kinds=("vendor",),
    creates=True,
    tag="questions",
)
def ask(user: User, job_id: int, body: QuestionIn) -> Created:
    """Ask about an open job you may see, as jobs.ask does; the lab is told, without your name."""
    question = service.ask_question(db.session, user, job_id, body.text)
    return Created(_one(user, job_id, question.id), url_for("api.list_questions", job_id=job_id))


@operation(
    "POST",
    "/jobs/<int:job_id>/questions/<int:question_id>/answer",
    summary="Answer a question on your job",
    scope="questions:write",
    response=QuestionOut,
    body=AnswerIn,
    kinds=("buyer",),
    tag="questions",
)
def answer(user: User, job_id: int, question_id: int, body: AnswerIn) -> QuestionOut:
    """Publish the answer to every vendor that may see the job, as jobs.answer does."""
    service.answer_question(db.session, user, job_id, question_id, body.answer)
    return _one(user, job_id, question_id)
