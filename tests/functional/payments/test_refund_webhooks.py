"""Refunds Stripe tells us about: made in Stripe's Dashboard (outside the app), or ours, in any order, once.

The local Stripe sends `refund.created` and `charge.refunded` for every refund, signed the way Stripe signs; a
small inbox receives them and each test passes the raw body and header on to the app unchanged. A refund "made
outside the app" is one created straight at the local Stripe with a client of the test's own, as the Dashboard
would.
"""

import pytest
import stripe
from sqlalchemy import func, select

from marketplace.audit.models import AuditRecord
from marketplace.contracts import service as contracts
from marketplace.contracts.models import ContractStatus, MilestoneStatus
from marketplace.notifications.models import Notification
from marketplace.payments.models import WebhookEvent
from marketplace.payments.reconcile import reconcile
from tests.functional.payments.stripe_support import (
    FEE_BPS,
    URLS,
    connect_vendor,
    deliver,
    fund,
    ledger,
    make_deal,
    only_milestone,
)

TOTAL = 420_000


@pytest.fixture
def deal(session, stripe_config):
    return make_deal(session, total_minor=TOTAL)


def deliver_to_app(client, delivery):
    body, headers = delivery
    return client.post(
        "/payments/webhook",
        data=body,
        headers={"Stripe-Signature": headers["Stripe-Signature"], "Content-Type": "application/json"},
    )


def refund_in_stripe(stripe_sim, payment_intent_id, amount=None):
    """A refund made outside the app, as in Stripe's Dashboard (no metadata, no idempotency key of ours)."""
    params = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    return stripe_sim.client().v1.refunds.create(params)


def of_payment(payment_intent_id, **expected):
    return lambda obj: (
        obj.get("payment_intent") == payment_intent_id
        and all(obj.get(name) == value for name, value in expected.items())
    )


