"""The lab shortlists bids and asks the shortlist for best and final offers by a new time: only shortlisted bidders
may revise until then, every bid's terms are sealed to the lab until then (comparison, proposal, notifications,
audit export), award waits, and each refusal says why."""

import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.bids.models import BidRevision
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode
from marketplace.notifications.models import Notification
from tests.factories import BidFactory, BuyerFactory, JobFactory, VerifiedVendorFactory


def text(response) -> str:
    return response.get_data(as_text=True)


def local(moment) -> str:
    """A UTC moment as a UTC user types it in a datetime-local field."""
    return moment.strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def closed_job(session):
    """An open-bidding job whose deadline passed an hour ago, with three live bids."""
    buyer = BuyerFactory(timezone="UTC")
    job = JobFactory(
        buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN, bid_deadline=utcnow() - timedelta(hours=1)
    )
    vendors = [VerifiedVendorFactory(timezone="UTC") for _ in range(3)]
    bids = [
        BidFactory(job_id=job.id, vendor_org_id=v.org_id, total_minor=700_000 + 10_000 * i)
        for i, v in enumerate(vendors)
    ]
    session.flush()
    return buyer, job, vendors, bids


def revise(client, bid, total: str):
    return client.post(
        f"/bids/{bid.id}/revise",
        data={"price_per_unit": "0.50", "total": total, "turnaround_days": "10", "proposal": "Final offer."},
    )


def test_only_the_shortlist_may_revise_and_every_term_is_sealed_until_final_offers_are_due(
    client, session, login_as, closed_job
):
    buyer, job, vendors, bids = closed_job
    login_as(buyer)
    for bid in bids[:2]:
        assert client.post(f"/jobs/{job.id}/bids/{bid.id}/shortlist", data={"keep": "1"}).status_code == 303
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert page.count('data-testid="shortlisted"') == 2 and "$7,000.00" in page
    due = utcnow() + timedelta(days=2)
    asked = client.post(f"/jobs/{job.id}/final-offers", data={"due": local(due), "note": "Sharpen the price."})
    assert asked.status_code == 303

    # The two shortlisted bidders are told; the third is not.
    for vendor, told in zip(vendors, (True, True, False), strict=True):
        notes = (
            session.execute(
                select(Notification.message).where(
                    Notification.user_id == vendor.id, Notification.kind == "final_offer_requested"
                )
            )
            .scalars()
            .all()
        )
        assert bool(notes) is told
        if told:
            assert "best and final offer by" in notes[0] and "Sharpen the price." in notes[0]

    # Every bid's terms are sealed to the lab until then.
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert 'data-testid="final-offers-due"' in page and "$7,000.00" not in page and "$7,100.00" not in page
    assert client.get(f"/jobs/{job.id}/bids/{bids[0].id}").status_code == 404
    award = client.get(f"/jobs/{job.id}/bids/{bids[0].id}/award", follow_redirects=True)
    assert "Best and final offers are due" in text(award)
    exported = [json.loads(line) for line in text(client.get("/audit/export.jsonl")).splitlines()]
    placed = [r for r in exported if r["action"] in ("bid.placed", "bid.revised")]
    assert all(r.get("sealed_until") == job.final_offers_due.isoformat() for r in placed)

    # A shortlisted bidder revises; the lab is told without the amount. The third may not revise.
    login_as(vendors[0])
    assert "asks for your best and final offer" in text(client.get(f"/bids/{bids[0].id}"))
    assert "best and final offer asked, due" in text(client.get("/bids/"))  # its list says so too
    assert revise(client, bids[0], "6,500.00").status_code == 303
    told = session.execute(
        select(Notification.message).where(Notification.user_id == buyer.id, Notification.kind == "bid_revised")
    ).scalar_one()
    assert "Final offers stay sealed until they are due." in told and "6,500" not in told
    # The threads close until the offers are due, and say why.
    assert "Best and final offers are sealed until they are due" in text(client.get(f"/bids/{bids[0].id}/messages"))
    login_as(vendors[2])
    assert "best and final offer asked" not in text(client.get("/bids/"))
    refused = revise(client, bids[2], "5,000.00")
    assert refused.status_code == 400 and "Bidding on this job closed" in text(refused)
    assert [
        r.number for r in session.execute(select(BidRevision).where(BidRevision.bid_id == bids[2].id)).scalars()
    ] == [1]

    # When they are due, the lab reads every offer, the final one included, and may award.
    with time_machine.travel(due + timedelta(minutes=1)):
        login_as(buyer)
        page = text(client.get(f"/jobs/{job.id}/bids"))
        assert "$6,500.00" in page and "$7,100.00" in page
        assert client.get(f"/jobs/{job.id}/bids/{bids[0].id}/award").status_code == 200
        login_as(vendors[1])
        assert revise(client, bids[1], "6,000.00").status_code == 400  # too late for the shortlist too
        assert "best and final offer asked" not in text(client.get("/bids/"))


def test_asking_for_final_offers_is_refused_with_the_reason(client, session, login_as, closed_job):
    buyer, job, vendors, bids = closed_job
    login_as(buyer)

    def ask(**data):
        return text(client.post(f"/jobs/{job.id}/final-offers", data=data, follow_redirects=True))

    due = local(utcnow() + timedelta(days=1))
    assert "Shortlist at least one live bid first." in ask(due=due)
    client.post(f"/jobs/{job.id}/bids/{bids[0].id}/shortlist", data={"keep": "1"})
    assert "Give the bidders at least an hour" in ask(due=local(utcnow() + timedelta(minutes=10)))
    assert "Choose a time within 60 days." in ask(due=local(utcnow() + timedelta(days=90)))
    assert "Keep the note under 1,000 characters." in ask(due=due, note="x" * 1001)
    assert job.final_offers_due is None
    assert "Asked 1 shortlisted bidder" in ask(due=due)
    assert "were asked for already" in ask(due=due)
    took_off = client.post(f"/jobs/{job.id}/bids/{bids[0].id}/shortlist", data={"keep": "0"}, follow_redirects=True)
    assert "it no longer changes" in text(took_off)

    login_as(BuyerFactory())
    assert client.post(f"/jobs/{job.id}/final-offers", data={"due": due}).status_code == 404
    assert client.post(f"/jobs/{job.id}/bids/{bids[1].id}/shortlist", data={"keep": "1"}).status_code == 404
    login_as(vendors[0])
    assert client.post(f"/jobs/{job.id}/final-offers", data={"due": due}).status_code == 403


def test_final_offers_wait_for_the_bid_deadline(client, session, login_as, closed_job):
    buyer, job, _, bids = closed_job
    job.bid_deadline = utcnow() + timedelta(days=1)
    session.flush()
    login_as(buyer)
    client.post(f"/jobs/{job.id}/bids/{bids[0].id}/shortlist", data={"keep": "1"})  # open bidding: amounts visible
    page = text(
        client.post(
            f"/jobs/{job.id}/final-offers", data={"due": local(utcnow() + timedelta(days=3))}, follow_redirects=True
        )
    )
    assert "Ask for best and final offers once bidding has closed" in page
