"""A vendor's ownership disclosure: its versions, the draft's ties and evidence, attesting and submitting."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.db_types import utcnow
from marketplace.disclosures import evidence as evidence_service
from marketplace.disclosures import service
from marketplace.disclosures.facts import recorded_facts
from marketplace.disclosures.forms import AttestForm, EvidenceForm, TieForm
from marketplace.disclosures.models import DisclosureStatus
from marketplace.downloads import send_private_file
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.parties.lookup import find_for_tie

bp = Blueprint("disclosures", __name__, url_prefix="/disclosure")


@bp.before_request
@login_required
@role_required("vendor")
def vendors_only():
    """Every page here is a vendor's own: others get 403."""


@bp.get("/")
def index():
    """The vendor's versions, the approved one in force, whether it is stale, and the facts admins recorded."""
    versions = service.versions_of(db.session, current_user.org_id)
    approved = service.current_approved_version(db.session, current_user.org_id)
    return render_template(
        "disclosures/index.html",
        versions=versions,
        approved=approved,
        stale=service.is_stale(approved, utcnow()),
        draft=next((v for v in versions if v.status == DisclosureStatus.DRAFT), None),
        facts=recorded_facts(db.session, current_user.org_id),
    )


@bp.post("/new")
@org_role_required(OrgRole.MANAGER, "change the ownership disclosure")
def new_version():
    """Start a draft copied from the latest version."""
    try:
        version = service.start_new_version(db.session, current_user)
    except service.DisclosureError as error:
        flash(str(error), "error")
        return redirect(url_for("disclosures.index"), 303)
    db.session.commit()
    flash(f"Version {version.number} started: change what is no longer true, then submit it.", "success")
    return redirect(url_for("disclosures.edit", version_id=version.id), 303)


def render_edit(version, tie_form=None, attest_form=None, evidence_form=None, status: int = 200, found=None):
    """The draft's page; `found` are the registry parties offered in the tie form (the search's, or lookalikes)."""
    find = (request.values.get("find") or "").strip()
    if found is None and find:
        found = find_for_tie(db.session, find)
    if tie_form is None:
        tie_form = TieForm(formdata=None, party_name=find)
    if attest_form is None:
        attest_form = AttestForm(formdata=None, attester_name=current_user.name)
    views = service.tie_views(db.session, version)
    return render_template(
        "disclosures/edit.html",
        version=version,
        sections=service.by_section(views),
        tie_count=len(views),
        tie_form=tie_form,
        attest_form=attest_form,
        evidence_form=evidence_form or EvidenceForm(formdata=None),
        evidence=evidence_service.evidence_of(db.session, version.id),
        find=find,
        found=found,
    ), status


@bp.get("/<int:version_id>/edit")
def edit(version_id: int):
    """The draft's ties in sections, the form to add one (`find` searches the registry for its party), and the
    attestation."""
    version = service.get_own_version(db.session, current_user, version_id)
    if version.status != DisclosureStatus.DRAFT:
        flash(f"Version {version.number} is filed and can no longer change.", "info")
        return redirect(url_for("disclosures.show", version_id=version.id))
    return render_edit(version)


def render_filed(version, refusal: str | None = None, status: int = 200):
    """A filed version, read-only; with the refusal when someone tried to change it."""
    views = service.tie_views(db.session, version)
    return render_template(
        "disclosures/show.html",
        version=version,
        sections=service.by_section(views),
        tie_count=len(views),
        refusal=refusal,
        evidence=evidence_service.evidence_of(db.session, version.id),
    ), status


@bp.post("/<int:version_id>/ties")
@org_role_required(OrgRole.MANAGER, "change the ownership disclosure")
def add_tie(version_id: int):
    """Add one tie to the draft; a refused tie re-renders the form as typed, with the reason beside it."""
    version = service.get_own_version(db.session, current_user, version_id)
    try:
        service.check_draft(version)
    except service.DisclosureError as error:
        return render_filed(version, str(error), 400)
    form = TieForm()
    found = None
    if form.validate_on_submit():
        try:
            row = service.add_tie(db.session, current_user, version.id, form.to_input())
        except service.DisclosureError as error:
            show_on_form(form, error)
            found = getattr(error, "found", None)
        else:
            db.session.commit()
            flash(f"{service.party_name_of(db.session, row)} added.", "success")
            return redirect(url_for("disclosures.edit", version_id=version.id, _anchor="add-tie"), 303)
    return render_edit(version, tie_form=form, status=400, found=found)


