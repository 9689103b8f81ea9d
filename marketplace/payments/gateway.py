"""The one place that talks to Stripe: the official `stripe` package's StripeClient, and nothing else.

"Separate charges and transfers": a Checkout Session (a PaymentIntent on the platform account) funds a
milestone, a Transfer to the vendor's connected account releases it, a Refund returns it. Every call that
creates something carries an idempotency key the caller derives from our own identifiers, so a retry or a
double click returns the first object instead of making a second one. Answers come back as small plain
records, so the rest of the app never depends on the shape of the SDK's objects.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Any, cast

import stripe

from marketplace.config import LIVE_KEY_PREFIXES, ConfigError

NETWORK_RETRIES = 2
log = logging.getLogger(__name__)
# The parameters a Stripe call log line may carry: ids, amounts and what they are for. Never a key, a client secret,
# an address or a name.
_LOGGED_PARAMS = (
    "amount",
    "currency",
    "customer",
    "destination",
    "payment_intent",
    "source_transaction",
    "transfer_group",
    "account",
    "charge",
)


MISSING = "resource_missing"


class GatewayError(Exception):
    """Stripe refused a call or could not be reached; the message is fit to show a user."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckoutInfo:
    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str
    payment_intent_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentInfo:
    id: str
    status: str
    amount: int
    currency: str
    charge_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    error: str = ""
    amount_refunded: int = 0


@dataclass(frozen=True)
class TransferInfo:
    id: str
    amount: int
    currency: str
    destination: str
    amount_reversed: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundInfo:
    id: str
    amount: int
    currency: str
    status: str
    payment_intent_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    charge_id: str | None = None


@dataclass(frozen=True)
class AccountInfo:
    id: str
    details_submitted: bool
    payouts_ready: bool


