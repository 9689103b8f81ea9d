"""Throttles: per account tightly, per network address loosely (an office shares one), on sign-up and mailed links."""

import pytest

from marketplace.config import load_config
from marketplace.extensions import db, limiter
from tests.conftest import make_app
from tests.factories import PASSWORD, AdminFactory, BuyerFactory


@pytest.fixture
def limits(app):
    """Set some throttles for one test; every count starts from zero and the test's own limits come back after."""
    saved = dict(app.config)

    def _set(**values):
        app.config.update(values)

    limiter.reset()
    yield _set
    for key in ("LOGIN_RATE_LIMIT", "LOGIN_IP_RATE_LIMIT", "SIGNUP_RATE_LIMIT", "MAIL_RATE_LIMIT", "INVITE_RATE_LIMIT"):
        app.config[key] = saved[key]
    limiter.reset()


def test_one_account_is_throttled_but_colleagues_behind_the_same_address_are_not(client, limits):
    limits(LOGIN_RATE_LIMIT="3 per minute", LOGIN_IP_RATE_LIMIT="300 per hour")
    codes = [
        client.post("/sign-in", data={"email": "target@lab.example", "password": "guess"}).status_code for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    refused = client.post("/sign-in", data={"email": "target@lab.example", "password": "guess"})
    assert b"Too many sign-in attempts for this account" in refused.data
    # Colleagues at the same office address still sign in.
    for n in range(5):
        BuyerFactory(email=f"colleague{n}@lab.example")
        ok = client.post("/sign-in", data={"email": f"colleague{n}@lab.example", "password": PASSWORD})
        assert ok.status_code == 303, n
        client.post("/sign-out")


def test_one_address_is_throttled_across_accounts(client, limits):
    limits(LOGIN_RATE_LIMIT="100 per minute", LOGIN_IP_RATE_LIMIT="5 per hour")
    codes = [
        client.post("/sign-in", data={"email": f"user{n}@lab.example", "password": "guess"}).status_code
        for n in range(6)
    ]
    assert codes == [400] * 5 + [429]
    refused = client.post("/sign-in", data={"email": "someone@lab.example", "password": "guess"})
    assert b"Too many sign-in attempts from your network" in refused.data


def test_the_default_limits_let_a_busy_office_sign_in(tmp_path):
    defaults = load_config({}, instance_dir=tmp_path)
    assert defaults["LOGIN_IP_RATE_LIMIT"] == "300 per hour"
    assert defaults["LOGIN_RATE_LIMIT"] == "10 per minute; 50 per hour"


def test_second_factor_codes_are_throttled_per_account(client, limits):
    limits(LOGIN_RATE_LIMIT="3 per minute")
    AdminFactory(email="ada@platform.example")
    # The password step counts once for the account; then codes.
    client.post("/sign-in", data={"email": "ada@platform.example", "password": PASSWORD})
    codes = [client.post("/sign-in/code", data={"code": "000000"}).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    assert b"Too many codes tried for this account" in client.post("/sign-in/code", data={"code": "1"}).data


def test_sign_up_is_throttled_per_address(client, limits):
    limits(SIGNUP_RATE_LIMIT="2 per hour")
    form = {
        "kind": "buyer",
        "name": "P",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "timezone": "UTC",
    }
    codes = [
        client.post("/sign-up", data={**form, "org_name": f"Lab Number {n}", "email": f"p{n}@x.example"}).status_code
        for n in range(3)
    ]
    assert codes == [303, 303, 429]


def test_reset_links_are_throttled_per_address_mailed(client, limits, outbox):
    limits(MAIL_RATE_LIMIT="2 per hour", SIGNUP_RATE_LIMIT="100 per hour")
    BuyerFactory(email="maya@lab.example")
    codes = [client.post("/forgot-password", data={"email": "maya@lab.example"}).status_code for _ in range(3)]
    assert codes == [303, 303, 429]
    assert len(outbox.to("maya@lab.example")) == 2
    assert client.post("/forgot-password", data={"email": "other@lab.example"}).status_code == 303


def test_confirmation_links_are_throttled_per_user(client, login_as, limits, outbox):
    login_as(BuyerFactory(email="new@lab.example", email_verified_at=None))
    limits(MAIL_RATE_LIMIT="2 per hour")
    codes = [client.post("/confirm-email/resend").status_code for _ in range(3)]
    assert codes == [303, 303, 429]


def test_invitations_are_throttled_per_user_for_they_say_whether_an_address_has_an_account(client, login_as, limits):
    """'That person already has an account' answers for any address: unthrottled, any signed-in user could walk a
    list of addresses through it, which sign-up no longer allows."""
    limits(INVITE_RATE_LIMIT="3 per hour")
    for n in range(4):
        BuyerFactory(email=f"known{n}@elsewhere.example")
    inviter = login_as(BuyerFactory())
    codes = [client.post("/team", data={"email": f"known{n}@elsewhere.example"}).status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]
    assert b"Too many invitations from your account" in client.post("/team", data={"email": "x@y.example"}).data
    # A colleague of the same organisation has a count of its own.
    login_as(BuyerFactory(org_id=inviter.org_id))
    assert client.post("/team", data={"email": "newcomer@lab.example"}).status_code == 200


def test_the_default_invitation_limit_lets_a_lab_invite_its_team(tmp_path):
    assert load_config({}, instance_dir=tmp_path)["INVITE_RATE_LIMIT"] == "20 per hour"


def _sign_in_from(client, address: str) -> int:
    headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
    return client.post("/sign-in", data={"email": "a@lab.example", "password": "guess"}, headers=headers).status_code


@pytest.fixture
def own_app(database_url, mailbox):
    """An app of the test's own configuration, sign-in throttled at two per address; its connections are closed
    after the test."""
    made = []

    def _make(**config):
        app = make_app(database_url, LOGIN_RATE_LIMIT="100 per minute", LOGIN_IP_RATE_LIMIT="2 per hour", **config)
        made.append(app)
        return app

    limiter.reset()
    yield _make
    limiter.reset()
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_behind_the_proxy_each_visitor_is_throttled_at_its_own_address(own_app):
    """The documented deployment forwards every request from one proxy: without reading the address the proxy
    forwards, 'per network address' was one count for the whole marketplace (ten sign-ups an hour for everyone)."""
    app = own_app(PROXY_COUNT=1)
    office, elsewhere = app.test_client(), app.test_client()
    assert [_sign_in_from(office, "203.0.113.7") for _ in range(3)] == [400, 400, 429]
    assert _sign_in_from(elsewhere, "198.51.100.9") == 400


def test_without_a_proxy_a_forwarded_address_is_not_believed(own_app):
    client = own_app().test_client()
    codes = [_sign_in_from(client, f"192.0.2.{n}") for n in range(3)]  # a new address each time, all made up
    assert codes == [400, 400, 429]
