"""Signing in through an organisation's OpenID provider (a real one on 127.0.0.1): the whole flow, the accounts it
makes, and every refusal."""

from urllib.parse import parse_qs, urlsplit

from flask import g
from sqlalchemy import select

from marketplace.accounts.models import AccountSession, OrgRole, Role, User
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.sso.models import SsoDomain
from tests.factories import BuyerFactory
from tests.functional.sso.conftest import (
    approve_at_provider,
    back_at_marketplace,
    provider_link,
    sign_in_through_provider,
    start,
)
from tests.oidc_provider import idp_user, running_provider


def _user(session, email):
    return session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _actions(session):
    return [r.action for r in session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars()]


def test_a_new_person_at_a_verified_domain_joins_as_a_member_and_is_signed_in(client, session, sso_org):
    response = sign_in_through_provider(
        client,
        sso_org.config.issuer,
        "ana@northwind.example",
        email="ana@northwind.example",
        email_verified=True,
        name="Ana Lima",
    )

    assert response.status_code == 303 and response.headers["Location"].endswith("/home")
    ana = _user(session, "ana@northwind.example")
    assert (ana.org_id, ana.org_role, ana.role, ana.name) == (sso_org.org.id, OrgRole.MEMBER, Role.BUYER, "Ana Lima")
    assert ana.email_verified
    assert session.execute(select(AccountSession).where(AccountSession.user_id == ana.id)).scalar_one()
    g.pop("_login_user", None)  # the test shares g with the client: the cookie alone must sign Ana in
    assert client.get("/jobs/").status_code == 200  # a session like a password sign-in's
    assert _actions(session)[-2:] == ["user.joined_through_sso", "user.signed_in_through_sso"]


def test_the_request_to_the_provider_carries_state_nonce_and_pkce(client, sso_org):
    response = start(client, email="ana@northwind.example")
    assert f"Sign in through {sso_org.org.name}" in response.get_data(as_text=True)
    query = parse_qs(urlsplit(provider_link(response)).query)
    assert query["client_id"] == ["marketplace"] and "openid" in query["scope"][0].split()
    assert query["state"][0] and query["nonce"][0]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]


def test_an_existing_member_signs_in_as_itself(client, session, sso_org):
    member = BuyerFactory(email="bo@northwind.example", org_id=sso_org.org.id, org_role=OrgRole.MANAGER)
    response = sign_in_through_provider(
        client, sso_org.config.issuer, "bo@northwind.example", email="bo@northwind.example", email_verified=True
    )
    assert response.status_code == 303
    assert session.execute(select(User).where(User.email == "bo@northwind.example")).scalars().all() == [member]
    assert member.org_role == OrgRole.MANAGER


def test_starting_by_organisation_name_works_too(client, session, sso_org):
    response = sign_in_through_provider(
        client,
        sso_org.config.issuer,
        "cy@northwind.example",
        start_args={"organization": sso_org.org.name},
        email="cy@northwind.example",
        email_verified=True,
    )
    assert response.status_code == 303 and _user(session, "cy@northwind.example") is not None


def _refused(response, words):
    text = response.get_data(as_text=True)
    assert response.status_code == 403, text
    assert words in text


def test_an_address_the_provider_has_not_verified_is_refused(client, session, sso_org):
    response = sign_in_through_provider(
        client, sso_org.config.issuer, "dee@northwind.example", email="dee@northwind.example", email_verified=False
    )
    _refused(response, "has not verified your email address")
    assert _user(session, "dee@northwind.example") is None
    assert "/sign-in" in client.get("/jobs/").headers["Location"]


def test_an_address_outside_the_organisations_verified_domains_is_refused(client, session, sso_org):
    # The provider answers for someone at another domain than the one the sign-in started with.
    response = sign_in_through_provider(
        client,
        sso_org.config.issuer,
        "eve@elsewhere.example",
        start_args={"email": "eve@northwind.example"},
        email="eve@elsewhere.example",
        email_verified=True,
    )
    _refused(response, "is not at a verified domain of")
    assert _user(session, "eve@elsewhere.example") is None


def test_a_domain_awaiting_an_admin_does_not_count(client, session, sso_org):
    session.add(SsoDomain(org_id=sso_org.org.id, domain="pending.example", claimed_by_id=sso_org.owner.id))
    session.flush()
    started = start(client, email="fay@pending.example")
    assert started.status_code == 400
    assert "No organisation signs in addresses at that domain" in started.get_data(as_text=True)
    # Nor when the provider answers with such an address.
    response = sign_in_through_provider(
        client,
        sso_org.config.issuer,
        "fay@pending.example",
        start_args={"email": "x@northwind.example"},
        email="fay@pending.example",
        email_verified=True,
    )
    _refused(response, "is not at a verified domain of")


