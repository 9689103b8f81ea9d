"""Every route of the app: sign-in required, CSRF on every POST, no state change on GET."""

import pytest
from werkzeug.routing import Rule

from marketplace.audit.models import AuditRecord
from marketplace.notifications.models import Notification
from tests.conftest import make_app
from tests.factories import AdminFactory, BuyerFactory, VendorFactory

PUBLIC = {
    "main.index",
    "accounts.sign_in",
    "accounts.sign_up",
    "accounts.accept_invite",
    "static",
    # Reached before signing in: mailed links, the second step of signing in, and the demo's caught mail.
    "security.check_email",
    "security.confirm_email",
    "security.forgot_password",
    "security.reset_password",
    "security.second_factor",
    "security.caught_mail_list",
    # Stripe's webhook: no session, no CSRF token; every event is checked by its signature instead.
    "payments.webhook",
    # Anyone checks a vendor's neutrality statement, with the platform's public key (CSRF still guards the form).
    "neutrality.verify",
    "neutrality.public_key",
    # Single sign-on starts and ends before signing in; SCIM calls carry the organisation's bearer token instead.
    "sso.start",
    "sso.callback",
    "scim.users",
    "scim.user",
    "scim.create_user",
    "scim.patch_user",
    "scim.delete_user",
    "scim.replace_user",
    "scim.service_provider_config",
    "scim.resource_types",
    "scim.resource_type",
    "scim.schemas",
    "scim.schema",
    "scim.unknown",
}
_RULES = [r for r in make_app("sqlite://").url_map.iter_rules() if r.endpoint != "static"]
# The JSON API answers tokens, never the session: tests/functional/api/test_api_walk.py walks every one of its routes.
_RULES = [r for r in _RULES if not r.rule.startswith("/api/")]


def _url(rule: Rule) -> str:
    values = {name: 1 if "Integer" in type(conv).__name__ else "x" for name, conv in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def _ids(rule: Rule) -> str:
    return f"{rule.endpoint}:{','.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))}"


PRIVATE = [r for r in _RULES if r.endpoint not in PUBLIC]
POSTS = [r for r in _RULES if "POST" in r.methods and r.endpoint != "payments.webhook"]
GETS = [r for r in _RULES if "GET" in r.methods]
# SCIM is called by an identity provider with its bearer token, not by a form (tests/functional/sso/test_scim.py).
POSTS = [r for r in POSTS if not r.endpoint.startswith("scim.")]


@pytest.mark.parametrize("rule", PRIVATE, ids=_ids)
def test_anonymous_users_are_sent_to_sign_in(client, rule):
    method = "GET" if "GET" in rule.methods else "POST"
    response = client.open(_url(rule), method=method)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("rule", POSTS, ids=_ids)
def test_every_form_post_needs_the_csrf_token(client, app, login_as, rule):
    login_as(BuyerFactory())
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(_url(rule), data={})
    assert response.status_code == 400
    assert b"CSRF" in response.data


@pytest.mark.parametrize("factory", [BuyerFactory, VendorFactory, AdminFactory], ids=["buyer", "vendor", "admin"])
@pytest.mark.parametrize("rule", GETS, ids=_ids)
def test_no_get_changes_state(client, session, login_as, rule, factory):
    login_as(factory())
    before = (session.query(AuditRecord).count(), session.query(Notification).count())
    response = client.get(_url(rule))
    assert response.status_code < 500
    assert (session.query(AuditRecord).count(), session.query(Notification).count()) == before


WHILE_SUSPENDED = {"accounts.sign_out", "notifications.mark_read", "accounts.settings"}
ACTIONS = [r for r in POSTS if r.endpoint not in PUBLIC | WHILE_SUSPENDED and not r.endpoint.startswith("security.")]


@pytest.mark.parametrize("factory", [BuyerFactory, VendorFactory], ids=["buyer", "vendor"])
@pytest.mark.parametrize("rule", ACTIONS, ids=_ids)
def test_a_suspended_organisations_user_cannot_act_anywhere(client, session, login_as, rule, factory):
    from marketplace.accounts.models import Organization
    from marketplace.db_types import utcnow

    user = login_as(factory())
    org = session.get(Organization, user.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Payment fraud under investigation"
    session.flush()

    response = client.post(_url(rule), data={"reason": "x", "name": "x", "email": "x@example.com"})

    # Refused before any view runs: the same answer whether or not the route's object exists.
    assert response.status_code == 403
    assert "is suspended" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/sign-in", "/jobs/", "/static/css/app.css", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, login_as, path):
    login_as(BuyerFactory())
    response = client.get(path)
    headers = response.headers
    response.close()  # a static file is streamed: close it
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Werkzeug" not in headers.get("Server", "") and "Python" not in headers.get("Server", "")
    assert "Strict-Transport-Security" not in headers  # development serves plain HTTP


def test_production_adds_hsts(database_url):
    app = make_app(database_url, ENV_NAME="production")
    assert "max-age=31536000" in app.test_client().get("/").headers["Strict-Transport-Security"]


def test_no_page_holds_an_inline_script_or_style_the_policy_would_block():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and ' style="' not in text and "<style" not in text, template
        assert not any(f" on{event}=" in text for event in ("click", "submit", "change", "load", "input")), template
