"""What every race test checks of its racers' answers, and reads back from the race database."""

import time

from sqlalchemy import func, select

from marketplace.audit.models import AuditRecord
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.concurrency.harness import flashes


def no_server_errors(outcomes) -> None:
    """No racer saw a 5xx or raised: a lost race is answered in words."""
    problems = [
        o if isinstance(o, Exception) else (o.status, o.text[:300])
        for o in outcomes
        if isinstance(o, Exception) or o.status >= 500
    ]
    assert problems == [], problems


def later(delay_ms: int, call):
    """The call, made after a delay: for races whose window opens some way into the other racer's request."""
    time.sleep(delay_ms / 1000)
    return call()


def told(outcomes, words: str) -> int:
    """How many racers were told these words (in a flash)."""
    return sum(words in " ".join(flashes(o.text)) for o in outcomes)


def audit_count(action: str, subject_id: int) -> int:
    """How many audit records of this action name this subject (call inside an app context)."""
    return db.session.execute(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.action == action, AuditRecord.subject_id == subject_id)
    ).scalar_one()


def notification_count(kind: str, *, user_id: int | None = None, job_id: int | None = None) -> int:
    query = select(func.count()).select_from(Notification).where(Notification.kind == kind)
    if user_id is not None:
        query = query.where(Notification.user_id == user_id)
    if job_id is not None:
        query = query.where(Notification.job_id == job_id)
    return db.session.execute(query).scalar_one()
