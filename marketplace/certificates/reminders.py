"""Reminding vendors before a certificate expires, run with the disclosure reminders (`flask reminders`, and the
task queue's scheduled run in marketplace.disclosures.reminders).

A verified certificate's vendor hears when 60, 30 and 7 days or fewer are left, and once more when it has expired:
each reminder sent is recorded (CertificateReminder, unique per certificate and threshold), so a second run, or two
at once, send nothing more. A run sends only the nearest threshold reached (a certificate verified with 20 days
left hears of 30 days, then of 7). A certificate the vendor has renewed (another one of the same kind, not
rejected, expiring later) is not reminded of.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization
from marketplace.certificates.models import Certificate, CertificateReminder, CertificateStatus
from marketplace.certificates.service import VENDOR_LINK, label
from marketplace.db_types import utcnow
from marketplace.notifications.service import notify_org

THRESHOLDS = (60, 30, 7)  # days left
EXPIRED = 0  # the threshold recorded for the reminder that it has expired
# An expiry longer ago than this is old news: a first run after an upgrade does not announce it.
EXPIRED_NEWS_DAYS = 30
KIND = "certificate_expiry"


@dataclass
class CertificateReminderRun:
    sent: Counter = field(default_factory=Counter)
    already_sent: int = 0
    recipients: int = 0


def threshold_reached(expires_on: date, on: date) -> int | None:
    """The nearest threshold the certificate has reached on the day, or None when none has (or its expiry is old)."""
    days_left = (expires_on - on).days
    if days_left < 0:  # it counts through its expiry date: expired from the day after
        return EXPIRED if days_left >= -EXPIRED_NEWS_DAYS else None
    reached = [threshold for threshold in THRESHOLDS if days_left <= threshold]
    return min(reached) if reached else None


def message(org: Organization, certificate: Certificate, threshold: int, on: date) -> str:
    what = f"{org.name}'s {label(certificate.kind)} certificate"
    if threshold == EXPIRED:
        return (
            f"{what} expired on {certificate.expires_on.isoformat()}: labs requiring it no longer see it as held. "
            "Upload the renewed certificate for an admin to verify."
        )
    days_left = (certificate.expires_on - on).days
    return (
        f"{what} expires on {certificate.expires_on.isoformat()} (in {days_left} days). Upload the renewed "
        "certificate before then, so that labs requiring it keep seeing it as held."
    )


def _due(session: Session, on: date) -> list[Certificate]:
    """Verified certificates expiring within the widest threshold, or expired lately, not renewed."""
    candidates = list(
        session.execute(
            select(Certificate).where(
                col(Certificate.status) == CertificateStatus.VERIFIED,
                col(Certificate.expires_on) <= on + timedelta(days=max(THRESHOLDS)),
                col(Certificate.expires_on) >= on - timedelta(days=EXPIRED_NEWS_DAYS),
            )
        ).scalars()
    )
    if not candidates:
        return []
    renewals = session.execute(
        select(col(Certificate.vendor_org_id), col(Certificate.kind), col(Certificate.expires_on)).where(
            col(Certificate.vendor_org_id).in_({c.vendor_org_id for c in candidates}),
            col(Certificate.status) != CertificateStatus.REJECTED,
        )
    ).all()
    return [
        c
        for c in candidates
        if not any(v == c.vendor_org_id and k == c.kind and e > c.expires_on for v, k, e in renewals)
    ]


def _claim(session: Session, certificate_id: int, threshold: int) -> CertificateReminder | None:
    """Record the reminder before sending it; None when it went out already."""
    exists = session.execute(
        select(col(CertificateReminder.id)).where(
            col(CertificateReminder.certificate_id) == certificate_id,
            col(CertificateReminder.days_before) == threshold,
        )
    ).first()
    if exists:
        return None
    row = CertificateReminder(certificate_id=certificate_id, days_before=threshold)
    try:
        # A run going on at the same time may have claimed it since: the unique key decides.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def send_expiry_reminders(session: Session, now: datetime | None = None) -> CertificateReminderRun:
    """Notify the users of every vendor whose verified certificate reached a threshold, once per threshold."""
    on = (now or utcnow()).date()
    run = CertificateReminderRun()
    for certificate in _due(session, on):
        threshold = threshold_reached(certificate.expires_on, on)
        if threshold is None:
            continue
        org = cast(Organization, session.get(Organization, certificate.vendor_org_id))
        if org.suspended_at is not None:  # it cannot upload until reinstated: its banner says why
            continue
        row = _claim(session, certificate.id, threshold)
        if row is None:
            run.already_sent += 1
            continue
        row.recipients = notify_org(session, org.id, KIND, message(org, certificate, threshold, on), VENDOR_LINK)
        run.sent["certificate expired" if threshold == EXPIRED else "certificate expiring"] += 1
        run.recipients += row.recipients
    session.flush()
    return run
