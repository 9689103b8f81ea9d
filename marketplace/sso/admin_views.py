"""Platform admins verify (or turn down) the email domains organisations claim for single sign-on."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.extensions import db
from marketplace.guards import role_required
from marketplace.sso import service

bp = Blueprint("admin_sso", __name__, url_prefix="/admin/sso-domains")


@bp.before_request
@login_required
@role_required("admin")
def admins_only():
    """Every page here is for platform admins: others get 403."""


@bp.get("")
def index():
    """Domain claims awaiting a decision, oldest first."""
    return render_template("sso/admin_domains.html", claims=service.pending_claims(db.session))


@bp.post("/<int:claim_id>/verify")
def verify(claim_id: int):
    """The admin checked that the domain is the organisation's: it counts from now on."""
    try:
        claim = service.verify_domain(db.session, current_user, claim_id)
    except service.SsoError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{claim.domain} verified.", "success")
    return redirect(url_for("admin_sso.index"), 303)


@bp.post("/<int:claim_id>/reject")
def reject(claim_id: int):
    """Turn a claim down."""
    try:
        claim = service.reject_domain(db.session, current_user, claim_id)
    except service.SsoError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"The claim on {claim.domain} was turned down.", "success")
    return redirect(url_for("admin_sso.index"), 303)
