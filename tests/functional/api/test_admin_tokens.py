"""A platform admin's personal API tokens: made on the admin's token page with a current second-factor code, shown
once, kept as a hash, scoped to the admin endpoints, expiring, revocable, in the audit trail; refused as soon as
their admin is no admin with a second factor; useless on an organisation's endpoints, and an organisation's token
useless on theirs."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role
from marketplace.accounts.two_factor import current_code
from marketplace.api.models import ApiToken
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory, BuyerFactory, VendorFactory

QUEUE = "/api/v1/admin/disclosures"


def _form(admin, **fields) -> dict:
    admin.totp_last_step = 0  # a code is taken once per 30-second step: this test's codes are each a first
    return {
        "name": "Review bot",
        "scopes": ["admin:disclosures"],
        "expires_in_days": "30",
        "code": current_code(admin.totp_secret),
        **fields,
    }


def _secret(response) -> str:
    return response.get_data(as_text=True).split('data-testid="token-secret">')[1].split("<")[0]


def test_an_admin_makes_a_token_with_a_code_shown_once_and_kept_as_its_hash(client, login_as, session, api):
    admin = login_as(AdminFactory())
    assert 'href="/admin/api-tokens"' in client.get("/admin/disclosures").get_data(as_text=True)
    response = client.post("/admin/api-tokens", data=_form(admin))
    assert response.status_code == 200
    secret = _secret(response)
    stored = session.query(ApiToken).filter_by(user_id=admin.id).one()
    assert stored.org_id is None and stored.scopes == ["admin:disclosures"]
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.expires_at - stored.created_at == timedelta(days=30)
    assert secret not in client.get("/admin/api-tokens").get_data(as_text=True)
    assert session.query(AuditRecord).filter_by(action="api_token.created", actor_id=admin.id).count() == 1
    assert api("GET", QUEUE, secret).status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "000000"}, "That code"),
        ({"code": ""}, "Enter the code"),
        ({"scopes": ["jobs:read"]}, "is not a valid choice"),
        ({"scopes": []}, "Choose at least one"),
        ({"expires_in_days": "365"}, "Not a valid choice"),
        ({"name": ""}, "Name the token"),
    ],
)
def test_the_token_form_refuses_beside_the_field_and_makes_nothing(client, login_as, session, fields, message):
    admin = login_as(AdminFactory())
    response = client.post("/admin/api-tokens", data=_form(admin, **fields))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.query(ApiToken).count() == 0


def test_a_code_is_taken_once(client, login_as, session):
    admin = login_as(AdminFactory())
    form = _form(admin)
    assert client.post("/admin/api-tokens", data=form).status_code == 200
    again = client.post("/admin/api-tokens", data={**form, "name": "Second"})
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    assert session.query(ApiToken).count() == 1


def test_no_one_but_an_admin_reaches_the_admin_token_page(client, login_as, session):
    for factory in (BuyerFactory, VendorFactory):
        login_as(factory())
        assert client.get("/admin/api-tokens").status_code == 403
        assert client.post("/admin/api-tokens", data={"name": "x", "scopes": ["admin:bods"]}).status_code == 403
    assert session.query(ApiToken).count() == 0


def test_a_revoked_token_is_refused_at_once_and_only_its_admin_revokes_it_among_its_own(
    client, login_as, session, api, admin_token_for
):
    admin = AdminFactory()
    secret = admin_token_for(admin)
    token = session.query(ApiToken).filter_by(user_id=admin.id).one()
    login_as(BuyerFactory())
    assert client.post(f"/team/api-tokens/{token.id}/revoke").status_code == 404
    assert client.post(f"/admin/api-tokens/{token.id}/revoke").status_code == 403
    assert api("GET", QUEUE, secret).status_code == 200
    login_as(admin)
    assert client.post(f"/admin/api-tokens/{token.id}/revoke").status_code == 303
    assert api("GET", QUEUE, secret).status_code == 401
    assert session.query(AuditRecord).filter_by(action="api_token.revoked", actor_id=admin.id).count() == 1
    assert session.query(Notification).filter_by(user_id=admin.id, kind="api_token_revoked").count() == 0


def test_another_admin_sees_a_live_token_and_revokes_it_and_its_holder_is_told(
    client, login_as, session, api, admin_token_for
):
    holder = AdminFactory(name="Hana Okafor")
    secret = admin_token_for(holder)
    token = session.query(ApiToken).filter_by(user_id=holder.id).one()
    other = login_as(AdminFactory(name="Ola Berg"))
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    listed = page.split('data-testid="other-admins-tokens"')[1]
    assert f'data-testid="other-token-{token.id}"' in listed and "Hana Okafor" in listed and token.name in listed
    assert secret not in page and token.token_hash not in page

    assert client.post(f"/admin/api-tokens/{token.id}/revoke").status_code == 303
    assert api("GET", QUEUE, secret).status_code == 401
    revoked = session.query(AuditRecord).filter_by(action="api_token.revoked", subject_id=token.id).one()
    assert revoked.actor_id == other.id
    told = session.query(Notification).filter_by(user_id=holder.id, kind="api_token_revoked").one()
    assert "Ola Berg revoked your API token" in told.message
    # A token no longer in force leaves the list; a second revocation changes nothing and tells no one again.
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert f'data-testid="other-token-{token.id}"' not in page and "No other admin holds a token in force" in page
    assert client.post(f"/admin/api-tokens/{token.id}/revoke").status_code == 303
    assert session.query(Notification).filter_by(user_id=holder.id, kind="api_token_revoked").count() == 1
    assert session.query(AuditRecord).filter_by(action="api_token.revoked", subject_id=token.id).count() == 1


def test_an_expired_admin_token_is_not_listed_to_other_admins(client, login_as, session, admin_token_for):
    with time_machine.travel(utcnow() - timedelta(days=8), tick=False):
        admin_token_for(AdminFactory(), days=7)
    login_as(AdminFactory())
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert session.query(ApiToken).count() == 1
    assert "No other admin holds a token in force" in page


def test_an_admin_cannot_revoke_an_organisations_token_from_the_admin_page(client, login_as, session, api):
    owner = login_as(BuyerFactory())
    made = client.post(
        "/team/api-tokens", data={"name": "CI", "scopes": ["jobs:read"], "expires_in_days": "30"}
    ).get_data(as_text=True)
    secret = made.split('data-testid="token-secret">')[1].split("<")[0]
    token = session.query(ApiToken).filter_by(org_id=owner.org_id).one()
    login_as(AdminFactory())
    assert client.post(f"/admin/api-tokens/{token.id}/revoke").status_code == 404
    assert token.revoked_at is None and api("GET", "/api/v1/jobs", secret).status_code == 200


def test_an_expired_token_is_refused(api, admin_token_for):
    secret = admin_token_for(days=7)
    with time_machine.travel(utcnow() + timedelta(days=7, seconds=1), tick=False):
        assert api("GET", QUEUE, secret).status_code == 401


@pytest.mark.parametrize("change", ["no longer an admin", "second factor off", "removed"])
def test_the_token_stops_when_its_holder_is_no_admin_with_a_second_factor(api, admin_token_for, session, change):
    admin = AdminFactory()
    secret = admin_token_for(admin)
    if change == "no longer an admin":
        admin.role = Role.BUYER
    elif change == "second factor off":
        admin.totp_enabled_at = None
    else:
        admin.removed_at = utcnow()
    session.flush()
    response = api("GET", QUEUE, secret)
    assert response.status_code == 401 and response.json["type"].endswith("unauthenticated")


def test_an_admin_token_is_refused_every_organisations_endpoint(api, admin_token_for):
    secret = admin_token_for()
    for path in ("/api/v1/jobs", "/api/v1/bids", "/api/v1/disclosures", "/api/v1/notifications"):
        response = api("GET", path, secret)
        assert response.status_code == 403 and response.json["type"].endswith("missing-scope"), path


def test_an_admin_token_needs_the_scope_of_each_admin_endpoint(api, admin_token_for):
    secret = admin_token_for(scopes=["admin:bods"])
    response = api("GET", QUEUE, secret)
    assert response.status_code == 403 and "admin:disclosures" in response.json["detail"]
    assert api("GET", "/api/v1/admin/bods/imports", secret).status_code == 200


def test_an_organisation_cannot_hold_an_admin_scope(client, login_as, session):
    login_as(BuyerFactory())
    response = client.post(
        "/team/api-tokens", data={"name": "x", "scopes": ["admin:disclosures"], "expires_in_days": "30"}
    )
    assert response.status_code == 400
    assert session.query(ApiToken).count() == 0


def test_a_token_belongs_to_an_organisation_or_to_one_admin_never_both(session):
    buyer, admin = BuyerFactory(), AdminFactory()
    for org_id, user_id in ((buyer.org_id, admin.id), (None, None)):
        with session.begin_nested():
            session.add(
                ApiToken(
                    org_id=org_id,
                    user_id=user_id,
                    name="x",
                    token_hash=hashlib.sha256(f"{org_id}{user_id}".encode()).hexdigest(),
                    prefix="alm_x",
                    scopes=[],
                    expires_at=utcnow(),
                )
            )
            with pytest.raises(IntegrityError):
                session.flush()


def test_guessing_codes_on_the_token_page_is_throttled_per_admin(client, login_as, app, session):
    from marketplace.extensions import limiter

    saved = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        admin = login_as(AdminFactory())
        codes = [client.post("/admin/api-tokens", data=_form(admin, code="000000")).status_code for _ in range(4)]
        assert codes == [400, 400, 400, 429]
        # The right code waits out the throttle too: guessing cannot go on beside it.
        assert client.post("/admin/api-tokens", data=_form(admin)).status_code == 429
        # Another admin is not held up.
        other = login_as(AdminFactory())
        assert client.post("/admin/api-tokens", data=_form(other)).status_code == 200
    finally:
        app.config["LOGIN_RATE_LIMIT"] = saved
        limiter.reset()
    assert session.query(ApiToken).count() == 1
