"""Reminding vendors of the disclosures they owe: on the task queue, or `flask reminders` from a scheduler.

A vendor hears once per obligation and week: each reminder sent is recorded (ReminderSent, unique per vendor,
kind and ISO week), so a second run in the same week, or two runs at once, send nothing more.

With the task queue configured (REDIS_URL), the workers run the reminders themselves every REMINDER_INTERVAL_HOURS
(default 24; 0 turns it off): a starting worker queues a run at once, and each run books the next one at the next
boundary of the interval (UTC), under a job id made from that time, so that any number of workers book each run
once. Without the queue, a system scheduler (cron) runs `flask reminders`.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import tasks
from marketplace.accounts.models import Organization
from marketplace.certificates.reminders import send_expiry_reminders
from marketplace.db_types import utcnow
from marketplace.disclosures.models import ReminderSent
from marketplace.disclosures.obligations import (
    MATERIAL_CHANGE_DAYS,
    MATERIAL_CHANGE_OVERDUE,
    STALE,
    Obligation,
    disclosure_obligations,
)
from marketplace.extensions import db
from marketplace.notifications.service import notify_org

log = logging.getLogger(__name__)

REMINDED_KINDS = (STALE, MATERIAL_CHANGE_OVERDUE)
DISCLOSURE_LINK = "/disclosure/"


def period_key(moment: datetime) -> str:
    """The ISO week a reminder belongs to, e.g. 2026-W07."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def reminder_message(org: Organization, obligation: Obligation) -> str:
    if obligation.kind == STALE:
        return (
            f"{org.name}'s ownership disclosure is more than 12 months old. {obligation.detail} File a new "
            "version so that buyers keep seeing your ownership as verified."
        )
    return (
        f"{org.name} owes a new disclosure version: a vendor must file one within {MATERIAL_CHANGE_DAYS} "
        f"days of a material change. {obligation.detail}"
    )


@dataclass
class ReminderRun:
    sent: Counter = field(default_factory=Counter)
    already_sent: int = 0
    skipped_suspended: int = 0
    recipients: int = 0

    def summary(self) -> str:
        kinds = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in sorted(self.sent.items()))
        total = sum(self.sent.values())
        text = f"Reminders sent: {total}" + (f" ({kinds}) to {self.recipients} users" if total else "")
        return (
            f"{text}; already sent this week: {self.already_sent}; "
            f"skipped (suspended vendors): {self.skipped_suspended}."
        )


def _claim(session: Session, obligation: Obligation, key: str) -> ReminderSent | None:
    """Record the reminder before sending it; None when this period's reminder went out already."""
    exists = session.execute(
        select(col(ReminderSent.id)).where(
            col(ReminderSent.vendor_org_id) == obligation.vendor_org_id,
            col(ReminderSent.kind) == obligation.kind,
            col(ReminderSent.period_key) == key,
        )
    ).first()
    if exists:
        return None
    row = ReminderSent(vendor_org_id=obligation.vendor_org_id, kind=obligation.kind, period_key=key)
    try:
        # A run going on at the same time may have claimed it since: the unique key decides.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def send_reminders(session: Session, now: datetime | None = None) -> ReminderRun:
    """Notify the users of every vendor with a stale disclosure or an overdue one after a material change."""
    now = now or utcnow()
    key = period_key(now)
    run = ReminderRun()
    for obligation in disclosure_obligations(session, now):
        if obligation.kind not in REMINDED_KINDS:
            continue
        org = cast(Organization, session.get(Organization, obligation.vendor_org_id))
        if org.suspended_at is not None:  # it cannot file until reinstated: its banner says why
            run.skipped_suspended += 1
            continue
        row = _claim(session, obligation, key)
        if row is None:
            run.already_sent += 1
            continue
        row.recipients = notify_org(
            session, org.id, "disclosure_reminder", reminder_message(org, obligation), DISCLOSURE_LINK
        )
        run.sent[obligation.kind] += 1
        run.recipients += row.recipients
    certificates = send_expiry_reminders(session, now)  # one reminder per certificate and threshold
    run.sent.update(certificates.sent)
    run.already_sent += certificates.already_sent
    run.recipients += certificates.recipients
    session.flush()
    return run


# Other deadlines the same runs keep (a delivery's acceptance deadline), registered by the app factory: each takes
# the session, acts in its transaction and returns its summary line.
_ALSO_RUN: dict[str, Callable[[Session], str]] = {}


def also_run(step: Callable[[Session], str]) -> None:
    """Have every reminders run (the command and the queue's) also run this step, once however often registered."""
    _ALSO_RUN[f"{step.__module__}.{step.__qualname__}"] = step


def _run_others(session: Session) -> str:
    return "".join(f" {step(session)}" for step in _ALSO_RUN.values())


REMINDERS_TASK = "marketplace.disclosures.reminders.reminders_job"


def reminders_job() -> str:
    """The queue's run: this week's reminders, then the next run booked. Its summary is the job's result."""
    run = send_reminders(db.session)
    summary = run.summary() + _run_others(db.session)
    db.session.commit()
    book_next_run()
    log.info("%s", summary)
    return summary


def _slot(moment: datetime, hours: int) -> datetime:
    """The start of the interval `moment` falls in (intervals counted from the Unix epoch, UTC)."""
    seconds = hours * 3600
    start = int(moment.replace(tzinfo=UTC).timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start, UTC)


def book_next_run(now: datetime | None = None) -> bool:
    """Book the queue's next reminders run, at the next interval boundary; False when it was booked already (by
    this run, another worker) or the interval is 0."""
    hours = current_app.config.get("REMINDER_INTERVAL_HOURS", 24)
    if not hours:
        return False
    at = _slot(now or utcnow(), hours) + timedelta(hours=hours)
    return tasks.enqueue_at(at, REMINDERS_TASK, job_id=_run_key(at), description="disclosure reminders") is not None


def _run_key(slot: datetime) -> str:
    """The job id of the reminders run of one interval: the same for every worker that books it."""
    return tasks.job_id("reminders", slot.strftime("%Y%m%dT%H%M"))


def run_on_worker_start() -> None:
    """A starting worker catches up (a run now, once for every worker starting within the same interval) and books
    the next run: reminders never wait on a worker that was down when one was due."""
    hours = current_app.config.get("REMINDER_INTERVAL_HOURS", 24)
    if not hours:
        return
    tasks.enqueue(REMINDERS_TASK, job_id=_run_key(_slot(utcnow(), hours)), description="disclosure reminders")
    book_next_run()


@click.command("reminders")
@with_appcontext
def reminders_command() -> None:
    """Remind vendors of stale or overdue disclosures and of certificates about to expire, and keep the contracts'
    acceptance deadlines; safe to run again (nothing is sent twice a week, nor twice for one certificate and
    threshold, and no payment is released twice)."""
    run = send_reminders(db.session)
    others = _run_others(db.session)
    db.session.commit()
    click.echo(run.summary() + others)
