"""Races over one job's bids, each racer a signed-in client with its own connection, all released at once.

The invariants: what a user was told happened is what was committed; one bid per vendor and job; revision numbers
unique and gapless; one contract per job, whose total is the awarded bid's total at the award; no 5xx, a lost
race gets a sentence a person understands.
"""

import pytest
from sqlalchemy import func, select

from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode, Job, JobStatus
from tests.concurrency.harness import flashes, post_and_follow, together
from tests.factories import BidFactory, BuyerFactory, JobFactory, UserFactory, VerifiedVendorFactory

TRIALS = 4


def offer(total: str, unit: str = "1.00", days: int = 20) -> dict:
    return {"price_per_unit": unit, "total": total, "turnaround_days": str(days), "proposal": "We label well."}


def open_job() -> Job:
    return JobFactory(bidding_mode=BiddingMode.OPEN)


def colleague(user) -> int:
    """Another user of the same organisation (a second person, or the same one in a second browser)."""
    return UserFactory(role=user.role, org_id=user.org_id).id


def no_server_errors(outcomes) -> None:
    problems = [
        o if isinstance(o, Exception) else o.status for o in outcomes if isinstance(o, Exception) or o.status >= 500
    ]
    assert problems == []


def test_one_vendor_placing_its_first_bid_twice_at_once_gets_one_bid(race_app, build, client_for):
    for _ in range(TRIALS):
        job_id, user_ids = build(_job_and_one_vendor_twice)
        url = f"/jobs/{job_id}/bid"
        clients = [client_for(user_id) for user_id in user_ids]
        outcomes = together(
            [lambda c=c, n=n, url=url: post_and_follow(c, url, offer(f"{900 + n}.00")) for n, c in enumerate(clients)]
        )
        no_server_errors(outcomes)
        with race_app.app_context():
            bids = db.session.execute(select(Bid).where(Bid.job_id == job_id)).scalars().all()
            assert len(bids) == 1
            revisions = db.session.execute(select(BidRevision).where(BidRevision.bid_id == bids[0].id)).scalars().all()
            assert [r.number for r in revisions] == [1]
        placed = [o for o in outcomes if "Your bid is placed" in " ".join(flashes(o.text))]
        # The other comes back with its form as typed, and why: a colleague's bid is there to revise.
        refused = [o for o in outcomes if o.status == 400 and "already bid on this job" in o.text]
        assert (len(placed), len(refused)) == (1, 1), [(o.status, flashes(o.text)) for o in outcomes]
        assert any(f'value="{900 + n}.00"' in refused[0].text for n in range(2))


def _job_and_one_vendor_twice():
    job = open_job()
    vendor = VerifiedVendorFactory()
    return job.id, [vendor.id, colleague(vendor)]


def test_simultaneous_revisions_are_all_kept_in_order(race_app, build, client_for):
    racers = 6
    bid_id, user_ids = build(lambda: _bid_and_colleagues(racers))
    clients = [client_for(user_id) for user_id in user_ids]
    outcomes = together(
        [
            lambda c=c, n=n: post_and_follow(c, f"/bids/{bid_id}/revise", offer(f"{1000 + n}.00"))
            for n, c in enumerate(clients)
        ]
    )
    no_server_errors(outcomes)
    told = sorted(
        int(message.split()[1]) for o in outcomes for message in flashes(o.text) if message.startswith("Revision ")
    )
    with race_app.app_context():
        bid = db.session.get(Bid, bid_id)
        numbers = (
            db.session.execute(
                select(BidRevision.number).where(BidRevision.bid_id == bid_id).order_by(BidRevision.number)
            )
            .scalars()
            .all()
        )
        latest = db.session.execute(
            select(BidRevision).where(BidRevision.bid_id == bid_id).order_by(BidRevision.number.desc()).limit(1)
        ).scalar_one()
        assert numbers == list(range(1, racers + 2))  # unique and gapless
        assert told == list(range(2, racers + 2))  # every acknowledged revision is committed, under its number
        assert bid.revision == racers + 1
        assert bid.total_minor == latest.total_minor  # the bid shows its latest revision


