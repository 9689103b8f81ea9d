"""Stripe's webhooks: genuine, forged, re-serialised, stale, repeated, out of order, and failing deliveries.

The genuine events are the ones the local Stripe sends, signed with the webhook secret the way Stripe signs:
a small inbox receives them and the test passes the raw body and header on to the app unchanged.
"""

import json
import time

import pytest
from sqlalchemy import func, select

from marketplace.contracts.models import MilestoneStatus
from marketplace.payments.models import PayoutAccount, WebhookEvent
from tests.functional.payments.stripe_support import (
    event_payload,
    free_port,
    ledger,
    make_deal,
    only_milestone,
    signed,
)


@pytest.fixture
def deal(session, stripe_config):
    return make_deal(session, total_minor=420_000)


def deliver_to_app(client, body: bytes, headers: dict):
    return client.post(
        "/payments/webhook",
        data=body,
        headers={"Stripe-Signature": headers["Stripe-Signature"], "Content-Type": "application/json"},
    )


def start_checkout(client, login_as, deal, milestone) -> str:
    login_as(deal.buyer)
    response = client.post(f"/contracts/{deal.contract.id}/milestones/{milestone.id}/fund")
    assert response.status_code == 303
    return response.headers["Location"]


def paid_event(
    session,
    client,
    login_as,
    deal,
    stripe_sim,
    webhook_inbox,
    event_type="checkout.session.completed",
    card="4242 4242 4242 4242",
):
    """Fund the deal's milestone on the simulator's Checkout page and return Stripe's signed event about it."""
    milestone = only_milestone(session, deal)
    stripe_sim.pay(start_checkout(client, login_as, deal, milestone), card)
    if event_type.startswith("checkout."):
        return webhook_inbox.wait_for(event_type, lambda obj: obj["id"] == milestone.checkout_session_id)
    return webhook_inbox.wait_for(event_type, lambda obj: obj["metadata"].get("milestone_key") == milestone.key)


def events_seen(session) -> int:
    return session.execute(select(func.count(WebhookEvent.id))).scalar_one()


def test_a_signed_checkout_completion_funds_the_milestone(session, client, login_as, deal, stripe_sim, webhook_inbox):
    body, headers = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    response = deliver_to_app(client, body, headers)
    assert response.status_code == 200
    assert response.json["outcome"] == "processed"
    milestone = only_milestone(session, deal)
    assert milestone.status == MilestoneStatus.FUNDED
    assert ledger(session, deal) == [("charge", 420_000)]
    page = client.get(f"/contracts/{deal.contract.id}")
    assert "Funded — held by the platform" in page.text


def test_localstripes_own_payment_event_funds_the_milestone_too(
    session, client, login_as, deal, stripe_sim, webhook_inbox
):
    body, headers = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox, "payment_intent.succeeded")
    assert deliver_to_app(client, body, headers).status_code == 200
    assert only_milestone(session, deal).status == MilestoneStatus.FUNDED


def test_an_event_delivered_twice_acts_once(session, client, login_as, deal, stripe_sim, webhook_inbox):
    body, headers = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    assert deliver_to_app(client, body, headers).json["outcome"] == "processed"
    again = deliver_to_app(client, body, headers)
    assert again.status_code == 200
    assert again.json["outcome"] == "duplicate"
    assert events_seen(session) == 1
    assert ledger(session, deal) == [("charge", 420_000)]


