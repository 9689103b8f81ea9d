"""SCIM provisioning: the organisation's identity provider creates, lists and deactivates its users with a bearer
token the owner made. Deactivating a user ends every session of it at once, as removing a member does.

Each function raises ProvisioningError (answered as a SCIM error) or NotVisible (404) and never commits.
"""

import hashlib
import secrets
from dataclasses import dataclass
from types import SimpleNamespace
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts import sessions
from marketplace.accounts.models import Organization, OrgRole, Role, User
from marketplace.accounts.service import create_user, normalize_email
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.sso.models import ScimToken
from marketplace.sso.service import domain_of, owners_org, verified_domains
from marketplace.visibility import organisation_member


class ProvisioningError(Refusal):
    """A SCIM request that cannot be carried out; `status` is the HTTP status it is answered with."""

    def __init__(self, message: str, status: int = 400, scim_type: str = "invalidValue"):
        super().__init__(message, None)
        self.status, self.scim_type = status, scim_type


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedScimToken:
    record: ScimToken
    token: str  # shown to the owner once, never stored


def create_token(session: Session, owner: User, label: str) -> IssuedScimToken:
    """A new SCIM bearer token for the owner's organisation; only its hash is kept."""
    org = owners_org(session, owner, "create provisioning tokens")
    label = label.strip()
    if not label:
        raise ProvisioningError("Name the token (such as the identity provider that will use it).")
    token = "scim_" + secrets.token_urlsafe(32)
    record = ScimToken(org_id=org.id, label=label[:100], token_hash=_hash(token), created_by_id=owner.id)
    session.add(record)
    session.flush()
    record_event(
        session, owner, "scim_token.created", "scim_token", record.id, after={"label": record.label}, **org.audit_sides
    )
    return IssuedScimToken(record, token)


def revoke_token(session: Session, owner: User, token_id: int) -> ScimToken:
    """Stop a token working at once. NotVisible: not one of the organisation's live tokens."""
    org = owners_org(session, owner, "revoke provisioning tokens")
    record = session.get(ScimToken, token_id)
    if record is None or record.org_id != org.id or record.revoked_at is not None:
        raise NotVisible(f"scim token {token_id}")
    record.revoked_at = utcnow()
    record_event(
        session, owner, "scim_token.revoked", "scim_token", record.id, before={"label": record.label}, **org.audit_sides
    )
    return record


def live_tokens(session: Session, org_id: int) -> list[ScimToken]:
    return list(
        session.execute(
            select(ScimToken)
            .where(col(ScimToken.org_id) == org_id, col(ScimToken.revoked_at).is_(None))
            .order_by(col(ScimToken.created_at).desc(), col(ScimToken.id).desc())
        ).scalars()
    )


