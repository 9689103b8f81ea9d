"""Spend concentration (issue 17): a lab sees its spend under each owner of its vendors (25% or more, through any
chain of holdings), caps it, is warned on the comparison and the award page before an award would pass the cap,
and is told once when a new tie puts two of its contracted vendors under one owner."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.service import award_bid
from marketplace.concentration import service as concentration
from marketplace.concentration.models import SpendCap
from marketplace.db_types import utcnow
from marketplace.disclosures.facts import FactInput, record_fact
from marketplace.jobs.models import BiddingMode
from marketplace.notifications.models import Notification
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(session):
    """Meridian holds 60% of vendor A, and 60% of a holding that holds 50% of vendor B (30% through it); the lab
    has contracts with A ($6,000) and C ($4,000), and an open job with bids from B and C."""
    lab = BuyerFactory(timezone="UTC")
    meridian, holding = PartyFactory(name="Meridian Capital"), PartyFactory(name="Meridian Holdings BV")
    a, b, c = (VerifiedVendorOrgFactory(name=name) for name in ("Alpha Labels", "Beta Boxes", "Gamma Tags"))
    InterestFactory(interested_party_id=meridian.id, subject_party_id=a.party_id, share_exact=60.0)
    InterestFactory(interested_party_id=meridian.id, subject_party_id=holding.id, share_exact=60.0)
    InterestFactory(interested_party_id=holding.id, subject_party_id=b.party_id, share_exact=50.0)
    for vendor, total in ((a, 600_000), (c, 400_000)):
        job = JobFactory(buyer_org_id=lab.org_id, bidding_mode=BiddingMode.OPEN)
        award_bid(session, lab, job.id, BidFactory(job_id=job.id, vendor_org_id=vendor.id, total_minor=total).id)
    open_job = JobFactory(
        buyer_org_id=lab.org_id, bidding_mode=BiddingMode.OPEN, bid_deadline=utcnow() - timedelta(hours=1)
    )
    bids = {
        vendor.name: BidFactory(job_id=open_job.id, vendor_org_id=vendor.id, total_minor=500_000) for vendor in (b, c)
    }
    session.commit()
    return lab, meridian, holding, (a, b, c), open_job, bids


def test_owners_are_found_through_chains_of_holdings(session, world):
    _, meridian, holding, (a, b, c), _, _ = world
    owners = concentration.owners_of(session, {a.party_id, b.party_id, c.party_id})
    assert owners[a.party_id] == {meridian.id: 60.0}
    assert owners[b.party_id] == {holding.id: 50.0, meridian.id: pytest.approx(30.0)}
    assert owners[c.party_id] == {}


def test_the_lab_sees_its_spend_by_owner_and_what_passes_its_cap(client, session, login_as, world):
    lab, *_ = world
    login_as(lab)
    page = text(client.get("/spend-by-owner"))
    assert "Meridian Capital" in page and "Alpha Labels" in page and "$6,000.00 of $10,000.00" in page
    assert 'data-testid="over-cap"' not in page  # no cap yet
    assert client.post("/spend-by-owner", data={"cap_pct": "50"}).status_code == 303
    assert session.execute(select(SpendCap.cap_pct)).scalar_one() == 50
    assert 'data-testid="over-cap"' in text(client.get("/spend-by-owner"))


def test_the_comparison_and_the_award_page_warn_before_an_award_passes_the_cap(client, session, login_as, world):
    lab, _, _, _, job, bids = world
    login_as(lab)
    client.post("/spend-by-owner", data={"cap_pct": "70"})
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert page.count('data-testid="over-cap"') == 1  # Beta Boxes (under Meridian), not Gamma Tags
    award = text(client.get(f"/jobs/{job.id}/bids/{bids['Beta Boxes'].id}/award"))
    assert (
        "Awarding this bid would put 73% of your USD labeling spend ($11,000.00 of $15,000.00) under Meridian" in award
    )
    assert "your cap is 70%" in award
    assert 'data-testid="over-cap"' not in text(client.get(f"/jobs/{job.id}/bids/{bids['Gamma Tags'].id}/award"))
    # A warning, not a refusal: the lab may still award.
    assert client.post(f"/jobs/{job.id}/bids/{bids['Beta Boxes'].id}/award").status_code in (302, 303)


@pytest.mark.parametrize("typed", ["0", "101", "half", "12.5"])
def test_a_cap_out_of_range_is_refused_next_to_the_field_and_kept_as_typed(client, session, login_as, world, typed):
    lab, *_ = world
    login_as(lab)
    refused = client.post("/spend-by-owner", data={"cap_pct": typed})
    page = text(refused)
    assert refused.status_code == 400 and "The cap is a whole percentage from 1 to 100" in page
    assert f'value="{typed}"' in page
    assert session.execute(select(SpendCap)).first() is None


def test_an_empty_cap_removes_it(client, session, login_as, world):
    lab, *_ = world
    login_as(lab)
    client.post("/spend-by-owner", data={"cap_pct": "40"})
    assert client.post("/spend-by-owner", data={"cap_pct": ""}).status_code == 303
    assert session.execute(select(SpendCap)).first() is None


def test_a_new_tie_that_puts_two_contracted_vendors_under_one_owner_is_reported_once(client, session, world):
    lab, meridian, _, (_, _, c), _, _ = world
    admin = AdminFactory()
    session.commit()

    def reports() -> list[str]:
        return list(
            session.execute(
                select(Notification.message).where(Notification.user_id == lab.id, Notification.kind == "common_owner")
            ).scalars()
        )

    fact = FactInput(
        kind="shareholding",
        party_name="Meridian Capital",
        party_id=meridian.id,
        share_exact=40.0,
        verification_level="official register",
        source_url="https://registry.example/filing",
        source_date=utcnow().date(),
    )
    record_fact(session, admin, c.id, fact)
    session.commit()
    assert reports() == [
        "Alpha Labels and Gamma Tags, vendors you have contracts with, are now under one owner: Meridian Capital "
        "(25% or more of each). See your spend by owner."
    ]
    record_fact(session, admin, c.id, FactInput(**{**vars(fact), "share_exact": 45.0}))  # the same group again
    session.commit()
    assert len(reports()) == 1


def test_only_labs_see_spend_by_owner(client, session, login_as, world):
    login_as(VendorFactory())
    assert client.get("/spend-by-owner").status_code == 403
    assert client.post("/spend-by-owner", data={"cap_pct": "10"}).status_code == 403
    assert session.execute(select(SpendCap)).first() is None
