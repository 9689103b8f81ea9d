"""SCIM provisioning: the owner's tokens (shown once, kept hashed), the Users endpoint, and deactivation that ends
a user's sessions at once."""

import hashlib

import pytest
from flask import g
from sqlalchemy import select

from marketplace.accounts.models import AccountSession, OrgRole, User
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.sso.models import ScimToken
from tests.conftest import make_app
from tests.factories import PASSWORD, BuyerFactory, VendorFactory
from tests.functional.sso.conftest import PATCH
from tests.functional.sso.conftest import scim_auth as _auth


def test_the_token_is_shown_once_and_kept_only_as_a_hash(client, session, login_as, sso_org, scim_token):
    record = session.execute(select(ScimToken).where(ScimToken.org_id == sso_org.org.id)).scalar_one()
    assert record.token_hash == hashlib.sha256(scim_token.encode()).hexdigest()
    login_as(sso_org.owner)
    page = client.get("/organisation/sign-in").get_data(as_text=True)
    assert "Okta" in page and scim_token not in page


def test_requests_without_a_live_token_are_refused(client, session, login_as, sso_org, scim_token):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {scim_token}"}):
        response = client.get("/scim/v2/Users", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    record = session.execute(select(ScimToken).where(ScimToken.org_id == sso_org.org.id)).scalar_one()
    login_as(sso_org.owner)
    assert client.post(f"/organisation/sign-in/scim-tokens/{record.id}/revoke").status_code == 303
    assert client.get("/scim/v2/Users", headers=_auth(scim_token)).status_code == 401
    assert (
        session.execute(select(AuditRecord.action).order_by(AuditRecord.id.desc())).first()[0] == "scim_token.revoked"
    )


def test_listing_and_filtering_show_the_organisations_users_only(client, session, sso_org, scim_token):
    BuyerFactory(email="outsider@other.example")
    listed = client.get("/scim/v2/Users", headers=_auth(scim_token))
    assert listed.status_code == 200 and listed.mimetype == "application/scim+json"
    assert [r["userName"] for r in listed.json["Resources"]] == ["owner@northwind.example"]
    found = client.get('/scim/v2/Users?filter=userName eq "OWNER@northwind.example"', headers=_auth(scim_token))
    assert found.json["totalResults"] == 1 and found.json["Resources"][0]["active"] is True
    none = client.get('/scim/v2/Users?filter=userName eq "outsider@other.example"', headers=_auth(scim_token))
    assert none.json["totalResults"] == 0
    bad = client.get("/scim/v2/Users?filter=name sw x", headers=_auth(scim_token))
    assert bad.status_code == 400 and bad.json["scimType"] == "invalidFilter"


def test_another_organisations_user_is_not_found(client, session, sso_org, scim_token):
    outsider = VendorFactory()
    bodies = {
        "PATCH": {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]},
        "PUT": {"userName": outsider.email, "name": {"formatted": "Taken Over"}, "active": False},
    }
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        response = client.open(
            f"/scim/v2/Users/{outsider.id}", method=method, json=bodies.get(method), headers=_auth(scim_token)
        )
        assert response.status_code == 404, method
        assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert outsider.removed_at is None and outsider.name != "Taken Over"


def test_creating_a_user_makes_a_confirmed_member(client, session, sso_org, scim_token):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Nia@northwind.example",
        "name": {"formatted": "Nia Park"},
        "active": True,
    }
    response = client.post("/scim/v2/Users", json=body, headers=_auth(scim_token))
    assert response.status_code == 201, response.json
    user = session.get(User, int(response.json["id"]))
    assert (user.email, user.name, user.org_id, user.org_role) == (
        "nia@northwind.example",
        "Nia Park",
        sso_org.org.id,
        OrgRole.MEMBER,
    )
    assert user.email_verified and response.headers["Location"].endswith(f"/scim/v2/Users/{user.id}")
    again = client.post("/scim/v2/Users", json=body, headers=_auth(scim_token))
    assert again.status_code == 409 and again.json["scimType"] == "uniqueness"
    outside = client.post("/scim/v2/Users", json={**body, "userName": "x@gmail.example"}, headers=_auth(scim_token))
    assert outside.status_code == 400 and "verified domain" in outside.json["detail"]
    assert client.post("/scim/v2/Users", data="not json", headers=_auth(scim_token)).status_code == 400


def _as_device(device, method, path, **kwargs):
    """A request from one device: the test shares its app context (g) with every client, so Flask-Login's cached
    user of the previous request is dropped first."""
    g.pop("_login_user", None)
    g.pop("account_session", None)
    return device.open(path, method=method, **kwargs)


def _signed_in_member(app, session, sso_org):
    """A member signed in from two devices (two test clients with real sessions)."""
    member = BuyerFactory(email="oz@northwind.example", org_id=sso_org.org.id, org_role=OrgRole.MEMBER)
    devices = []
    for _ in range(2):
        device = app.test_client()
        response = _as_device(device, "POST", "/sign-in", data={"email": member.email, "password": PASSWORD})
        assert response.status_code == 303
        assert _as_device(device, "GET", "/jobs/").status_code == 200
        devices.append(device)
    return member, devices