@bp.post("/<int:version_id>/ties/<kind>/<int:tie_id>/remove")
@org_role_required(OrgRole.MANAGER, "change the ownership disclosure")
def remove_tie(version_id: int, kind: str, tie_id: int):
    """Remove one tie from the draft."""
    version = service.get_own_version(db.session, current_user, version_id)
    try:
        service.remove_tie(db.session, current_user, version.id, kind, tie_id)
    except service.DisclosureError as error:
        return render_filed(version, str(error), 400)
    db.session.commit()
    flash("Tie removed.", "success")
    return redirect(url_for("disclosures.edit", version_id=version.id), 303)


@bp.post("/<int:version_id>/submit")
@org_role_required(OrgRole.MANAGER, "submit the ownership disclosure")
def submit(version_id: int):
    """The officer attests and files the draft; admins are told; screening counts it at once."""
    version = service.get_own_version(db.session, current_user, version_id)
    try:
        service.check_draft(version)
    except service.DisclosureError as error:
        return render_filed(version, str(error), 400)
    form = AttestForm()
    if form.validate_on_submit():
        try:
            service.submit_version(
                db.session,
                current_user,
                version.id,
                attester_name=form.attester_name.data,
                attester_title=form.attester_title.data,
                attested=form.attest.data,
                summary=form.summary.data or "",
            )
        except service.DisclosureError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(f"Version {version.number} submitted. It counts in screening now and awaits review.", "success")
            return redirect(url_for("disclosures.show", version_id=version.id), 303)
    return render_edit(version, attest_form=form, status=400)


@bp.get("/<int:version_id>")
def show(version_id: int):
    """One of the vendor's own versions, read-only, with the admin's decision and reason."""
    return render_filed(service.get_own_version(db.session, current_user, version_id))


@bp.post("/<int:version_id>/evidence")
@org_role_required(OrgRole.MANAGER, "change the ownership disclosure")
def attach_evidence(version_id: int):
    """Attach a document to the draft; a refused file re-renders the page with the reason beside the field."""
    version = service.get_own_version(db.session, current_user, version_id)
    try:
        service.check_draft(version)
    except service.DisclosureError as error:
        return render_filed(version, str(error), 400)
    form = EvidenceForm()
    if form.validate_on_submit():
        upload = form.file.data
        # One byte past the limit is enough for the service to refuse a file that is too large.
        data = upload.stream.read(evidence_service.MAX_EVIDENCE_BYTES + 1)
        try:
            attached = evidence_service.attach_evidence(
                db.session,
                current_user,
                version.id,
                filename=upload.filename or "",
                data=data,
                upload_folder=current_app.config["UPLOAD_FOLDER"],
                description=form.description.data or "",
            )
        except service.DisclosureError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(f"{attached.filename} attached.", "success")
            return redirect(url_for("disclosures.edit", version_id=version.id, _anchor="evidence"), 303)
    return render_edit(version, evidence_form=form, status=400)


@bp.post("/<int:version_id>/evidence/<int:evidence_id>/remove")
@org_role_required(OrgRole.MANAGER, "change the ownership disclosure")
def remove_evidence(version_id: int, evidence_id: int):
    """Take a document off the draft (404 for one not on the vendor's own draft)."""
    version = service.get_own_version(db.session, current_user, version_id)
    try:
        removed = evidence_service.remove_evidence(
            db.session, current_user, version.id, evidence_id, current_app.config["UPLOAD_FOLDER"]
        )
    except service.DisclosureError as error:
        return render_filed(version, str(error), 400)
    db.session.commit()
    flash(f"{removed.filename} removed.", "success")
    return redirect(url_for("disclosures.edit", version_id=version.id, _anchor="evidence"), 303)


@bp.get("/evidence/<int:evidence_id>")
def download_evidence(evidence_id: int):
    """One of the vendor's own documents, as a download (404 for another organisation's)."""
    evidence, path = evidence_service.readable_file(
        db.session, current_user, current_app.config["UPLOAD_FOLDER"], evidence_id
    )
    return send_private_file(path.parent, path.name, filename=evidence.filename, content_type=evidence.content_type)
