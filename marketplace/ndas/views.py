"""The lab's NDA page, the switch on a confidential job, and a vendor accepting it."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from marketplace.accounts.models import OrgRole
from marketplace.downloads import send_private_file
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.ndas import service
from marketplace.ndas.forms import AcceptForm, NdaForm, RequireForm

bp = Blueprint("ndas", __name__)


def _render(form: NdaForm, status: int = 200):
    return render_template(
        "ndas/index.html",
        form=form,
        versions=service.versions(db.session, current_user),
        acceptances=service.acceptances(db.session, current_user),
    ), status


@bp.get("/nda")
@login_required
@role_required("buyer")
def index():
    """The lab's NDA: the current version, earlier ones, who accepted which, and the form for a new version."""
    latest = service.current(db.session, current_user.org_id)
    return _render(NdaForm(formdata=None, text=latest.text if latest else ""))


@bp.post("/nda")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "publish NDAs")
def publish():
    """Publish a new version: vendors accept it again before a guarded brief opens."""
    form = NdaForm()
    if form.validate_on_submit():
        upload = form.pdf.data
        pdf = (
            service.NewPdf(upload.filename, upload.stream.read(service.MAX_PDF_BYTES + 1))
            if isinstance(upload, FileStorage) and upload.filename
            else None
        )
        try:
            nda = service.publish(
                db.session, current_user, form.text.data or "", pdf, current_app.config["UPLOAD_FOLDER"]
            )
        except service.NdaError as error:  # refused before anything was written
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(f"Version {nda.version} published: vendors accept it before a guarded brief opens.", "success")
            return redirect(url_for("ndas.index"), 303)
    return _render(form, 400)


@bp.get("/nda/<int:nda_id>/pdf")
@login_required
def pdf(nda_id: int):
    """The NDA's PDF, for its lab and the vendors it guards a job from (404 otherwise)."""
    nda = service.pdf_of(db.session, current_user, nda_id)
    folder = f"{current_app.config['UPLOAD_FOLDER']}/{service.FOLDER}"
    return send_private_file(folder, nda.stored_name, filename=nda.filename, content_type="application/pdf")


@bp.post("/jobs/<int:job_id>/nda")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "require NDAs")
def require(job_id: int):
    """Require the NDA on the lab's own confidential job, or stop requiring it."""
    form = RequireForm()
    required = form.required.data == "1"
    if form.validate_on_submit():
        try:
            service.require(db.session, current_user, job_id, required)
        except service.NdaError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(
                "Vendors now accept your NDA before this job's brief opens."
                if required
                else "This job's brief is open to every vendor who can see it.",
                "success",
            )
    return redirect(url_for("jobs.show", job_id=job_id), 303)


@bp.post("/jobs/<int:job_id>/nda/accept")
@login_required
@role_required("vendor")
@org_role_required(OrgRole.MANAGER, "accept NDAs for your organisation")
def accept(job_id: int):
    """A vendor accepts the lab's current NDA for its organisation; the brief opens."""
    form = AcceptForm()
    if not form.validate_on_submit():
        flash(next(iter(form.agree.errors or form.version.errors), "Tick the box to accept the NDA."), "error")
        return redirect(url_for("jobs.show", job_id=job_id), 303)
    try:
        service.accept(db.session, current_user, job_id, form.version.data)
    except service.NdaError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("NDA accepted for your organisation: the brief is open.", "success")
    return redirect(url_for("jobs.show", job_id=job_id), 303)
