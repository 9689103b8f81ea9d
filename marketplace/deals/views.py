"""Pending deals: the lab's what-if page, and the admin's record of deals."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.deals import service
from marketplace.deals.forms import DealForm, VendorDealForm
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required

bp = Blueprint("deals", __name__)


def _recorded(form: DealForm) -> bool:
    """Record the deal the form holds (committed); a refusal goes next to its field, and nothing is kept."""
    if not form.validate_on_submit():
        return False
    try:
        service.record_deal(db.session, current_user, form.to_input())
    except service.DealError as error:
        db.session.rollback()
        form[error.field or "acquirer"].errors = [str(error)]
        return False
    db.session.commit()
    return True


@bp.get("/deals")
@login_required
@role_required("buyer")
def index():
    """Every pending deal, with what it would change for this lab if it closed."""
    return render_template("deals/index.html", views=service.deals_for_buyer(db.session, current_user))


@bp.route("/admin/deals", methods=["GET", "POST"])
@login_required
@role_required("admin")
def admin():
    form = DealForm()
    if _recorded(form):
        flash("The pending deal is recorded; labs whose screening it would change are told.", "success")
        return redirect(url_for("deals.admin"), 303)
    status = 400 if form.errors else 200
    return render_template("deals/admin.html", form=form, deals=service.all_deals(db.session, current_user)), status


@bp.post("/admin/deals/<int:deal_id>/close")
@login_required
@role_required("admin")
def close(deal_id: int):
    try:
        service.close_deal(db.session, current_user, deal_id)
    except service.DealError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("The deal is closed: its stake is now a tie, and every verdict it reaches is up to date.", "success")
    return redirect(url_for("deals.admin"), 303)


@bp.post("/admin/deals/<int:deal_id>/abandon")
@login_required
@role_required("admin")
def abandon(deal_id: int):
    try:
        service.abandon_deal(db.session, current_user, deal_id)
    except service.DealError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("The deal is marked abandoned.", "success")
    return redirect(url_for("deals.admin"), 303)


@bp.route("/deals/report", methods=["GET", "POST"])
@login_required
@role_required("vendor")
@org_role_required(OrgRole.MANAGER, "report pending deals", methods=frozenset({"POST"}))
def report():
    """A vendor reports a pending deal about itself, as a material change: the labs it would change are told."""
    form = VendorDealForm()
    if _recorded(form):
        flash("Thank you: the deal is recorded, and the labs whose screening it would change are told.", "success")
        return redirect(url_for("disclosures.index"), 303)
    return render_template("deals/report.html", form=form), 400 if form.errors else 200
