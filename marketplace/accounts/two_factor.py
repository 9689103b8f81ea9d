"""The second factor: TOTP codes (RFC 6238, any authenticator app) and one-time recovery codes.

A code is accepted for the time step before, at or after now (clocks drift), and never twice: the last accepted
step is kept. Recovery codes are random (80 bits), shown once, stored as hashes, and each works once.
"""

import hashlib
import hmac
import io
import secrets
import time
from typing import Any, cast

import pyotp
import segno
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import RecoveryCode, User
from marketplace.accounts.passwords import verify_password
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import Refusal

ISSUER = "Arm's Length"
RECOVERY_CODE_COUNT = 10
STEP_SECONDS = 30


class SecondFactorError(Refusal):
    """A refused code; `field` names the form field it belongs to."""

    default_field = "code"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of an otpauth:// address as inline SVG, drawn here (no image service sees the secret)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, xmldecl=False, svgns=True, title="QR code")
    return buffer.getvalue().decode()


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (now ±1) whose code is `code`, or None."""
    code = _digits(code)
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(10)
        codes.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw)))
    session.flush()
    return codes


def enable_totp(session: Session, user: User, secret: str, code: str) -> list[str]:
    """Turn the second factor on once the user proves their app makes codes for `secret`; returns the recovery
    codes, to be shown once. SecondFactorError when the code does not match."""
    if user.has_second_factor:
        raise SecondFactorError("Two-factor authentication is already on.")
    step = _matching_step(secret, code)
    if not secret or step is None:
        raise SecondFactorError("That code does not match: check your device's clock and enter the current code.")
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user)
    record_event(session, user, "user.two_factor_enabled", "user", user.id)
    return codes


def disable_totp(session: Session, user: User, password: str, code: str) -> None:
    """Turn the second factor off (password and a current code needed); admins must keep it."""
    if user.is_admin:
        raise SecondFactorError("Admins must keep two-factor authentication on.")
    if not verify_password(user.password_hash, password):
        raise SecondFactorError("That is not your password.", "password")
    check_second_factor(session, user, code)
    user.totp_secret = ""
    user.totp_enabled_at = None
    user.totp_last_step = 0
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    record_event(session, user, "user.two_factor_disabled", "user", user.id)


def regenerate_recovery_codes(session: Session, user: User, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), for a current code."""
    check_second_factor(session, user, code, allow_recovery=False)
    codes = _new_recovery_codes(session, user)
    record_event(session, user, "user.recovery_codes_renewed", "user", user.id)
    return codes


def check_second_factor(session: Session, user: User, code: str, *, allow_recovery: bool = True) -> str:
    """Accept a current TOTP code (once) or an unused recovery code (once); returns "totp" or "recovery code".

    SecondFactorError for a wrong, reused or expired code.
    """
    if not user.has_second_factor:
        raise SecondFactorError("Two-factor authentication is not on for this account.")
    step = _matching_step(user.totp_secret, code)
    if step is not None:
        # Only a later step than the last one accepted: the same code cannot be replayed.
        won = cast(
            CursorResult[Any],
            session.execute(
                update(User)
                .where(col(User.id) == user.id, col(User.totp_last_step) < step)
                .values(totp_last_step=step)
                .execution_options(synchronize_session="fetch")
            ),
        ).rowcount
        if won == 1:
            return "totp"
        raise SecondFactorError("That code was already used: wait for the next one.")
    if allow_recovery and len(code.replace("-", "").strip()) == 20:
        record = session.execute(
            select(RecoveryCode).where(
                col(RecoveryCode.user_id) == user.id, col(RecoveryCode.code_hash) == _hash_code(code)
            )
        ).scalar_one_or_none()
        if record is not None:
            won = cast(
                CursorResult[Any],
                session.execute(
                    update(RecoveryCode)
                    .where(col(RecoveryCode.id) == record.id, col(RecoveryCode.used_at).is_(None))
                    .values(used_at=utcnow())
                    .execution_options(synchronize_session="fetch")
                ),
            ).rowcount
            if won == 1:
                left = unused_recovery_codes(session, user)
                record_event(
                    session, user, "user.recovery_code_used", "user", user.id, after={"recovery_codes_left": left}
                )
                return "recovery code"
    raise SecondFactorError("That code is not right (or was already used).")


def unused_recovery_codes(session: Session, user: User) -> int:
    return len(
        session.execute(
            select(col(RecoveryCode.id)).where(
                col(RecoveryCode.user_id) == user.id, col(RecoveryCode.used_at).is_(None)
            )
        ).all()
    )


def current_code(secret: str, now: float | None = None) -> str:
    """The code an authenticator app shows now (for the demo's `flask totp-code`)."""
    return pyotp.TOTP(secret).at(int(now if now is not None else time.time()))
