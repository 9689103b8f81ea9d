"""Stripe Connect, simulated: Express accounts, account links with a local onboarding page, and transfers.

Response shapes follow Stripe's API reference (Account, AccountLink, Transfer). Only what the marketplace's
gateway calls is here; every other parameter is refused as localstripe refuses unknown ones.
"""

import html
import secrets
import time

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import (
    Event,
    StripeObject,
    random_id,
    store,
    try_convert_to_bool,
    try_convert_to_int,
)
from localstripe.server import get_post_data, json_response, unflatten_data
from localstripe.webhooks import schedule_webhook
from pages import page

ONBOARDING_FIELDS = ["business_profile.url", "external_account", "tos_acceptance.date", "tos_acceptance.ip"]
LINK_LIFETIME_SECONDS = 300


def _unexpected(kwargs: dict) -> None:
    if kwargs:
        raise UserError(400, "Received unknown parameter: " + ", ".join(sorted(kwargs)))


class Account(StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self,
        type=None,
        controller=None,
        country=None,
        email=None,
        capabilities=None,
        business_type=None,
        default_currency=None,
        metadata=None,
        **kwargs,
    ):
        _unexpected(kwargs)
        if type is not None and type not in ("express", "standard", "custom"):
            raise UserError(400, "Invalid type: must be one of custom, express, or standard", {"param": "type"})
        if capabilities is not None and not isinstance(capabilities, dict):
            raise UserError(400, "Invalid capabilities", {"param": "capabilities"})
        super().__init__()
        self.type = type or "express"
        self.controller = controller or {"type": "application", "is_controller": True}
        self.country = country or "US"
        self.email = email
        self.business_type = business_type
        self.default_currency = (default_currency or "usd").lower()
        self.metadata = metadata or {}
        self.details_submitted = False
        self.charges_enabled = False
        self.payouts_enabled = False
        self._requested = [
            name
            for name, wanted in (capabilities or {}).items()
            if try_convert_to_bool((wanted or {}).get("requested"))
        ] or ["transfers"]

    @property
    def capabilities(self):
        state = "active" if self.details_submitted else "inactive"
        return {name: state for name in self._requested}

    @property
    def requirements(self):
        due = [] if self.details_submitted else list(ONBOARDING_FIELDS)
        return {
            "alternatives": [],
            "current_deadline": None,
            "currently_due": due,
            "errors": [],
            "disabled_reason": None if self.details_submitted else "requirements.past_due",
            "eventually_due": due,
            "past_due": due,
            "pending_verification": [],
        }

    def _complete_onboarding(self):
        self.details_submitted = self.charges_enabled = self.payouts_enabled = True
        schedule_webhook(Event("account.updated", self))


