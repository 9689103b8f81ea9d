"""An organisation's single sign-on: its OpenID Connect settings (the owner's), the email domains it claims (verified
by a platform admin), who may still sign in with a password, and who an identity provider's answer signs in.

Each function raises SsoError (a refusal the page shows) or RoleTooLow (403) and never commits.
"""

import re
import secrets
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, OrgRole, Role, User
from marketplace.accounts.org_roles import ensure_org_role
from marketplace.accounts.service import create_user, normalize_email
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.locking import lock_row
from marketplace.notifications.service import notify_admins
from marketplace.sso.models import SsoConfig, SsoDomain

DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SSO_REQUIRED = (
    "{org} signs its people in through its identity provider: use “Sign in with your organisation” below. "
    "Password sign-in is closed for addresses at {domain}."
)


class SsoError(Refusal):
    """A change to single sign-on, or a sign-in through it, that cannot be made, said so that one knows what to do."""


def domain_of(email: str) -> str:
    return normalize_email(email).rpartition("@")[2]


def config_of(session: Session, org_id: int) -> SsoConfig | None:
    return session.execute(select(SsoConfig).where(col(SsoConfig.org_id) == org_id)).scalar_one_or_none()


def domains_of(session: Session, org_id: int) -> list[SsoDomain]:
    """The organisation's domain claims, verified or not, by name."""
    return list(
        session.execute(
            select(SsoDomain).where(col(SsoDomain.org_id) == org_id).order_by(col(SsoDomain.domain))
        ).scalars()
    )


def verified_domains(session: Session, org_id: int) -> set[str]:
    return {d.domain for d in domains_of(session, org_id) if d.verified_at is not None}


def owners_org(session: Session, owner: User, action: str) -> Organization:
    ensure_org_role(owner, OrgRole.OWNER, action)
    if owner.org_id is None:
        raise SsoError("Single sign-on belongs to an organisation: admins have none.")
    return cast(Organization, lock_row(session, Organization, owner.org_id))


def _issuer(text: str) -> str:
    issuer = text.strip().rstrip("/")
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise SsoError("Give the issuer's address, such as https://login.example.com.", "issuer")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise SsoError("The issuer must be reached over HTTPS.", "issuer")
    return issuer


def save_config(
    session: Session,
    owner: User,
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    enabled: bool,
    required: bool,
) -> SsoConfig:
    """Set the organisation's OpenID Connect provider. An empty secret keeps the one stored. Requiring sign-in
    through the provider needs it switched on, a verified domain, and the owner's second factor: the owner keeps
    password and second factor as the way in while the provider is down."""
    org = owners_org(session, owner, "set up single sign-on")
    config = config_of(session, org.id)
    issuer = _issuer(issuer)
    client_id = client_id.strip()
    if not client_id:
        raise SsoError("Give the client id your identity provider issued for the marketplace.", "client_id")
    if config is None and not client_secret.strip():
        raise SsoError("Give the client secret your identity provider issued for the marketplace.", "client_secret")
    if required and not enabled:
        raise SsoError("Switch sign-in through your identity provider on before you require it.", "required")
    if required and not verified_domains(session, org.id):
        raise SsoError("Sign-in can be required only once an admin has verified one of your domains.", "required")
    if required and not owner.has_second_factor:
        raise SsoError(
            "Turn on your own second factor first: while sign-in through your provider is required, your password "
            "and second factor are the way in if the provider is down.",
            "required",
        )
    before = _summary(config) if config is not None else None
    if config is None:
        config = SsoConfig(org_id=org.id, issuer="", client_id="")
        session.add(config)
    config.issuer, config.client_id = issuer, client_id
    if client_secret.strip():
        config.client_secret = client_secret.strip()
    config.enabled, config.required, config.updated_at = enabled, required, utcnow()
    session.flush()
    record_event(
        session,
        owner,
        "sso.configured",
        "organization",
        org.id,
        before=before,
        after={**_summary(config), "secret_changed": bool(client_secret.strip())},
        **org.audit_sides,
    )
    return config


def _summary(config: SsoConfig) -> dict[str, object]:
    """What the audit keeps of the settings: never the secret."""
    return {
        "issuer": config.issuer,
        "client_id": config.client_id,
        "enabled": config.enabled,
        "required": config.required,
    }


