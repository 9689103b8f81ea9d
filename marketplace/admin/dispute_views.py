"""Admins list the open disputes and decide them: release, refund or split, with an explanation both sides read.

The rules are in marketplace.disputes.service; the dispute's page itself is marketplace.disputes.views (and .pages).
"""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from marketplace.disputes import service
from marketplace.disputes.forms import DecisionForm
from marketplace.disputes.pages import act_on_dispute
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
    return act_on_dispute(
        dispute_id,
        form,
        lambda: service.decide(
            db.session,
            current_user,
            current_gateway(),
            dispute_id,
            form.outcome.data,
            form.vendor_minor(),
            form.buyer_minor(),
            form.explanation.data,
        ),
        "Decided. The money moved as decided and both sides are told why.",
        "decision_form",
    )
