"""The owner's page of the organisation's API tokens (under the team page): make one, shown once; revoke one."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.api import tokens
from marketplace.api.token_forms import NewTokenForm
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required

bp = Blueprint("api_tokens", __name__, url_prefix="/team/api-tokens")


def _page(form: NewTokenForm, *, secret: str | None = None, status: int = 200):
    return render_template(
        "api/tokens.html", form=form, tokens=tokens.tokens_of(db.session, current_user.org_id), secret=secret
    ), status


@bp.get("")
@login_required
@role_required("buyer", "vendor")
@org_role_required(OrgRole.OWNER, "manage API tokens")
def index():
    """The organisation's tokens and the form for a new one (the owner only)."""
    return _page(NewTokenForm(formdata=None))


@bp.post("")
@login_required
@role_required("buyer", "vendor")
@org_role_required(OrgRole.OWNER, "make API tokens")
def create():
    """Make a token; the page shows it once (never again: only its hash is kept)."""
    form = NewTokenForm()
    if form.validate_on_submit():
        try:
            made = tokens.create_token(
                db.session, current_user, form.name.data or "", list(form.scopes.data or []), form.expires_in_days.data
            )
        except tokens.TokenError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            return _page(NewTokenForm(formdata=None), secret=made.secret)
    return _page(form, status=400)


@bp.post("/<int:token_id>/revoke")
@login_required
@role_required("buyer", "vendor")
@org_role_required(OrgRole.OWNER, "revoke API tokens")
def revoke(token_id: int):
    """Revoke a token at once; 404 for another organisation's."""
    token = tokens.revoke_token(db.session, current_user, token_id)
    db.session.commit()
    flash(f"The token “{token.name}” is revoked: requests with it are refused from now on.", "success")
    return redirect(url_for("api_tokens.index"), 303)