def _bid_and_colleagues(count: int):
    job = open_job()
    vendor = VerifiedVendorFactory()
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=100_000, price_per_unit_minor=100)
    return bid.id, [vendor.id] + [colleague(vendor) for _ in range(count - 1)]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_revision_racing_the_award_never_changes_the_awarded_bid(race_app, build, client_for, trial):
    job_id, bid_id, buyer_id, vendor_id = build(_awardable_bid)
    buyer, vendor = client_for(buyer_id), client_for(vendor_id)
    revised, awarded = together(
        [
            lambda: post_and_follow(vendor, f"/bids/{bid_id}/revise", offer("1300.00")),
            lambda: post_and_follow(buyer, f"/jobs/{job_id}/bids/{bid_id}/award"),
        ]
    )
    no_server_errors([revised, awarded])
    with race_app.app_context():
        contract = db.session.execute(select(Contract).where(Contract.job_id == job_id)).scalar_one()
        bid = db.session.get(Bid, bid_id)
        assert bid.status == BidStatus.AWARDED
        assert contract.total_minor == bid.total_minor
        revision_saved = any(m.startswith("Revision 2 saved") for m in flashes(revised.text))
        assert bid.total_minor == (130_000 if revision_saved else 100_000)
        assert bid.revision == (2 if revision_saved else 1)
    if not revision_saved:  # the award came first: the revision is refused in words, beside the form
        assert revised.status == 400 and "This bid is awarded: it can no longer change." in revised.text


def _awardable_bid():
    job = open_job()
    buyer = BuyerFactory(org_id=job.buyer_org_id)
    vendor = VerifiedVendorFactory()
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=100_000, price_per_unit_minor=100)
    return job.id, bid.id, buyer.id, vendor.id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_concurrent_awards_make_one_contract_and_tell_the_others_why(race_app, build, client_for, trial):
    job_id, bid_ids, buyer_ids = build(_job_with_bids_and_buyers)
    clients = [client_for(buyer_id) for buyer_id in buyer_ids]
    calls = [
        lambda c=c, b=bid_id: post_and_follow(c, f"/jobs/{job_id}/bids/{b}/award")
        for c in clients
        for bid_id in bid_ids
    ]
    outcomes = together(calls)
    no_server_errors(outcomes)
    with race_app.app_context():
        contracts = db.session.execute(select(Contract).where(Contract.job_id == job_id)).scalars().all()
        assert len(contracts) == 1
        statuses = dict(db.session.execute(select(Bid.id, Bid.status).where(Bid.job_id == job_id)).all())
        assert list(statuses.values()).count(BidStatus.AWARDED) == 1
        assert statuses[contracts[0].bid_id] == BidStatus.AWARDED
        assert db.session.get(Job, job_id).status == JobStatus.AWARDED
    messages = [" ".join(flashes(o.text)) for o in outcomes]
    assert sum("Awarded. Contract" in m for m in messages) == 1
    assert sum("already been awarded" in m for m in messages) == len(outcomes) - 1, messages


def _job_with_bids_and_buyers():
    job = open_job()
    buyer = BuyerFactory(org_id=job.buyer_org_id)
    bids = [BidFactory(job_id=job.id, vendor_org_id=VerifiedVendorFactory().org_id) for _ in range(2)]
    return job.id, [b.id for b in bids], [buyer.id, colleague(buyer)]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_bid_placed_as_the_job_is_awarded_is_either_lost_or_refused(race_app, build, client_for, trial):
    job_id, bid_id, buyer_id, _ = build(_awardable_bid)
    newcomer_id = build(lambda: VerifiedVendorFactory().id)
    buyer, newcomer = client_for(buyer_id), client_for(newcomer_id)
    placed, awarded = together(
        [
            lambda: post_and_follow(newcomer, f"/jobs/{job_id}/bid", offer("800.00")),
            lambda: post_and_follow(buyer, f"/jobs/{job_id}/bids/{bid_id}/award"),
        ]
    )
    no_server_errors([placed, awarded])
    with race_app.app_context():
        late = db.session.execute(select(Bid).where(Bid.job_id == job_id, Bid.id != bid_id)).scalar_one_or_none()
        # Never a live bid on an awarded job: placed first it lost the award, or it was refused.
        assert late is None or late.status == BidStatus.LOST
        if late is None:
            assert "not taking bids" in placed.text


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_withdrawal_racing_the_award_leaves_one_story(race_app, build, client_for, trial):
    job_id, bid_id, buyer_id, vendor_id = build(_awardable_bid)
    buyer, vendor = client_for(buyer_id), client_for(vendor_id)
    withdrawn, awarded = together(
        [
            lambda: post_and_follow(vendor, f"/bids/{bid_id}/withdraw"),
            lambda: post_and_follow(buyer, f"/jobs/{job_id}/bids/{bid_id}/award"),
        ]
    )
    no_server_errors([withdrawn, awarded])
    with race_app.app_context():
        bid = db.session.get(Bid, bid_id)
        contracts = db.session.execute(
            select(func.count()).select_from(Contract).where(Contract.job_id == job_id)
        ).scalar_one()
        if bid.status == BidStatus.AWARDED:
            assert contracts == 1
            assert "This bid is awarded: it can no longer change." in flashes(withdrawn.text)
        else:
            assert bid.status == BidStatus.WITHDRAWN and contracts == 0
            assert db.session.get(Job, job_id).status == JobStatus.OPEN
