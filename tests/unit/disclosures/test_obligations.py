"""What vendors owe in disclosures: never filed, stale, or overdue after a material change recorded by an admin."""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.disclosures.models import DisclosureStatus
from marketplace.disclosures.obligations import disclosure_obligations
from marketplace.parties.models import TieOrigin
from tests.factories import DisclosureFactory, InterestFactory, PartyFactory, PersonFactory, VendorOrgFactory

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def vendor(session):
    """A vendor whose disclosure was approved 100 days ago: it owes nothing."""
    org = VendorOrgFactory(name="Scalewise Data", created_at=days_ago(900))
    DisclosureFactory(
        vendor_org_id=org.id,
        number=1,
        status=DisclosureStatus.APPROVED,
        submitted_at=days_ago(110),
        decided_at=days_ago(100),
    )
    return org


def owed(session, as_of=NOW) -> list[tuple[int, str, datetime]]:
    return [(o.vendor_org_id, o.kind, o.since) for o in disclosure_obligations(session, as_of)]


def fact(vendor, recorded_days_ago: float, interest_type="shareholding", holder=None, subject=None, **fields):
    """An admin-recorded fact about the vendor's party."""
    fields.setdefault("share_exact", 10.0 if interest_type in ("shareholding", "votingRights") else None)
    return InterestFactory(
        interested_party_id=(holder or PartyFactory(name="Cobalt Social")).id,
        subject_party_id=subject.id if subject else vendor.party_id,
        interest_type=interest_type,
        origin=TieOrigin.ADMIN_FACT,
        recorded_at=days_ago(recorded_days_ago),
        **fields,
    )


def test_a_vendor_with_a_recent_approved_disclosure_owes_nothing(session, vendor):
    assert owed(session) == []


def test_a_vendor_that_never_filed_owes_one_since_it_joined(session, vendor):
    joined = days_ago(40)
    never = VendorOrgFactory(created_at=joined)
    drafting = VendorOrgFactory(created_at=joined)
    DisclosureFactory(vendor_org_id=drafting.id, status=DisclosureStatus.DRAFT, submitted_at=None)
    assert owed(session) == [(never.id, "never_filed", joined), (drafting.id, "never_filed", joined)]
    assert "never filed" in disclosure_obligations(session, NOW)[0].detail


def test_a_vendor_that_joined_after_as_of_is_not_counted(session, vendor):
    VendorOrgFactory(created_at=NOW + timedelta(days=1))
    assert owed(session) == []


def test_an_approval_older_than_12_months_is_stale(session):
    org = VendorOrgFactory(created_at=days_ago(900))
    approved_at = datetime(2025, 6, 1, 12, tzinfo=UTC)
    DisclosureFactory(
        vendor_org_id=org.id,
        number=1,
        status=DisclosureStatus.APPROVED,
        submitted_at=approved_at - timedelta(days=3),
        decided_at=approved_at,
    )
    [obligation] = disclosure_obligations(session, NOW)
    assert (obligation.vendor_org_id, obligation.kind) == (org.id, "stale")
    assert obligation.since == datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert "Version 1 was approved on 2025-06-01" in obligation.detail
    assert owed(session, as_of=datetime(2026, 5, 31, tzinfo=UTC)) == []


def test_the_latest_approval_counts_and_a_newer_version_awaiting_review_stops_the_reminder(session):
    org = VendorOrgFactory(created_at=days_ago(900))
    DisclosureFactory(
        vendor_org_id=org.id,
        number=1,
        status=DisclosureStatus.APPROVED,
        submitted_at=days_ago(800),
        decided_at=days_ago(790),
    )
    DisclosureFactory(
        vendor_org_id=org.id,
        number=2,
        status=DisclosureStatus.APPROVED,
        submitted_at=days_ago(400),
        decided_at=days_ago(380),
    )
    assert owed(session) == [(org.id, "stale", days_ago(380).replace(year=2026))]
    DisclosureFactory(vendor_org_id=org.id, number=3, status=DisclosureStatus.SUBMITTED, submitted_at=days_ago(2))
    assert owed(session) == []


