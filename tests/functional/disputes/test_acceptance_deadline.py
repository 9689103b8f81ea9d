"""The acceptance deadline: the lab's silence after a delivery releases the payment, once, after both sides were
reminded; run by `flask reminders` with a controlled clock, against the local Stripe."""

from datetime import timedelta

import pytest
import time_machine

from marketplace.contracts.models import ContractStatus, DeliveryDecision, MilestoneStatus
from marketplace.disputes import service as disputes
from tests.functional.disputes.helpers import actions, agrees, delivered_deal, notices, run_reminders
from tests.functional.payments.stripe_support import connect_vendor, ledger, transfers_for

DAYS, REMIND_DAYS = 14, 3


@pytest.fixture
def deadline_config(stripe_config):
    stripe_config.update(ACCEPTANCE_DAYS=DAYS, ACCEPTANCE_REMINDER_DAYS=REMIND_DAYS)
    return stripe_config


@pytest.fixture
def delivered(session, gateway, stripe_sim, deadline_config):
    return delivered_deal(session, gateway, stripe_sim)


def at(delivery, days, minutes=0):
    return time_machine.travel(delivery.delivered_at + timedelta(days=days, minutes=minutes), tick=False)


def test_both_sides_see_the_deadline_on_the_contract(client, login_as, delivered):
    deal, _ = delivered
    deadline = deal.extra["delivery"].delivered_at + timedelta(days=DAYS)
    for user in (deal.buyer, deal.vendor):
        login_as(user)
        page = client.get(f"/contracts/{deal.contract.id}")
        assert 'data-testid="acceptance-deadline"' in page.text
        assert deadline.strftime("%Y-%m-%d %H:%M") in page.text
        assert "released to the vendor by itself" in page.text


def test_nothing_happens_before_the_reminder_window(app, session, delivered):
    deal, milestone = delivered
    with at(deal.extra["delivery"], DAYS - REMIND_DAYS - 1):
        assert "0 reminded, 0 released" in run_reminders(app)
    assert notices(session, deal.buyer, "acceptance_deadline") == []
    assert milestone.status == MilestoneStatus.DELIVERED


def test_both_sides_are_reminded_once_before_the_deadline(app, session, delivered, stripe_sim):
    deal, milestone = delivered
    with at(deal.extra["delivery"], DAYS - 2):
        assert "1 reminded, 0 released" in run_reminders(app)
        assert "0 reminded, 0 released" in run_reminders(app)
    [to_buyer] = notices(session, deal.buyer, "acceptance_deadline")
    [to_vendor] = notices(session, deal.vendor, "acceptance_deadline")
    assert "Accept or reject the delivery" in to_buyer and "released to the vendor by itself" in to_buyer
    assert "its payment is released to you then" in to_vendor
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.DELIVERED
    assert transfers_for(stripe_sim, milestone) == []


def test_silence_releases_the_payment_once_however_often_the_run_comes(app, session, gateway, stripe_sim, delivered):
    deal, milestone = delivered
    with at(deal.extra["delivery"], DAYS, minutes=1):
        assert "1 released" in run_reminders(app)
        assert "0 released" in run_reminders(app)
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RELEASED
    assert ledger(session, deal) == [("charge", 1_000_000), ("transfer", 900_000), ("platform_fee", 100_000)]
    assert len(transfers_for(stripe_sim, milestone)) == 1
    assert deal.extra["delivery"].decision == DeliveryDecision.ACCEPTED
    assert "milestone.accepted_at_deadline" in actions(session, "milestone", milestone.id)
    assert "milestone.released" in actions(session, "milestone", milestone.id)
    assert notices(session, deal.buyer, "accepted_at_deadline") and notices(session, deal.vendor, "milestone_paid")
    session.refresh(deal.contract)
    assert deal.contract.status == ContractStatus.COMPLETED
    assert agrees(session, gateway)


def test_the_deadline_accepts_and_the_payout_waits_for_the_vendors_account(
    app, session, gateway, stripe_sim, deadline_config
):
    deal, milestone = delivered_deal(session, gateway, stripe_sim, connected=False)
    with at(deal.extra["delivery"], DAYS + 1):
        assert "0 released, 1 accepted with the payout waiting" in run_reminders(app)
    assert milestone.status == MilestoneStatus.ACCEPTED
    assert notices(session, deal.vendor, "payout_waiting")
    connect_vendor(session, deal, gateway, stripe_sim)
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RELEASED
    assert len(transfers_for(stripe_sim, milestone)) == 1
    assert agrees(session, gateway)


def test_a_contract_on_hold_is_not_released_until_the_buyer_goes_on(app, session, delivered, stripe_sim):
    deal, milestone = delivered
    deal.contract.status = ContractStatus.FLAGGED
    session.commit()
    with at(deal.extra["delivery"], DAYS + 1):
        assert "0 released, 0 accepted with the payout waiting, 1 on hold" in run_reminders(app)
    assert milestone.status == MilestoneStatus.DELIVERED
    assert transfers_for(stripe_sim, milestone) == []


def test_a_disputed_delivery_is_not_released_by_the_deadline(app, session, delivered, stripe_sim):
    deal, milestone = delivered
    disputes.open_dispute(
        session,
        deal.buyer,
        deal.contract.id,
        milestone.id,
        "Half the boxes are missing.",
        [],
        None,
        deadlines=disputes.Deadlines(7, 14),
    )
    session.commit()
    with at(deal.extra["delivery"], DAYS + 1):
        assert "0 reminded, 0 released" in run_reminders(app)
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.DISPUTED
    assert transfers_for(stripe_sim, milestone) == []


def test_the_lab_rejects_until_its_deadline_and_after_it_may_only_accept_whenever_the_run_comes(
    client, login_as, session, delivered, stripe_sim
):
    """The server's clock ends the lab's time to decide, not the next run (it may be a day away): from the deadline
    on, its silence has accepted the delivery, so it may still accept, never reject."""
    deal, milestone = delivered
    delivery, url = deal.extra["delivery"], f"/contracts/{deal.contract.id}/milestones/{milestone.id}"
    with at(delivery, DAYS, minutes=-1):
        login_as(deal.buyer)  # signed in on the day: a sign-in lasts hours, not the fortnight
        page = client.get(f"/contracts/{deal.contract.id}").text
        assert "Reject delivery" in page and "The buyer accepts or rejects it by" in page
    with at(delivery, DAYS):
        login_as(deal.buyer)
        page = client.get(f"/contracts/{deal.contract.id}").text
        assert "Reject delivery" not in page
        assert "The buyer's time to decide ended" in page and "counts as accepted" in page
        refused = client.post(f"{url}/reject", data={f"m{milestone.id}-reason": "Half the boxes are missing."})
        assert refused.status_code == 400
        assert "your silence accepted it" in refused.text and "You can still accept it now." in refused.text
        session.refresh(milestone)
        assert milestone.status == MilestoneStatus.DELIVERED and delivery.decision == DeliveryDecision.WAITING
        assert client.post(f"{url}/accept").status_code == 303
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RELEASED
    assert len(transfers_for(stripe_sim, milestone)) == 1


def test_before_the_deadline_the_lab_still_rejects(client, login_as, session, delivered):
    deal, milestone = delivered
    with at(deal.extra["delivery"], DAYS, minutes=-1):
        login_as(deal.buyer)
        url = f"/contracts/{deal.contract.id}/milestones/{milestone.id}/reject"
        assert client.post(url, data={f"m{milestone.id}-reason": "Half the boxes are missing."}).status_code == 303
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.REJECTED
