"""Admins list the open disputes and decide them: release, refund or split, with an explanation both sides read.

The rules are in marketplace.disputes.service; the dispute's page itself is marketplace.disputes.views.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.disputes import service
from marketplace.disputes.forms import DecisionForm, StatementForm
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import role_required
from marketplace.payments.configured import current_gateway

bp = Blueprint("admin_disputes", __name__, url_prefix="/admin/disputes")


@bp.before_request
@login_required
@role_required("admin")
def admins_only():
    """Every page here is for platform admins: others get 403."""


@bp.get("")
def index():
    """The open disputes, oldest first; those whose evidence is closed are ready for a decision."""
    return render_template("admin/disputes.html", rows=service.open_disputes(db.session, current_user))


@bp.post("/<int:dispute_id>/decision")
def decide(dispute_id: int):
    """The admin decides: the money moves through Stripe once, and both sides read the explanation."""
    dispute = service.dispute_page(db.session, current_user, dispute_id).dispute
    form = DecisionForm(currency=dispute.currency)
    if form.validate_on_submit():
        try:
            service.decide(
                db.session,
                current_user,
                current_gateway(),
                dispute_id,
                form.outcome.data,
                form.vendor_minor(),
                form.buyer_minor(),
                form.explanation.data,
            )
        except service.WrongSide:
            abort(403)
        except service.DisputeError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash("Decided. The money moved as decided and both sides are told why.", "success")
            return redirect(url_for("disputes.show", dispute_id=dispute_id), 303)
    page = service.dispute_page(db.session, current_user, dispute_id)
    return render_template("disputes/show.html", page=page, form=StatementForm(formdata=None), decision_form=form), 400
