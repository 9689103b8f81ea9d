"""What a suspension does on every page: the banner on every page of a suspended organisation's users (the
`suspension_notice` template variable), the one guard that refuses every request of theirs that could change state
(any method but GET, HEAD and OPTIONS, whatever the route), and the refusal page. Services also raise
OrganizationSuspended through accounts.suspension.ensure_active, a second line of defence.

A blueprint without pages: it registers these for the whole app. Admins suspend and reinstate in
marketplace.admin.organization_views.
"""

from flask import Blueprint, render_template, request
from flask_login import current_user

from marketplace.accounts import suspension
from marketplace.extensions import db

bp = Blueprint("suspension", __name__)


@bp.app_context_processor
def suspension_banner():
    """`suspension_notice`: the reason a signed-in user's organisation is suspended, shown on every page."""
    if not current_user.is_authenticated:
        return {"suspension_notice": None}
    return {"suspension_notice": suspension.suspension_notice(db.session, current_user)}


# What a suspended organisation's user may still post: leave, keep their own reading and settings, and keep their
# account safe (password, second factor, sessions: the security blueprint).
ALLOWED_WHILE_SUSPENDED = frozenset({"accounts.sign_out", "notifications.mark_read", "accounts.settings"})
ALLOWED_BLUEPRINTS_WHILE_SUSPENDED = frozenset({"security"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@bp.before_app_request
def refuse_actions_while_suspended():
    """Every state-changing request by a suspended organisation's user is refused (403) before any view runs."""
    if (
        request.method in SAFE_METHODS
        or request.endpoint in ALLOWED_WHILE_SUSPENDED
        or request.blueprint in ALLOWED_BLUEPRINTS_WHILE_SUSPENDED
    ):
        return
    if current_user.is_authenticated:
        suspension.ensure_may_act(db.session, current_user)


@bp.app_errorhandler(suspension.OrganizationSuspended)
def refused_while_suspended(error):
    """Any action by a suspended organisation's user: 403, naming the reason."""
    db.session.rollback()
    return render_template("accounts/refused_while_suspended.html", message=str(error)), 403
