"""Refunds as Stripe makes them, on top of localstripe's: the events it does not send, the limit it does not check.

localstripe creates and lists refunds but sends no event about them and lets refunds add up to more than the
charge. At Stripe, every refund (made through the API or in the Dashboard) sends `refund.created` (data: the
Refund) and `charge.refunded` (data: the Charge, with `amount_refunded` updated), and a refund larger than what
is left of the charge is refused (`charge_already_refunded` once nothing is left); one without an amount
returns what is left.
"""

from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, Refund, try_convert_to_int
from localstripe.webhooks import schedule_webhook

_original_create = Refund._api_create.__func__


def _charge_of(data: dict):
    if data.get("charge"):
        return Charge._api_retrieve(data["charge"])
    intent = data.get("payment_intent")
    if isinstance(intent, str) and intent.startswith("pi_"):
        found = PaymentIntent._api_retrieve(intent)
        return found.latest_charge if found.latest_charge else None
    return None


def _check_left(data: dict) -> None:
    """Refuse what Stripe refuses; without an amount, refund what is left (localstripe would take it all)."""
    charge = _charge_of(data)
    if charge is None:
        return  # localstripe itself answers for a missing or malformed charge
    left = charge.amount - charge.amount_refunded
    amount = try_convert_to_int(data.get("amount"))
    if left <= 0:
        raise UserError(400, f"Charge {charge.id} has already been refunded.", {"code": "charge_already_refunded"})
    if isinstance(amount, int) and amount > left:
        raise UserError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).",
            {"code": "amount_too_large", "param": "amount"},
        )
    if data.get("amount") is None:
        data["amount"] = left


@classmethod
def _create_and_announce(cls, **data):
    _check_left(data)
    refund = _original_create(cls, **data)
    schedule_webhook(Event("refund.created", refund))
    schedule_webhook(Event("charge.refunded", Charge._api_retrieve(refund.charge)))
    return refund


def install() -> None:
    """Make POST /v1/refunds behave as above (localstripe's route calls Refund._api_create)."""
    Refund._api_create = _create_and_announce
