"""Jobs: the buyer posts and manages them; vendors browse, read and ask; admins see every one."""

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from marketplace import onboarding, visibility
from marketplace.accounts.models import OrgRole
from marketplace.accounts.suspension import ensure_may_act
from marketplace.dates import user_zone
from marketplace.db_types import record_id
from marketplace.downloads import private_path, send_private_file
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.jobs import service
from marketplace.jobs.forms import (
    AnswerForm,
    AskForm,
    EditJobForm,
    InviteOneForm,
    InviteVendorsForm,
    JobForm,
    JobSearchForm,
)
from marketplace.jobs.models import JobStatus, Visibility
from marketplace.jobs.search import STATE_ORDER, search_jobs
from marketplace.leaks import service as leaks
from marketplace.ndas import service as ndas
from marketplace.scoring import service as scoring

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "jobs"


def _read_uploads(files) -> list[service.NewAttachment]:
    """The files chosen in the form, each read up to one byte past the limit so the service can refuse it."""
    uploads = []
    for storage in files or []:
        if not storage or not storage.filename:
            continue
        data = storage.stream.read(service.MAX_ATTACHMENT_BYTES + 1)
        uploads.append(service.NewAttachment(storage.filename, storage.mimetype or "", data))
    return uploads


def _show_errors(form, error: service.JobError) -> None:
    """Put each of the service's messages next to its field; one without a field becomes a flash."""
    if not error.errors:
        flash(str(error), "error")
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is None:
            flash(message, "error")
        else:
            field.errors = [*field.errors, message]


def _add_service_checks(form, *, must_be_future: bool) -> None:
    """When the form itself failed, also name what the service would refuse, so all problems show at once."""
    try:
        service.clean_job_input(form.to_input(), current_user, must_be_future=must_be_future)
    except service.JobError as error:
        for name, message in error.errors.items():
            field = getattr(form, name)
            if not field.errors:
                field.errors = [*field.errors, message]


@bp.get("/")
@login_required
def index():
    """The buyer's own jobs by state; vendors browse the jobs they may see; admins see all."""
    include_drafts = not current_user.is_vendor
    args = request.args.to_dict()
    if current_user.is_vendor and "state" not in args:
        args["state"] = JobStatus.OPEN.value
    form = JobSearchForm(MultiDict(args), include_drafts=include_drafts)
    form.validate()
    page_number = request.args.get("page", type=record_id) or 1
    page = search_jobs(db.session, current_user, form.to_search(page_number))
    states = [s for s in STATE_ORDER if include_drafts or s != JobStatus.DRAFT]
    steps = onboarding.vendor_checklist(db.session, current_user)
    return render_template(
        "jobs/index.html",
        form=form,
        page=page,
        states=states,
        args=args,
        checklist=steps if steps and not all(step.done for step in steps) else None,
    ), (400 if form.errors else 200)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "post jobs")
def new():
    """Post a job: save it as a draft or publish it at once."""
    form = JobForm()
    if form.validate_on_submit():
        try:
            job = service.create_job(
                db.session,
                current_user,
                form.to_input(),
                publish=form.publish.data,
                attachments=_read_uploads(form.attachments.data),
                upload_folder=_upload_folder(),
            )
        except service.JobError as error:
            _show_errors(form, error)
        else:
            db.session.commit()
            flash("Job published: vendors can now bid." if job.status == JobStatus.OPEN else "Draft saved.", "success")
            return redirect(url_for("jobs.show", job_id=job.id), 303)
    elif form.is_submitted():
        _add_service_checks(form, must_be_future=form.publish.data)
    zone = user_zone(current_user).key
    return render_template("jobs/form.html", form=form, job=None, zone=zone), (400 if request.method == "POST" else 200)


@bp.get("/<int:job_id>")
@login_required
def show(job_id: int):
    """Every detail of a job the user may see, its attachments, questions and answers. 404 otherwise."""
    return _render_show(job_id)


