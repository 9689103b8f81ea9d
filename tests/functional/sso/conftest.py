"""A real OpenID provider on 127.0.0.1 (oidc-provider-mock, in a thread) and an organisation that signs in through
it; helpers that walk the authorization code flow as a browser would, with the test client on our side."""

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from marketplace.accounts.models import Organization, OrgRole
from marketplace.db_types import utcnow
from marketplace.sso.models import SsoConfig, SsoDomain
from tests.factories import AdminFactory, BuyerFactory
from tests.oidc_provider import idp_user, running_provider


@pytest.fixture(scope="session")
def oidc_issuer():
    """The provider's issuer URL; it asks for a nonce, as a real provider may."""
    with running_provider() as issuer:
        yield issuer


@dataclass
class SsoOrg:
    owner: object
    org: Organization
    config: SsoConfig
    domain: str


@pytest.fixture
def sso_org(session, oidc_issuer) -> SsoOrg:
    """A lab with single sign-on switched on and northwind.example verified by an admin."""
    owner = BuyerFactory(email="owner@northwind.example", org_role=OrgRole.OWNER)
    org = session.get(Organization, owner.org_id)
    admin = AdminFactory()
    config = SsoConfig(org_id=org.id, issuer=oidc_issuer, client_id="marketplace", client_secret="s3cret", enabled=True)
    claim = SsoDomain(
        org_id=org.id,
        domain="northwind.example",
        claimed_by_id=owner.id,
        verified_at=utcnow(),
        verified_by_id=admin.id,
        verified_domain="northwind.example",
    )
    session.add_all([config, claim])
    session.flush()
    return SsoOrg(owner, org, config, "northwind.example")


def start(client, **args):
    """Ask the marketplace to start; the response (the page linking to the provider when it started)."""
    return client.get("/sign-in/organisation", query_string=args)


def provider_link(response) -> str:
    """The address of the provider's page that the marketplace's page links to."""
    assert response.status_code == 200, response.get_data(as_text=True)
    found = re.search(r'href="([^"]+)" data-testid="sso-provider-link"', response.get_data(as_text=True))
    return html.unescape(found.group(1))


def approve_at_provider(authorize_url: str, sub: str) -> str:
    """The person picks `sub` on the provider's page; the address it sends the browser back to."""
    response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def back_at_marketplace(client, location: str):
    parts = urlsplit(location)
    return client.get(parts.path, query_string=parts.query)


def sign_in_through_provider(client, issuer: str, sub: str, start_args: dict | None = None, **claims):
    """The whole flow for one person; the marketplace's answer to the provider's redirect."""
    idp_user(issuer, sub, **claims)
    link = provider_link(start(client, **(start_args or {"email": sub})))
    assert link.startswith(issuer)
    return back_at_marketplace(client, approve_at_provider(link, sub))


PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def scim_token(client, session, login_as, sso_org):
    """A SCIM token the owner created on the page; the client is signed out again afterwards."""
    login_as(sso_org.owner)
    page = client.post("/organisation/sign-in/scim-tokens", data={"label": "Okta"}).get_data(as_text=True)
    token = re.search(r"(scim_[A-Za-z0-9_-]+)", page).group(1)
    client.post("/sign-out")
    return token


def scim_auth(token):
    return {"Authorization": f"Bearer {token}"}
