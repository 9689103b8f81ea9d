"""Races between Stripe's webhooks and the people on a contract, against the local Stripe simulator.

Duplicated and shuffled webhooks are covered in tests/functional/payments; here a webhook races a person's
click on the same money. One transfer per milestone, and no 5xx: a deadlock between the two is a 500 for one.
"""

import pytest
from flask import current_app
from sqlalchemy import func, select

from marketplace.contracts import service as contracts
from marketplace.contracts.models import Milestone, MilestoneStatus
from marketplace.extensions import db
from marketplace.payments import service as payments
from marketplace.payments.gateway import from_config
from marketplace.payments.models import EntryKind, LedgerEntry
from tests.concurrency.harness import together
from tests.concurrency.invariants import no_server_errors
from tests.functional.payments.stripe_support import (
    FEE_BPS,
    TEST_KEY,
    URLS,
    WEBHOOK_SECRET,
    event_payload,
    make_deal,
    signed,
    stripe_sim,  # noqa: F401 (the simulator's fixture)
    transfers_for,
)

TRIALS = 4


@pytest.fixture
def sim(race_app, request):
    """The Stripe simulator, and the race app paying through it as run-demo configures it (put back after)."""
    simulator = request.getfixturevalue("stripe_sim")
    wanted = {
        "STRIPE_SECRET_KEY": TEST_KEY,
        "STRIPE_API_BASE": simulator.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PLATFORM_FEE_BPS": FEE_BPS,
    }
    saved = {name: race_app.config.get(name) for name in wanted}
    race_app.config.update(wanted)
    yield simulator
    race_app.config.update(saved)


def _accepted_and_waiting_for_the_payout_account(sim):
    """A milestone funded, delivered and accepted; the vendor has just finished Stripe's onboarding, which the
    app has not heard of yet: the payout waits."""
    session = db.session
    gateway = from_config(current_app.config)
    deal = make_deal(session)
    milestone = session.execute(select(Milestone).where(Milestone.contract_id == deal.contract.id)).scalar_one()
    url = contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)
    sim.pay(url)
    checkout = gateway.retrieve_checkout_session(milestone.checkout_session_id)
    payments.record_payment(session, gateway, payments.STRIPE, checkout.payment_intent_id, FEE_BPS)
    contracts.deliver(session, deal.vendor, deal.contract.id, milestone.id, "All boxed.", [], folder=None)
    assert contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id) is False
    link = payments.start_onboarding(
        session, gateway, deal.vendor, refresh_url="http://localhost/r", return_url="http://localhost/back"
    )
    assert sim.complete_onboarding(link).status_code == 303
    account = payments.payout_account_of(session, deal.vendor.org_id)
    return deal.contract.id, milestone.id, deal.vendor.id, account.stripe_account_id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_the_payout_webhook_racing_the_vendors_retry_pays_once(race_app, sim, build, client_for, trial):
    """Stripe says the vendor's account is ready as the vendor presses "Retry payout": the webhook locks the
    payout account and then the milestone it pays, the vendor's request the contract and its milestone and then
    the account. Both must end with one transfer, and neither with a 500."""
    contract_id, milestone_id, vendor_id, account_id = build(lambda: _accepted_and_waiting_for_the_payout_account(sim))
    vendor = client_for(vendor_id)
    stripe = race_app.test_client()
    payload = event_payload(f"evt_race_{account_id}", "account.updated", {"id": account_id, "object": "account"})
    retried, notified = together(
        [
            lambda: vendor.post(f"/contracts/{contract_id}/milestones/{milestone_id}/retry-payout"),
            lambda: stripe.post("/payments/webhook", data=payload, headers=signed(payload)),
        ]
    )
    no_server_errors([_outcome(retried), _outcome(notified)])
    assert notified.status_code == 200
    # The vendor's request paid the milestone, or found it paid by the webhook and says so.
    assert retried.status_code == 303 or (
        retried.status_code == 400 and "Milestone 1 is paid already." in retried.get_data(as_text=True)
    )
    with race_app.app_context():
        milestone = db.session.get(Milestone, milestone_id)
        assert milestone.status == MilestoneStatus.RELEASED
        transfers = db.session.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.milestone_id == milestone_id, LedgerEntry.kind == EntryKind.TRANSFER)
        ).scalar_one()
        assert transfers == 1
        assert len(transfers_for(sim, milestone)) == 1
    again = vendor.post(f"/contracts/{contract_id}/milestones/{milestone_id}/retry-payout")
    assert again.status_code == 400 and "Milestone 1 is paid already." in again.get_data(as_text=True)


def _outcome(response):
    from tests.concurrency.harness import Outcome

    if isinstance(response, Exception):
        return response
    return Outcome(response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True))