def claim_domain(session: Session, owner: User, text: str) -> SsoDomain:
    """Claim an email domain for the organisation; it counts once a platform admin verifies it (admins are told)."""
    org = owners_org(session, owner, "claim email domains")
    domain = text.strip().lower().removeprefix("@")
    if not DOMAIN.match(domain):
        raise SsoError("Give a domain such as example.com.", "domain")
    if any(claim.domain == domain for claim in domains_of(session, org.id)):
        raise SsoError(f"You have claimed {domain} already.", "domain")
    if _verified_claim(session, domain) is not None:
        raise SsoError(f"{domain} is verified for another organisation.", "domain")
    claim = SsoDomain(org_id=org.id, domain=domain, claimed_by_id=owner.id)
    session.add(claim)
    session.flush()
    record_event(
        session, owner, "sso.domain_claimed", "sso_domain", claim.id, after={"domain": domain}, **org.audit_sides
    )
    notify_admins(
        session,
        "sso_domain_claimed",
        f"{org.name} claims the email domain {domain} for single sign-on: check that it is theirs.",
        "/admin/sso-domains",
    )
    return claim


def _verified_claim(session: Session, domain: str) -> SsoDomain | None:
    return session.execute(select(SsoDomain).where(col(SsoDomain.verified_domain) == domain)).scalar_one_or_none()


def remove_domain(session: Session, owner: User, claim_id: int) -> SsoDomain:
    """Withdraw a claim (verified or not). NotVisible: not one of the organisation's claims."""
    org = owners_org(session, owner, "remove email domains")
    claim = session.get(SsoDomain, claim_id)
    if claim is None or claim.org_id != org.id:
        raise NotVisible(f"sso domain {claim_id}")
    config = config_of(session, org.id)
    if config is not None and config.required and verified_domains(session, org.id) == {claim.domain}:
        raise SsoError(f"{claim.domain} is your last verified domain: stop requiring single sign-on first.")
    session.delete(claim)
    record_event(
        session,
        owner,
        "sso.domain_removed",
        "sso_domain",
        claim.id,
        before={"domain": claim.domain, "verified": claim.verified_at is not None},
        **org.audit_sides,
    )
    return claim


def pending_claims(session: Session) -> list[tuple[SsoDomain, Organization]]:
    """Every claim awaiting an admin's decision, oldest first."""
    rows = session.execute(
        select(SsoDomain, Organization)
        .join(Organization, col(Organization.id) == col(SsoDomain.org_id))
        .where(col(SsoDomain.verified_at).is_(None))
        .order_by(col(SsoDomain.claimed_at), col(SsoDomain.id))
    ).all()
    return [(claim, org) for claim, org in rows]


def _claim_for_admin(session: Session, admin: User, claim_id: int) -> tuple[SsoDomain, Organization]:
    if not admin.is_admin:
        raise SsoError("Only platform admins decide domain claims.")
    claim = lock_row(session, SsoDomain, claim_id)
    if claim is None:
        raise NotVisible(f"sso domain {claim_id}")
    return claim, cast(Organization, session.get(Organization, claim.org_id))


def verify_domain(session: Session, admin: User, claim_id: int) -> SsoDomain:
    """An admin has checked that the domain is the organisation's (a DNS record, a call to its IT): from now on its
    addresses sign in through the organisation's provider, and no other organisation can have it."""
    claim, org = _claim_for_admin(session, admin, claim_id)
    if claim.verified_at is not None:
        raise SsoError(f"{claim.domain} is verified already.")
    holder = _verified_claim(session, claim.domain)
    if holder is not None:
        raise SsoError(f"{claim.domain} is verified for another organisation already: reject this claim.")
    claim.verified_at, claim.verified_by_id, claim.verified_domain = utcnow(), admin.id, claim.domain
    session.flush()
    record_event(
        session,
        admin,
        "sso.domain_verified",
        "sso_domain",
        claim.id,
        before={"verified": False},
        after={"domain": claim.domain, "organization": org.name, "verified": True},
        **org.audit_sides,
    )
    return claim


def reject_domain(session: Session, admin: User, claim_id: int) -> SsoDomain:
    """An admin turns a claim down: the claim goes, the owner may claim again with proof."""
    claim, org = _claim_for_admin(session, admin, claim_id)
    if claim.verified_at is not None:
        raise SsoError(f"{claim.domain} is verified: the organisation's owner removes it.")
    session.delete(claim)
    record_event(
        session,
        admin,
        "sso.domain_rejected",
        "sso_domain",
        claim.id,
        before={"domain": claim.domain, "organization": org.name},
        **org.audit_sides,
    )
    return claim


