"""The admins' registry of parties: search, one party, suggested duplicates, merging two parties, BODS uploads."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace import tasks
from marketplace.db_types import record_id
from marketplace.extensions import db
from marketplace.guards import role_required
from marketplace.parties import registry, uploads
from marketplace.parties.forms import BodsUploadForm, DistinctForm, MergeForm
from marketplace.parties.models import BodsUpload, UploadStatus
from marketplace.screening.services import queued

bp = Blueprint("parties", __name__, url_prefix="/admin/parties")


@bp.before_request
@login_required
@role_required("admin")
def admins_only():
    """Every page here is for platform admins: others get 403."""


@bp.get("/")
def index():
    """Search by name, alias or identifier (`q`), and the pairs that may be one party."""
    query = (request.args.get("q") or "").strip()
    return render_template(
        "parties/index.html",
        query=query,
        results=registry.search(db.session, current_user, query) if query else None,
        duplicates=registry.suggested_duplicates(
            db.session, current_user, older_than=request.args.get("older_than", type=record_id)
        ),
    )


@bp.get("/<int:party_id>")
def show(party_id: int):
    """One party: identifiers, ties, merges, suggested duplicates; `q` finds a party to merge into it."""
    query = (request.args.get("q") or "").strip()
    detail = registry.party_detail(db.session, current_user, party_id)
    candidates = None
    if query:
        candidates = [found for found in registry.search(db.session, current_user, query) if found.party.id != party_id]
    return render_template(
        "parties/show.html",
        detail=detail,
        query=query,
        candidates=candidates,
        updating=queued.progress_for_everyone(db.session),
    )


def _render_merge(
    keep_id: int,
    merge_id: int,
    form: MergeForm | None = None,
    status: int = 200,
    distinct_form: DistinctForm | None = None,
):
    keep = registry.party_detail(db.session, current_user, keep_id)
    merged = registry.party_detail(db.session, current_user, merge_id)
    form = form or MergeForm(formdata=None, keep_id=keep_id, merge_id=merge_id)
    problem = registry.merge_problem(db.session, current_user, keep_id, merge_id)
    if problem and problem not in form.form_errors:
        form.form_errors.append(problem)
    distinct_form = distinct_form or DistinctForm(formdata=None, first_id=keep_id, second_id=merge_id)
    return render_template(
        "parties/merge.html",
        keep=keep,
        merged=merged,
        form=form,
        allowed=problem is None,
        distinct_form=distinct_form,
        distinction=registry.distinction_between(db.session, keep_id, merge_id),
    ), status


@bp.get("/merge")
def confirm_merge():
    """Both parties side by side, what would move, the button that merges and the form that marks them as not the
    same (404 for a missing party)."""
    keep_id, merge_id = request.args.get("keep", type=record_id), request.args.get("merge", type=record_id)
    if keep_id is None or merge_id is None:
        flash("Choose two parties to merge.", "error")
        return redirect(url_for("parties.index"))
    return _render_merge(keep_id, merge_id)


@bp.post("/merge")
def merge():
    """Merge one party into another, keeping every identifier and interest; the merge goes into the trail."""
    form = MergeForm()
    if not form.validate_on_submit():
        flash("Choose two parties to merge.", "error")
        return redirect(url_for("parties.index"), 303)
    try:
        kept = registry.merge_parties(db.session, current_user, form.keep_id.data, form.merge_id.data)
    except registry.RegistryError as error:
        # Refused before anything changed: nothing to roll back.
        form.form_errors.append(str(error))
        return _render_merge(form.keep_id.data, form.merge_id.data, form, 400)
    db.session.commit()
    flash(f"Merged into {kept.name}: every identifier and tie now belongs to it, and {_screening_again()}", "success")
    return redirect(url_for("parties.show", party_id=kept.id), 303)


@bp.post("/distinct")
def mark_distinct():
    """Record that two parties are not one, with the admin's reason; screening stops reading one as the other."""
    form = DistinctForm()
    valid = form.validate_on_submit()
    if form.first_id.errors or form.second_id.errors or form.first_id.data is None or form.second_id.data is None:
        flash("Choose two parties that are not the same.", "error")
        return redirect(url_for("parties.index"), 303)
    if valid:
        try:
            registry.mark_distinct(db.session, current_user, form.first_id.data, form.second_id.data, form.reason.data)
        except registry.RegistryError as error:
            field = getattr(form, error.field, None) if error.field == "reason" else None
            if field is not None:
                field.errors = [*field.errors, str(error)]
            else:
                form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                f"Marked as not the same party: they are no longer suggested as duplicates, and {_screening_again()}",
                "success",
            )
            return redirect(url_for("parties.show", party_id=form.first_id.data), 303)
    return _render_merge(form.first_id.data, form.second_id.data, status=400, distinct_form=form)


@bp.post("/distinctions/<int:distinction_id>/withdraw")
def withdraw_distinction(distinction_id: int):
    """Undo "not the same": the two may again be suggested, and read as one another by screening."""
    try:
        first, second = registry.withdraw_distinction(db.session, current_user, distinction_id)
    except registry.RegistryError as error:  # withdrawn a moment ago
        flash(str(error), "info")
        return redirect(url_for("parties.index"), 303)
    db.session.commit()
    flash(f"{first.name} and {second.name} are no longer marked as different parties; {_screening_again()}", "success")
    return redirect(url_for("parties.show", party_id=first.id), 303)


def _screening_again() -> str:
    if tasks.configured():
        return "screening is being run again for every lab (this page shows how far it got)."
    return "screening was run again."


@bp.get("/imports")
def imports(form: BodsUploadForm | None = None, status: int = 200):
    """Upload a BODS file; the latest uploads with how far each import got, what it added, or why it was refused."""
    return render_template(
        "parties/imports.html",
        form=form or BodsUploadForm(formdata=None),
        uploads=uploads.recent(db.session),
        queued=tasks.configured(),
        updating=queued.progress_for_everyone(db.session),
    ), status


@bp.post("/imports")
def upload():
    """Keep the file and import it on the task queue (without one, at once), in one transaction: all or nothing."""
    form = BodsUploadForm()
    if not form.validate_on_submit():
        return imports(form, 400)
    received = uploads.receive(db.session, current_user, current_app.config["UPLOAD_FOLDER"], form.file.data)
    db.session.commit()
    if tasks.configured():
        flash(f"{received.file_name} is being imported: this page shows how far it got.", "success")
        return redirect(url_for("parties.imports"), 303)
    uploads.run_upload(received.id)
    done = db.session.get(BodsUpload, received.id)
    if done is not None and done.status == UploadStatus.FAILED:
        flash(f"{done.file_name} was not imported; nothing was written from it. {done.error}", "error")
    else:
        flash(f"{received.file_name} was imported: see what it added below.", "success")
    return redirect(url_for("parties.imports"), 303)
