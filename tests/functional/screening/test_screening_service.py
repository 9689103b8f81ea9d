"""Screening with the real engine on a seeded scenario: pairs, both directions, waivers, stored verdicts."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.jobs.models import Visibility
from marketplace.parties.models import PartyKind
from marketplace.screening.engine.rules import screen_vendors
from marketplace.screening.engine.verdicts import Policy, Verdict
from marketplace.screening.models import VerdictRecord, Waiver
from marketplace.screening.services import screen as service
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.services.rivals import add_rival_by_party
from marketplace.screening.store import loader as store
from tests.factories import (
    BuyerFactory,
    BuyerOrgFactory,
    DisclosureFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    PersonFactory,
    RivalFactory,
    UserFactory,
    VendorOrgFactory,
)


def approved(org):
    """An approved disclosure, so that the unverified rule stays out of a test about something else."""
    DisclosureFactory(vendor_org_id=org.id, number=1, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    return org


class Scenario:
    """Cobalt Social is Northwind's rival; Quill Labs names none.

    Scalewise Data: Cobalt Social owns Cobalt Holdings, which holds 49% of it.
    Brightlabel: its founder left last year and now sits on Cobalt Social's board.
    Quietset: an anonymous owner holds 20%.
    Newcomer: clean, but has no approved disclosure.
    """

    def __init__(self, session):
        today = utcnow().date()
        self.today = today
        self.northwind, self.quill = BuyerOrgFactory(name="Northwind AI"), BuyerOrgFactory(name="Quill Labs")
        self.cobalt = PartyFactory(name="Cobalt Social")
        RivalFactory(buyer_org_id=self.northwind.id, party_id=self.cobalt.id)
        self.holdings = PartyFactory(name="Cobalt Holdings")
        InterestFactory(interested_party_id=self.cobalt.id, subject_party_id=self.holdings.id, share_exact=100.0)

        self.scalewise = approved(VendorOrgFactory(name="Scalewise Data"))
        InterestFactory(
            interested_party_id=self.holdings.id,
            subject_party_id=self.scalewise.party_id,
            share_exact=49.0,
            start_date=today - timedelta(days=400),
        )

        self.brightlabel = approved(VendorOrgFactory(name="Brightlabel"))
        self.founder = PersonFactory(name="Daniel Okafor")
        InterestFactory(
            interested_party_id=self.founder.id,
            subject_party_id=self.brightlabel.party_id,
            interest_type="seniorManagingOfficial",
            share_exact=None,
            start_date=today - timedelta(days=2000),
            end_date=today - timedelta(days=200),
        )
        InterestFactory(
            interested_party_id=self.founder.id,
            subject_party_id=self.cobalt.id,
            interest_type="boardMember",
            share_exact=None,
            start_date=today - timedelta(days=150),
        )

        self.quietset = approved(VendorOrgFactory(name="Quietset"))
        anonymous = PartyFactory(name="Undisclosed holder", kind=PartyKind.UNSPECIFIED, party_type="anonymousEntity")
        InterestFactory(interested_party_id=anonymous.id, subject_party_id=self.quietset.party_id, share_exact=20.0)

        self.newcomer = VendorOrgFactory(name="Newcomer")
        self.vendors = [self.scalewise, self.brightlabel, self.quietset, self.newcomer]


@pytest.fixture
def scenario(session):
    return Scenario(session)


def rules(screening):
    return {(str(f.rule), str(f.verdict)) for f in screening.findings}


def test_each_rule_reaches_its_verdict_for_the_buyer_that_named_the_rival(session, scenario):
    pairs = service.screen_pairs(session, [scenario.northwind.id], scenario.vendors)

    scalewise = pairs[(scenario.northwind.id, scenario.scalewise.id)]
    assert scalewise.verdict == Verdict.EXCLUDE
    stake = next(f for f in scalewise.findings if f.rule == "ownership")
    assert stake.verdict == Verdict.EXCLUDE and stake.rival == "Cobalt Social"
    assert (round(stake.stake.low, 6), round(stake.stake.high, 6)) == (49.0, 49.0)
    assert ["Cobalt Social", "Cobalt Holdings", "Scalewise Data"] in stake.paths

    brightlabel = pairs[(scenario.northwind.id, scenario.brightlabel.id)]
    assert brightlabel.verdict == Verdict.REVIEW and rules(brightlabel) == {("people", "review")}
    assert "Daniel Okafor" in brightlabel.findings[0].explanation

    quietset = pairs[(scenario.northwind.id, scenario.quietset.id)]
    assert quietset.verdict == Verdict.REVIEW and ("unknown", "review") in rules(quietset)

    newcomer = pairs[(scenario.northwind.id, scenario.newcomer.id)]
    assert rules(newcomer) == {("unverified", "review")}


def test_a_buyer_with_no_rivals_is_still_screened_for_unknown_owners_and_unverified_vendors(session, scenario):
    # Screened in one go with Northwind: Northwind's rival must not leak into Quill's screening.
    pairs = service.screen_pairs(session, [scenario.northwind.id, scenario.quill.id], scenario.vendors)
    quill = {org.name: pairs[(scenario.quill.id, org.id)] for org in scenario.vendors}

    assert {name: screening.verdict for name, screening in quill.items()} == {
        "Scalewise Data": Verdict.CLEAR,
        "Brightlabel": Verdict.CLEAR,
        "Quietset": Verdict.REVIEW,
        "Newcomer": Verdict.REVIEW,
    }
    assert all(f.rival is None for s in quill.values() for f in s.findings)
    assert all(s.rivals == [] for s in quill.values())
    assert rules(quill["Newcomer"]) == {("unverified", "review")}
    assert pairs[(scenario.northwind.id, scenario.scalewise.id)].verdict == Verdict.EXCLUDE
    assert [r.rival for r in pairs[(scenario.northwind.id, scenario.scalewise.id)].rivals] == ["Cobalt Social"]
    assert service.verdicts_for_vendor(session, scenario.newcomer) == {
        scenario.northwind.id: Verdict.REVIEW,
        scenario.quill.id: Verdict.REVIEW,
    }


def test_the_vendors_part_of_the_graph_screens_as_the_whole_graph_does(session, scenario):
    # Noise the closure must leave out without changing any answer.
    for n in range(30):
        owner, owned = PartyFactory(name=f"Noise Owner {n}"), PartyFactory(name=f"Noise Co {n}")
        InterestFactory(interested_party_id=owner.id, subject_party_id=owned.id, share_exact=60.0)
        InterestFactory(interested_party_id=scenario.cobalt.id, subject_party_id=owned.id, share_exact=40.0)
    facts = store.vendor_facts(session, scenario.vendors)
    policy, rivals = Policy(), [scenario.cobalt.id]
    whole = screen_vendors(store.load_graph(session, scenario.today), facts, rivals, policy, scenario.today)

    for fact in facts:
        part = store.load_graph_around(session, [fact.party_id], scenario.today, extra_party_ids=rivals)
        assert len(part.parties) < 20
        alone = screen_vendors(part, [fact], rivals, policy, scenario.today)[fact.party_id]
        expected = whole[fact.party_id]
        assert alone.verdict == expected.verdict
        assert [f.as_dict() for f in alone.findings] == [f.as_dict() for f in expected.findings]


def test_a_waiver_turns_a_review_into_access_but_never_hides_the_finding(session, scenario):
    session.add(
        Waiver(
            buyer_org_id=scenario.northwind.id,
            vendor_org_id=scenario.brightlabel.id,
            rule="people",
            rival_party_id=scenario.cobalt.id,
            reason="He left on good terms; we vetted him.",
        )
    )
    session.flush()

    screening = service.screen_vendor(session, scenario.northwind.id, scenario.brightlabel)

    assert screening.verdict == Verdict.REVIEW and screening.access_verdict == Verdict.CLEAR
    assert all(f.waived for f in screening.findings)
    assert service.verdicts_for_vendor(session, scenario.brightlabel)[scenario.northwind.id] == Verdict.CLEAR
    # The waiver is Northwind's alone.
    session.add(
        Waiver(
            buyer_org_id=scenario.quill.id,
            vendor_org_id=scenario.newcomer.id,
            rule="unverified",
            rival_party_id=None,
            reason="We know them.",
        )
    )
    session.flush()
    verdicts = service.verdicts_for_vendor(session, scenario.newcomer)
    assert verdicts == {scenario.northwind.id: Verdict.REVIEW, scenario.quill.id: Verdict.CLEAR}


def test_an_exclude_finding_cannot_be_waived(session, scenario):
    session.add(
        Waiver(
            buyer_org_id=scenario.northwind.id,
            vendor_org_id=scenario.scalewise.id,
            rule="ownership",
            rival_party_id=scenario.cobalt.id,
            reason="Trying.",
        )
    )
    session.flush()
    assert service.verdicts_for_vendor(session, scenario.scalewise)[scenario.northwind.id] == Verdict.EXCLUDE


def test_an_unverified_vendor_sees_no_confidential_job_until_its_disclosure_is_approved(
    client, login_as, session, scenario
):
    job = JobFactory(buyer_org_id=scenario.quill.id, visibility=Visibility.CONFIDENTIAL)
    public = JobFactory(buyer_org_id=scenario.quill.id, visibility=Visibility.PUBLIC)
    login_as(UserFactory(role="vendor", org_id=scenario.newcomer.id))

    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{public.id}").status_code == 200

    approved(scenario.newcomer)
    assert client.get(f"/jobs/{job.id}").status_code == 200


def test_refresh_stores_the_findings_buyer_lists_read(session, scenario):
    refresh_verdicts(session, None, vendor_org_ids=[scenario.scalewise.id, scenario.newcomer.id])

    record = session.execute(
        select(VerdictRecord).where(
            VerdictRecord.buyer_org_id == scenario.northwind.id, VerdictRecord.vendor_org_id == scenario.scalewise.id
        )
    ).scalar_one()
    assert record.verdict == "exclude"
    ownership = next(f for f in record.findings if f["rule"] == "ownership")
    assert ownership["rival_party_id"] == scenario.cobalt.id and ownership["stake"]["low"] == 49.0
    assert ownership["waived"] is False and "Cobalt Social" in ownership["explanation"]
    quill = session.execute(
        select(VerdictRecord.verdict).where(
            VerdictRecord.buyer_org_id == scenario.quill.id, VerdictRecord.vendor_org_id == scenario.newcomer.id
        )
    ).scalar_one()
    assert quill == "review"


def test_cached_screenings_screen_what_was_never_screened_without_storing_it(session, scenario):
    buyer_id = scenario.northwind.id
    refresh_verdicts(session, None, vendor_org_ids=[scenario.scalewise.id], buyer_org_ids=[buyer_id])

    cached = service.cached_screenings_for_buyer(session, buyer_id)

    vendors = session.execute(select(Organization.id).where(Organization.kind == "vendor")).scalars().all()
    assert set(cached) == set(vendors)
    verdict, findings = cached[scenario.brightlabel.id]
    assert verdict == Verdict.REVIEW and [f["rule"] for f in findings] == ["people"]
    assert cached[scenario.scalewise.id][0] == Verdict.EXCLUDE
    # A GET page must change nothing: only the refreshed vendor is stored.
    stored = (
        session.execute(select(VerdictRecord.vendor_org_id).where(VerdictRecord.buyer_org_id == buyer_id))
        .scalars()
        .all()
    )
    assert set(stored) == {scenario.scalewise.id}


def test_flagged_only_leaves_out_clear_vendors_stored_or_screened_live(session, scenario):
    buyer_id = scenario.northwind.id
    clean = approved(VendorOrgFactory(name="Clean Co"))
    refresh_verdicts(session, None, vendor_org_ids=[scenario.scalewise.id, clean.id], buyer_org_ids=[buyer_id])

    flagged = service.cached_screenings_for_buyer(session, buyer_id, flagged_only=True)

    # Scalewise and Clean Co are stored (exclude, clear); the rest are screened live, Quietset and the others too.
    assert set(flagged) == {scenario.scalewise.id, scenario.brightlabel.id, scenario.quietset.id, scenario.newcomer.id}
    assert flagged[scenario.scalewise.id][0] == Verdict.EXCLUDE
    assert all(verdict != Verdict.CLEAR for verdict, _ in flagged.values())
    assert service.cached_screenings_for_buyer(session, buyer_id)[clean.id][0] == Verdict.CLEAR


def test_naming_a_rival_tells_the_buyer_and_the_stored_verdict_follows(session, scenario):
    buyer = BuyerFactory(org_id=scenario.quill.id)

    add_rival_by_party(session, buyer, scenario.cobalt.id)

    cached = service.cached_screenings_for_buyer(session, scenario.quill.id)
    assert cached[scenario.scalewise.id][0] == Verdict.EXCLUDE
    assert cached[scenario.brightlabel.id][0] == Verdict.REVIEW


def test_a_vendor_organisation_without_a_party_is_still_unverified(session, scenario):
    orphan = Organization(name="Handmade Vendor", kind="vendor")
    session.add(orphan)
    session.flush()
    assert orphan.party_id is None

    screening = service.screen_vendor(session, scenario.quill.id, orphan)

    assert screening.vendor_org_id == orphan.id and rules(screening) == {("unverified", "review")}