@pytest.mark.parametrize(
    "interest_type, share, words",
    [
        ("shareholding", {"share_exact": 5.0}, "shareholding 5%"),
        ("votingRights", {"share_exact": 20.0}, "voting rights 20%"),
        ("shareholding", {"share_exact": None, "share_min": 2.0, "share_max": 8.0}, "shareholding 2–8%"),
        ("shareholding", {"share_exact": None}, "shareholding in"),
        ("boardMember", {}, "board member in"),
        ("boardChair", {}, "board chair in"),
        ("appointmentOfBoard", {}, "the right to appoint the board in"),
    ],
)
def test_a_material_change_not_answered_within_30_days_is_overdue(session, vendor, interest_type, share, words):
    recorded = fact(vendor, 31, interest_type, **share)
    [obligation] = disclosure_obligations(session, NOW)
    assert (obligation.vendor_org_id, obligation.kind) == (vendor.id, "material_change_overdue")
    assert obligation.since == recorded.recorded_at + timedelta(days=30)
    assert f"Cobalt Social: {words}" in obligation.detail and "Scalewise Data" in obligation.detail


@pytest.mark.parametrize(
    "interest_type, share",
    [
        ("shareholding", {"share_exact": 4.9}),
        ("shareholding", {"share_exact": None, "share_min": 1.0, "share_max": 4.0}),
        ("otherInfluenceOrControl", {}),
        ("seniorManagingOfficial", {}),
    ],
)
def test_a_change_that_is_not_material_owes_nothing(session, vendor, interest_type, share):
    fact(vendor, 60, interest_type, **share)
    assert owed(session) == []


def test_within_30_days_nothing_is_overdue_yet(session, vendor):
    fact(vendor, 29)
    assert owed(session) == []


def test_a_version_submitted_after_the_fact_answers_it(session, vendor):
    fact(vendor, 45)
    DisclosureFactory(vendor_org_id=vendor.id, number=2, status=DisclosureStatus.SUBMITTED, submitted_at=days_ago(44))
    assert owed(session) == []


def test_a_version_submitted_before_the_fact_does_not(session, vendor):
    fact(vendor, 45)
    DisclosureFactory(vendor_org_id=vendor.id, number=2, status=DisclosureStatus.SUBMITTED, submitted_at=days_ago(46))
    assert [kind for _, kind, _ in owed(session)] == ["material_change_overdue"]


def test_ties_the_vendor_disclosed_are_not_admin_facts(session, vendor):
    InterestFactory(
        interested_party_id=PartyFactory().id,
        subject_party_id=vendor.party_id,
        share_exact=40.0,
        origin=TieOrigin.DISCLOSURE,
        recorded_at=days_ago(60),
    )
    assert owed(session) == []


def test_a_key_person_taking_a_role_elsewhere_is_the_vendors_material_change(session, vendor):
    founder = PersonFactory(name="Jo Founder")
    InterestFactory(
        interested_party_id=founder.id,
        subject_party_id=vendor.party_id,
        interest_type="seniorManagingOfficial",
        share_exact=None,
        origin=TieOrigin.DISCLOSURE,
    )
    rival = PartyFactory(name="Cobalt Social")
    fact(vendor, 35, "seniorManagingOfficial", holder=founder, subject=rival)
    # A stranger's new role elsewhere is nobody's change.
    fact(vendor, 35, "boardMember", holder=PersonFactory(), subject=rival)
    [obligation] = disclosure_obligations(session, NOW)
    assert (obligation.vendor_org_id, obligation.kind) == (vendor.id, "material_change_overdue")
    assert "Jo Founder: senior managing official in Cobalt Social" in obligation.detail


def test_several_changes_make_one_obligation_from_the_oldest(session, vendor):
    oldest = fact(vendor, 50, "boardMember", share_exact=None)
    fact(vendor, 40)
    [obligation] = disclosure_obligations(session, NOW)
    assert obligation.since == oldest.recorded_at + timedelta(days=30)
    assert obligation.detail.startswith("Material changes recorded by an admin")


def test_obligations_come_longest_standing_first(session, vendor):
    fact(vendor, 31)
    never = VendorOrgFactory(created_at=days_ago(5))
    stale = VendorOrgFactory(created_at=days_ago(900))
    DisclosureFactory(
        vendor_org_id=stale.id, status=DisclosureStatus.APPROVED, submitted_at=days_ago(500), decided_at=days_ago(499)
    )
    assert [(org, kind) for org, kind, _ in owed(session)] == [
        (stale.id, "stale"),
        (never.id, "never_filed"),
        (vendor.id, "material_change_overdue"),
    ]
