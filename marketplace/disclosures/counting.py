"""Which disclosure versions count in screening.

Every tie that is not rejected counts: the latest approved version and every version filed after it that
awaits review (submitted, or sent back for changes). A tie removed in a newer version stops counting only once
that version is approved, so a vendor cannot escape a verdict by leaving a disclosure unreviewed.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion

PENDING_STATUSES = (DisclosureStatus.SUBMITTED, DisclosureStatus.CHANGES_REQUESTED)


def awaiting_review(session: Session, vendor_org_id: int) -> bool:
    """Whether the vendor has filed a version that an admin has not yet reviewed (submitted or sent back for
    changes, after its latest approved one): its unreviewed claims count against it, unseen by it (see
    docs/screening.md, "What an unreviewed filing may reveal")."""
    rows = session.execute(select(DisclosureVersion.number, DisclosureVersion.status)
                           .where(DisclosureVersion.vendor_org_id == vendor_org_id,
                                  DisclosureVersion.status != DisclosureStatus.DRAFT)).all()
    approved = max((number for number, status in rows if status == DisclosureStatus.APPROVED), default=0)
    return any(status in PENDING_STATUSES and number > approved for number, status in rows)


def counted_version_ids(session: Session, vendor_org_ids: list[int] | None = None) -> set[int]:
    """Ids of the disclosure versions whose ties count, for the given vendors (or all vendors)."""
    query = select(DisclosureVersion.id, DisclosureVersion.vendor_org_id, DisclosureVersion.number,
                   DisclosureVersion.status).where(DisclosureVersion.status != DisclosureStatus.DRAFT)
    if vendor_org_ids is not None:
        query = query.where(DisclosureVersion.vendor_org_id.in_(vendor_org_ids))
    rows = session.execute(query).all()
    latest_approved: dict[int, int] = {}
    for _id, vendor, number, status in rows:
        if status == DisclosureStatus.APPROVED and number > latest_approved.get(vendor, 0):
            latest_approved[vendor] = number
    counted = set()
    for version_id, vendor, number, status in rows:
        floor = latest_approved.get(vendor, 0)
        if (status == DisclosureStatus.APPROVED and number == floor) or (
            status in PENDING_STATUSES and number > floor
        ):
            counted.add(version_id)
    return counted