def _render_show(job_id: int, *, ask_form=None, answer_forms=None, invite_form=None, status: int = 200):
    job = visibility.get_visible_job(db.session, current_user, job_id)
    actions = service.actions_for(db.session, current_user, job)
    invitable = service.invitable_vendors(db.session, job) if actions.invite else []
    if invite_form is None and actions.invite:
        invite_form = InviteVendorsForm(formdata=None)
    if invite_form is not None:
        invite_form.vendors.choices = [(org.id, org.name) for org in invitable]
    own_job = current_user.is_buyer and current_user.org_id == job.buyer_org_id
    invite_only = job.visibility == Visibility.INVITE_ONLY
    nda_gate = ndas.gate(db.session, current_user, job)  # the brief stays closed until the vendor accepts
    return render_template(
        "jobs/show.html",
        job=job,
        actions=actions,
        state=visibility.effective_status(job),
        buyer_label=visibility.buyer_label(db.session, job, current_user),
        attachments=[] if nda_gate else service.attachments_shown(db.session, job),
        questions=[] if nda_gate else service.questions_for(db.session, current_user, job),
        nda_gate=nda_gate,
        brief=leaks.brief_for(job, current_user),
        lab_nda=ndas.current_shown(db.session, job.buyer_org_id) if own_job else None,
        ask_form=ask_form or (AskForm(formdata=None) if actions.ask else None),
        answer_forms=answer_forms or {},
        blank_answer=AnswerForm(formdata=None),
        invite_form=invite_form,
        invited=service.invited_vendors(db.session, job) if own_job and invite_only else [],  # shown for those alone
        invite_only=invite_only,
        own_job=own_job,
        seeing_count=visibility.count_vendors_seeing(db.session, job) if own_job else None,
        seeing_updating=own_job and visibility.verdicts_updating(db.session, job.buyer_org_id),
    ), status


@bp.route("/<int:job_id>/edit", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "change jobs")
def edit(job_id: int):
    """Change the buyer's own draft or open job while nobody has bid. 404 for another organisation's job."""
    job = visibility.get_own_job(db.session, current_user, job_id)
    refusal = service.edit_refusal(db.session, job)
    if refusal:
        flash(refusal, "error")
        return redirect(url_for("jobs.show", job_id=job.id), 303)
    attachments = service.attachments_of(db.session, job)
    zone = user_zone(current_user)
    if request.method == "GET":
        form = EditJobForm.for_job(job, zone, attachments, scoring.weights_of(db.session, job.id))
    else:
        form = EditJobForm()
        form.set_attachment_choices(attachments)
    if form.validate_on_submit():
        try:
            service.update_job(
                db.session,
                current_user,
                job.id,
                form.to_input(),
                publish=form.publish.data,
                attachments=_read_uploads(form.attachments.data),
                remove_attachment_ids=form.remove_attachments.data or [],
                upload_folder=_upload_folder(),
            )
        except service.JobError as error:
            _show_errors(form, error)
        else:
            db.session.commit()
            flash("Job published: vendors can now bid." if form.publish.data else "Changes saved.", "success")
            return redirect(url_for("jobs.show", job_id=job.id), 303)
    elif form.is_submitted():
        _add_service_checks(form, must_be_future=job.status == JobStatus.OPEN or form.publish.data)
    return render_template("jobs/form.html", form=form, job=job, zone=zone.key), (
        400 if request.method == "POST" else 200
    )


def _act(job_id: int, action, success: str):
    """Run one service action on the job; flash its outcome and go back to the job page."""
    try:
        action()
    except service.JobError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("jobs.show", job_id=job_id), 303)


@bp.post("/<int:job_id>/publish")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "publish jobs")
def publish(job_id: int):
    """Open the buyer's own draft for bids. 404 for another organisation's job."""
    return _act(
        job_id, lambda: service.publish_job(db.session, current_user, job_id), "Job published: vendors can now bid."
    )


@bp.route("/<int:job_id>/cancel", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "cancel jobs")
def cancel(job_id: int):
    """Cancel the buyer's own job before award, once the buyer has confirmed on the page this address shows;
    bidders are told. 404 for another organisation's job."""
    if request.method == "GET":
        ensure_may_act(db.session, current_user)
        preview = service.cancel_preview(db.session, current_user, job_id)
        return render_template("jobs/cancel.html", preview=preview, job=preview.job), (403 if preview.refusal else 200)
    return _act(job_id, lambda: service.cancel_job(db.session, current_user, job_id), "Job cancelled.")


@bp.post("/<int:job_id>/invitations")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "invite vendors")
def invite(job_id: int):
    """Invite vendor organisations to the buyer's own invite-only job. 404 for another organisation's job."""
    job = visibility.get_own_job(db.session, current_user, job_id)
    form = InviteVendorsForm()
    # Vendors invited meanwhile (by a colleague, or a second click) stay valid choices: the service says so.
    offered = service.invitable_vendors(db.session, job) + service.invited_vendors(db.session, job)
    form.vendors.choices = [(org.id, org.name) for org in offered]
    if form.validate_on_submit():
        try:
            result = service.invite_vendors(db.session, current_user, job.id, form.vendors.data or [])
        except service.JobError as error:
            if error.field != "vendors":
                flash(str(error), "error")
                return redirect(url_for("jobs.show", job_id=job.id), 303)
            form.vendors.errors = [*form.vendors.errors, str(error)]
        else:
            db.session.commit()
            flash(_invitation_message(job, result), "success")
            return redirect(url_for("jobs.show", job_id=job.id), 303)
    return _render_show(job.id, invite_form=form, status=400)


