"""Stripe Checkout (payment mode), simulated: sessions, a local payment page, expiry.

Paying on the page uses localstripe's own PaymentMethods and PaymentIntents, so test cards behave as
localstripe makes them (4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 and 4000 0000 0000 0341 are
declined, 4000 0025 0000 3155 asks for 3-D Secure). Shapes follow Stripe's Checkout Session object.
"""

import html
import re
import time

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import Event, PaymentIntent, PaymentMethod, StripeObject, try_convert_to_int
from localstripe.server import get_post_data, json_response
from localstripe.webhooks import schedule_webhook
from pages import page

SESSION_LIFETIME_SECONDS = 24 * 3600


def _amount_of(line_items) -> tuple[int, str]:
    if not isinstance(line_items, list) or not line_items:
        raise UserError(400, "line_items is required in payment mode", {"param": "line_items"})
    total, currency = 0, None
    for item in line_items:
        price = (item or {}).get("price_data") or {}
        unit = try_convert_to_int(price.get("unit_amount"))
        quantity = try_convert_to_int(item.get("quantity", 1))
        if not isinstance(unit, int) or unit < 0 or not isinstance(quantity, int) or quantity < 1:
            raise UserError(400, "Invalid line_items: price_data.unit_amount and quantity", {"param": "line_items"})
        if currency not in (None, price.get("currency")):
            raise UserError(400, "All line_items must use one currency", {"param": "line_items"})
        currency = price.get("currency")
        total += unit * quantity
    if not currency:
        raise UserError(400, "Missing required param: line_items[0][price_data][currency]")
    return total, currency.lower()


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(
        self,
        mode=None,
        line_items=None,
        success_url=None,
        cancel_url=None,
        customer=None,
        customer_email=None,
        client_reference_id=None,
        metadata=None,
        payment_intent_data=None,
        payment_method_types=None,
        **kwargs,
    ):
        if kwargs:
            raise UserError(400, "Received unknown parameter: " + ", ".join(sorted(kwargs)))
        if mode != "payment":
            raise UserError(400, "The simulator supports mode=payment only", {"param": "mode"})
        if not isinstance(success_url, str) or not success_url.startswith("http"):
            raise UserError(400, "Invalid URL: success_url", {"param": "success_url"})
        amount, currency = _amount_of(line_items)
        super().__init__()
        self.mode = mode
        self.amount_subtotal = self.amount_total = amount
        self.currency = currency
        self.customer = customer
        self.customer_email = customer_email
        self.client_reference_id = client_reference_id
        self.metadata = metadata or {}
        self.payment_intent = None
        self.payment_method_types = payment_method_types or ["card"]
        self.payment_status = "unpaid"
        self.status = "open"
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.expires_at = self.created + SESSION_LIFETIME_SECONDS
        self.url = None
        self._payment_intent_data = payment_intent_data or {}

    def _is_open(self) -> bool:
        return self.status == "open" and self.expires_at > time.time()

    def _new_payment_intent(self, payment_method_id: str) -> PaymentIntent:
        intent = PaymentIntent(
            amount=self.amount_total,
            currency=self.currency,
            customer=self.customer,
            payment_method=payment_method_id,
            metadata=dict(self._payment_intent_data.get("metadata") or {}),
        )
        # Fields localstripe does not take on create, kept so that the object reads as Stripe's would.
        intent.transfer_group = self._payment_intent_data.get("transfer_group")
        intent.description = self._payment_intent_data.get("description")
        return intent

    def _complete(self, intent: PaymentIntent) -> None:
        self.status, self.payment_status, self.payment_intent = "complete", "paid", intent.id
        schedule_webhook(Event("checkout.session.completed", self))


async def create_session(request: web.Request) -> web.Response:
    data = await get_post_data(request) or {}
    data.pop("expand", None)
    session = CheckoutSession(**data)
    session.url = f"{request.url.origin()}/hosted/checkout/{session.id}"
    return json_response(session._export())


def retrieve_session(request: web.Request) -> web.Response:
    return json_response(CheckoutSession._api_retrieve(request.match_info["id"])._export())


async def expire_session(request: web.Request) -> web.Response:
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    if session.status != "open":
        raise UserError(400, "Only Checkout Sessions with a status of `open` can be expired.")
    session.status = "expired"
    schedule_webhook(Event("checkout.session.expired", session))
    return json_response(session._export())


ZERO_DECIMAL = {"jpy", "krw"}