def token_from_header(session: Session, authorization: str) -> ScimToken | None:
    """The live token an `Authorization: Bearer ...` header carries, or None."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    record = session.execute(
        select(ScimToken).where(col(ScimToken.token_hash) == _hash(value.strip()))
    ).scalar_one_or_none()
    if record is None or record.revoked_at is not None:
        return None
    record.last_used_at = utcnow()
    return record


def _actor(token: ScimToken) -> SimpleNamespace:
    """Who the audit names for a provisioning change: the token, by its label."""
    return SimpleNamespace(id=None, email=f"SCIM token “{token.label}”")


@dataclass(frozen=True)
class UserPage:
    total: int  # every user the query finds, on all pages
    users: list[User]  # those on this page


def org_users(
    session: Session, token: ScimToken, user_name: str | None = None, *, offset: int = 0, limit: int | None = None
) -> UserPage:
    """The token's organisation's users (removed ones too: SCIM shows them inactive), optionally one address, in a
    stable order (oldest account first), `limit` of them from `offset`."""
    where = [col(User.org_id) == token.org_id]
    if user_name is not None:
        where.append(col(User.email) == normalize_email(user_name))
    total = session.execute(select(func.count()).select_from(User).where(*where)).scalar_one()
    query = select(User).where(*where).order_by(col(User.id)).offset(offset).limit(limit)
    return UserPage(total, list(session.execute(query).scalars()) if limit != 0 else [])


def org_user(session: Session, token: ScimToken, user_id: int) -> User:
    """One user of the token's organisation. NotVisible for anyone else's, so that a token learns nothing outside."""
    return organisation_member(session, token.org_id, user_id)


def _address_for(session: Session, org: Organization, email: str) -> str:
    """The address, normalised, when it may be a user's of `org`: at one of its verified domains, and nobody's."""
    email = normalize_email(email)
    if "@" not in email or domain_of(email) not in verified_domains(session, org.id):
        raise ProvisioningError(f"userName must be an address at a verified domain of {org.name}.")
    if session.execute(select(col(User.id)).where(col(User.email) == email)).first() is not None:
        raise ProvisioningError("A user with this userName exists already.", 409, "uniqueness")
    return email


def provision_user(session: Session, token: ScimToken, *, email: str, name: str, active: bool = True) -> User:
    """Create a member of the token's organisation at one of its verified domains, confirmed (the provider vouches
    for the address); it signs in through the provider."""
    org = cast(Organization, session.get(Organization, token.org_id))
    email = _address_for(session, org, email)
    if not active:
        raise ProvisioningError("Create the user active; deactivate it afterwards.")
    user = create_user(
        session,
        email=email,
        name=name.strip()[:200] or email.partition("@")[0],
        password=secrets.token_urlsafe(32),
        role=Role(str(org.kind)),
        org=org,
    )
    user.org_role = OrgRole.MEMBER
    record_event(session, _actor(token), "user.provisioned", "user", user.id, after={"email": email}, **org.audit_sides)
    return user


def deactivate_user(session: Session, token: ScimToken, user: User) -> User:
    """Deactivate a user: it signs in no more, and every session of it ends now, as when the owner removes a member.
    The owner cannot be deactivated (ownership is handed over on the team page first)."""
    if user.removed_at is not None:
        return user
    if user.org_role == OrgRole.OWNER:
        raise ProvisioningError("This user owns the organisation: hand ownership over on the team page first.", 409)
    org = cast(Organization, session.get(Organization, token.org_id))
    user.removed_at = utcnow()
    user.approver = False
    user.session_version += 1  # every copy of its cookie stops working, and the sessions' rows end too
    ended = sessions.end_all_sessions(session, user)
    record_event(
        session,
        _actor(token),
        "user.deprovisioned",
        "user",
        user.id,
        before={"active": True},
        after={"active": False, "sessions_ended": ended},
        **org.audit_sides,
    )
    return user


def reactivate_user(session: Session, token: ScimToken, user: User) -> User:
    """Let a deactivated user sign in again (as a member)."""
    if user.removed_at is None:
        return user
    org = cast(Organization, session.get(Organization, token.org_id))
    user.removed_at = None
    user.org_role = OrgRole.MEMBER
    record_event(
        session,
        _actor(token),
        "user.reprovisioned",
        "user",
        user.id,
        before={"active": False},
        after={"active": True},
        **org.audit_sides,
    )
    return user


def update_user(
    session: Session,
    token: ScimToken,
    user: User,
    *,
    email: str | None = None,
    name: str | None = None,
    active: bool | None = None,
) -> User:
    """Change what the provider says of a user: its address (userName, at a verified domain, nobody else's; never
    the owner's, whose address is its way in while the provider is down), its name, and whether it is active
    (deactivating ends its sessions at once). What is None stays as it is; the audit keeps before and after."""
    org = cast(Organization, session.get(Organization, token.org_id))
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    if email is not None and normalize_email(email) != user.email:
        if user.org_role == OrgRole.OWNER:
            raise ProvisioningError(
                "This user owns the organisation: its address is its way in while the identity provider is down, "
                "and it is not changed through provisioning.",
                409,
                "mutability",
            )
        before["email"], after["email"] = user.email, _address_for(session, org, email)
        user.email = cast(str, after["email"])
        user.email_verified_at = utcnow()  # the provider vouches for the address
    if name is not None and name.strip() and name.strip()[:200] != user.name:
        before["name"], after["name"] = user.name, name.strip()[:200]
        user.name = cast(str, after["name"])
    if before:
        record_event(
            session, _actor(token), "user.scim_updated", "user", user.id, before=before, after=after, **org.audit_sides
        )
    if active is True:
        reactivate_user(session, token, user)
    elif active is False:
        deactivate_user(session, token, user)
    return user