@pytest.mark.parametrize(
    "how",
    [
        {
            "method": "PATCH",
            "json": {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]},
        },
        {
            "method": "PATCH",
            "json": {"schemas": [PATCH], "Operations": [{"op": "Replace", "value": {"active": "False"}}]},
        },
        {"method": "PUT", "json": {"userName": "oz@northwind.example", "active": False}},
        {"method": "DELETE"},
    ],
    ids=["patch-path", "patch-value-object", "put", "delete"],
)
def test_deactivation_ends_every_session_of_the_user_at_once(app, client, session, sso_org, scim_token, how):
    member, devices = _signed_in_member(app, session, sso_org)
    response = client.open(f"/scim/v2/Users/{member.id}", headers=_auth(scim_token), **how)
    assert response.status_code in (200, 204)
    if response.status_code == 200:
        assert response.json["active"] is False
    for device in devices:
        assert "/sign-in" in _as_device(device, "GET", "/jobs/").headers["Location"]
    live = session.execute(
        select(AccountSession).where(AccountSession.user_id == member.id, AccountSession.ended_at.is_(None))
    ).all()
    assert live == [] and member.removed_at is not None
    record = session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).scalar_one()
    assert record.action == "user.deprovisioned" and record.actor_label == "SCIM token “Okta”"
    assert record.after == {"active": False, "sessions_ended": 2}
    # Its password no longer signs it in either.
    again = _as_device(app.test_client(), "POST", "/sign-in", data={"email": member.email, "password": PASSWORD})
    assert again.status_code == 400


def test_a_deactivated_user_can_be_reactivated(app, client, session, sso_org, scim_token):
    member, _ = _signed_in_member(app, session, sso_org)
    client.delete(f"/scim/v2/Users/{member.id}", headers=_auth(scim_token))
    body = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": True}]}
    response = client.patch(f"/scim/v2/Users/{member.id}", json=body, headers=_auth(scim_token))
    assert response.status_code == 200 and response.json["active"] is True and member.removed_at is None


def test_the_owner_cannot_be_deactivated(client, session, sso_org, scim_token):
    response = client.delete(f"/scim/v2/Users/{sso_org.owner.id}", headers=_auth(scim_token))
    assert response.status_code == 409 and "hand ownership over" in response.json["detail"]
    assert sso_org.owner.removed_at is None


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"Operations": []}, "invalidSyntax"),
        ({"schemas": [PATCH], "Operations": []}, "invalidSyntax"),
        (
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "favouriteColour", "value": "X"}]},
            "invalidPath",
        ),
        ({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "remove", "path": "displayName"}]}, "mutability"),
        ({"schemas": [PATCH], "Operations": [{"op": "move", "path": "active", "value": False}]}, "invalidSyntax"),
        ({"schemas": [PATCH], "Operations": [{"op": "replace", "value": "no object"}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "userName", "value": ""}]}, "invalidValue"),
        (
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "emails", "value": [{"type": "work"}]}]},
            "invalidValue",
        ),
    ],
    ids=[
        "no-schema",
        "no-operations",
        "unknown-attribute",
        "not-a-boolean",
        "remove",
        "unknown-op",
        "value-not-object",
        "empty-user-name",
        "email-without-value",
    ],
)
def test_patches_that_cannot_be_carried_out_are_refused_as_scim_errors(
    client, session, sso_org, scim_token, body, scim_type
):
    member = BuyerFactory(email="pat@northwind.example", name="Pat Kim", org_id=sso_org.org.id, org_role=OrgRole.MEMBER)
    response = client.patch(f"/scim/v2/Users/{member.id}", json=body, headers=_auth(scim_token))
    assert response.status_code == 400, body
    assert response.mimetype == "application/scim+json"
    assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (response.json["status"], response.json["scimType"]) == ("400", scim_type)
    assert (member.removed_at, member.name, member.email) == (None, "Pat Kim", "pat@northwind.example")


def test_only_the_owner_creates_tokens(client, session, login_as, sso_org):
    login_as(BuyerFactory(org_id=sso_org.org.id, org_role=OrgRole.MANAGER))
    response = client.post("/organisation/sign-in/scim-tokens", data={"label": "Okta"})
    assert response.status_code == 403
    assert session.execute(select(ScimToken)).first() is None


SCIM_RULES = [
    (rule, method)
    for rule in make_app("sqlite://").url_map.iter_rules()
    if rule.endpoint.startswith("scim.")
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
]


@pytest.mark.parametrize(("rule", "method"), SCIM_RULES, ids=lambda v: v if isinstance(v, str) else v.endpoint)
def test_every_scim_route_answers_401_without_a_token_even_to_a_signed_in_owner(
    client, login_as, sso_org, rule, method
):
    login_as(sso_org.owner)  # a browser session is no SCIM credential
    path = rule.rule.replace("<int:user_id>", str(sso_org.owner.id))
    response = client.open(path, method=method, json={})
    assert response.status_code == 401


@pytest.mark.parametrize(("rule", "method"), SCIM_RULES, ids=lambda v: v if isinstance(v, str) else v.endpoint)
def test_every_scim_route_refuses_an_unknown_or_revoked_token_and_changes_nothing(
    client, session, sso_org, scim_token, rule, method
):
    member = BuyerFactory(email="vi@northwind.example", name="Vi Ray", org_id=sso_org.org.id, org_role=OrgRole.MEMBER)
    record = session.execute(select(ScimToken).where(ScimToken.org_id == sso_org.org.id)).scalar_one()
    record.revoked_at = utcnow()
    session.flush()
    path = rule.rule.replace("<int:user_id>", str(member.id))
    body = {"schemas": [PATCH], "userName": "new@northwind.example", "active": False}
    body["Operations"] = [{"op": "replace", "value": {"active": False, "displayName": "Changed"}}]
    for token in (scim_token, "scim_" + "x" * 43):
        response = client.open(path, method=method, json=body, headers=_auth(token))
        assert response.status_code == 401, token
        assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (member.removed_at, member.name) == (None, "Vi Ray")
    assert session.execute(select(User).where(User.email == "new@northwind.example")).first() is None
