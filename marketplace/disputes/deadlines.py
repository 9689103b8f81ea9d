"""A dispute's answer deadline: the side that did not open it is reminded once, ANSWER_REMINDER before its answer is
due, if it has not answered. Run with the other reminders (`flask reminders`, the queue's run); safe to run again:
the dispute is locked and re-read, and the reminder recorded on it before it is sent."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.db_types import utcnow
from marketplace.disputes import service
from marketplace.disputes.models import Dispute, DisputeStatus

ANSWER_REMINDER = timedelta(days=2)


def remind_to_answer(session: Session, now: datetime | None = None) -> int:
    """Remind the other side of every open dispute whose answer is due within ANSWER_REMINDER; how many."""
    now = now or utcnow()
    due = session.execute(
        select(col(Dispute.id)).where(
            col(Dispute.status) == DisputeStatus.OPEN,
            col(Dispute.reminded_at).is_(None),
            col(Dispute.respond_by) > now,
            col(Dispute.respond_by) <= now + ANSWER_REMINDER,
        )
    ).scalars()
    reminded = 0
    for dispute_id in list(due):
        dispute = session.execute(
            select(Dispute)
            .where(col(Dispute.id) == dispute_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        if dispute.reminded_at is not None:
            continue  # another run reminded it meanwhile
        dispute.reminded_at = now
        if service.remind_other_side(session, dispute):
            reminded += 1
    session.flush()
    return reminded


def run_deadlines(session: Session) -> str:
    """The disputes' part of the reminders run: its summary line."""
    return f"Dispute answers due: {remind_to_answer(session)} reminded."