def _id_of(value: Any) -> str | None:
    """Stripe sends an id, or the object when expanded (localstripe always sends latest_charge expanded)."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id")


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _call_fields(method, args: tuple) -> dict:
    """What a log line says of a call: `transfers.create`, the id it was asked about, the ids and amounts it passed,
    and its idempotency key (our own identifiers)."""
    module = type(getattr(method, "__self__", None)).__module__  # e.g. stripe.checkout._session_service
    service = ".".join(part.strip("_") for part in module.split(".")[1:]).removesuffix("_service")
    operation = f"{service}.{getattr(method, '__name__', 'call')}"
    fields: dict[str, Any] = {"stripe_operation": operation}
    for arg in args:
        if isinstance(arg, str):
            fields["asked_id"] = arg
        elif isinstance(arg, dict):
            fields.update({f"param_{key}": arg[key] for key in _LOGGED_PARAMS if isinstance(arg.get(key), str | int)})
            if "idempotency_key" in arg:
                fields["idempotency_key"] = arg["idempotency_key"]
    return fields


def _error(error: stripe.StripeError) -> GatewayError:
    if isinstance(error, stripe.APIConnectionError):
        return GatewayError("Stripe could not be reached. Nothing was changed; please try again.", "connection")
    if isinstance(error, stripe.AuthenticationError):
        return GatewayError("The platform's Stripe key was refused. Please tell the platform's admins.", "auth")
    message = error.user_message or str(error) or "Stripe refused the request."
    code = getattr(error, "code", None)
    if code is None and isinstance(error, stripe.InvalidRequestError) and error.http_status == 404:
        code = MISSING  # what Stripe itself says of an id it does not know
    return GatewayError(message, code)


class StripeGateway:
    """Stripe through one StripeClient; `api_base` points it at the local simulator in the demo and tests."""

    def __init__(self, secret_key: str, api_base: str = ""):
        base = api_base.rstrip("/")
        addresses = {"api": base, "connect": base, "files": base} if base else None
        self.api_base = base
        self.simulated = bool(base)
        self.test_mode = not secret_key.startswith(LIVE_KEY_PREFIXES)
        self._client = stripe.StripeClient(
            secret_key, base_addresses=cast(Any, addresses), max_network_retries=NETWORK_RETRIES
        )

    @property
    def mode_label(self) -> str | None:
        """What the interface says about the money: None only when it is real."""
        if self.simulated:
            return "Payments run against a local Stripe simulator: no real money moves, use a test card."
        if self.test_mode:
            return "Payments run in Stripe's test mode: no real money moves, use a test card."
        return None

    @staticmethod
    def _call(method, *args) -> dict:
        """One Stripe call, logged with its operation, the ids it names and the id it answers with."""
        fields = _call_fields(method, args)
        started = time.perf_counter()
        try:
            answer = method(*args).to_dict()
        except stripe.StripeError as error:
            failure = _error(error)
            log.warning(
                "stripe call failed",
                extra={
                    **fields,
                    "outcome": failure.code or "error",
                    "stripe_request_id": error.request_id,
                    "duration_ms": _since(started),
                },
            )
            raise failure from error
        log.info(
            "stripe call",
            extra={**fields, "outcome": "ok", "object_id": answer.get("id"), "duration_ms": _since(started)},
        )
        return answer

    def _create(self, method, params: dict, idempotency_key: str | None) -> dict:
        return self._call(method, params, {"idempotency_key": idempotency_key} if idempotency_key else {})

    def reachable(self) -> bool:
        """True when Stripe answers with this key (one cheap read); False when it cannot be reached."""
        try:
            self._client.v1.customers.list({"limit": 1})
        except stripe.StripeError:
            return False
        return True

    # ---------------------------------------------------------------- buyers and funding

    def create_customer(self, *, name: str, metadata: dict, idempotency_key: str) -> str:
        return self._create(self._client.v1.customers.create, {"name": name, "metadata": metadata}, idempotency_key)[
            "id"
        ]

    def create_checkout_session(
        self,
        *,
        amount: int,
        currency: str,
        title: str,
        customer_id: str | None,
        success_url: str,
        cancel_url: str,
        metadata: dict,
        transfer_group: str,
        idempotency_key: str,
    ) -> CheckoutInfo:
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount,
                        "product_data": {"name": title},
                    },
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": metadata.get("milestone_key"),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "transfer_group": transfer_group},
        }
        if customer_id:
            params["customer"] = customer_id
        return self._checkout(self._create(self._client.v1.checkout.sessions.create, params, idempotency_key))

    def retrieve_checkout_session(self, session_id: str) -> CheckoutInfo:
        return self._checkout(self._call(self._client.v1.checkout.sessions.retrieve, session_id))

    def expire_checkout_session(self, session_id: str) -> CheckoutInfo:
        return self._checkout(self._call(self._client.v1.checkout.sessions.expire, session_id))

    @staticmethod
    def _checkout(data: dict) -> CheckoutInfo:
        return CheckoutInfo(
            id=data["id"],
            url=data.get("url"),
            status=data.get("status") or "open",
            payment_status=data.get("payment_status") or "unpaid",
            payment_intent_id=_id_of(data.get("payment_intent")),
            metadata=dict(data.get("metadata") or {}),
        )

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentInfo:
        data = self._call(self._client.v1.payment_intents.retrieve, payment_intent_id, {"expand": ["latest_charge"]})
        charge = data.get("latest_charge") or {}
        error = (data.get("last_payment_error") or {}).get("message") or ""
        return PaymentInfo(
            id=data["id"],
            status=data["status"],
            amount=int(data["amount"]),
            currency=data["currency"].upper(),
            charge_id=_id_of(charge or None),
            metadata=dict(data.get("metadata") or {}),
            error=error,
            amount_refunded=int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else 0,
        )

    def create_refund(self, *, payment_intent_id: str, amount: int, metadata: dict, idempotency_key: str) -> RefundInfo:
        data = self._create(
            self._client.v1.refunds.create,
            {"payment_intent": payment_intent_id, "amount": amount, "metadata": metadata},
            idempotency_key,
        )
        return self._refund(data)

    def retrieve_refund(self, refund_id: str) -> RefundInfo:
        return self._refund(self._call(self._client.v1.refunds.retrieve, refund_id))

    def list_refunds(self, payment_intent_id: str) -> list[RefundInfo]:
        """Every refund Stripe has made on one payment, ours and those made elsewhere (e.g. in the Dashboard)."""
        try:
            found = self._client.v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100})
            return [self._refund(refund.to_dict()) for refund in found.auto_paging_iter()]
        except stripe.StripeError as error:
            raise _error(error) from error

    def payment_intent_of_charge(self, charge_id: str) -> str | None:
        return _id_of(self._call(self._client.v1.charges.retrieve, charge_id).get("payment_intent"))

    @staticmethod
    def _refund(data: dict) -> RefundInfo:
        return RefundInfo(
            id=data["id"],
            amount=int(data["amount"]),
            currency=data["currency"].upper(),
            status=data.get("status") or "",
            payment_intent_id=_id_of(data.get("payment_intent")),
            metadata=dict(data.get("metadata") or {}),
            charge_id=_id_of(data.get("charge")),
        )

    # ---------------------------------------------------------------- vendors and payouts

    def create_express_account(self, *, email: str | None, metadata: dict, idempotency_key: str) -> AccountInfo:
        params = {"type": "express", "capabilities": {"transfers": {"requested": True}}, "metadata": metadata}
        if email:
            params["email"] = email
        return self._account(self._create(self._client.v1.accounts.create, params, idempotency_key))

    def retrieve_account(self, account_id: str) -> AccountInfo:
        return self._account(self._call(self._client.v1.accounts.retrieve, account_id))

    @staticmethod
    def _account(data: dict) -> AccountInfo:
        transfers = (data.get("capabilities") or {}).get("transfers")
        return AccountInfo(
            id=data["id"],
            details_submitted=bool(data.get("details_submitted")),
            payouts_ready=transfers == "active" and bool(data.get("payouts_enabled")),
        )

    def create_onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        data = self._create(
            self._client.v1.account_links.create,
            {"account": account_id, "refresh_url": refresh_url, "return_url": return_url, "type": "account_onboarding"},
            None,
        )
        return data["url"]

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        source_charge_id: str | None,
        transfer_group: str,
        metadata: dict,
        idempotency_key: str,
    ) -> TransferInfo:
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        if source_charge_id:
            # Ties the payout to the buyer's charge: Stripe never pays out more than that charge brought in.
            params["source_transaction"] = source_charge_id
        return self._transfer(self._create(self._client.v1.transfers.create, params, idempotency_key))

    def retrieve_transfer(self, transfer_id: str) -> TransferInfo:
        return self._transfer(self._call(self._client.v1.transfers.retrieve, transfer_id))

    @staticmethod
    def _transfer(data: dict) -> TransferInfo:
        return TransferInfo(
            id=data["id"],
            amount=int(data["amount"]),
            currency=data["currency"].upper(),
            destination=_id_of(data.get("destination")) or "",
            amount_reversed=int(data.get("amount_reversed") or 0),
            metadata=dict(data.get("metadata") or {}),
        )


def from_config(config) -> StripeGateway | None:
    """The gateway the configuration asks for; None when no Stripe key is set (payments are off).

    Raises ConfigError for a live key outside production, however the configuration was built.
    """
    key = config.get("STRIPE_SECRET_KEY") or ""
    if not key:
        return None
    if key.startswith(LIVE_KEY_PREFIXES) and config.get("ENV_NAME") != "production":
        raise ConfigError("A live Stripe key is refused unless MARKETPLACE_ENV=production.")
    return StripeGateway(key, config.get("STRIPE_API_BASE") or "")