def test_events_out_of_order_leave_the_right_final_state(session, client, login_as, deal, stripe_sim, webhook_inbox):
    milestone = only_milestone(session, deal)
    checkout = start_checkout(client, login_as, deal, milestone)
    assert stripe_sim.pay(checkout, "4000 0000 0000 0341").status_code == 400  # declined first
    stripe_sim.pay(checkout)  # then paid
    key = lambda obj: obj["metadata"].get("milestone_key") == milestone.key  # noqa: E731
    failed = webhook_inbox.wait_for("payment_intent.payment_failed", key)
    succeeded = webhook_inbox.wait_for("payment_intent.succeeded", key)
    completed = webhook_inbox.wait_for("checkout.session.completed", lambda obj: obj["id"] == checkout.rsplit("/")[-1])
    # Stripe does not promise order: the success first, then the older failure, then the session.
    for body, headers in (succeeded, failed, completed):
        assert deliver_to_app(client, *(body, headers)).status_code == 200
    milestone = only_milestone(session, deal)
    assert milestone.status == MilestoneStatus.FUNDED
    assert milestone.last_payment_error == ""
    assert ledger(session, deal) == [("charge", 420_000)]


def test_a_failure_first_is_shown_and_then_replaced_by_the_payment(
    session, client, login_as, deal, stripe_sim, webhook_inbox
):
    milestone = only_milestone(session, deal)
    checkout = start_checkout(client, login_as, deal, milestone)
    stripe_sim.pay(checkout, "4000 0000 0000 0341")
    key = lambda obj: obj["metadata"].get("milestone_key") == milestone.key  # noqa: E731
    assert deliver_to_app(client, *webhook_inbox.wait_for("payment_intent.payment_failed", key)).status_code == 200
    assert "declined" in only_milestone(session, deal).last_payment_error
    assert "declined" in client.get(f"/contracts/{deal.contract.id}").text
    stripe_sim.pay(checkout)
    assert deliver_to_app(client, *webhook_inbox.wait_for("payment_intent.succeeded", key)).status_code == 200
    assert only_milestone(session, deal).status == MilestoneStatus.FUNDED


def test_a_vendor_account_update_pays_what_waited_even_if_an_older_update_comes_after(
    session, client, login_as, deal, stripe_sim, webhook_inbox, gateway
):
    from marketplace.contracts import service as contracts
    from marketplace.payments import service as payments

    body, headers = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    deliver_to_app(client, body, headers)
    milestone = only_milestone(session, deal)
    contracts.deliver(session, deal.vendor, deal.contract.id, milestone.id, "Done.", [], None)
    assert contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id) is False
    link = payments.start_onboarding(
        session, gateway, deal.vendor, refresh_url="http://localhost/r", return_url="http://localhost/b"
    )
    account = session.execute(select(PayoutAccount).where(PayoutAccount.org_id == deal.vendor.org_id)).scalar_one()
    stale_body = event_payload(
        "evt_stale_account_update",
        "account.updated",
        {"id": account.stripe_account_id, "object": "account", "details_submitted": False, "payouts_enabled": False},
    )
    stripe_sim.complete_onboarding(link)
    fresh = webhook_inbox.wait_for("account.updated", lambda obj: obj["id"] == account.stripe_account_id)
    assert deliver_to_app(client, *fresh).status_code == 200
    assert only_milestone(session, deal).status == MilestoneStatus.RELEASED
    assert deliver_to_app(client, stale_body, signed(stale_body)).status_code == 200
    session.refresh(account)
    assert account.payouts_ready is True
    assert ledger(session, deal) == [("charge", 420_000), ("transfer", 378_000), ("platform_fee", 42_000)]


def test_a_forged_signature_is_refused_and_changes_nothing(session, client, login_as, deal, stripe_sim, webhook_inbox):
    body, _ = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    response = deliver_to_app(client, body, signed(body, secret="whsec_someone_else"))
    assert response.status_code == 400
    assert events_seen(session) == 0
    assert only_milestone(session, deal).status == MilestoneStatus.PENDING


def test_a_re_serialised_event_is_refused(session, client, login_as, deal, stripe_sim, webhook_inbox):
    body, headers = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    same_json_other_bytes = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert deliver_to_app(client, same_json_other_bytes, headers).status_code == 400
    assert only_milestone(session, deal).status == MilestoneStatus.PENDING


