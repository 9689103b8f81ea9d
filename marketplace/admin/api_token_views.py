"""A platform admin's own API tokens, for the admin endpoints of the API: made with a current second-factor code,
shown once, revoked at once."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.admin.forms import AdminTokenForm
from marketplace.api import tokens
from marketplace.errors import show_on_form
from marketplace.extensions import db, limiter
from marketplace.guards import role_required

bp = Blueprint("admin_api_tokens", __name__, url_prefix="/admin/api-tokens")


@bp.before_request
@login_required
@role_required("admin")
def admins_only():
    """Every page here is for platform admins: others get 403."""


def _admin_key() -> str:
    """The throttle's key for second-factor codes tried here: the admin's account."""
    return f"admin-token-code:{current_user.id}"


def _page(form: AdminTokenForm, *, secret: str | None = None, status: int = 200):
    return render_template(
        "admin/api_tokens.html",
        form=form,
        tokens=tokens.admin_tokens_of(db.session, current_user.id),
        others=tokens.other_admins_live_tokens(db.session, current_user.id),
        secret=secret,
    ), status


@bp.get("")
def index():
    """The admin's own tokens, the form for a new one, and the other admins' tokens in force."""
    return _page(AdminTokenForm(formdata=None))


@bp.post("")
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_admin_key,
    error_message="Too many codes tried for this account. Wait a minute and try again.",
)
def create():
    """Make a token for a current code; the page shows it once (only its hash is kept)."""
    form = AdminTokenForm()
    if form.validate_on_submit():
        try:
            made = tokens.create_admin_token(
                db.session,
                current_user,
                form.name.data or "",
                list(form.scopes.data or []),
                form.expires_in_days.data,
                form.code.data or "",
            )
        except tokens.TokenError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            return _page(AdminTokenForm(formdata=None), secret=made.secret)
    return _page(form, status=400)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int):
    """Revoke an admin's token at once (the admin's own or another admin's); 404 for an organisation's."""
    token = tokens.revoke_admin_token(db.session, current_user, token_id)
    db.session.commit()
    flash(f"The token “{token.name}” is revoked: requests with it are refused from now on.", "success")
    return redirect(url_for("admin_api_tokens.index"), 303)
