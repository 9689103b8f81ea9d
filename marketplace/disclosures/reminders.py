"""Reminding vendors of the disclosures they owe: `flask reminders`, meant for a scheduler.

A vendor hears once per obligation and week: each reminder sent is recorded (ReminderSent, unique per vendor,
kind and ISO week), so a second run in the same week, or two runs at once, send nothing more.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization
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
    session.flush()
    return run


@click.command("reminders")
@with_appcontext
def reminders_command() -> None:
    """Remind vendors of stale or overdue disclosures; safe to run again (nothing is sent twice a week)."""
    run = send_reminders(db.session)
    db.session.commit()
    click.echo(run.summary())