def _requiring_config(session: Session, user: User) -> SsoConfig | None:
    """The user's organisation's settings when they require single sign-on for this user's address."""
    if user.org_id is None:
        return None
    config = config_of(session, user.org_id)
    if config is None or not (config.enabled and config.required):
        return None
    return config if domain_of(user.email) in verified_domains(session, user.org_id) else None


def password_refusal(session: Session, user: User) -> str | None:
    """Why this user may not sign in with a password, or None. Closed for the organisation's people at its verified
    domains while it requires single sign-on; its owner keeps password and second factor (break-glass, for when the
    provider is down). Addresses outside its domains (a contractor invited by address) keep their passwords."""
    config = _requiring_config(session, user)
    if config is None or is_break_glass(session, user):
        return None
    org = cast(Organization, session.get(Organization, config.org_id))
    return SSO_REQUIRED.format(org=org.name, domain=domain_of(user.email))


def is_break_glass(session: Session, user: User) -> bool:
    """The owner of an organisation that requires single sign-on, signing in with password and second factor."""
    return _requiring_config(session, user) is not None and user.org_role == OrgRole.OWNER and user.has_second_factor


def record_break_glass(session: Session, user: User) -> None:
    """The owner passed the password step while single sign-on is required: the organisation's trail shows it."""
    org = cast(Organization, session.get(Organization, user.org_id))
    record_event(session, user, "sso.password_break_glass", "user", user.id, **org.audit_sides)


def provider_for_email(session: Session, email: str) -> tuple[Organization, SsoConfig]:
    """The organisation whose verified domain the address is at, with its switched-on settings. SsoError otherwise."""
    domain = domain_of(email)
    claim = _verified_claim(session, domain) if domain else None
    found = _switched_on(session, claim.org_id) if claim is not None else None
    if found is None:
        raise SsoError("No organisation signs in addresses at that domain through its identity provider.", "email")
    return found


def provider_for_org_name(session: Session, name: str) -> tuple[Organization, SsoConfig]:
    """The organisation of that name, when it has single sign-on switched on. SsoError otherwise."""
    org = session.execute(select(Organization).where(col(Organization.name) == name.strip())).scalar_one_or_none()
    found = _switched_on(session, org.id) if org is not None else None
    if found is None:
        raise SsoError("No organisation of that name signs in through its identity provider.", "organization")
    return found


def _switched_on(session: Session, org_id: int) -> tuple[Organization, SsoConfig] | None:
    config = config_of(session, org_id)
    if config is None or not config.enabled:
        return None
    return cast(Organization, session.get(Organization, org_id)), config


def switched_on_config(session: Session, org_id: int) -> SsoConfig:
    """The organisation's settings while sign-in through its provider is on. SsoError when it was switched off."""
    found = _switched_on(session, org_id)
    if found is None:
        raise SsoError("Sign-in through this organisation's identity provider is switched off.")
    return found[1]


def sign_in_identity(session: Session, org: Organization, claims: dict[str, object]) -> User:
    """The user an identity provider vouched for (the id token's claims, already checked for issuer, audience,
    expiry, nonce and signature): its address must be one the provider verified, at a verified domain of `org`.
    A new address becomes a member of `org` (just in time); a user of another organisation is refused."""
    email = str(claims.get("email") or "")
    if not email or "@" not in email:
        raise SsoError("Your identity provider did not give your email address: ask your IT team.")
    if claims.get("email_verified") is not True:
        raise SsoError("Your identity provider has not verified your email address: ask your IT team.")
    email = normalize_email(email)
    if domain_of(email) not in verified_domains(session, org.id):
        raise SsoError(f"{email} is not at a verified domain of {org.name}: ask its owner.")
    user = session.execute(select(User).where(col(User.email) == email)).scalar_one_or_none()
    if user is not None and user.org_id != org.id:
        raise SsoError(f"{email} has an account outside {org.name}: sign in with your password instead.")
    if user is not None and user.removed_at is not None:
        raise SsoError("This account was removed from its organisation: ask its owner to invite you again.")
    if user is None:
        user = create_user(
            session,
            email=email,
            name=str(claims.get("name") or "").strip()[:200] or email.partition("@")[0],
            password=secrets.token_urlsafe(32),  # nobody knows it: a password comes only through a reset link
            role=Role(str(org.kind)),
            org=org,
        )
        user.org_role = OrgRole.MEMBER
        record_event(
            session, user, "user.joined_through_sso", "user", user.id, after={"role": "member"}, **org.audit_sides
        )
    elif user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the provider verified it
    record_event(session, user, "user.signed_in_through_sso", "user", user.id, **org.audit_sides)
    return user
