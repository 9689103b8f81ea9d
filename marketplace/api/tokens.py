"""API tokens: made and revoked by the organisation's owner, kept as a SHA-256 only, shown once; and a platform
admin's personal tokens, for the admin endpoints alone.

A token acts as its organisation's owner (the owner at the time of each request: a handover moves every token to
the new owner), so every rule of the services applies to it exactly as to the owner on the pages; what the token
does is recorded in the audit trail as the owner's action "through API token <name>". Scopes narrow what a token
may call; they never widen what the owner may do.

An admin belongs to no organisation, so an admin's token is personal: made on the admin's own token page with a
current second-factor code (a token stands in for a signed-in session, and an admin's session needs the second
factor), with admin scopes only, expiring within 90 days, revocable, and refused from the moment its admin stops
being an admin with a second factor.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, OrgRole, User
from marketplace.accounts.org_roles import ensure_org_role
from marketplace.accounts.suspension import ensure_active
from marketplace.accounts.two_factor import check_second_factor
from marketplace.api.models import ApiToken
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.notifications.service import notify_users

# What each scope lets a token call (the endpoints name the scope they need: marketplace.api.routes).
SCOPES = {
    "jobs:read": "Read jobs, their questions and answers",
    "jobs:write": "Post, change, publish and cancel jobs (labs)",
    "bids:read": "Read bids: a lab its jobs' bids, a vendor its own",
    "bids:write": "Place, revise and withdraw bids (vendors); award bids (labs)",
    "questions:write": "Ask questions (vendors) and answer them (labs)",
    "contracts:read": "Read contracts and their milestones",
    "notifications:read": "Read the organisation owner's notifications",
    "screening:read": "Read the lab's rivals, policy, and vendors' verdicts with their findings (labs)",
    "screening:write": "Name and remove the lab's rivals, and change its screening policy (labs)",
    "audit:read": "Read the lab's audit records, as its audit export gives them (labs)",
    "disclosures:read": "Read the vendor's own disclosure versions and their decisions (vendors)",
    "disclosures:write": "Start, fill in and submit the vendor's own disclosure versions (vendors)",
}
EXPIRY_DAYS = (7, 30, 90, 365)
# An admin's personal token: admin scopes only (never an organisation's), and a shorter life.
ADMIN_SCOPES = {
    "admin:disclosures": "Read the review queue and filed disclosure versions; approve, send back or reject them",
    "admin:bods": "Import BODS files into the ownership graph and export a vendor's ownership as BODS",
}
ADMIN_EXPIRY_DAYS = (7, 30, 90)
TOKEN_PREFIX = "alm_"  # noqa: S105 (the visible start of every token, not a secret)
NAME_LIMIT = 80


class TokenError(Refusal):
    """A refusal of the token form, beside its field."""


class TokenRefused(Exception):
    """The request's token is unknown, expired or revoked, or its organisation has no owner: answered as 401."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, on the page that made it; never stored


