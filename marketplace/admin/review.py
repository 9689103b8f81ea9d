"""What an admin needs to review disclosures: the queue by filter, and the screening effect of approving.

The effect of approving is computed, not guessed: inside a SAVEPOINT the version is marked approved, every buyer
screens the vendor again, and the savepoint is rolled back, so nothing is written.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.db_types import utcnow
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.screening.service import screen_vendor
from marketplace.screening.verdicts import Screening, Verdict

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


class ReviewError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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


def review_queue(session: Session, user: User, queue_filter: str = "submitted",
                 now: datetime | None = None) -> list[QueueRow]:
    """The rows under one filter: filed versions by status (the longest-waiting submitted first), or vendors
    whose disclosure is stale or owes a new version after a material change (the oldest first)."""
    if not user.is_admin:
        raise ReviewError("Only platform admins review disclosures.")
    if queue_filter not in QUEUE_FILTERS:
        raise ReviewError("Choose one of the queue's filters.", "status")
    now = now or utcnow()
    if queue_filter in STATUS_FILTERS:
        return [QueueRow(row.version.vendor_org_id, row.vendor_name, row.version, row.age_days,
                         row.version.submitted_at or row.version.created_at)
                for row in disclosures.review_queue(session, user, queue_filter, now)]
    return _obligation_rows(session, queue_filter, now)


def _obligation_rows(session: Session, kind: str, now: datetime) -> list[QueueRow]:
    from marketplace.disclosures.obligations import disclosure_obligations

    obligations = [o for o in disclosure_obligations(session, now) if str(o.kind) == kind]
    names = dict(session.execute(select(Organization.id, Organization.name).where(
        Organization.id.in_({o.vendor_org_id for o in obligations}))).all())
    rows = [QueueRow(o.vendor_org_id, names.get(o.vendor_org_id, ""), _latest_filed(session, o.vendor_org_id),
                     _days_since(o.since, now), o.since, o.detail) for o in obligations]
    return sorted(rows, key=lambda row: (-row.age_days, row.vendor_name))


def _latest_filed(session: Session, vendor_org_id: int) -> DisclosureVersion | None:
    return session.execute(
        select(DisclosureVersion).where(DisclosureVersion.vendor_org_id == vendor_org_id,
                                        DisclosureVersion.status != DisclosureStatus.DRAFT)
        .order_by(DisclosureVersion.number.desc()).limit(1)
    ).scalar_one_or_none()


# --- The screening effect of approving -------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictShift:
    buyer_org_id: int
    buyer_name: str
    before: Verdict
    after: Verdict

    @property
    def text(self) -> str:
        return f"{self.buyer_name} {self.before} → {self.after}"


@dataclass(frozen=True)
class ApprovalEffect:
    shifts: list[VerdictShift]
    buyers_screened: int

    @property
    def summary(self) -> str:
        if not self.shifts:
            return f"Approving would change no buyer's verdict ({self.buyers_screened} screened)."
        count = len(self.shifts)
        whose = "1 buyer's verdict" if count == 1 else f"{count} buyers' verdicts"
        return f"Approving would change {whose}: " + ", ".join(shift.text for shift in self.shifts) + "."


def _screen_all(session: Session, buyers: list[Organization], vendor: Organization) -> dict[int, Screening]:
    return {buyer.id: screen_vendor(session, buyer.id, vendor) for buyer in buyers}


def approval_effect(session: Session, user: User, version_id: int) -> ApprovalEffect | None:
    """How approving this submitted version would change each buyer's verdict of the vendor; None for a version
    that cannot be approved. Nothing is written: the approval is tried inside a savepoint rolled back at once.
    Raises NotVisible (404) for a draft or missing version, or a user who is not an admin."""
    version = disclosures.get_filed_version(session, user, version_id)
    if version.status != DisclosureStatus.SUBMITTED:
        return None
    vendor = session.get(Organization, version.vendor_org_id)
    buyers = list(session.execute(select(Organization).where(Organization.kind == OrgKind.BUYER)
                                  .order_by(Organization.name, Organization.id)).scalars())
    before = _screen_all(session, buyers, vendor)
    savepoint = session.begin_nested()
    try:
        version.status = DisclosureStatus.APPROVED
        version.decided_at = utcnow()
        version.decided_by_id = user.id
        session.flush()
        after = _screen_all(session, buyers, vendor)
    finally:
        savepoint.rollback()
    shifts = [VerdictShift(buyer.id, buyer.name, before[buyer.id].verdict, after[buyer.id].verdict)
              for buyer in buyers if before[buyer.id].verdict != after[buyer.id].verdict]
    return ApprovalEffect(shifts, len(buyers))


def ownership_picture(session: Session, vendor: Organization):
    """The graph around the vendor as screening reads it, with every party some buyer names as a rival marked;
    None when the vendor has no node in the graph."""
    from marketplace.screening.models import Rival
    from marketplace.screening.picture import vendor_picture

    if vendor.party_id is None:
        return None
    rivals = session.execute(select(Rival.party_id).distinct()).scalars().all()
    return vendor_picture(session, vendor.party_id, Screening(vendor.id), rivals, utcnow().date())
