"""In a real browser: a lab's member signs in through the lab's OpenID provider (oidc-provider-mock on 127.0.0.1),
from the marketplace's sign-in page, through the provider's page, back into the marketplace."""

import re

from playwright.sync_api import expect

from marketplace.accounts.models import Organization
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.sso.models import SsoConfig, SsoDomain
from tests.factories import AdminFactory, BuyerFactory
from tests.faulty_oidc_provider import FaultyProvider
from tests.oidc_provider import idp_user, running_provider

# Anything but this machine's own servers is refused inside the browser (the provider's page links a stylesheet
# from a CDN): the test never reaches the network.
OUTSIDE = re.compile(r"^https?://(?!127\.0\.0\.1[:/]|localhost[:/])")


def _northwind_signs_in_through(issuer: str) -> str:
    """A lab whose single sign-on is on, through `issuer`, with northwind.example verified; its name."""
    owner = BuyerFactory(email="maya@northwind.example")
    admin = AdminFactory()
    org = db.session.get(Organization, owner.org_id)
    db.session.add(SsoConfig(org_id=org.id, issuer=issuer, client_id="marketplace", client_secret="s", enabled=True))
    db.session.add(
        SsoDomain(
            org_id=org.id,
            domain="northwind.example",
            claimed_by_id=owner.id,
            verified_at=utcnow(),
            verified_by_id=admin.id,
            verified_domain="northwind.example",
        )
    )
    return org.name


def test_a_member_signs_in_through_the_labs_identity_provider(page, live_server, commit_data, assert_accessible):
    with running_provider() as issuer:
        org_name = commit_data(lambda: _northwind_signs_in_through(issuer))
        idp_user(issuer, "ana@northwind.example", email="ana@northwind.example", email_verified=True, name="Ana Lima")
        page.context.route(OUTSIDE, lambda route: route.abort())

        page.goto(live_server.url("/sign-in"))
        page.get_by_label("Work address").fill("ana@northwind.example")
        page.get_by_role("button", name="Continue with single sign-on").click()
        expect(page.get_by_role("heading", name=f"Sign in through {org_name}")).to_be_visible()
        assert_accessible("the page that leads to the identity provider")
        page.get_by_role("link", name=f"Continue to {org_name}'s sign-in").click()

        # The provider's own page: who signs in.
        expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
        assert page.url.startswith(issuer)
        page.get_by_placeholder("sub").fill("ana@northwind.example")
        page.get_by_role("button", name="Authorize").click()

        expect(page.get_by_role("status").filter(has_text="Welcome, Ana Lima")).to_be_visible()
        assert page.url.startswith(live_server.url("/jobs"))
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_the_owner_sets_up_single_sign_on_and_an_admin_verifies_the_domain(
    page, live_server, commit_data, switch_user, assert_accessible
):
    commit_data(lambda: (BuyerFactory(email="maya@northwind.example"), AdminFactory(email="admin@armslength.example")))
    switch_user("maya@northwind.example")
    page.goto(live_server.url("/team"))
    page.get_by_test_id("sso-settings-link").click()
    page.get_by_label("Issuer URL").fill("https://login.northwind.example")
    page.get_by_label("Client id").fill("marketplace")
    page.get_by_label("Client secret").fill("a-secret-never-shown")
    page.get_by_label("Let people sign in through our identity provider").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Single sign-on settings saved.")).to_be_visible()
    expect(page.get_by_label("Client secret")).to_have_value("")
    page.get_by_label("Email domain").fill("northwind.example")
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_test_id("sso-domains")).to_contain_text("Awaiting an admin")
    assert_accessible("the owner's single sign-on page")

    switch_user("admin@armslength.example")
    page.get_by_role("link", name="Domain claims").click()
    expect(page.get_by_test_id("domain-claims")).to_contain_text("northwind.example")
    assert_accessible("the admins' domain claims")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status").filter(has_text="northwind.example verified.")).to_be_visible()


def test_an_id_token_issued_to_another_application_is_refused_and_says_so(
    page, live_server, commit_data, assert_accessible
):
    provider = FaultyProvider(client_id="marketplace", client_secret="s").start()
    try:
        org_name = commit_data(lambda: _northwind_signs_in_through(provider.issuer))
        person = {"sub": "ana-1", "email": "ana@northwind.example", "email_verified": True, "name": "Ana Lima"}
        provider.reset(person, "wrong_audience")
        page.context.route(OUTSIDE, lambda route: route.abort())

        page.goto(live_server.url("/sign-in"))
        page.get_by_label("Work address").fill("ana@northwind.example")
        page.get_by_role("button", name="Continue with single sign-on").click()
        page.get_by_role("link", name=f"Continue to {org_name}'s sign-in").click()

        refusal = page.get_by_test_id("sso-refused")
        expect(refusal.get_by_role("alert")).to_contain_text("identity token we cannot accept")
        expect(refusal.get_by_role("alert")).to_contain_text("it was issued to another application")
        assert_accessible("the refusal of a faulty id token")
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        page.goto(live_server.url("/jobs/"))
        assert "/sign-in" in page.url
    finally:
        provider.stop()