def digest(secret: str) -> str:
    """What is stored of a token: a SHA-256 is enough for 256 random bits (argon2 is for guessable passwords)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _ensure_owner(session: Session, user: User, action: str) -> int:
    ensure_active(session, user, action)
    if user.org_id is None or not (user.is_buyer or user.is_vendor):
        raise NotVisible("api tokens")
    ensure_org_role(user, OrgRole.OWNER, action)
    return user.org_id


def create_token(
    session: Session, user: User, name: str, scopes: list[str], expires_in_days: int, *, now: datetime | None = None
) -> NewToken:
    """Make a token for the owner's organisation. Raises TokenError (a field's refusal), RoleTooLow (403)."""
    org_id = _ensure_owner(session, user, "make API tokens")
    name, chosen = _checked(name, scopes, expires_in_days, SCOPES, EXPIRY_DAYS)
    made = _new_token(session, user, name, chosen, expires_in_days, now, org_id=org_id)
    _record_created(session, user, made.token, **cast(Organization, session.get(Organization, org_id)).audit_sides)
    return made


def _checked(
    name: str, scopes: list[str], expires_in_days: int, allowed: dict[str, str], periods: tuple[int, ...]
) -> tuple[str, list[str]]:
    name = (name or "").strip()
    if not name:
        raise TokenError("Name the token after the tool that will use it.", "name")
    if len(name) > NAME_LIMIT:
        raise TokenError(f"Keep the name under {NAME_LIMIT} characters.", "name")
    chosen = sorted(set(scopes or []))
    if not chosen or any(scope not in allowed for scope in chosen):
        raise TokenError("Choose at least one of the scopes listed.", "scopes")
    if expires_in_days not in periods:
        raise TokenError("Choose one of the expiry periods listed.", "expires_in_days")
    return name, chosen


def _new_token(
    session: Session,
    user: User,
    name: str,
    scopes: list[str],
    expires_in_days: int,
    now: datetime | None,
    *,
    org_id: int | None = None,
    user_id: int | None = None,
) -> NewToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created = now or utcnow()
    token = ApiToken(
        org_id=org_id,
        user_id=user_id,
        name=name,
        token_hash=digest(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scopes=scopes,
        created_by_id=user.id,
        created_at=created,
        expires_at=created + timedelta(days=expires_in_days),
    )
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def _record_created(session: Session, user: User, token: ApiToken, **sides: Any) -> None:
    record_event(
        session,
        user,
        "api_token.created",
        "api_token",
        token.id,
        after={"name": token.name, "scopes": token.scopes, "expires_at": token.expires_at.isoformat()},
        **sides,
    )


# --- a platform admin's own tokens ------------------------------------------------------------------------------


def _ensure_admin(user: User) -> int:
    if not user.is_admin or not user.has_second_factor:
        raise NotVisible("admin api tokens")
    return user.id


def create_admin_token(
    session: Session,
    admin: User,
    name: str,
    scopes: list[str],
    expires_in_days: int,
    code: str,
    *,
    now: datetime | None = None,
) -> NewToken:
    """Make a personal token for a platform admin, for a current second-factor code (or an unused recovery code).

    Raises TokenError (a field's refusal: the code's is `code`), NotVisible (404) for anyone but an admin."""
    admin_id = _ensure_admin(admin)
    name, chosen = _checked(name, scopes, expires_in_days, ADMIN_SCOPES, ADMIN_EXPIRY_DAYS)
    try:
        check_second_factor(session, admin, code or "")
    except Refusal as refused:
        raise TokenError(str(refused), "code") from None
    made = _new_token(session, admin, name, chosen, expires_in_days, now, user_id=admin_id)
    _record_created(session, admin, made.token)
    return made


def revoke_admin_token(session: Session, admin: User, token_id: int) -> ApiToken:
    """Revoke an admin's token at once: the admin's own, or another admin's (a token leaked while its holder is
    away must not wait for them), whose holder is then told who revoked it. Raises NotVisible (404) for an
    organisation's token or one that does not exist."""
    admin_id = _ensure_admin(admin)
    token = session.get(ApiToken, token_id)
    if token is None or token.org_id is not None or token.user_id is None:
        raise NotVisible(f"api token {token_id}")
    live = token.revoked_at is None
    _revoke(session, admin, token, {})
    if live and token.user_id != admin_id:
        notify_users(
            session,
            [session.get(User, token.user_id)],
            "api_token_revoked",
            f"{admin.name or admin.email} revoked your API token “{token.name}”: requests with it are refused.",
            "/admin/api-tokens",
        )
    return token


def _revoke(session: Session, actor: User, token: ApiToken, sides: dict[str, Any]) -> ApiToken:
    """Revoked now (a second revocation changes nothing), and audited on the holder's side of the trail."""
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by_id = utcnow(), actor.id
        record_event(
            session,
            actor,
            "api_token.revoked",
            "api_token",
            token.id,
            before={"name": token.name},
            after={"revoked": True},
            **sides,
        )
        session.flush()
    return token