def _money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


def _card_form(session: CheckoutSession, error: str = "", number: str = "4242 4242 4242 4242") -> web.Response:
    cancel = f'<p><a href="{html.escape(session.cancel_url)}">Cancel and go back</a></p>' if session.cancel_url else ""
    body = f"""
      <p class="amount" data-testid="amount">{_money(session.amount_total, session.currency)}</p>
      {f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""}
      <form method="post">
        <label for="number">Card number</label>
        <input id="number" name="number" value="{html.escape(number)}" autocomplete="off">
        <label for="exp">Expiry (MM/YY)</label><input id="exp" name="exp" value="12/34">
        <label for="cvc">CVC</label><input id="cvc" name="cvc" value="123">
        <button type="submit">Pay</button>
      </form>
      <p><small>Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined;
        4000 0025 0000 3155 asks for 3-D Secure.</small></p>{cancel}"""
    return page("Pay with card", body, status=400 if error else 200)


def _open_session(request: web.Request) -> CheckoutSession | None:
    try:
        session = CheckoutSession._api_retrieve(request.match_info["id"])
    except UserError:
        return None
    return session if session._is_open() else None


async def payment_page(request: web.Request) -> web.Response:
    session = _open_session(request)
    if session is None:
        return page("Checkout closed", "<p>This Checkout Session is no longer active.</p>", status=404)
    return _card_form(session)


def _card_from(form) -> dict:
    number = re.sub(r"\D", "", form.get("number", ""))
    month, _, year = form.get("exp", "").partition("/")
    return {"number": number, "exp_month": month.strip(), "exp_year": year.strip(), "cvc": form.get("cvc", "")}


def _finish(session: CheckoutSession, intent: PaymentIntent) -> web.Response:
    if intent.status == "requires_action":
        body = f"""<p>Your bank asks you to confirm this payment of
          {_money(session.amount_total, session.currency)} (simulated 3-D Secure).</p>
          <form method="post" action="/hosted/checkout/{session.id}/authenticate">
            <input type="hidden" name="payment_intent" value="{intent.id}">
            <button type="submit" name="outcome" value="complete">Complete authentication</button>
            <button type="submit" name="outcome" value="fail">Fail authentication</button>
          </form>"""
        return page("Confirm your payment", body)
    if intent.status != "succeeded":
        return _card_form(session, "Your card was declined.")
    session._complete(intent)
    raise web.HTTPSeeOther(session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id))


async def pay(request: web.Request) -> web.Response:
    session = _open_session(request)
    if session is None:
        return page("Checkout closed", "<p>This Checkout Session is no longer active.</p>", status=404)
    form = await request.post()
    card = _card_from(form)
    try:
        method = PaymentMethod(type="card", card=card)
        if session.customer:
            PaymentMethod._api_attach(method.id, customer=session.customer)
        # A new PaymentIntent per attempt: localstripe cannot confirm one again after a decline.
        intent = session._new_payment_intent(method.id)
        PaymentIntent._api_confirm(intent.id)
    except UserError as error:
        message = error.body["error"].get("message", "")
        if error.code == 400:
            message = "Check the card number (16 digits), the expiry and the CVC."
        return _card_form(session, message or "Your card was declined.", form.get("number", ""))
    return _finish(session, intent)


async def authenticate(request: web.Request) -> web.Response:
    session = _open_session(request)
    form = await request.post()
    if session is None:
        return page("Checkout closed", "<p>This Checkout Session is no longer active.</p>", status=404)
    intent = PaymentIntent._api_retrieve(form.get("payment_intent", ""))
    if intent.metadata != (session._payment_intent_data.get("metadata") or {}) or intent.status != "requires_action":
        return _card_form(session, "This payment cannot be authenticated now.")
    try:
        PaymentIntent._api_authenticate(
            intent.id, client_secret=intent.client_secret, success=form.get("outcome") == "complete"
        )
    except UserError as error:
        return _card_form(session, error.body["error"].get("message", "Your card was declined."))
    if intent.status == "requires_payment_method":
        return _card_form(session, "We are unable to authenticate your payment method. Choose another one.")
    return _finish(session, intent)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/checkout/sessions", create_session)
    app.router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    app.router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    app.router.add_get("/hosted/checkout/{id}", payment_page)
    app.router.add_post("/hosted/checkout/{id}", pay)
    app.router.add_post("/hosted/checkout/{id}/authenticate", authenticate)
