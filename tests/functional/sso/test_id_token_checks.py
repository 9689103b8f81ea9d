"""Every check on the identity provider's id token, each against a provider of our own (tests/faulty_oidc_provider.py)
that answers with one thing wrong: the token is refused with a message saying what was wrong, and nobody is signed
in."""

import html

import pytest
import requests
from flask import g
from sqlalchemy import select

from marketplace.accounts.models import AccountSession, OrgRole, User
from tests.factories import BuyerFactory
from tests.faulty_oidc_provider import FaultyProvider
from tests.functional.sso.conftest import back_at_marketplace, provider_link, start

PERSON = {"sub": "rae-1", "email": "rae@northwind.example", "email_verified": True, "name": "Rae Moss"}


@pytest.fixture(scope="session")
def faulty_provider():
    provider = FaultyProvider(client_id="marketplace", client_secret="s3cret").start()
    yield provider
    provider.stop()


@pytest.fixture
def member(session, sso_org, faulty_provider):
    """A member of the lab, whose organisation signs in through the faulty provider."""
    sso_org.config.issuer = faulty_provider.issuer
    session.flush()
    return BuyerFactory(email=PERSON["email"], org_id=sso_org.org.id, org_role=OrgRole.MEMBER)


def _sign_in(client, provider, fault=None, person=PERSON):
    provider.reset(person, fault)
    link = provider_link(start(client, email=person["email"]))
    answer = requests.get(link, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return back_at_marketplace(client, answer.headers["Location"])


def _signed_in(client, session, user) -> bool:
    """Whether the browser holds a session of the user: a cookie that signs it in and a live session row."""
    g.pop("_login_user", None)  # the test shares g with the client: the cookie alone must say
    g.pop("account_session", None)
    reached = client.get("/jobs/").status_code == 200
    rows = session.execute(
        select(AccountSession).where(AccountSession.user_id == user.id, AccountSession.ended_at.is_(None))
    ).all()
    return reached or bool(rows)


def test_a_correct_id_token_from_the_same_provider_signs_the_member_in(client, session, member, faulty_provider):
    """The control: the provider's good answer is accepted, so each refusal below is the fault's doing."""
    response = _sign_in(client, faulty_provider)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert faulty_provider.tokens_issued == 1
    assert _signed_in(client, session, member)


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("wrong_audience", "it was issued to another application"),
        ("audience_elsewhere_azp_ours", "it was issued to another application"),
        ("wrong_issuer", "it names another issuer"),
        ("foreign_key", "its signature does not match the provider's published keys"),
        ("foreign_key_same_kid", "its signature does not match the provider's published keys"),
        ("unsigned", "its signature does not match the provider's published keys"),
        ("expired", "it has expired"),
        ("wrong_nonce", "it was not issued for this sign-in"),
        ("no_nonce", "it was not issued for this sign-in"),
    ],
)
def test_a_faulty_id_token_is_refused_with_its_reason_and_no_session(
    client, session, member, faulty_provider, fault, words
):
    response = _sign_in(client, faulty_provider, fault)
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 403, text
    assert faulty_provider.tokens_issued == 1  # the provider did answer: the token itself was refused
    assert "identity token we cannot accept" in text and words in text
    assert not _signed_in(client, session, member)


def test_a_faulty_token_makes_no_account_for_a_new_address(client, session, sso_org, faulty_provider):
    sso_org.config.issuer = faulty_provider.issuer
    session.flush()
    newcomer = {**PERSON, "sub": "sol-1", "email": "sol@northwind.example"}
    response = _sign_in(client, faulty_provider, "wrong_audience", newcomer)
    assert response.status_code == 403
    assert session.execute(select(User).where(User.email == "sol@northwind.example")).first() is None


def test_a_discovery_document_naming_another_issuer_is_refused(client, session, member, faulty_provider):
    """OpenID Connect Discovery: the issuer in the document must be the one it was fetched from; otherwise one
    provider could pass off tokens in another's name (the token's iss agrees with the document here)."""
    faulty_provider.reset(PERSON, "discovery_names_another_issuer")
    response = start(client, email=PERSON["email"])
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 502, text
    assert "names another issuer" in text
    assert not _signed_in(client, session, member)


def test_a_discovery_document_that_changes_issuer_during_the_sign_in_is_refused_at_the_callback(
    client, session, member, faulty_provider
):
    faulty_provider.reset(PERSON)
    link = provider_link(start(client, email=PERSON["email"]))
    faulty_provider.fault = "discovery_names_another_issuer"  # its tokens now name that issuer too
    answer = requests.get(link, allow_redirects=False, timeout=5)
    response = back_at_marketplace(client, answer.headers["Location"])
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 403, text
    assert "its discovery document names another issuer" in text
    assert not _signed_in(client, session, member)
