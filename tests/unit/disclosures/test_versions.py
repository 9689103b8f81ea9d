"""Versions: drafts, copies, submission, decisions, and what screening sees of them."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.disclosures import queue, service
from marketplace.disclosures.models import DisclosureStatus
from marketplace.disclosures.service import DisclosureError
from marketplace.notifications.models import Notification
from marketplace.parties.models import CommercialTie, Interest, VerificationLevel
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services.screen import Verdict, screen_vendor
from marketplace.visibility import NotVisible
from tests.factories import AdminFactory, BuyerFactory, PartyFactory, RivalFactory, VendorFactory
from tests.unit.disclosures.helpers import file_version, submit, tie


def messages_of(session, user, kind):
    return (
        session.execute(select(Notification.message).where(Notification.user_id == user.id, Notification.kind == kind))
        .scalars()
        .all()
    )


def audit(session, action):
    return session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars().all()


def test_the_first_version_is_an_empty_draft_and_only_one_draft_at_a_time(session, vendor):
    draft = service.start_new_version(session, vendor)

    assert (draft.number, draft.status, draft.created_by_id) == (1, DisclosureStatus.DRAFT, vendor.id)
    assert service.tie_views(session, draft) == []
    with pytest.raises(DisclosureError, match="Version 1 is already a draft"):
        service.start_new_version(session, vendor)


def test_only_vendors_start_a_disclosure(session, admin):
    with pytest.raises(DisclosureError, match="Only vendors"):
        service.start_new_version(session, admin)
    with pytest.raises(DisclosureError, match="Only vendors"):
        service.start_new_version(session, BuyerFactory())


def test_a_new_version_copies_every_tie_and_leaves_the_old_one_untouched(session, vendor):
    first = file_version(
        session,
        vendor,
        tie(name="Founder", share_exact=60.0, start_date=date(2020, 1, 1)),
        tie("seniorManagingOfficial", name="Rui Costa", role_title="CTO"),
        tie("customer", name="Northwind AI", revenue_share_pct=35.0),
    )
    before = [(t.key, t.share_text, t.revenue_text, t.dates_text) for t in service.tie_views(session, first)]

    second = service.start_new_version(session, vendor)
    copied = service.tie_views(session, second)
    assert second.number == 2
    assert [(t.key, t.share_text, t.revenue_text, t.dates_text) for t in copied] == before
    assert {(t.table, t.id) for t in copied}.isdisjoint({(t.table, t.id) for t in service.tie_views(session, first)})

    founder = next(t for t in copied if t.party_name == "Founder")
    service.remove_tie(session, vendor, second.id, founder.table, founder.id)
    service.add_tie(session, vendor, second.id, tie(name="Founder", share_exact=40.0))

    assert [(t.key, t.share_text, t.revenue_text, t.dates_text) for t in service.tie_views(session, first)] == before
    assert first.status == DisclosureStatus.SUBMITTED


def test_submitting_files_the_version_tells_admins_and_writes_the_trail(session, vendor, draft, admin):
    service.add_tie(session, vendor, draft.id, tie(share_exact=10.0))

    version = service.submit_version(
        session,
        vendor,
        draft.id,
        attester_name=" Ana Officer ",
        attester_title="CEO",
        attested=True,
        summary="First filing.",
    )

    assert version.status == DisclosureStatus.SUBMITTED
    assert version.submitted_at is not None and version.attested_by_id == vendor.id
    assert (version.attester_name, version.attester_title, version.summary) == (
        "Ana Officer",
        "CEO",
        "First filing.",
    )
    org = session.get(Organization, vendor.org_id)
    assert messages_of(session, admin, "disclosure_submitted") == [
        f"{org.name} submitted disclosure version 1 for review."
    ]
    [record] = audit(session, "disclosure.submitted")
    assert record.before == {"status": "draft"} and record.after["status"] == "submitted"
    assert record.vendor_org_id == vendor.org_id and record.actor_id == vendor.id


@pytest.mark.parametrize(
    "name, title, attested, field",
    [
        ("", "CEO", True, "attester_name"),
        ("Ana", " ", True, "attester_title"),
        ("Ana", "CEO", False, "attest"),
    ],
)
def test_submitting_needs_an_officer_who_attests(session, vendor, draft, name, title, attested, field):
    service.add_tie(session, vendor, draft.id, tie(share_exact=10.0))
    with pytest.raises(DisclosureError) as raised:
        service.submit_version(session, vendor, draft.id, attester_name=name, attester_title=title, attested=attested)
    assert raised.value.field == field
    assert draft.status == DisclosureStatus.DRAFT


def test_an_empty_draft_cannot_be_submitted(session, vendor, draft):
    with pytest.raises(DisclosureError, match="Add your ties first"):
        submit(session, vendor, draft)


def test_filed_versions_never_change(session, vendor, admin):
    version = file_version(session, vendor, tie(share_exact=10.0))
    [row] = service.tie_views(session, version)
    for status in ("submitted", "approved"):
        with pytest.raises(DisclosureError, match=f"Version 1 is {status}: it can no longer change"):
            service.add_tie(session, vendor, version.id, tie(name="Other", share_exact=5.0))
        with pytest.raises(DisclosureError, match="can no longer change"):
            service.remove_tie(session, vendor, version.id, row.table, row.id)
        with pytest.raises(DisclosureError, match="can no longer change"):
            submit(session, vendor, version)
        if status == "submitted":
            service.decide_version(session, admin, version.id, "approved")
    with pytest.raises(DisclosureError, match="only a submitted version can be decided") as raised:
        service.decide_version(session, admin, version.id, "rejected", "Too late")
    assert raised.value.field == "decision"
    assert version.status == DisclosureStatus.APPROVED and version.decision_reason == ""
    assert len(service.tie_views(session, version)) == 1


def test_approving_marks_the_ties_admin_verified_and_tells_the_vendor(session, vendor, admin):
    version = file_version(session, vendor, tie(share_exact=10.0), tie("lender", name="Big Bank"))

    service.decide_version(session, admin, version.id, "approved", "  Matches the registry. ")

    assert (version.status, version.decided_by_id, version.decision_reason) == (
        DisclosureStatus.APPROVED,
        admin.id,
        "Matches the registry.",
    )
    assert version.decided_at is not None
    levels = [t.verification_level for t in service.tie_views(session, version)]
    assert levels == [VerificationLevel.ADMIN_VERIFIED.value] * 2
    assert session.execute(select(Interest.verification_level)).scalars().all() == [VerificationLevel.ADMIN_VERIFIED]
    assert session.execute(select(CommercialTie.verification_level)).scalars().all() == [
        VerificationLevel.ADMIN_VERIFIED
    ]
    assert messages_of(session, vendor, "disclosure_decision") == [
        "Disclosure version 1 is approved. Reason: Matches the registry."
    ]
    [record] = audit(session, "disclosure.approved")
    assert record.before == {"status": "submitted"}
    assert record.after == {"status": "approved", "reason": "Matches the registry."}

    # The next version keeps what was verified; what the vendor adds is self-declared.
    draft = service.start_new_version(session, vendor)
    service.add_tie(session, vendor, draft.id, tie(name="Angel", share_exact=5.0))
    assert {t.party_name: t.verification_level for t in service.tie_views(session, draft)} == {
        "Cobalt Social": "admin-verified",
        "Big Bank": "admin-verified",
        "Angel": "self-declared",
    }


@pytest.mark.parametrize("decision, words", [("changes_requested", "request changes"), ("rejected", "reject")])
def test_sending_back_or_rejecting_needs_a_reason_the_vendor_sees(session, vendor, admin, decision, words):
    version = file_version(session, vendor, tie(share_exact=10.0))
    with pytest.raises(DisclosureError) as raised:
        service.decide_version(session, admin, version.id, decision, "   ")
    assert (str(raised.value), raised.value.field) == (
        f"Give a reason to {words}: the vendor sees it.",
        "reason",
    )
    assert version.status == DisclosureStatus.SUBMITTED

    service.decide_version(session, admin, version.id, decision, "Name the fund's owners.")

    assert version.status == decision
    [message] = messages_of(session, vendor, "disclosure_decision")
    assert message.endswith("Reason: Name the fund's owners.")
    [record] = audit(session, f"disclosure.{decision}")
    assert record.after["reason"] == "Name the fund's owners."
    assert [t.verification_level for t in service.tie_views(session, version)] == ["self-declared"]


def test_deciding_is_for_admins_on_filed_versions(session, vendor, admin, draft):
    with pytest.raises(DisclosureError, match="Only platform admins"):
        service.decide_version(session, vendor, draft.id, "approved")
    with pytest.raises(NotVisible):
        service.decide_version(session, admin, draft.id, "approved")
    version = file_version(session, VendorFactory(), tie(share_exact=1.0))
    with pytest.raises(DisclosureError, match="Choose approve, request changes or reject"):
        service.decide_version(session, admin, version.id, "shrug")


def test_after_changes_are_requested_the_vendor_answers_with_a_copied_version(session, vendor, admin):
    first = file_version(session, vendor, tie(share_exact=10.0))
    service.decide_version(session, admin, first.id, "changes_requested", "Add the lender.")

    second = file_version(session, vendor, tie("lender", name="Big Bank"))
    service.decide_version(session, admin, second.id, "approved")

    assert [v.number for v in service.versions_of(session, vendor.org_id)] == [2, 1]
    assert service.current_approved_version(session, vendor.org_id).id == second.id
    assert sorted(t.party_name for t in service.tie_views(session, second)) == ["Big Bank", "Cobalt Social"]


def test_a_submitted_rival_stake_counts_in_screening_at_once(session, vendor, admin):
    buyer = BuyerFactory()
    RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Cobalt Social").id)
    vendor_org = session.get(Organization, vendor.org_id)
    draft = service.start_new_version(session, vendor)
    service.add_tie(session, vendor, draft.id, tie(name="cobalt social", share_exact=49.0))

    # A draft counts for nothing: the vendor is only unverified (it has no approved version yet).
    assert [f.rule for f in screen_vendor(session, buyer.org_id, vendor_org).findings] == ["unverified"]

    submit(session, vendor, draft)

    screening = screen_vendor(session, buyer.org_id, vendor_org)
    assert screening.verdict == Verdict.EXCLUDE
    assert "Cobalt Social holds 49%" in screening.findings[0].explanation
    record = session.execute(select(VerdictRecord).where(VerdictRecord.buyer_org_id == buyer.org_id)).scalar_one()
    assert record.verdict == "exclude"
    [told] = messages_of(session, buyer, "verdict_changed")
    assert "worsened" in told

    # Leaving the next version unreviewed, or having it rejected, does not escape the verdict.
    later = service.start_new_version(session, vendor)
    [stake] = service.tie_views(session, later)
    service.remove_tie(session, vendor, later.id, stake.table, stake.id)
    service.add_tie(session, vendor, later.id, tie("lender", name="Big Bank"))
    submit(session, vendor, later)
    assert screen_vendor(session, buyer.org_id, vendor_org).verdict == Verdict.EXCLUDE
    service.decide_version(session, admin, later.id, "rejected", "The registry still shows Cobalt.")
    assert screen_vendor(session, buyer.org_id, vendor_org).verdict == Verdict.EXCLUDE


def test_a_stake_removed_in_an_approved_version_stops_counting(session, vendor, admin):
    buyer = BuyerFactory()
    RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Cobalt Social").id)
    vendor_org = session.get(Organization, vendor.org_id)
    first = file_version(session, vendor, tie(share_exact=49.0))
    service.decide_version(session, admin, first.id, "approved")
    later = service.start_new_version(session, vendor)
    [stake] = service.tie_views(session, later)
    service.remove_tie(session, vendor, later.id, stake.table, stake.id)
    service.add_tie(session, vendor, later.id, tie("lender", name="Big Bank"))
    submit(session, vendor, later)

    service.decide_version(session, admin, later.id, "approved")

    assert screen_vendor(session, buyer.org_id, vendor_org).verdict == Verdict.CLEAR
    record = session.execute(select(VerdictRecord).where(VerdictRecord.buyer_org_id == buyer.org_id)).scalar_one()
    assert record.verdict == "clear"


def test_an_approval_older_than_12_months_is_stale(session, vendor, admin):
    version = file_version(session, vendor, tie(share_exact=10.0))
    service.decide_version(session, admin, version.id, "approved")
    version.decided_at = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)

    assert not service.is_stale(version, datetime(2025, 2, 28, 12, 0, tzinfo=UTC))
    assert service.is_stale(version, datetime(2025, 2, 28, 12, 1, tzinfo=UTC))
    assert not service.is_stale(None)
    assert not service.is_stale(version, version.decided_at + timedelta(days=364))


def test_the_queue_lists_filed_versions_by_status_with_their_age(session, vendor, admin):
    service.start_new_version(session, VendorFactory())  # a draft is nobody's business yet
    waiting = file_version(session, vendor, tie(share_exact=10.0))
    waiting.submitted_at = waiting.submitted_at - timedelta(days=3, hours=1)
    other_vendor = VendorFactory()
    decided = file_version(session, other_vendor, tie(share_exact=10.0))
    service.decide_version(session, admin, decided.id, "rejected", "No.")

    rows = queue.review_queue(session, admin)
    assert [(r.version.id, r.age_days) for r in rows] == [(waiting.id, 3)]
    assert [r.version.id for r in queue.review_queue(session, admin, "rejected")] == [decided.id]
    assert {r.version.id for r in queue.review_queue(session, admin, "all")} == {waiting.id, decided.id}
    assert queue.review_queue(session, admin, "approved") == []
    with pytest.raises(DisclosureError):
        queue.review_queue(session, vendor)


def test_the_review_compares_with_the_last_approved_version(session, vendor, admin):
    first = file_version(
        session,
        vendor,
        tie(name="Founder", share_exact=60.0),
        tie("boardMember", name="Old Director", party_kind="person"),
        tie("lender", name="Big Bank"),
    )
    service.decide_version(session, admin, first.id, "approved")
    sent_back = file_version(session, vendor, tie(name="Angel", share_exact=5.0))
    service.decide_version(session, admin, sent_back.id, "changes_requested", "Dates?")

    draft = service.start_new_version(session, vendor)
    for t in service.tie_views(session, draft):
        if t.party_name in ("Founder", "Old Director"):
            service.remove_tie(session, vendor, draft.id, t.table, t.id)
    service.add_tie(session, vendor, draft.id, tie(name="founder", share_exact=55.0, start_date=date(2021, 1, 1)))
    submit(session, vendor, draft)

    review = service.review_of(session, admin, draft.id)

    assert review.baseline.id == first.id  # not the version sent back
    assert [(c.status, c.tie.party_name) for c in review.changes] == [
        ("added", "Angel"),
        ("changed", "Founder"),
        ("removed", "Old Director"),
    ]
    founder = review.changes[1]
    assert [(f.label, f.old, f.new) for f in founder.changes] == [
        ("Share", "60%", "55%"),
        ("Start", "—", "2021-01-01"),
    ]
    assert review.unchanged_count == 1  # Big Bank


def test_without_an_approved_version_everything_is_added(session, vendor, admin):
    version = file_version(session, vendor, tie(share_exact=10.0), tie("lender", name="Big Bank"))
    review = service.review_of(session, admin, version.id)
    assert review.baseline is None
    assert [c.status for c in review.changes] == ["added", "added"]
    with pytest.raises(NotVisible):
        service.review_of(session, AdminFactory(), service.start_new_version(session, VendorFactory()).id)