class Transfer(StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(
        self,
        amount=None,
        currency=None,
        destination=None,
        description=None,
        metadata=None,
        source_transaction=None,
        transfer_group=None,
        **kwargs,
    ):
        _unexpected(kwargs)
        amount = try_convert_to_int(amount)
        if not isinstance(amount, int) or amount <= 0:
            raise UserError(400, "Invalid positive integer", {"param": "amount"})
        if not isinstance(currency, str) or len(currency) != 3:
            raise UserError(400, "Invalid currency", {"param": "currency"})
        account = store.get(f"account:{destination}")
        if account is None:
            raise UserError(400, f"No such destination: '{destination}'", {"param": "destination"})
        if account.capabilities.get("transfers") != "active":
            raise UserError(
                400,
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                {"code": "insufficient_capabilities_for_transfer"},
            )
        if source_transaction is not None:
            _check_source_transaction(source_transaction, amount, currency)
        super().__init__()
        self.amount = amount
        self.amount_reversed = 0
        self.currency = currency.lower()
        self.description = description
        self.destination = destination
        self.destination_payment = "py_" + random_id(24)
        self.metadata = metadata or {}
        self.reversed = False
        self.source_transaction = source_transaction
        self.source_type = "card"
        self.transfer_group = transfer_group
        self.balance_transaction = "txn_" + random_id(24)
        schedule_webhook(Event("transfer.created", self))

    @property
    def reversals(self):
        return {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/transfers/{self.id}/reversals",
        }

    @classmethod
    def _api_list_all(cls, url, destination=None, transfer_group=None, limit=None, starting_after=None, **kwargs):
        listing = super()._api_list_all(url, limit=limit, starting_after=starting_after, **kwargs)
        listing._list = [
            t
            for t in listing._list
            if destination in (None, t.destination) and transfer_group in (None, t.transfer_group)
        ]
        return listing


def _check_source_transaction(charge_id: str, amount: int, currency: str) -> None:
    """As at Stripe: a transfer tied to a charge cannot exceed what is left of that charge."""
    charge = store.get(f"charge:{charge_id}")
    if charge is None:
        raise UserError(400, f"No such charge: '{charge_id}'", {"param": "source_transaction"})
    if charge.currency.lower() != currency.lower():
        raise UserError(
            400,
            "The currency of source_transaction's balance transaction must match the transfer currency.",
            {"param": "currency"},
        )
    transferred = sum(
        t.amount for key, t in store.items() if key.startswith("transfer:") and t.source_transaction == charge_id
    )
    left = charge.amount - charge.amount_refunded - transferred
    if amount > left:
        raise UserError(
            400,
            f"Insufficient funds: the transfer amount ({amount}) is more than what remains "
            f"of the source transaction ({left}).",
            {"code": "balance_insufficient"},
        )


# ------------------------------------------------------------------------------------------- account links

_links: dict[str, dict] = {}


async def create_account_link(request: web.Request) -> web.Response:
    data = await get_post_data(request) or {}
    account_id, kind = data.pop("account", None), data.pop("type", None)
    refresh_url, return_url = data.pop("refresh_url", None), data.pop("return_url", None)
    data.pop("collect", None)
    _unexpected(data)
    if store.get(f"account:{account_id}") is None:
        raise UserError(400, f"No such account: '{account_id}'", {"param": "account"})
    if kind not in ("account_onboarding", "account_update"):
        raise UserError(400, "Invalid type", {"param": "type"})
    for name, url in (("refresh_url", refresh_url), ("return_url", return_url)):
        if not isinstance(url, str) or not url.startswith("http"):
            raise UserError(400, f"Invalid URL: {name}", {"param": name})
    token = secrets.token_urlsafe(16)
    created = int(time.time())
    _links[token] = {
        "account": account_id,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "expires_at": created + LINK_LIFETIME_SECONDS,
        "used": False,
    }
    return json_response(
        {
            "object": "account_link",
            "created": created,
            "expires_at": created + LINK_LIFETIME_SECONDS,
            "url": f"{request.url.origin()}/hosted/onboarding/{token}",
        }
    )


def _live_link(token: str) -> dict | None:
    link = _links.get(token)
    if link is None or link["used"] or link["expires_at"] < time.time():
        return None
    return link


async def onboarding_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    link = _live_link(token)
    if link is None:
        old = _links.get(token)
        if old is not None:
            raise web.HTTPSeeOther(old["refresh_url"])
        return page("Link not found", "<p>This onboarding link does not exist.</p>", status=404)
    account = store[f"account:{link['account']}"]
    body = f"""
      <p>Express account <code>{html.escape(account.id)}</code>{
        f" for {html.escape(account.email)}" if account.email else ""
    }.</p>
      <p>At Stripe, the vendor would now give its business details, a bank account and accept the
         Connected Account Agreement. Here, one click completes onboarding with test details.</p>
      <form method="post"><button type="submit">Complete onboarding with test details</button></form>"""
    return page("Set up payouts", body)


async def complete_onboarding(request: web.Request) -> web.Response:
    link = _live_link(request.match_info["token"])
    if link is None:
        return page("Link expired", "<p>This onboarding link has expired or was used.</p>", status=410)
    link["used"] = True
    store[f"account:{link['account']}"]._complete_onboarding()
    raise web.HTTPSeeOther(link["return_url"])


def _list(cls):
    def handler(request: web.Request) -> web.Response:
        data = unflatten_data(request.query)
        expand = data.pop("expand", None)
        return json_response(cls._api_list_all(request.path, **data)._export(expand=expand))

    return handler


def _create(cls):
    async def handler(request: web.Request) -> web.Response:
        data = await get_post_data(request) or {}
        expand = data.pop("expand", None)
        return json_response(cls._api_create(**data)._export(expand=expand))

    return handler


def _retrieve(cls):
    def handler(request: web.Request) -> web.Response:
        return json_response(cls._api_retrieve(request.match_info["id"])._export())

    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/accounts", _create(Account))
    app.router.add_get("/v1/accounts", _list(Account))
    app.router.add_get("/v1/accounts/{id}", _retrieve(Account))
    app.router.add_post("/v1/account_links", create_account_link)
    app.router.add_post("/v1/transfers", _create(Transfer))
    app.router.add_get("/v1/transfers", _list(Transfer))
    app.router.add_get("/v1/transfers/{id}", _retrieve(Transfer))
    app.router.add_get("/hosted/onboarding/{token}", onboarding_page)
    app.router.add_post("/hosted/onboarding/{token}", complete_onboarding)
