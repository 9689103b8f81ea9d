"""The admins' review queue: filed disclosure versions by status, and vendors whose disclosure is stale, overdue
after a material change, or was never filed."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, User
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.disclosures.obligations import disclosure_obligations
from marketplace.disclosures.service import DisclosureError

STATUS_FILTERS = {
    "submitted": "Awaiting review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "rejected": "Rejected",
    "all": "All",
}
OBLIGATION_FILTERS = {
    "stale": "Stale",
    "material_change_overdue": "Material change overdue",
    "never_filed": "Never filed",
}
QUEUE_FILTERS = {**STATUS_FILTERS, **OBLIGATION_FILTERS}


@dataclass(frozen=True)
class QueueRow:
    vendor_org_id: int
    vendor_name: str
    version: DisclosureVersion | None  # the version to open, if the vendor has filed one
    age_days: int  # since submission, or since the obligation arose
    since: datetime | date | None
    detail: str = ""


def _days_since(moment: datetime | date | None, now: datetime) -> int:
    if moment is None:
        return 0
    if isinstance(moment, datetime):
        return (now - moment).days
    return (now.date() - moment).days


def review_queue(
    session: Session, user: User, queue_filter: str = "submitted", now: datetime | None = None
) -> list[QueueRow]:
    """The rows under one filter: filed versions by status (the longest-waiting submitted first), or vendors
    whose disclosure is stale or owes a new version after a material change (the oldest first)."""
    if not user.is_admin:
        raise DisclosureError("Only platform admins review disclosures.")
    if queue_filter not in QUEUE_FILTERS:
        raise DisclosureError("Choose one of the queue's filters.", "status")
    now = now or utcnow()
    if queue_filter in STATUS_FILTERS:
        return _filed_rows(session, queue_filter, now)
    return _obligation_rows(session, queue_filter, now)


def _filed_rows(session: Session, status: str, now: datetime) -> list[QueueRow]:
    """Filed versions with the status (or all): the longest-waiting first when submitted, else the newest."""
    query = (
        select(DisclosureVersion, col(Organization.name))
        .join(Organization, col(Organization.id) == DisclosureVersion.vendor_org_id)
        .where(col(DisclosureVersion.status) != DisclosureStatus.DRAFT)
    )
    if status != "all":
        query = query.where(col(DisclosureVersion.status) == status)
    submitted = func.coalesce(DisclosureVersion.submitted_at, DisclosureVersion.created_at)
    query = query.order_by(submitted.asc() if status == "submitted" else submitted.desc(), col(DisclosureVersion.id))
    rows = []
    for version, name in session.execute(query).all():
        since = version.submitted_at or version.created_at
        rows.append(QueueRow(version.vendor_org_id, name, version, _days_since(since, now), since))
    return rows


def _obligation_rows(session: Session, kind: str, now: datetime) -> list[QueueRow]:
    obligations = [o for o in disclosure_obligations(session, now) if str(o.kind) == kind]
    names = dict(
        session.execute(
            select(col(Organization.id), col(Organization.name)).where(
                col(Organization.id).in_({o.vendor_org_id for o in obligations})
            )
        ).all()
    )
    rows = [
        QueueRow(
            o.vendor_org_id,
            names.get(o.vendor_org_id, ""),
            _latest_filed(session, o.vendor_org_id),
            _days_since(o.since, now),
            o.since,
            o.detail,
        )
        for o in obligations
    ]
    return sorted(rows, key=lambda row: (-row.age_days, row.vendor_name))


def _latest_filed(session: Session, vendor_org_id: int) -> DisclosureVersion | None:
    return session.execute(
        select(DisclosureVersion)
        .where(
            col(DisclosureVersion.vendor_org_id) == vendor_org_id,
            col(DisclosureVersion.status) != DisclosureStatus.DRAFT,
        )
        .order_by(col(DisclosureVersion.number).desc())
        .limit(1)
    ).scalar_one_or_none()
