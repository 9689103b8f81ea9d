"""The owner's single sign-on page, admins' verification of domains, and who may still sign in with a password."""

from flask import g
from sqlalchemy import select

from marketplace.accounts.models import OrgRole, User
from marketplace.accounts.service import invite_colleague
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.sso.models import SsoConfig, SsoDomain
from tests.factories import ADMIN_TOTP_SECRET, PASSWORD, AdminFactory, BuyerFactory, VendorFactory


def _last_action(session):
    return session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).scalar_one().action


def _require(session, sso_org):
    sso_org.config.required = True
    session.flush()


def test_required_single_sign_on_closes_password_sign_in_with_a_clear_message(client, session, sso_org):
    _require(session, sso_org)
    BuyerFactory(email="mo@northwind.example", org_id=sso_org.org.id, org_role=OrgRole.MEMBER)
    response = client.post("/sign-in", data={"email": "mo@northwind.example", "password": PASSWORD})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"{sso_org.org.name} signs its people in through its identity provider" in text
    assert "Password sign-in is closed for addresses at northwind.example" in text
    assert "/sign-in" in client.get("/jobs/").headers["Location"]


def test_without_the_requirement_the_password_still_works(client, session, sso_org):
    BuyerFactory(email="ned@northwind.example", org_id=sso_org.org.id, org_role=OrgRole.MEMBER)
    response = client.post("/sign-in", data={"email": "ned@northwind.example", "password": PASSWORD})
    assert response.status_code == 303


def test_a_colleague_at_an_outside_address_keeps_the_password(client, session, sso_org):
    _require(session, sso_org)
    BuyerFactory(email="contractor@freelance.example", org_id=sso_org.org.id, org_role=OrgRole.MEMBER)
    response = client.post("/sign-in", data={"email": "contractor@freelance.example", "password": PASSWORD})
    assert response.status_code == 303


def test_the_owner_keeps_password_and_second_factor_as_break_glass(client, session, sso_org):
    owner = sso_org.owner
    owner.totp_secret, owner.totp_enabled_at = ADMIN_TOTP_SECRET, utcnow()
    _require(session, sso_org)
    response = client.post("/sign-in", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in/code")
    assert _last_action(session) == "sso.password_break_glass"


def _owner_page(client, login_as, sso_org):
    login_as(sso_org.owner)
    return client.get("/organisation/sign-in")


def test_the_owner_sets_up_the_provider_and_the_secret_is_never_shown(client, session, login_as):
    owner = BuyerFactory(org_role=OrgRole.OWNER)
    login_as(owner)
    response = client.post(
        "/organisation/sign-in",
        data={"issuer": "https://login.example.com/", "client_id": "abc", "client_secret": "hunter2-secret"},
    )
    assert response.status_code == 303
    config = session.execute(select(SsoConfig).where(SsoConfig.org_id == owner.org_id)).scalar_one()
    assert (config.issuer, config.client_id, config.client_secret, config.enabled) == (
        "https://login.example.com",
        "abc",
        "hunter2-secret",
        False,
    )
    record = session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).scalar_one()
    assert record.action == "sso.configured" and "hunter2" not in str(record.after)
    page = client.get("/organisation/sign-in").get_data(as_text=True)
    assert "hunter2" not in page and "A secret is stored" in page
    # An empty secret keeps the stored one.
    client.post(
        "/organisation/sign-in", data={"issuer": "https://login.example.com", "client_id": "abc", "enabled": "y"}
    )
    assert config.client_secret == "hunter2-secret" and config.enabled


def test_bad_settings_are_refused_beside_their_field(client, session, login_as, sso_org):
    login_as(sso_org.owner)
    data = {"issuer": "ftp://login", "client_id": "abc"}
    response = client.post("/organisation/sign-in", data=data)
    assert response.status_code == 400 and "such as https://login.example.com" in response.get_data(as_text=True)
    data = {"issuer": "http://login.example.com", "client_id": "abc"}
    assert "must be reached over HTTPS" in client.post("/organisation/sign-in", data=data).get_data(as_text=True)


def test_requiring_single_sign_on_needs_the_owners_second_factor(client, session, login_as, sso_org):
    login_as(sso_org.owner)
    data = {"issuer": sso_org.config.issuer, "client_id": "marketplace", "enabled": "y", "required": "y"}
    response = client.post("/organisation/sign-in", data=data)
    assert response.status_code == 400 and "Turn on your own second factor first" in response.get_data(as_text=True)
    assert not sso_org.config.required
    sso_org.owner.totp_secret, sso_org.owner.totp_enabled_at = ADMIN_TOTP_SECRET, utcnow()
    assert client.post("/organisation/sign-in", data=data).status_code == 303
    assert sso_org.config.required


def test_requiring_needs_it_switched_on_and_a_verified_domain(client, session, login_as):
    owner = BuyerFactory(org_role=OrgRole.OWNER, totp_secret=ADMIN_TOTP_SECRET, totp_enabled_at=utcnow())
    login_as(owner)
    data = {"issuer": "https://login.example.com", "client_id": "abc", "client_secret": "x", "required": "y"}
    assert "Switch sign-in through" in client.post("/organisation/sign-in", data=data).get_data(as_text=True)
    data["enabled"] = "y"
    assert "once an admin has verified" in client.post("/organisation/sign-in", data=data).get_data(as_text=True)


