"""API tests: tokens made through the owner's own service, requests sent with them."""

import pytest
from flask import g

from marketplace.accounts.two_factor import current_code
from marketplace.api import tokens
from marketplace.api.tokens import ADMIN_SCOPES, SCOPES
from tests.factories import AdminFactory


@pytest.fixture
def token_for(session):
    """A token of the user's organisation (the user is its owner), with every scope unless told."""

    def _make(user, scopes=None, days: int = 30, name: str = "CI"):
        return tokens.create_token(session, user, name, list(scopes or SCOPES), days).secret

    return _make


@pytest.fixture
def admin_token_for(session):
    """A platform admin's personal token (a new admin unless given), every admin scope unless told, made with a
    current second-factor code as the admin's token page makes it."""

    def _make(admin=None, scopes=None, days: int = 30, name: str = "Review bot"):
        admin = admin or AdminFactory()
        # A code is accepted once per 30-second step: let this admin's next one count, as a new step would.
        admin.totp_last_step = 0
        session.flush()
        code = current_code(admin.totp_secret)
        return tokens.create_admin_token(session, admin, name, list(scopes or ADMIN_SCOPES), days, code).secret

    return _make


@pytest.fixture
def api(client):
    """Send an API request with a token: api("GET", path, token, json=...)."""

    def _call(method: str, path: str, token: str | None, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        # The tests share one app context, so `g` outlives a request: drop Flask-Login's cached user either side, as
        # a real request starts and ends without it.
        g.pop("_login_user", None)
        try:
            return client.open(path, method=method, headers=headers, **kwargs)
        finally:
            g.pop("_login_user", None)

    return _call


def job_body(**overrides):
    """A job an API client posts: money as decimal strings, the deadline in RFC 3339."""
    from datetime import UTC, date, datetime, timedelta

    body = {
        "title": "Label 5,000 street scenes",
        "description": "Boxes around every vehicle.",
        "modality": "image",
        "task_type": "bounding_boxes",
        "volume": 5000,
        "unit": "images",
        "budget_min": "2000.00",
        "budget_max": "5000.00",
        "currency": "USD",
        "bid_deadline": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "delivery_date": (date.today() + timedelta(days=40)).isoformat(),
    }
    body.update(overrides)
    return body


def offer_body(**overrides):
    body = {"price_per_unit_minor": 50, "total_minor": 250_000, "turnaround_days": 14, "proposal": "Done well."}
    body.update(overrides)
    return body
