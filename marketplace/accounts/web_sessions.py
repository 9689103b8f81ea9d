"""Where a signed-in browser meets the server-side session record, and what a half-finished account may reach.

The session cookie holds the user id with its session version (Flask-Login) and the key of one AccountSession
row; a cookie whose row has ended (signed out, revoked from the settings page, ended by a password change) signs
nobody in, even a copy taken earlier.
"""

import time

from flask import Blueprint, g, redirect, request, session, url_for
from flask_login import current_user, login_user

from marketplace.accounts import sessions
from marketplace.accounts.models import AccountSession, User
from marketplace.extensions import db, login_manager
from marketplace.notifications.service import note_unread, unread_columns

bp = Blueprint("account_sessions", __name__)
SESSION_KEY = "account_session"
PENDING_KEY = "pending_second_factor"
PENDING_FOR_SECONDS = 300

# What a user may reach before confirming the address, or (an admin) before setting up the second factor.
ALWAYS_OPEN = {
    "static",
    "accounts.sign_out",
    "security.caught_mail_list",
    "security.check_email",
    "security.forgot_password",
    "security.reset_password",
}
OPEN_UNCONFIRMED = ALWAYS_OPEN | {"security.confirm_notice", "security.resend_confirmation", "security.confirm_email"}
OPEN_WITHOUT_SECOND_FACTOR = ALWAYS_OPEN | {"security.two_factor_settings"}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user named in the cookie, if the cookie's session is still live and its version current."""
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    # The unread notifications the layout shows on every page: read with the user, not in a statement of their own.
    found = sessions.signed_in(db.session, user_id, session.get(SESSION_KEY), unread_columns)
    if found is None or found[0].session_version != version:
        return None
    user, record, org, (every_unread, unread_about_jobs) = found
    note_unread(db.session, user.id, every_unread, unread_about_jobs)
    g.account_session = record
    # The session's identity map holds rows weakly: kept here, the organisation every page reads is not read again.
    g.account_org = org
    # Only when nothing else is pending: the loader may run in the middle of a view.
    if not db.session.new and not db.session.dirty and sessions.touch(record, ip_address=request.remote_addr or ""):
        db.session.commit()
    return user


def current_session_record() -> AccountSession | None:
    """The AccountSession of this request's signed-in user."""
    return g.get("account_session") if current_user.is_authenticated else None


def sign_in_user(user: User) -> None:
    """Start a recorded session for a user who has passed every check, and put it in the cookie."""
    started = sessions.start_session(
        db.session, user, ip_address=request.remote_addr or "", user_agent=request.user_agent.string or ""
    )
    db.session.commit()
    session.pop(PENDING_KEY, None)
    login_user(user)
    session[SESSION_KEY] = started.key
    g.account_session = started.record


def remember_password_checked(user: User, next_url: str | None) -> None:
    """The password was right; the second factor is still to come (within five minutes, in this browser)."""
    session[PENDING_KEY] = {"user": user.get_id(), "since": time.time(), "next": next_url or ""}


def user_awaiting_second_factor() -> tuple[User | None, str]:
    """The user whose password this browser gave in the last five minutes, and where to go next."""
    pending = session.get(PENDING_KEY) or {}
    if not pending or time.time() - float(pending.get("since", 0)) > PENDING_FOR_SECONDS:
        return None, ""
    try:
        user_id, version = (int(part) for part in str(pending.get("user", "")).split(":"))
    except ValueError:
        return None, ""
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version:
        return None, ""
    return user, pending.get("next", "")


def pending_user_key() -> str:
    """The throttle's key for second-factor attempts: the account whose password was given."""
    pending = session.get(PENDING_KEY) or {}
    return "pending:" + str(pending.get("user", "")).split(":")[0]


@bp.before_app_request
def finish_the_account_first():
    """An unconfirmed address sees only the confirmation page; an admin without a second factor, its set-up."""
    if request.endpoint in ALWAYS_OPEN or not current_user.is_authenticated:
        return None
    code = 303 if request.method == "POST" else 302
    if not current_user.email_verified and request.endpoint not in OPEN_UNCONFIRMED:
        return redirect(url_for("security.confirm_notice"), code)
    if (
        current_user.email_verified
        and current_user.is_admin
        and not current_user.has_second_factor
        and request.endpoint not in OPEN_WITHOUT_SECOND_FACTOR
    ):
        return redirect(url_for("security.two_factor_settings"), code)
    return None
