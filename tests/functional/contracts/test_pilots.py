"""Paid pilots (issue 14): a job asks for one, every bid quotes its price (sealed like the other terms), the lab
starts pilots with the bids it chooses, each is paid through Stripe like any milestone while the job stays open, the
comparison shows each pilot's state, and the job is awarded only to a bid whose pilot passed."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.bids import pilots
from marketplace.bids.models import Bid
from marketplace.bids.service import award_bid, award_preview
from marketplace.contracts import service as contracts
from marketplace.contracts.models import Contract, ContractKind, Milestone, MilestoneStatus
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, JobStatus, Visibility
from marketplace.notifications.models import Notification
from marketplace.payments.models import LedgerEntry
from tests.factories import (
    BidFactory,
    BuyerFactory,
    InterestFactory,
    JobFactory,
    RivalFactory,
    VerifiedVendorFactory,
)
from tests.functional.jobs.conftest import job_form  # noqa: F401  (a fixture)
from tests.functional.payments.stripe_support import Deal, connect_vendor, deliver, fund

SCOPE = "2,000 street images from the real data, boxed with the full guidelines"
CRITERIA = "97% agreement with our 300 gold boxes"


def text(response) -> str:
    return response.get_data(as_text=True)


def pilot_job(**fields):
    buyer = BuyerFactory(timezone="UTC")
    values = {
        "buyer_org_id": buyer.org_id,
        "bidding_mode": BiddingMode.OPEN,
        "pilot_scope": SCOPE,
        "pilot_criteria": CRITERIA,
        "budget_min_minor": 1,
        "budget_max_minor": 5_000_000,
    }
    values.update(fields)
    return buyer, JobFactory(**values)


@pytest.fixture
def bidders(session):
    """A pilot job whose open bidding has closed, and two live bids quoting pilots of $900 and $1,200."""
    buyer, job = pilot_job(bid_deadline=utcnow() - timedelta(hours=1))
    vendors = [VerifiedVendorFactory(timezone="UTC") for _ in range(2)]
    bids = [
        BidFactory(job_id=job.id, vendor_org_id=v.org_id, total_minor=800_000, pilot_price_minor=price)
        for v, price in zip(vendors, (90_000, 120_000), strict=True)
    ]
    session.commit()
    return buyer, job, vendors, bids


def bid_form(**fields) -> dict:
    data = {"price_per_unit": "0.50", "total": "8000", "turnaround_days": "14", "proposal": "Two passes."}
    data.update(fields)
    return data


# ------------------------------------------------------------------------------------------------ asking and quoting


def test_a_job_asks_for_a_pilot_with_its_criteria_and_each_half_alone_is_refused_next_to_its_field(
    client,
    session,
    login_as,
    job_form,  # noqa: F811  (the fixture imported above)
):
    login_as(BuyerFactory(timezone="UTC"))
    refused = client.post("/jobs/new", data=job_form(pilot_scope=SCOPE, pilot_criteria=""))
    page = text(refused)
    assert refused.status_code == 400
    assert "Say what the pilot must show to pass" in page and SCOPE in page  # the form comes back filled in
    refused = text(client.post("/jobs/new", data=job_form(pilot_scope="", pilot_criteria=CRITERIA)))
    assert "Say what batch the pilot covers" in refused and CRITERIA in refused
    posted = client.post("/jobs/new", data=job_form(pilot_scope=SCOPE, pilot_criteria=CRITERIA))
    assert posted.status_code in (302, 303)
    job_page = text(client.get(posted.headers["Location"]))
    assert 'data-testid="pilot-ask"' in job_page and CRITERIA in job_page


def test_a_bid_on_a_pilot_job_must_quote_a_pilot_price_no_greater_than_its_total(client, session, login_as):
    _, job = pilot_job(bid_deadline=utcnow() + timedelta(days=3))
    vendor = VerifiedVendorFactory(timezone="UTC")
    session.commit()
    login_as(vendor)
    form = text(client.get(f"/jobs/{job.id}/bid"))
    assert 'name="pilot_price"' in form and "pilot" in form
    for price, message in (
        ("", "This job asks for a paid pilot first: quote its price."),
        ("0", "Enter a pilot price above zero."),
        ("9000", "The pilot cannot cost more than the whole job."),
        ("12,50x", "is not an amount of money"),  # not a number: the form's own message, next to the field
    ):
        refused = client.post(f"/jobs/{job.id}/bid", data=bid_form(pilot_price=price))
        assert refused.status_code == 400, price
        assert message in text(refused), price
    assert session.execute(select(Bid).where(Bid.job_id == job.id)).first() is None
    placed = client.post(f"/jobs/{job.id}/bid", data=bid_form(pilot_price="900"))
    assert placed.status_code in (302, 303)
    bid = session.execute(select(Bid).where(Bid.job_id == job.id)).scalar_one()
    assert bid.pilot_price_minor == 90_000
    assert "$900.00" in text(client.get(f"/bids/{bid.id}"))


def test_a_pilot_price_sent_for_a_job_without_a_pilot_is_not_kept(client, session, login_as):
    job = JobFactory(bid_deadline=utcnow() + timedelta(days=3))
    vendor = VerifiedVendorFactory(timezone="UTC")
    session.commit()
    login_as(vendor)
    assert 'name="pilot_price"' not in text(client.get(f"/jobs/{job.id}/bid"))
    assert client.post(f"/jobs/{job.id}/bid", data=bid_form(pilot_price="900")).status_code in (302, 303)
    assert session.execute(select(Bid.pilot_price_minor).where(Bid.job_id == job.id)).scalar_one() is None


def test_a_sealed_bids_pilot_price_stays_sealed_and_no_pilot_starts_before_the_deadline(client, session, login_as):
    buyer, job = pilot_job(bidding_mode=BiddingMode.SEALED, bid_deadline=utcnow() + timedelta(hours=3))
    bid = BidFactory(job_id=job.id, vendor_org_id=VerifiedVendorFactory().org_id, pilot_price_minor=123_456)
    session.commit()
    login_as(buyer)
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert "$1,234.56" not in page and 'data-testid="start-pilot"' not in page
    assert client.get(f"/jobs/{job.id}/bids/{bid.id}").status_code == 404  # the proposal is sealed too
    # Posting anyway finds nothing: the bid is not the lab's to read yet.
    assert client.post(f"/jobs/{job.id}/bids/{bid.id}/pilot").status_code == 404
    assert session.execute(select(Contract).where(Contract.job_id == job.id)).first() is None


# ------------------------------------------------------------------------------------------------ starting a pilot


def test_the_lab_starts_a_pilot_the_vendor_is_told_and_the_job_stays_open(client, session, login_as, bidders):
    buyer, job, vendors, bids = bidders
    login_as(buyer)
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert page.count('data-testid="start-pilot"') == 2 and "$900.00" in page and "$1,200.00" in page
    started = client.post(f"/jobs/{job.id}/bids/{bids[0].id}/pilot")
    assert started.status_code == 303
    contract = session.execute(select(Contract).where(Contract.bid_id == bids[0].id)).scalar_one()
    assert started.headers["Location"].endswith(f"/contracts/{contract.id}")
    assert (contract.kind, contract.total_minor, contract.vendor_org_id) == (
        ContractKind.PILOT,
        90_000,
        vendors[0].org_id,
    )
    milestone = session.execute(select(Milestone).where(Milestone.contract_id == contract.id)).scalar_one()
    assert milestone.title.startswith("Pilot: 2,000 street images") and milestone.amount_minor == 90_000
    session.refresh(job)
    assert job.status == JobStatus.OPEN  # a pilot is no award
    told = session.execute(
        select(Notification.message).where(Notification.user_id == vendors[0].id, Notification.kind == "pilot_started")
    ).scalar_one()
    assert "$900.00" in told and job.title in told
    assert not session.execute(
        select(Notification.id).where(Notification.user_id == vendors[1].id, Notification.kind == "pilot_started")
    ).first()
    contract_page = text(client.get(f"/contracts/{contract.id}"))
    assert "Paid pilot for" in contract_page and CRITERIA in contract_page
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert page.count('data-testid="start-pilot"') == 1 and "Started, not funded yet" in page
    # The vendor reads its pilot; the other bidder may not know it exists.
    login_as(vendors[0])
    assert CRITERIA in text(client.get(f"/contracts/{contract.id}"))
    assert 'data-testid="pilot-badge"' in text(client.get("/contracts"))
    login_as(vendors[1])
    assert client.get(f"/contracts/{contract.id}").status_code == 404


def test_every_refusal_to_start_a_pilot_says_why(client, session, login_as, bidders):
    buyer, job, vendors, bids = bidders
    pilots.start_pilot(session, buyer, job.id, bids[0].id)
    session.commit()
    login_as(buyer)
    again = client.post(f"/jobs/{job.id}/bids/{bids[0].id}/pilot", follow_redirects=True)
    assert "This bid&#39;s pilot has already started." in text(again)
    assert len(session.execute(select(Contract).where(Contract.bid_id == bids[0].id)).scalars().all()) == 1

    bids[1].pilot_price_minor = None  # a bid placed before the job asked for a pilot
    session.commit()
    refused = text(client.post(f"/jobs/{job.id}/bids/{bids[1].id}/pilot", follow_redirects=True))
    assert "This bid quotes no price for the pilot: ask the vendor to revise it." in refused

    no_pilot = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
    other = BidFactory(job_id=no_pilot.id, vendor_org_id=vendors[1].org_id, pilot_price_minor=10_000)
    session.commit()
    refused = text(client.post(f"/jobs/{no_pilot.id}/bids/{other.id}/pilot", follow_redirects=True))
    assert "This job asks for no pilot." in refused

    # A vendor screened out since it bid leaves the comparison: there is no bid to pilot.
    third = VerifiedVendorFactory()
    third_bid = BidFactory(job_id=job.id, vendor_org_id=third.org_id, pilot_price_minor=50_000)
    session.commit()
    rival = RivalFactory(buyer_org_id=job.buyer_org_id)
    third_org = session.get(Organization, third.org_id)
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=third_org.party_id, share_exact=49.0)
    session.commit()
    response = client.post(f"/jobs/{job.id}/bids/{third_bid.id}/pilot", follow_redirects=True)
    assert response.status_code == 404 or "Your screening excludes" in text(response)
    assert session.execute(select(Contract).where(Contract.bid_id == third_bid.id)).first() is None

    # Another lab, and the vendor itself, cannot start one.
    login_as(BuyerFactory())
    assert client.post(f"/jobs/{job.id}/bids/{bids[1].id}/pilot").status_code == 404
    login_as(vendors[1])
    assert client.post(f"/jobs/{job.id}/bids/{bids[1].id}/pilot").status_code == 403


def test_a_confidential_labs_name_goes_to_the_vendor_running_its_pilot_only(client, session, login_as):
    buyer, job = pilot_job(
        visibility=Visibility.CONFIDENTIAL, codename="Quiet Heron", bid_deadline=utcnow() - timedelta(hours=1)
    )
    piloting, other = VerifiedVendorFactory(timezone="UTC"), VerifiedVendorFactory(timezone="UTC")
    bid = BidFactory(job_id=job.id, vendor_org_id=piloting.org_id, pilot_price_minor=90_000)
    BidFactory(job_id=job.id, vendor_org_id=other.org_id, pilot_price_minor=80_000)
    session.commit()
    lab_name = session.get(Organization, buyer.org_id).name
    pilots.start_pilot(session, buyer, job.id, bid.id)
    session.commit()
    login_as(piloting)
    assert lab_name in text(client.get(f"/jobs/{job.id}"))
    login_as(other)
    page = text(client.get(f"/jobs/{job.id}"))
    assert lab_name not in page and "Quiet Heron" in page


# ------------------------------------------------------------------------------------------------ paid, passed, awarded


def test_a_pilot_is_paid_through_stripe_and_only_a_bid_whose_pilot_passed_is_awarded(
    client, session, login_as, bidders, gateway, stripe_sim
):
    buyer, job, vendors, bids = bidders
    contract = pilots.start_pilot(session, buyer, job.id, bids[0].id)
    session.commit()
    deal = Deal(contract, buyer, vendors[0])
    milestone = session.execute(select(Milestone).where(Milestone.contract_id == contract.id)).scalar_one()

    def refusal(bid):
        return award_preview(session, buyer, job.id, bid.id).refusal

    assert "start one with this bid" in refusal(bids[1])  # no pilot at all
    assert "has not passed (started, not funded yet)" in refusal(bids[0])

    fund(session, deal, gateway, stripe_sim, milestone)
    assert "has not passed (under way)" in refusal(bids[0])
    deliver(session, deal, milestone, note="2,000 images boxed.")
    contracts.reject_delivery(session, buyer, contract.id, milestone.id, "Agreement was 91% on the gold set.")
    session.commit()
    login_as(buyer)
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert "Delivery rejected, to be delivered again" in page and "Agreement was 91% on the gold set." in page

    deliver(session, deal, milestone, note="Relabelled: 97.8% on the gold set.")
    connect_vendor(session, deal, gateway, stripe_sim)
    assert contracts.accept_delivery(session, buyer, gateway, contract.id, milestone.id) is True
    session.commit()
    session.refresh(milestone)
    session.refresh(job)
    assert milestone.status == MilestoneStatus.RELEASED
    assert job.status == JobStatus.OPEN  # the pilot's completion moves no job
    kinds = [
        str(kind)
        for kind in session.execute(
            select(LedgerEntry.kind).where(LedgerEntry.contract_id == contract.id).order_by(LedgerEntry.id)
        ).scalars()
    ]
    assert kinds[0] == "charge" and "transfer" in kinds
    assert "Passed" in text(client.get(f"/jobs/{job.id}/bids"))

    # The other bid's pilot never ran: it still cannot be awarded; the piloted one can, beside its pilot.
    assert refusal(bids[1]) is not None
    award = award_bid(session, buyer, job.id, bids[0].id)
    session.commit()
    assert award.kind == ContractKind.FULL and award.total_minor == 800_000
    assert contracts.contract_for_job(session, buyer, job.id).id == award.id
    assert {c.kind for c in session.execute(select(Contract).where(Contract.job_id == job.id)).scalars()} == {
        ContractKind.FULL,
        ContractKind.PILOT,
    }