def funded(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    milestone = only_milestone(session, deal)
    assert milestone.status == MilestoneStatus.FUNDED
    return milestone


def count(session, model, *where):
    return session.execute(select(func.count(model.id)).where(*where)).scalar_one()


def refund_audits(session, milestone):
    return count(session, AuditRecord, AuditRecord.action == "payment.refunded", AuditRecord.subject_id == milestone.id)


def test_a_refund_made_in_stripe_is_recorded_once_and_closes_the_held_milestone(
    session, client, deal, gateway, stripe_sim, webhook_inbox
):
    milestone = funded(session, deal, gateway, stripe_sim)
    refund = refund_in_stripe(stripe_sim, milestone.payment_intent_id)

    charge_refunded = webhook_inbox.wait_for("charge.refunded", of_payment(milestone.payment_intent_id))
    response = deliver_to_app(client, charge_refunded)

    assert response.status_code == 200 and response.json["outcome"] == "processed"
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    milestone = only_milestone(session, deal)
    assert milestone.status == MilestoneStatus.REFUNDED and milestone.closed_at is not None
    session.refresh(deal.contract)
    assert deal.contract.status == ContractStatus.ENDED  # nothing was paid out: the contract ended, not completed
    assert refund_audits(session, milestone) == 1
    assert (
        count(session, AuditRecord, AuditRecord.action == "milestone.refunded", AuditRecord.subject_id == milestone.id)
        == 1
    )
    assert (
        count(session, Notification, Notification.kind == "payment_refunded", Notification.user_id == deal.buyer.id)
        == 1
    )
    assert (
        count(session, Notification, Notification.kind == "milestone_refunded", Notification.user_id == deal.vendor.id)
        == 1
    )

    # The refund's own event, about the same refund: nothing more is written.
    refund_created = webhook_inbox.wait_for("refund.created", lambda obj: obj["id"] == refund.id)
    assert deliver_to_app(client, refund_created).json["outcome"] == "processed"
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    assert refund_audits(session, milestone) == 1
    assert reconcile(session, gateway)[0] == []


def test_the_same_refund_event_delivered_twice_does_nothing_the_second_time(
    session, client, deal, gateway, stripe_sim, webhook_inbox
):
    milestone = funded(session, deal, gateway, stripe_sim)
    refund_in_stripe(stripe_sim, milestone.payment_intent_id)
    event = webhook_inbox.wait_for("charge.refunded", of_payment(milestone.payment_intent_id))

    assert deliver_to_app(client, event).json["outcome"] == "processed"
    again = deliver_to_app(client, event)

    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert count(session, WebhookEvent, WebhookEvent.type == "charge.refunded") == 1
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    assert refund_audits(session, only_milestone(session, deal)) == 1


def test_the_webhooks_of_our_own_refund_do_not_record_it_again(
    session, client, deal, gateway, stripe_sim, webhook_inbox
):
    milestone = funded(session, deal, gateway, stripe_sim)
    contracts.cancel_milestone(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS)
    session.commit()
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    notices = count(session, Notification)

    for event_type in ("refund.created", "charge.refunded"):
        event = webhook_inbox.wait_for(event_type, of_payment(milestone.payment_intent_id))
        assert deliver_to_app(client, event).json["outcome"] == "processed"

    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    assert only_milestone(session, deal).status == MilestoneStatus.REFUNDED
    assert refund_audits(session, milestone) == 1
    assert count(session, Notification) == notices
    assert reconcile(session, gateway)[0] == []


def paid_at_stripe_then_refunded(session, deal, gateway, stripe_sim):
    """The buyer pays the milestone on Checkout and the whole payment is refunded in Stripe, before any webhook
    reaches the app: (milestone, payment intent id, refund)."""
    milestone = only_milestone(session, deal)
    checkout_url = contracts.funding_url(
        session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS
    )
    session.commit()
    stripe_sim.pay(checkout_url)
    payment_intent = gateway.retrieve_checkout_session(milestone.checkout_session_id).payment_intent_id
    return milestone, payment_intent, refund_in_stripe(stripe_sim, payment_intent)


def test_news_of_a_refund_before_news_of_the_payment_still_ends_right(
    session, client, deal, gateway, stripe_sim, webhook_inbox
):
    milestone, payment_intent, refund = paid_at_stripe_then_refunded(session, deal, gateway, stripe_sim)
    refund_created = webhook_inbox.wait_for("refund.created", lambda obj: obj["id"] == refund.id)
    completed = webhook_inbox.wait_for(
        "checkout.session.completed", lambda obj: obj["id"] == milestone.checkout_session_id
    )
    succeeded = webhook_inbox.wait_for("payment_intent.succeeded", lambda obj: obj["id"] == payment_intent)

    # The refund's event first: the payment is recorded from Stripe, then its refund.
    assert deliver_to_app(client, refund_created).json["outcome"] == "processed"
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    assert only_milestone(session, deal).status == MilestoneStatus.REFUNDED
    # The payment's events, late: they change nothing.
    for event in (completed, succeeded):
        assert deliver_to_app(client, event).json["outcome"] == "processed"
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    assert only_milestone(session, deal).status == MilestoneStatus.REFUNDED
    assert reconcile(session, gateway)[0] == []


def test_a_payment_heard_of_after_its_refund_is_recorded_with_the_refund(
    session, client, deal, gateway, stripe_sim, webhook_inbox
):
    """Only the payment's event arrives (the refund's were lost): Stripe's refund is recorded anyway."""
    milestone, payment_intent, _refund = paid_at_stripe_then_refunded(session, deal, gateway, stripe_sim)

    completed = webhook_inbox.wait_for(
        "checkout.session.completed", lambda obj: obj["id"] == milestone.checkout_session_id
    )
    assert deliver_to_app(client, completed).json["outcome"] == "processed"

    assert ledger(session, deal) == [("charge", TOTAL), ("refund", TOTAL)]
    assert only_milestone(session, deal).status == MilestoneStatus.REFUNDED


def test_a_partial_refund_in_stripe_holds_the_payout_back_until_the_rest_is_refunded(
    session, client, deal, gateway, stripe_sim, webhook_inbox
):
    milestone = funded(session, deal, gateway, stripe_sim)
    connect_vendor(session, deal, gateway, stripe_sim)
    refund_in_stripe(stripe_sim, milestone.payment_intent_id, 100_000)
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded amount"):
        refund_in_stripe(stripe_sim, milestone.payment_intent_id, TOTAL)  # Stripe refuses more than is left

    partial = webhook_inbox.wait_for(
        "charge.refunded", of_payment(milestone.payment_intent_id, amount_refunded=100_000)
    )
    assert deliver_to_app(client, partial).json["outcome"] == "processed"
    milestone = only_milestone(session, deal)
    assert milestone.status == MilestoneStatus.FUNDED
    assert "refunded in Stripe" in milestone.last_payment_error
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", 100_000)]

    # Delivered and accepted: the vendor is not paid money the platform no longer holds.
    deliver(session, deal, milestone)
    assert contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id) is False
    session.commit()
    assert only_milestone(session, deal).status == MilestoneStatus.ACCEPTED
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", 100_000)]
    # The vendor is told why, not sent to its payout account (which is ready).
    held = session.execute(
        select(Notification.message).where(Notification.user_id == deal.vendor.id, Notification.kind == "payout_held")
    ).scalar_one()
    assert "on hold" in held and "refunded in Stripe" in held
    assert count(session, Notification, Notification.kind == "payout_waiting") == 0

    # The rest refunded in Stripe too: the milestone closes as refunded.
    refund_in_stripe(stripe_sim, milestone.payment_intent_id)
    full = webhook_inbox.wait_for("charge.refunded", of_payment(milestone.payment_intent_id, amount_refunded=TOTAL))
    assert deliver_to_app(client, full).json["outcome"] == "processed"
    milestone = only_milestone(session, deal)
    assert milestone.status == MilestoneStatus.REFUNDED and milestone.last_payment_error == ""
    assert ledger(session, deal) == [("charge", TOTAL), ("refund", 100_000), ("refund", TOTAL - 100_000)]
    assert reconcile(session, gateway)[0] == []


def test_after_a_partial_refund_in_stripe_the_buyer_cancels_and_gets_the_rest(
    session, client, deal, gateway, stripe_sim, webhook_inbox
):
    milestone = funded(session, deal, gateway, stripe_sim)
    refund_in_stripe(stripe_sim, milestone.payment_intent_id, 20_000)
    assert (
        deliver_to_app(client, webhook_inbox.wait_for("charge.refunded", of_payment(milestone.payment_intent_id))).json[
            "outcome"
        ]
        == "processed"
    )

    contracts.cancel_milestone(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS)
    session.commit()

    assert ledger(session, deal) == [("charge", TOTAL), ("refund", 20_000), ("refund", TOTAL - 20_000)]
    assert only_milestone(session, deal).status == MilestoneStatus.REFUNDED
    assert reconcile(session, gateway)[0] == []


def test_a_refund_of_a_payment_that_is_not_ours_is_ignored(session, client, deal, stripe_sim, webhook_inbox):
    sim = stripe_sim.client()
    intent = sim.v1.payment_intents.create(
        {"amount": 5_000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    refund_in_stripe(stripe_sim, intent.id)
    event = webhook_inbox.wait_for("charge.refunded", of_payment(intent.id))
    response = deliver_to_app(client, event)
    assert response.status_code == 200 and response.json["outcome"] == "processed"
    assert ledger(session, deal) == []