def admin_tokens_of(session: Session, admin_id: int) -> list[ApiToken]:
    """The admin's own tokens, newest first, revoked and expired ones included."""
    return list(
        session.execute(
            select(ApiToken).where(col(ApiToken.user_id) == admin_id).order_by(col(ApiToken.id).desc())
        ).scalars()
    )


@dataclass(frozen=True)
class HeldToken:
    token: ApiToken
    holder: str


def other_admins_live_tokens(session: Session, admin_id: int, *, now: datetime | None = None) -> list[HeldToken]:
    """Every other admin's token still in force (not revoked, not expired), newest first, with its holder."""
    rows = session.execute(
        select(ApiToken, User)
        .join(User, col(User.id) == ApiToken.user_id)
        .where(
            col(ApiToken.org_id).is_(None),
            col(ApiToken.user_id) != admin_id,
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > (now or utcnow()),
        )
        .order_by(col(ApiToken.id).desc())
    ).all()
    return [HeldToken(token, user.name or user.email) for token, user in rows]


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the organisation's tokens at once. Raises NotVisible (404) for another organisation's."""
    org_id = _ensure_owner(session, user, "revoke API tokens")
    token = session.get(ApiToken, token_id)
    if token is None or token.org_id is None or token.org_id != org_id:
        raise NotVisible(f"api token {token_id}")
    return _revoke(session, user, token, cast(Organization, session.get(Organization, org_id)).audit_sides)


def tokens_of(session: Session, org_id: int) -> list[ApiToken]:
    """The organisation's tokens, newest first, revoked and expired ones included (the page says which)."""
    return list(
        session.execute(
            select(ApiToken).where(col(ApiToken.org_id) == org_id).order_by(col(ApiToken.id).desc())
        ).scalars()
    )


# --- authenticating a request ---------------------------------------------------------------------------------


class TokenActor:
    """The organisation's owner as a token acts: every attribute is the owner's, and the audit trail names the
    token (marketplace.audit.service reads `audit_label`)."""

    def __init__(self, owner: User, token: ApiToken):
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "token", token)
        object.__setattr__(self, "audit_label", f"{owner.email} through API token “{token.name}”")

    def __getattr__(self, name: str):
        return getattr(object.__getattribute__(self, "_owner"), name)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError("a token's actor is read-only")


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> TokenActor:
    """The actor of a request's bearer token. Raises TokenRefused for an unknown, expired or revoked token, an
    organisation without an owner, or an admin's token whose holder is no longer an admin with a second factor;
    every refusal reads the same to the caller."""
    token = session.execute(select(ApiToken).where(col(ApiToken.token_hash) == digest(secret))).scalar_one_or_none()
    moment = now or utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= moment:
        raise TokenRefused("The token is unknown, expired or revoked.")
    if token.org_id is None:
        return _admin_actor(session, token, moment)
    owner = session.execute(
        select(User).where(
            col(User.org_id) == token.org_id, col(User.org_role) == OrgRole.OWNER, col(User.removed_at).is_(None)
        )
    ).scalar_one_or_none()
    if owner is None:
        raise TokenRefused("The token is unknown, expired or revoked.")
    # Written at most once a minute per token: a busy tool does not write a row per request.
    _touch(token, moment)
    return TokenActor(owner, token)


def _admin_actor(session: Session, token: ApiToken, moment: datetime) -> TokenActor:
    """The admin of a personal token, while still an admin who signs in with a second factor."""
    admin = session.get(User, token.user_id) if token.user_id is not None else None
    if admin is None or not admin.is_admin or admin.removed_at is not None or not admin.has_second_factor:
        raise TokenRefused("The token is unknown, expired or revoked.")
    _touch(token, moment)
    return TokenActor(admin, token)


def _touch(token: ApiToken, moment: datetime) -> None:
    if token.last_used_at is None or moment - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = moment
