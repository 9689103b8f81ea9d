"""Stripe's webhooks: verify the signature on the raw body, process each event once, act on Stripe's state now.

An event is a notice, not the truth: handlers fetch the object from Stripe and act on what it says now, so
events that arrive late, twice or out of order still leave the right final state. The event id is written in
the same transaction as what it caused: a handler that fails rolls both back, and Stripe retries.
"""

import time
from typing import cast

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.contracts.lifecycle import lock_with_contract
from marketplace.contracts.models import Contract, Milestone, MilestoneStatus
from marketplace.payments import service
from marketplace.payments.gateway import GatewayError, StripeGateway
from marketplace.payments.models import WebhookEvent

# Stripe's own tolerance for an event's signed timestamp, in seconds, used both ways: older is a replay, newer
# than the clock allows is not an event Stripe sent.
TOLERANCE_SECONDS = 300


class InvalidEvent(Exception):
    """Not a genuine, fresh event from Stripe: answered with 400 and changes nothing."""


def _signed_at(signature: str) -> int | None:
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def verify(payload: bytes, signature: str | None, secret: str) -> dict:
    """The event, if `payload` is exactly what Stripe signed with `secret` within the last five minutes."""
    if not secret:
        raise InvalidEvent("no webhook signing secret is configured")
    if not signature:
        raise InvalidEvent("no Stripe-Signature header")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=TOLERANCE_SECONDS)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidEvent(str(error)) from error
    signed_at = _signed_at(signature)
    if signed_at is not None and signed_at > time.time() + TOLERANCE_SECONDS:
        raise InvalidEvent("the signature is dated in the future, beyond the tolerance")
    return event.to_dict()


def _payment_intent_of(obj: dict) -> str | None:
    """The PaymentIntent a Checkout Session or Charge belongs to (an id, or expanded into an object)."""
    payment_intent = obj.get("payment_intent")
    return payment_intent.get("id") if isinstance(payment_intent, dict) else payment_intent


def _payment_done(session: Session, gateway: StripeGateway, obj: dict, fee_bps: int) -> None:
    payment_intent = _payment_intent_of(obj)
    if payment_intent:
        service.record_payment(session, gateway, service.STRIPE, payment_intent, fee_bps)


def _payment_intent(session: Session, gateway: StripeGateway, obj: dict, fee_bps: int) -> None:
    service.record_payment(session, gateway, service.STRIPE, obj["id"], fee_bps)


def _account(session: Session, gateway: StripeGateway, obj: dict, _fee_bps: int) -> None:
    service.refresh_payout_account(session, gateway, service.STRIPE, obj["id"])


def _transfer(session: Session, gateway: StripeGateway, obj: dict, _fee_bps: int) -> None:
    """A transfer we made but did not record (we failed after Stripe answered): finish that payout now."""
    key = (obj.get("metadata") or {}).get("milestone_key")
    found = session.execute(select(col(Milestone.id)).where(Milestone.key == key)).scalar_one_or_none() if key else None
    if found is None:
        return
    contract, milestone = cast(tuple[Contract, Milestone], lock_with_contract(session, found))
    if milestone.status == MilestoneStatus.ACCEPTED:
        service.release(session, gateway, service.STRIPE, contract, milestone)


def _charge_refunded(session: Session, gateway: StripeGateway, obj: dict, fee_bps: int) -> None:
    """A charge refunded, in part or in full, by us or in Stripe's Dashboard: record what the ledger lacks."""
    payment_intent = _payment_intent_of(obj)
    if payment_intent:
        service.record_refunds(session, gateway, service.STRIPE, payment_intent, fee_bps)


def _refund(session: Session, gateway: StripeGateway, obj: dict, fee_bps: int) -> None:
    """A refund made, changed or failed: Stripe's refund now says which payment; record what the ledger lacks."""
    try:
        refund = gateway.retrieve_refund(obj["id"])
        payment_intent = refund.payment_intent_id or (
            gateway.payment_intent_of_charge(refund.charge_id) if refund.charge_id else None
        )
    except GatewayError as error:
        raise service.stripe_failure(error) from error
    if payment_intent:
        service.record_refunds(session, gateway, service.STRIPE, payment_intent, fee_bps)


HANDLERS = {
    "checkout.session.completed": _payment_done,
    "checkout.session.async_payment_succeeded": _payment_done,
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "account.updated": _account,
    "transfer.created": _transfer,
    # Refunds, ours and those made outside the app: each event leads to the payment's refunds as Stripe has them.
    "charge.refunded": _charge_refunded,
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
    "charge.refund.updated": _refund,
}


def process_event(session: Session, gateway: StripeGateway, event: dict, fee_bps: int) -> str:
    """Act on a verified event once: 'processed', 'ignored' (a type we do not act on) or 'duplicate'."""
    if session.execute(select(col(WebhookEvent.id)).where(WebhookEvent.stripe_event_id == event["id"])).first():
        return "duplicate"
    session.add(WebhookEvent(stripe_event_id=event["id"], type=event["type"][:100]))
    session.flush()
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return "ignored"
    handler(session, gateway, event["data"]["object"], fee_bps)
    return "processed"
