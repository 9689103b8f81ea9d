"""Which vendors have a filing awaiting an admin's review (parties.counting.vendors_awaiting_review): a version
submitted or sent back for changes after the vendor's latest approved one; read in one statement."""

from sqlalchemy import event

from marketplace.disclosures.models import DisclosureStatus
from marketplace.extensions import db
from marketplace.parties.counting import vendors_awaiting_review
from tests.factories import DisclosureFactory, VendorOrgFactory

S = DisclosureStatus


def _vendor_with(*versions: S) -> int:
    vendor = VendorOrgFactory()
    for number, status in enumerate(versions, start=1):
        DisclosureFactory(vendor_org_id=vendor.id, number=number, status=status)
    return vendor.id


def test_a_filing_after_the_latest_approval_awaits_review_and_nothing_else_does(session):
    waiting = {
        _vendor_with(S.SUBMITTED),
        _vendor_with(S.APPROVED, S.SUBMITTED),
        _vendor_with(S.APPROVED, S.CHANGES_REQUESTED),
        _vendor_with(S.APPROVED, S.REJECTED, S.SUBMITTED),
    }
    not_waiting = {
        _vendor_with(S.APPROVED),
        _vendor_with(S.DRAFT),
        _vendor_with(S.APPROVED, S.DRAFT),
        _vendor_with(S.SUBMITTED, S.APPROVED),  # an older filing left behind by a newer approval
        _vendor_with(S.APPROVED, S.REJECTED),
        _vendor_with(),
    }
    session.flush()
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        found = vendors_awaiting_review(session)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert found >= waiting and not found & not_waiting
    assert len(statements) == 1
    some = sorted(waiting | not_waiting)[::2]
    assert vendors_awaiting_review(session, some) == waiting & set(some)