@bp.app_template_global()
def invite_only_jobs():
    """The signed-in buyer's invite-only jobs that take invitations, for the vendor list's Invite button."""
    return service.invite_only_jobs(db.session, current_user) if current_user.is_authenticated else []


@bp.post("/invite-vendor")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "invite vendors")
def invite_from_list():
    """Invite one vendor from the vendor list to one of the buyer's invite-only jobs; back to the list."""
    form = InviteOneForm()
    back = url_for("screening.vendors")
    if not form.validate_on_submit():
        flash(next(iter(e for errors in form.errors.values() for e in errors), "Choose a job."), "error")
        return redirect(back, 303)
    job = visibility.get_own_job(db.session, current_user, form.job_id.data)
    try:
        result = service.invite_vendors(db.session, current_user, job.id, [form.vendor_id.data])
    except service.JobError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{job.title}: {_invitation_message(job, result)}", "success")
    return redirect(back, 303)


def _invitation_message(job, result: service.InvitationResult) -> str:
    names = ", ".join(org.name for org in result.invited)
    if job.status == JobStatus.DRAFT:
        return f"Invited {names}. They will be told when you publish the job."
    message = f"Invited {names}."
    if result.screened_out:
        hidden = ", ".join(org.name for org in result.screened_out)
        message += f" Screening keeps the job hidden from {hidden} for now; they were not told."
    return message


@bp.post("/<int:job_id>/questions")
@login_required
@role_required("vendor")
def ask(job_id: int):
    """A vendor asks about a job it may see; the buyer is told. 404 for a job it may not see."""
    visibility.get_visible_job(db.session, current_user, job_id)
    form = AskForm()
    if form.validate_on_submit():
        try:
            service.ask_question(db.session, current_user, job_id, form.text.data)
        except service.JobError as error:
            form.text.errors = [*form.text.errors, str(error)]
        else:
            db.session.commit()
            flash("Question sent. Its answer will be shown to every vendor, without naming you.", "success")
            return redirect(url_for("jobs.show", job_id=job_id, _anchor="questions"), 303)
    return _render_show(job_id, ask_form=form, status=400)


@bp.post("/<int:job_id>/questions/<int:question_id>/answer")
@login_required
@role_required("buyer")
def answer(job_id: int, question_id: int):
    """The buyer answers a question on its own job; every vendor that may see the job is told."""
    service.get_own_question(db.session, current_user, job_id, question_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            question = service.answer_question(db.session, current_user, job_id, question_id, form.answer.data)
        except service.JobError as error:
            if error.field is None:  # answered meanwhile (a colleague was quicker), or the job cancelled
                flash(str(error), "error")
                return redirect(url_for("jobs.show", job_id=job_id, _anchor="questions"), 303)
            form.answer.errors = [*form.answer.errors, str(error)]
        else:
            db.session.commit()
            if question.told_at is None:
                flash(
                    "Answer published to every vendor who can see the job. Your verdicts are updating: those "
                    "vendors are notified in a moment, once they are stored.",
                    "success",
                )
            else:
                flash("Answer published to every vendor who can see the job.", "success")
            return redirect(url_for("jobs.show", job_id=job_id, _anchor="questions"), 303)
    return _render_show(job_id, answer_forms={question_id: form}, status=400)


@bp.get("/<int:job_id>/attachments/<int:attachment_id>")
@login_required
def attachment(job_id: int, attachment_id: int):
    """Download an attachment of a job the user may see. 404 otherwise."""
    found = service.get_attachment(db.session, current_user, job_id, attachment_id)
    if ndas.gate(db.session, current_user, visibility.get_visible_job(db.session, current_user, job_id)):
        abort(403, "Accept the lab's NDA on the job's page first: the attachments are part of the brief.")
    job = visibility.get_visible_job(db.session, current_user, job_id)
    data = None
    if leaks.marked(job, current_user):  # a confidential brief's files carry the vendor's own mark
        data = leaks.file_for(
            job,
            current_user,
            private_path(_upload_folder(), found.stored_name).read_bytes(),
            found.content_type,
        )
    return send_private_file(
        _upload_folder(), found.stored_name, filename=found.filename, content_type=found.content_type, data=data
    )