def test_a_user_of_another_organisation_is_refused(client, session, sso_org):
    BuyerFactory(email="gus@northwind.example")  # an account in another lab, made before the domain was verified
    response = sign_in_through_provider(
        client, sso_org.config.issuer, "gus@northwind.example", email="gus@northwind.example", email_verified=True
    )
    _refused(response, "has an account outside")
    assert "/sign-in" in client.get("/jobs/").headers["Location"]


def test_a_removed_member_is_refused(client, session, sso_org):
    BuyerFactory(email="hal@northwind.example", org_id=sso_org.org.id, org_role=OrgRole.MEMBER, removed_at=utcnow())
    response = sign_in_through_provider(
        client, sso_org.config.issuer, "hal@northwind.example", email="hal@northwind.example", email_verified=True
    )
    _refused(response, "was removed from its organisation")


def test_a_forged_state_is_refused(client, session, sso_org):
    idp_user(sso_org.config.issuer, "ida@northwind.example", email="ida@northwind.example", email_verified=True)
    started = start(client, email="ida@northwind.example")
    location = approve_at_provider(provider_link(started), "ida@northwind.example")
    forged = location.replace("state=", "state=x")
    _refused(back_at_marketplace(client, forged), "did not sign you in")
    assert _user(session, "ida@northwind.example") is None


def test_an_answer_without_a_sign_in_started_in_this_browser_is_refused(app, client, session, sso_org):
    idp_user(sso_org.config.issuer, "jo@northwind.example", email="jo@northwind.example", email_verified=True)
    started = start(client, email="jo@northwind.example")
    location = approve_at_provider(provider_link(started), "jo@northwind.example")
    _refused(back_at_marketplace(app.test_client(), location), "not started in this browser")
    # And the same answer replayed in the browser that used it is refused.
    assert back_at_marketplace(client, location).status_code == 303
    client.post("/sign-out")
    _refused(back_at_marketplace(client, location), "not started in this browser")


def test_a_switched_off_configuration_starts_nothing_and_finishes_nothing(client, session, sso_org):
    idp_user(sso_org.config.issuer, "kim@northwind.example", email="kim@northwind.example", email_verified=True)
    started = start(client, email="kim@northwind.example")
    sso_org.config.enabled = False
    session.flush()
    location = approve_at_provider(provider_link(started), "kim@northwind.example")
    _refused(back_at_marketplace(client, location), "is switched off")
    refused = start(client, email="kim@northwind.example")
    assert refused.status_code == 400 and "No organisation signs in addresses" in refused.get_data(as_text=True)
    assert _user(session, "kim@northwind.example") is None


def test_a_provider_that_is_down_is_said_so(client, session, sso_org):
    sso_org.config.issuer = "http://127.0.0.1:9"  # nothing listens on the discard port
    session.flush()
    response = start(client, email="lu@northwind.example")
    assert response.status_code == 502
    assert "identity provider did not answer" in response.get_data(as_text=True)


def test_the_sign_in_page_offers_single_sign_on(client):
    text = client.get("/sign-in").get_data(as_text=True)
    assert 'action="/sign-in/organisation"' in text and "Continue with single sign-on" in text


def test_an_expired_id_token_is_refused(client, session, sso_org):
    # A provider whose tokens expired five minutes before they were issued (beyond the two minutes of clock leeway).
    with running_provider("--token-max-age", "-300") as stale_issuer:
        sso_org.config.issuer = stale_issuer
        session.flush()
        response = sign_in_through_provider(
            client, stale_issuer, "max@northwind.example", email="max@northwind.example", email_verified=True
        )
    _refused(response, "it has expired")
    assert _user(session, "max@northwind.example") is None


def test_starting_again_and_again_keeps_one_sign_in_in_the_session(client, sso_org):
    for _ in range(5):
        start(client, email="ana@northwind.example")
    with client.session_transaction() as flask_session:
        assert len([key for key in flask_session if key.startswith("_state_sso")]) == 1
    # The last one started still finishes.
    response = sign_in_through_provider(
        client, sso_org.config.issuer, "ana@northwind.example", email="ana@northwind.example", email_verified=True
    )
    assert response.status_code == 303