def test_a_stale_event_is_refused(session, client, login_as, deal, stripe_sim, webhook_inbox):
    body, _ = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    old = signed(body, timestamp=int(time.time()) - 600)
    assert deliver_to_app(client, body, old).status_code == 400
    assert only_milestone(session, deal).status == MilestoneStatus.PENDING


def test_an_event_dated_beyond_the_tolerance_in_the_future_is_refused(
    session, client, login_as, deal, stripe_sim, webhook_inbox
):
    body, _ = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    ahead = signed(body, timestamp=int(time.time()) + 600)
    response = deliver_to_app(client, body, ahead)
    assert response.status_code == 400 and "future" in response.json["error"]
    assert only_milestone(session, deal).status == MilestoneStatus.PENDING
    assert deliver_to_app(client, body, signed(body, timestamp=int(time.time()) + 30)).status_code == 200


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("payment_intent.succeeded", {"id": "pi_nobody_made_this", "object": "payment_intent"}),
        (
            "checkout.session.completed",
            {"id": "cs_unknown", "object": "checkout.session", "payment_intent": "pi_nobody_made_this"},
        ),
        ("refund.updated", {"id": "re_nobody_made_this", "object": "refund"}),
        ("charge.refunded", {"id": "ch_unknown", "object": "charge", "payment_intent": "pi_nobody_made_this"}),
    ],
)
def test_a_signed_event_about_an_object_stripe_does_not_know_is_acknowledged_and_logged(
    app, session, client, deal, stripe_sim, caplog, event_type, obj
):
    body = event_payload(f"evt_unknown_{event_type}", event_type, obj)
    response = deliver_to_app(client, body, signed(body))
    assert response.status_code == 200  # retrying cannot help: Stripe would retry for days
    assert response.json["outcome"] == "unknown_object"
    assert any(
        obj["id"] in record.getMessage() or "pi_nobody_made_this" in record.getMessage() for record in caplog.records
    )
    assert ledger(session, deal) == []


def test_an_event_without_a_signature_is_refused(client, deal):
    body = event_payload("evt_unsigned", "payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    response = client.post("/payments/webhook", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_without_a_signing_secret_every_event_is_refused(app, client, deal):
    body = event_payload("evt_no_secret", "payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    headers = signed(body, secret="")
    app.config["STRIPE_WEBHOOK_SECRET"] = ""
    assert deliver_to_app(client, body, headers).status_code == 400


def test_a_signature_from_a_rotated_secret_among_several_is_accepted(client, deal):
    body = event_payload("evt_rotation", "customer.created", {"id": "cus_x", "object": "customer"})
    old, new = signed(body, secret="whsec_old")["Stripe-Signature"], signed(body)["Stripe-Signature"]
    both = f"{old},v1={new.split('v1=')[1]}"
    response = deliver_to_app(client, body, {"Stripe-Signature": both})
    assert response.status_code == 200
    assert response.json["outcome"] == "ignored"


def test_a_handler_that_fails_rolls_back_and_asks_stripe_to_retry(
    app, session, client, login_as, deal, stripe_sim, webhook_inbox
):
    body, headers = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    working = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # Stripe unreachable while handling
    failed = deliver_to_app(client, body, headers)
    assert failed.status_code == 500
    assert events_seen(session) == 0
    assert only_milestone(session, deal).status == MilestoneStatus.PENDING
    app.config["STRIPE_API_BASE"] = working
    retried = deliver_to_app(client, body, headers)
    assert retried.status_code == 200
    assert retried.json["outcome"] == "processed"
    assert only_milestone(session, deal).status == MilestoneStatus.FUNDED


def test_the_webhook_needs_no_csrf_token(app, session, client, login_as, deal, stripe_sim, webhook_inbox):
    body, headers = paid_event(session, client, login_as, deal, stripe_sim, webhook_inbox)
    app.config["WTF_CSRF_ENABLED"] = True
    assert deliver_to_app(client, body, headers).status_code == 200