def test_only_the_owner_reaches_the_page(client, session, login_as, sso_org):
    manager = BuyerFactory(org_id=sso_org.org.id, org_role=OrgRole.MANAGER)
    login_as(manager)
    response = client.get("/organisation/sign-in")
    assert response.status_code == 403
    assert "you cannot set up single sign-on" in response.get_data(as_text=True)


def test_a_claimed_domain_counts_once_an_admin_verifies_it(client, session, login_as, outbox):
    owner = BuyerFactory(org_role=OrgRole.OWNER)
    login_as(owner)
    assert client.post("/organisation/sign-in/domains", data={"domain": "@Acme.example"}).status_code == 303
    claim = session.execute(select(SsoDomain).where(SsoDomain.org_id == owner.org_id)).scalar_one()
    assert claim.domain == "acme.example" and claim.verified_at is None
    assert _last_action(session) == "sso.domain_claimed"

    admin = AdminFactory()
    login_as(admin)
    page = client.get("/admin/sso-domains").get_data(as_text=True)
    assert "acme.example" in page
    assert client.post(f"/admin/sso-domains/{claim.id}/verify").status_code == 303
    assert claim.verified_at is not None and claim.verified_by_id == admin.id
    assert _last_action(session) == "sso.domain_verified"


def test_a_domain_belongs_to_one_organisation_only(client, session, login_as, sso_org):
    rival_owner = VendorFactory(org_role=OrgRole.OWNER)
    login_as(rival_owner)
    response = client.post("/organisation/sign-in/domains", data={"domain": "northwind.example"})
    assert response.status_code == 400
    assert "northwind.example is verified for another organisation" in response.get_data(as_text=True)
    # Two claims before any verification: the admin can verify one only.
    first = SsoDomain(org_id=sso_org.org.id, domain="shared.example", claimed_by_id=sso_org.owner.id)
    second = SsoDomain(org_id=rival_owner.org_id, domain="shared.example", claimed_by_id=rival_owner.id)
    session.add_all([first, second])
    session.flush()
    login_as(AdminFactory())
    client.post(f"/admin/sso-domains/{first.id}/verify")
    response = client.post(f"/admin/sso-domains/{second.id}/verify", follow_redirects=True)
    assert "is verified for another organisation already" in response.get_data(as_text=True)
    assert second.verified_at is None
    client.post(f"/admin/sso-domains/{second.id}/reject")
    assert session.get(SsoDomain, second.id) is None
    assert _last_action(session) == "sso.domain_rejected"


def test_bad_domains_are_refused_beside_the_field(client, session, login_as):
    login_as(BuyerFactory(org_role=OrgRole.OWNER))
    for bad in ("localhost", "not a domain", "a" * 300, "-x.example"):
        response = client.post("/organisation/sign-in/domains", data={"domain": bad})
        assert response.status_code == 400, bad


def test_only_admins_decide_claims(client, session, login_as, sso_org):
    claim = SsoDomain(org_id=sso_org.org.id, domain="mine.example", claimed_by_id=sso_org.owner.id)
    session.add(claim)
    session.flush()
    login_as(sso_org.owner)
    assert client.get("/admin/sso-domains").status_code == 403
    assert client.post(f"/admin/sso-domains/{claim.id}/verify").status_code == 403
    assert claim.verified_at is None


def test_the_owner_removes_a_claim_of_its_own_only(client, session, login_as, sso_org):
    other = VendorFactory(org_role=OrgRole.OWNER)
    claim = session.execute(select(SsoDomain).where(SsoDomain.org_id == sso_org.org.id)).scalar_one()
    login_as(other)
    assert client.post(f"/organisation/sign-in/domains/{claim.id}/remove").status_code == 404
    login_as(sso_org.owner)
    assert client.post(f"/organisation/sign-in/domains/{claim.id}/remove").status_code == 303
    assert session.get(SsoDomain, claim.id) is None
    assert _last_action(session) == "sso.domain_removed"


def test_the_team_page_leads_the_owner_alone_to_single_sign_on(client, session, login_as, sso_org):
    login_as(sso_org.owner)
    assert 'data-testid="sso-settings-link"' in client.get("/team").get_data(as_text=True)
    login_as(BuyerFactory(org_id=sso_org.org.id, org_role=OrgRole.MANAGER))
    assert 'data-testid="sso-settings-link"' not in client.get("/team").get_data(as_text=True)


def test_an_invitation_accepted_at_a_required_domain_gives_no_password_session(client, session, outbox, sso_org):
    _require(session, sso_org)
    issued = invite_colleague(session, sso_org.owner, "pia@northwind.example")
    session.flush()
    data = {"name": "Pia", "password": "p" * 12, "confirm": "p" * 12, "timezone": "UTC"}
    joined = client.post(f"/invite/{issued.token}", data=data)
    assert joined.status_code == 303 and joined.headers["Location"].endswith("/sign-in/organisation")
    g.pop("_login_user", None)
    assert "/sign-in" in client.get("/jobs/").headers["Location"]
    pia = session.execute(select(User).where(User.email == "pia@northwind.example")).scalar_one()
    assert pia.org_id == sso_org.org.id
