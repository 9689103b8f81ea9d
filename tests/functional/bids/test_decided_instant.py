"""A change to a bid is let in or refused by the server's clock at one instant, and dated with that instant.

On a loaded server a request takes time between checking the deadline and building its rows (the job's lock, the
files, the audit trail); a revision dated when its row was built could then say it landed after the deadline the
check let it in before. Here the server's clock moves on one second with every SQL statement (tests/slow_server.py),
and the deadline is swept through the request, one second at a time: whatever
statement the deadline falls on, each change is either refused in words or dated before the deadline, on the bid
and on its revision alike.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.bids import service as bids
from marketplace.bids.models import Bid, BidRevision
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode
from tests.factories import JobFactory, VerifiedVendorFactory
from tests.slow_server import sweep_deadline

OFFER = bids.Offer(price_per_unit_minor=50, total_minor=500_000, turnaround_days=10)
BETTER = bids.Offer(price_per_unit_minor=45, total_minor=450_000, turnaround_days=9)
SWEEP = 45  # seconds: more than any of these requests' statements


def _place(session, vendor, job, _bid):
    return bids.place_bid(session, vendor, job.id, BETTER)


def _revise(session, vendor, _job, bid):
    return bids.revise_bid(session, vendor, bid.id, BETTER)


def _withdraw(session, vendor, _job, bid):
    return bids.withdraw_bid(session, vendor, bid.id)


def _bid_again(session, vendor, job, _bid):
    return bids.place_bid(session, vendor, job.id, BETTER)


def _placed(session, vendor, job):
    return bids.place_bid(session, vendor, job.id, OFFER)


def _placed_then_withdrawn(session, vendor, job):
    bid = bids.place_bid(session, vendor, job.id, OFFER)
    return bids.withdraw_bid(session, vendor, bid.id)


CHANGES = {
    "place": (lambda *_: None, _place),
    "revise": (_placed, _revise),
    "withdraw": (_placed, _withdraw),
    "bid again after withdrawing": (_placed_then_withdrawn, _bid_again),
}


def _dates(session, job_id: int, vendor_org_id: int) -> list[datetime | None]:
    bid = session.execute(select(Bid).where(Bid.job_id == job_id, Bid.vendor_org_id == vendor_org_id)).scalar_one()
    latest = session.execute(
        select(BidRevision).where(BidRevision.bid_id == bid.id, BidRevision.number == bid.revision)
    ).scalar_one()
    return [bid.updated_at, bid.withdrawn_at, latest.created_at, latest.withdrawn_at]


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_let_in_before_the_deadline_is_dated_before_it_wherever_the_deadline_falls(session, change):
    before, act = CHANGES[change]

    def arrange(deadline):
        job = JobFactory(bidding_mode=BiddingMode.SEALED, bid_deadline=utcnow() + timedelta(days=1))
        vendor = VerifiedVendorFactory()
        bid = before(session, vendor, job)
        job.bid_deadline = deadline
        return vendor, job, bid

    with time_machine.travel(utcnow().replace(microsecond=0), tick=False) as traveller:
        outcomes = sweep_deadline(
            traveller,
            session,
            SWEEP,
            arrange=arrange,
            act=lambda arranged: act(session, *arranged),
            refusal=bids.BidError,
            dates=lambda arranged, _: _dates(session, arranged[1].id, arranged[0].org_id),
        )
    # The sweep crossed the request: the deadline fell before the check on some steps and after it on others.
    assert outcomes == {"refused", "let in"}


def test_change_refusal_judges_the_deadline_at_the_instant_it_is_given(session):
    """change_refusal asked with an instant judges it at that instant, not by the clock when it runs."""
    job = JobFactory(bidding_mode=BiddingMode.SEALED, bid_deadline=utcnow() + timedelta(hours=1))
    vendor = VerifiedVendorFactory()
    bid = _placed(session, vendor, job)
    assert bids.change_refusal(session, vendor, bid, job, job.bid_deadline - timedelta(microseconds=1)) is None
    assert "closed" in (bids.change_refusal(session, vendor, bid, job, job.bid_deadline) or "")
