"""Server-side records of each sign-in: listed on the settings page, ended one by one or all at once.

The session cookie carries a random key; only its hash is stored, so a copy of this table signs nobody in.
"""

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, Select, String, bindparam, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import AccountSession, Organization, User
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow

# Writing "last seen" on every request would make every page a write: once a minute is enough to show it.
LAST_SEEN_EVERY = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class StartedSession:
    record: AccountSession
    key: str  # goes into the session cookie, never into the database


def start_session(session: Session, user: User, *, ip_address: str = "", user_agent: str = "") -> StartedSession:
    """Record a new sign-in of `user`; the returned key goes into the session cookie."""
    key = secrets.token_urlsafe(32)
    record = AccountSession(
        user_id=user.id, key_hash=_hash(key), ip_address=ip_address[:64], user_agent=user_agent[:300]
    )
    session.add(record)
    session.flush()
    return StartedSession(record, key)


def _nothing_else(_user_id) -> tuple:
    return ()


def signed_in(
    session: Session, user_id: int, key: str | None, also: Callable[[Any], tuple] = _nothing_else
) -> tuple[User, AccountSession, Organization | None, tuple] | None:
    """The user, its live sign-in whose key the cookie carries, its organisation (None for an admin) and the values
    of the columns `also(user id)` (about the user: read with the rest, not in a statement of their own), in one
    query (every request asks), or None (no such user, or the sign-in ended, is unknown or someone else's). While
    the caller holds the organisation, the pages' own `session.get(Organization, user.org_id)` finds it loaded."""
    if not key:
        return None
    found = session.execute(_signed_in_statement(also), {"user_id": user_id, "key_hash": _hash(key)}).first()
    if found is None or found[1].ended_at is not None or found[0].removed_at is not None:
        return None
    return found[0], found[1], found[2], tuple(found[3:])


@cache
def _signed_in_statement(also: Callable[[Any], tuple]) -> Select:
    """signed_in's statement, built once for each `also` with the user and the key's hash as parameters: building
    it (a join, an outer join and the columns' subqueries) cost about a third of a millisecond, on every request."""
    user_id = bindparam("user_id", type_=Integer())
    return (
        select(User, AccountSession, Organization, *also(user_id))
        .join(
            AccountSession,
            (col(AccountSession.user_id) == col(User.id))
            & (col(AccountSession.key_hash) == bindparam("key_hash", type_=String())),
        )
        .outerjoin(Organization, col(Organization.id) == col(User.org_id))
        .where(col(User.id) == user_id)
    )


def touch(record: AccountSession, *, ip_address: str = "") -> bool:
    """Note that the session is in use; True when something changed (at most once a minute)."""
    now = utcnow()
    if now - record.last_seen_at < LAST_SEEN_EVERY:
        return False
    record.last_seen_at = now
    if ip_address:
        record.ip_address = ip_address[:64]
    return True


def sessions_of(session: Session, user: User) -> list[AccountSession]:
    """The user's live sign-ins, most recently used first."""
    return list(
        session.execute(
            select(AccountSession)
            .where(col(AccountSession.user_id) == user.id, col(AccountSession.ended_at).is_(None))
            .order_by(col(AccountSession.last_seen_at).desc(), col(AccountSession.id).desc())
        ).scalars()
    )


def end_session(session: Session, record: AccountSession) -> None:
    """Sign out the device holding this session."""
    if record.ended_at is None:
        record.ended_at = utcnow()


def end_session_of(session: Session, user: User, session_id: int) -> AccountSession:
    """Sign out one of the user's own sessions (from the settings page). LookupError: not one of the user's."""
    record = session.get(AccountSession, session_id)
    if record is None or record.user_id != user.id or record.ended_at is not None:
        raise LookupError(session_id)
    end_session(session, record)
    record_event(
        session,
        user,
        "user.session_ended",
        "user",
        user.id,
        after={"session": record.id, "device": record.user_agent[:80], "ip": record.ip_address},
    )
    return record


def end_all_sessions(session: Session, user: User, *, keep: AccountSession | None = None) -> int:
    """Sign out every session of `user` (except `keep`); returns how many ended."""
    query = update(AccountSession).where(col(AccountSession.user_id) == user.id, col(AccountSession.ended_at).is_(None))
    if keep is not None:
        query = query.where(col(AccountSession.id) != keep.id)
    result = session.execute(query.values(ended_at=utcnow()).execution_options(synchronize_session="fetch"))
    return cast(CursorResult[Any], result).rowcount
