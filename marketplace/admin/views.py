"""The platform admins' pages: the disclosure review queue, one version's review, and the decision."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.roles import role_required
from marketplace.admin.forms import DECISION_CHOICES, DecisionForm
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.models import DisclosureStatus
from marketplace.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")

QUEUE_FILTER_LABELS = {
    "submitted": "Awaiting review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "rejected": "Rejected",
    "all": "All",
}


@bp.before_request
@login_required
@role_required("admin")
def admins_only():
    """Every page here is for platform admins: others get 403."""


@bp.get("/")
def home():
    """The admins' start page is the review queue."""
    return redirect(url_for("admin.queue"))


@bp.get("/disclosures")
def queue():
    """Filed disclosure versions by status, the longest-waiting first."""
    status = request.args.get("status", "submitted")
    if status not in disclosures.QUEUE_FILTERS:
        status = "submitted"
    rows = disclosures.review_queue(db.session, current_user, status)
    return render_template("admin/queue.html", rows=rows, status=status, filters=QUEUE_FILTER_LABELS)


def render_review(version_id: int, form: DecisionForm | None = None, status: int = 200):
    review = disclosures.review_of(db.session, current_user, version_id)
    return render_template(
        "admin/review.html", review=review, form=form or DecisionForm(formdata=None),
        sections=disclosures.by_section(review.ties),
        change_sections=[(s, c) for s, c in disclosures.by_section(review.changes, lambda c: c.tie) if c],
        decidable=review.version.status == DisclosureStatus.SUBMITTED,
    ), status


@bp.get("/disclosures/<int:version_id>")
def review(version_id: int):
    """A filed version's ties with their verification levels, what changed since the last approved one,
    and the decision form."""
    return render_review(version_id)


@bp.post("/disclosures/<int:version_id>/decision")
def decide(version_id: int):
    """Approve, request changes or reject a submitted version; a reason is required for the last two."""
    version = disclosures.get_filed_version(db.session, current_user, version_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            disclosures.decide_version(db.session, current_user, version.id, form.decision.data,
                                       form.reason.data or "")
        except disclosures.DisclosureError as error:
            target = getattr(form, error.field, None) if error.field else None
            if target is not None:
                target.errors = [*target.errors, str(error)]
            else:
                form.form_errors.append(str(error))
        else:
            db.session.commit()
            verdict = dict(DECISION_CHOICES)[form.decision.data].lower()
            flash(f"Decision recorded ({verdict}) on version {version.number}. The vendor has been told.",
                  "success")
            return redirect(url_for("admin.queue"), 303)
    return render_review(version.id, form, 400)
