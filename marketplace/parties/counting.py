"""Which disclosure versions count in the ownership graph, for screening and the BODS export alike.

Every tie that is not rejected counts: the latest approved version and every version filed after it that
awaits review (submitted, or sent back for changes). A tie removed in a newer version stops counting only once
that version is approved, so a vendor cannot escape a verdict by leaving a disclosure unreviewed.
"""

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.db_types import in_ids
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.transaction_cache import cached, shared

PENDING_STATUSES = (DisclosureStatus.SUBMITTED, DisclosureStatus.CHANGES_REQUESTED)


def vendors_awaiting_review(session: Session, vendor_org_ids: list[int] | None = None) -> set[int]:
    """The vendors (of those given, or all) with a filed version an admin has not yet reviewed (submitted or sent
    back for changes, after their latest approved one): their unreviewed claims count against them, unseen by
    them (see docs/screening.md, "What an unreviewed filing may reveal").

    One statement reads the versions awaiting review and the approved versions of their vendors only: a few rows,
    where reading every filed version took half a second at 100,000 vendors."""
    waiting = col(DisclosureVersion.status).in_(PENDING_STATUSES)
    vendors_waiting = select(col(DisclosureVersion.vendor_org_id)).where(waiting)
    query = select(
        col(DisclosureVersion.vendor_org_id), col(DisclosureVersion.number), col(DisclosureVersion.status)
    ).where(
        or_(
            waiting,
            and_(
                col(DisclosureVersion.status) == DisclosureStatus.APPROVED,
                col(DisclosureVersion.vendor_org_id).in_(vendors_waiting),
            ),
        )
    )
    if vendor_org_ids is not None:
        query = query.where(in_ids(session, DisclosureVersion.vendor_org_id, vendor_org_ids))
    rows = session.execute(query).all()
    approved: dict[int, int] = {}
    for vendor, number, status in rows:
        if status == DisclosureStatus.APPROVED:
            approved[vendor] = max(number, approved.get(vendor, 0))
    return {
        vendor for vendor, number, status in rows if status in PENDING_STATUSES and number > approved.get(vendor, 0)
    }


def awaiting_review(session: Session, vendor_org_id: int) -> bool:
    """Whether this vendor has a filed version awaiting an admin's review (vendors_awaiting_review). Read once per
    transaction: every vendor page asks it several times (what the vendor may see, bid on, ask); and kept between
    transactions while the screening generation stays the same (disclosure versions are watched: a filing, a
    decision or a withdrawal committed anywhere is seen by the next transaction)."""
    key = ("parties.awaiting_review", vendor_org_id)
    return cached(
        session,
        key,
        lambda: shared(session, key, lambda: vendor_org_id in vendors_awaiting_review(session, [vendor_org_id])),
    )


def counted_version_ids(session: Session, vendor_org_ids: list[int] | None = None) -> set[int]:
    """Ids of the disclosure versions whose ties count, for the given vendors (or all vendors)."""
    query = select(
        col(DisclosureVersion.id),
        col(DisclosureVersion.vendor_org_id),
        col(DisclosureVersion.number),
        col(DisclosureVersion.status),
    ).where(col(DisclosureVersion.status) != DisclosureStatus.DRAFT)
    if vendor_org_ids is not None:
        query = query.where(in_ids(session, DisclosureVersion.vendor_org_id, vendor_org_ids))
    rows = session.execute(query).all()
    latest_approved: dict[int, int] = {}
    for _id, vendor, number, status in rows:
        if status == DisclosureStatus.APPROVED and number > latest_approved.get(vendor, 0):
            latest_approved[vendor] = number
    counted = set()
    for version_id, vendor, number, status in rows:
        floor = latest_approved.get(vendor, 0)
        if (status == DisclosureStatus.APPROVED and number == floor) or (status in PENDING_STATUSES and number > floor):
            counted.add(version_id)
    return counted
