"""Races over one contract that move no money: a milestone delivered twice, a flagged contract paused and
continued at once, the vendor rated twice. (Money races, against the Stripe simulator: test_payment_races.py.)

Contract actions lock the contract, then the milestone, and read both again under the lock: these tests keep
that so. One delivery, one decision, one rating; the loser is refused in words; no 5xx.
"""

import pytest
from sqlalchemy import func, select

from marketplace.contracts.models import Contract, ContractStatus, Delivery, Milestone, MilestoneStatus, Rating
from marketplace.extensions import db
from tests.concurrency.harness import flashes, post_and_follow, together
from tests.concurrency.invariants import audit_count, no_server_errors, told
from tests.factories import BidFactory, BuyerFactory, JobFactory, UserFactory, VerifiedVendorFactory

TRIALS = 3


def _contract(contract_status=ContractStatus.ACTIVE, milestone_status=MilestoneStatus.PENDING):
    """A contract between a buyer and a vendor, each with two users, in the state the test needs."""
    buyer, vendor = BuyerFactory(), VerifiedVendorFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, status="awarded")
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, status="awarded")
    contract = Contract(
        job_id=job.id,
        bid_id=bid.id,
        buyer_org_id=buyer.org_id,
        vendor_org_id=vendor.org_id,
        total_minor=bid.total_minor,
        currency=bid.currency,
        status=contract_status,
    )
    db.session.add(contract)
    db.session.flush()
    milestone = db.session.execute(select(Milestone).where(Milestone.contract_id == contract.id)).scalar_one()
    milestone.status = milestone_status
    db.session.flush()
    buyers = [buyer.id, UserFactory(role=buyer.role, org_id=buyer.org_id).id]
    vendors = [vendor.id, UserFactory(role=vendor.role, org_id=vendor.org_id).id]
    return contract.id, milestone.id, buyers, vendors


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_milestone_delivered_twice_at_once_is_delivered_once(race_app, build, client_for, trial):
    contract_id, milestone_id, _, vendor_ids = build(lambda: _contract(milestone_status=MilestoneStatus.FUNDED))
    clients = [client_for(user_id) for user_id in vendor_ids]
    outcomes = together(
        [
            lambda c=c, n=n: post_and_follow(
                c, f"/contracts/{contract_id}/milestones/{milestone_id}/deliver", {"note": f"Delivery {n}."}
            )
            for n, c in enumerate(clients)
        ]
    )
    no_server_errors(outcomes)
    assert told(outcomes, "Delivered.") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and "cannot be delivered: it is delivered." in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert (
            db.session.execute(
                select(func.count()).select_from(Delivery).where(Delivery.milestone_id == milestone_id)
            ).scalar_one()
            == 1
        )
        assert audit_count("milestone.delivered", milestone_id) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_flagged_contract_paused_and_continued_at_once_ends_one_way(race_app, build, client_for, trial):
    contract_id, _, buyer_ids, _ = build(lambda: _contract(ContractStatus.FLAGGED))
    paused, resumed = together(
        [
            lambda: post_and_follow(client_for(buyer_ids[0]), f"/contracts/{contract_id}/pause"),
            lambda: post_and_follow(client_for(buyer_ids[1]), f"/contracts/{contract_id}/continue"),
        ]
    )
    no_server_errors([paused, resumed])
    with race_app.app_context():
        status = db.session.get(Contract, contract_id).status
    # Pause then continue is a contract going on; continue then pause is refused (only a flagged one pauses).
    if told([paused], "Contract paused.") == 1:
        assert told([resumed], "The contract goes on.") == 1 and status == ContractStatus.ACTIVE
    else:
        assert told([paused], "Only a contract flagged by screening can be paused.") == 1
        assert status == ContractStatus.ACTIVE


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_vendor_rated_twice_at_once_has_one_rating(race_app, build, client_for, trial):
    contract_id, _, buyer_ids, _ = build(lambda: _contract(ContractStatus.COMPLETED, MilestoneStatus.RELEASED))
    clients = [client_for(user_id) for user_id in buyer_ids]
    outcomes = together(
        [
            lambda c=c, n=n: post_and_follow(
                c, f"/contracts/{contract_id}/rating", {"stars": str(4 + n), "comment": ""}
            )
            for n, c in enumerate(clients)
        ]
    )
    no_server_errors(outcomes)
    assert told(outcomes, "Thank you: your rating") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and "You have already rated this contract." in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert (
            db.session.execute(
                select(func.count()).select_from(Rating).where(Rating.contract_id == contract_id)
            ).scalar_one()
            == 1
        )
