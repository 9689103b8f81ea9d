"""The platform admins' pages: the disclosure review queue, one version's review and the decision, evidence,
and facts from other sources."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.admin.forms import DECISION_CHOICES, DecisionForm, FactForm
from marketplace.db_types import record_id
from marketplace.disclosures import evidence as evidence_service
from marketplace.disclosures import facts
from marketplace.disclosures import queue as review_queue
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.models import DisclosureStatus
from marketplace.downloads import send_private_file
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import role_required
from marketplace.screening.services import approval

bp = Blueprint("admin", __name__, url_prefix="/admin")


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
    """Filed versions by status (the longest-waiting first), or vendors whose disclosure is stale or owes a
    new version after a material change."""
    status = request.args.get("status", "submitted")
    if status not in review_queue.QUEUE_FILTERS:
        status = "submitted"
    rows = review_queue.review_queue(db.session, current_user, status)
    return render_template(
        "admin/queue.html",
        rows=rows,
        status=status,
        filters=review_queue.QUEUE_FILTERS,
        obligation=status in review_queue.OBLIGATION_FILTERS,
    )


def render_review(version_id: int, form: DecisionForm | None = None, status: int = 200):
    found = disclosures.review_of(db.session, current_user, version_id)
    version = found.version
    return render_template(
        "admin/review.html",
        review=found,
        form=form or DecisionForm(formdata=None),
        sections=disclosures.by_section(found.ties),
        change_sections=[(s, c) for s, c in disclosures.by_section(found.changes, lambda c: c.tie) if c],
        decidable=version.status == DisclosureStatus.SUBMITTED,
        effect=approval.approval_effect(db.session, current_user, version.id),
        claims=approval.claims_about_others(db.session, current_user, version.id),
        picture=approval.ownership_picture(db.session, found.vendor),
        evidence=evidence_service.evidence_of_vendor(
            db.session, version.vendor_org_id, up_to_number=version.number, filed_only=True
        ),
        facts=facts.recorded_facts(db.session, version.vendor_org_id),
    ), status


@bp.get("/disclosures/<int:version_id>")
def review(version_id: int):
    """A filed version's ties with their verification levels, what changed since the last approved one, the
    ownership picture, the evidence, the screening effect of approving it, and the decision form."""
    return render_review(version_id)


@bp.post("/disclosures/<int:version_id>/decision")
def decide(version_id: int):
    """Approve, request changes or reject a submitted version; a reason is required for the last two."""
    version = disclosures.get_filed_version(db.session, current_user, version_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            disclosures.decide_version(db.session, current_user, version.id, form.decision.data, form.reason.data or "")
        except disclosures.DisclosureError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            verdict = dict(DECISION_CHOICES)[form.decision.data].lower()
            flash(f"Decision recorded ({verdict}) on version {version.number}. The vendor has been told.", "success")
            return redirect(url_for("admin.queue"), 303)
    return render_review(version.id, form, 400)


@bp.get("/evidence/<int:evidence_id>")
def evidence(evidence_id: int):
    """A document attached to a filed version, as a download (404 for a draft's or a missing one)."""
    evidence, path = evidence_service.readable_file(
        db.session, current_user, current_app.config["UPLOAD_FOLDER"], evidence_id
    )
    return send_private_file(path.parent, path.name, filename=evidence.filename, content_type=evidence.content_type)


def _with_vendors(form: FactForm) -> FactForm:
    form.vendor_org_id.choices = [(0, "Choose a vendor…"), *facts.vendor_choices(db.session)]
    return form


def _render_fact_form(form: FactForm, status: int = 200):
    return render_template("admin/fact.html", form=form), status


@bp.get("/facts/new")
def new_fact():
    """The form to record a fact from another source as a tie of a vendor (`vendor` preselects one)."""
    vendor_org_id = request.args.get("vendor", type=record_id)
    return _render_fact_form(_with_vendors(FactForm(formdata=None, vendor_org_id=vendor_org_id)))


@bp.post("/facts")
def record_fact():
    """Record the fact: it counts in screening at once, and the vendor is asked to confirm it."""
    form = _with_vendors(FactForm())
    if form.validate_on_submit():
        try:
            facts.record_fact(db.session, current_user, form.vendor_org_id.data, form.to_fact())
        except disclosures.DisclosureError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            vendor = dict(form.vendor_org_id.choices)[form.vendor_org_id.data]
            flash(
                f"Fact recorded: {form.party_name.data.strip()} is now a tie of {vendor}, counted in screening. "
                f"{vendor} has been asked to confirm it in a new version.",
                "success",
            )
            return redirect(url_for("admin.new_fact", vendor=form.vendor_org_id.data), 303)
    return _render_fact_form(form, 400)
