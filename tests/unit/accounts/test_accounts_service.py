import pytest

from marketplace.accounts import service
from marketplace.accounts.models import Organization, OrgKind, Role, VendorProfile
from marketplace.accounts.passwords import hash_password, verify_password
from marketplace.accounts.views import safe_next
from marketplace.audit.models import AuditRecord
from marketplace.config import ConfigError, load_config
from marketplace.parties.models import Party
from tests.factories import BuyerFactory


def test_passwords_are_hashed_with_argon2id():
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong horse battery")
    assert not verify_password(None, "anything")


def test_sign_up_creates_org_party_profile_user_and_audit(session):
    result = service.sign_up(
        session,
        org_name="  Tidepool Labeling ",
        kind=OrgKind.VENDOR,
        email="Ana@Tidepool.Example",
        name="Ana",
        password="x" * 12,
    )
    user = result.user
    assert result.created and result.confirmation.token
    assert not user.email_verified
    org = session.get(Organization, user.org_id)
    assert org.name == "Tidepool Labeling"
    assert user.email == "ana@tidepool.example"
    assert user.role == Role.VENDOR
    assert session.get(Party, org.party_id).name == "Tidepool Labeling"
    assert session.query(VendorProfile).filter_by(org_id=org.id).one()
    assert session.query(AuditRecord).filter_by(action="organization.created", subject_id=org.id).one()


def test_sign_up_with_a_taken_email_creates_nothing_and_names_the_owner(session):
    owner = BuyerFactory(email="taken@example.com")
    orgs = session.query(Organization).count()
    result = service.sign_up(
        session, org_name="Brand New Lab", kind=OrgKind.BUYER, email="TAKEN@example.com", name="X", password="x" * 12
    )
    assert not result.created and result.user == owner and result.confirmation is None
    assert session.query(Organization).count() == orgs


def test_authenticate_checks_the_password(session):
    user = service.create_user(session, email="a@b.example", name="A", password="long password 1", role=Role.ADMIN)
    assert service.authenticate(session, "A@B.example", "long password 1") == user
    assert service.authenticate(session, "a@b.example", "long password 2") is None
    assert service.authenticate(session, "nobody@b.example", "long password 1") is None


def test_invitation_token_is_single_use_and_joins_the_org(session):
    inviter = BuyerFactory()
    issued = service.invite_colleague(session, inviter, "new@lab.example")
    assert issued.invitation.token_hash != issued.token
    invitation = service.find_open_invitation(session, issued.token)
    user = service.accept_invitation(session, invitation, name="New", password="y" * 12)
    assert user.org_id == inviter.org_id and user.role == Role.BUYER
    assert service.find_open_invitation(session, issued.token) is None


def test_end_sessions_changes_the_session_id(session):
    user = BuyerFactory()
    before = user.get_id()
    service.end_sessions(session, user)
    assert user.get_id() != before


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "evil.example", "", None],
)
def test_next_never_leaves_the_site(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/jobs/", "/jobs/3?page=2"])
def test_next_inside_the_site_is_kept(target):
    assert safe_next(target) == target


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError):
        load_config({"MARKETPLACE_ENV": "production"})


def test_production_cookies_are_secure():
    config = load_config({"MARKETPLACE_ENV": "production", "SECRET_KEY": "s" * 40})
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not config["DEMO_LOGINS"]


def test_outside_production_the_session_key_is_random_per_instance_and_kept(tmp_path):
    first = load_config({}, instance_dir=tmp_path / "one")
    again = load_config({}, instance_dir=tmp_path / "one")
    other = load_config({}, instance_dir=tmp_path / "two")

    assert first["SECRET_KEY"] == again["SECRET_KEY"] != other["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 48 and first["SECRET_KEY"] != "dev-only-not-secret"
    key_file = tmp_path / "one" / "secret_key"
    assert key_file.read_text() == first["SECRET_KEY"]
    assert key_file.stat().st_mode & 0o077 == 0
    assert load_config({"SECRET_KEY": "given"}, instance_dir=tmp_path / "one")["SECRET_KEY"] == "given"
