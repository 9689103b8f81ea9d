"""Links mailed to users (confirm the address, reset the password) and password changes.

A link's token is random, kept only as a hash, expires, and works once; asking for a new one voids the old ones.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import AccountSession, AccountToken, TokenPurpose, User
from marketplace.accounts.passwords import hash_password, verify_password
from marketplace.accounts.sessions import end_all_sessions
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import Refusal

TOKEN_LIFETIMES = {
    TokenPurpose.CONFIRM_EMAIL: timedelta(days=2),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
}
INVALID_LINK = "This link is invalid, has expired, or was already used. Ask for a new one."


class TokenError(ValueError):
    """A link that is unknown, expired or already used."""


class PasswordError(Refusal):
    """A password change refused; `field` names the form field it belongs to."""


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str  # goes into the mailed link, never into the database or a log


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, purpose: TokenPurpose) -> IssuedToken:
    """A new link for `user`; earlier unused links of the same purpose stop working."""
    now = utcnow()
    session.execute(
        update(AccountToken)
        .where(
            col(AccountToken.user_id) == user.id,
            col(AccountToken.purpose) == purpose,
            col(AccountToken.used_at).is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id, purpose=purpose, token_hash=_hash(token), expires_at=now + TOKEN_LIFETIMES[purpose]
        )
    )
    session.flush()
    return IssuedToken(user, token)


def find_token(session: Session, token: str, purpose: TokenPurpose) -> AccountToken:
    """The unused, unexpired token of this purpose. TokenError otherwise (the page says the link is invalid)."""
    record = session.execute(
        select(AccountToken).where(
            col(AccountToken.token_hash) == _hash(token or ""), col(AccountToken.purpose) == purpose
        )
    ).scalar_one_or_none()
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
        raise TokenError(INVALID_LINK)
    return record


def _redeem(session: Session, token: str, purpose: TokenPurpose) -> User:
    record = find_token(session, token, purpose)
    # Mark it used in one statement that only one request can win: a double click does not use it twice.
    won = cast(
        CursorResult[Any],
        session.execute(
            update(AccountToken)
            .where(col(AccountToken.id) == record.id, col(AccountToken.used_at).is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session="fetch")
        ),
    ).rowcount
    if won != 1:
        raise TokenError(INVALID_LINK)
    return cast(User, session.get(User, record.user_id))


def user_by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(col(User.email) == email.strip().lower())).scalar_one_or_none()


def request_email_confirmation(session: Session, user: User) -> IssuedToken | None:
    """A confirmation link for a user whose address is not confirmed yet (None once it is)."""
    if user.email_verified:
        return None
    return issue_token(session, user, TokenPurpose.CONFIRM_EMAIL)


def confirm_email(session: Session, token: str) -> User:
    """Mark the address confirmed. TokenError for an unknown, expired or used link."""
    user = _redeem(session, token, TokenPurpose.CONFIRM_EMAIL)
    if not user.email_verified:
        user.email_verified_at = utcnow()
        record_event(session, user, "user.email_confirmed", "user", user.id, after={"email": user.email})
    return user


def request_password_reset(session: Session, email: str) -> IssuedToken | None:
    """A reset link for the account with this address, or None when there is none (the page says the same)."""
    user = user_by_email(session, email)
    if user is None:
        return None
    issued = issue_token(session, user, TokenPurpose.RESET_PASSWORD)
    record_event(session, user, "user.password_reset_requested", "user", user.id)
    return issued


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password through a mailed link; every session ends, and the address counts as confirmed.

    TokenError for an unknown, expired or used link.
    """
    user = _redeem(session, token, TokenPurpose.RESET_PASSWORD)
    user.password_hash = hash_password(new_password)
    if not user.email_verified:
        user.email_verified_at = utcnow()
    ended = end_all_sessions(session, user)
    user.session_version += 1
    record_event(session, user, "user.password_reset", "user", user.id, after={"sessions_ended": ended})
    return user


def change_password(
    session: Session, user: User, current_password: str, new_password: str, *, current_session: AccountSession | None
) -> int:
    """Change the password, knowing the current one; every other session ends. Returns how many ended.

    PasswordError (field `current_password`) when the current password is wrong.
    """
    if not verify_password(user.password_hash, current_password):
        raise PasswordError("That is not your current password.", "current_password")
    if verify_password(user.password_hash, new_password):
        raise PasswordError("Choose a password different from the current one.", "password")
    user.password_hash = hash_password(new_password)
    ended = end_all_sessions(session, user, keep=current_session)
    record_event(session, user, "user.password_changed", "user", user.id, after={"sessions_ended": ended})
    return ended
