"""A vendor's certificates page (upload, status, the admin's reason) and every allowed user's download."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from marketplace.certificates import service
from marketplace.certificates.forms import CertificateForm
from marketplace.downloads import send_private_file
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import role_required

bp = Blueprint("certificates", __name__)


@bp.app_template_global()
def held_certificates(org_id: int) -> list:
    """The vendor's verified, current certificates, for its profile page (templates/accounts/vendor_profile.html):
    what each is and until when, never the file."""
    return sorted(service.current_certificates(db.session, {org_id}), key=lambda c: (service.label(c.kind), c.id))


@bp.app_template_global()
def verified_certifications(org_ids: list[int]) -> dict[int, list[str]]:
    """{vendor id: the kinds it holds a verified, current certificate of}, for a list of vendors in one query."""
    held: dict[int, list[str]] = {}
    for certificate in service.current_certificates(db.session, set(org_ids)):
        kinds = held.setdefault(certificate.vendor_org_id, [])
        if certificate.kind not in kinds:
            kinds.append(certificate.kind)
    return {org_id: sorted(kinds) for org_id, kinds in held.items()}


@bp.app_template_global()
def certification_label(kind: str) -> str:
    return service.label(kind)


def _render(form: CertificateForm, status: int = 200):
    return render_template(
        "certificates/index.html",
        form=form,
        certificates=service.own_certificates(db.session, current_user),
        state=service.state,
        label=service.label,
    ), status


@bp.get("/certificates")
@login_required
@role_required("vendor")
def index():
    """The vendor's certificates with their review status, and the form to upload one."""
    return _render(CertificateForm(formdata=None))


@bp.post("/certificates")
@login_required
@role_required("vendor")
def upload():
    """Upload a certificate for an admin to verify; a refused field comes back beside it, the form filled in."""
    form = CertificateForm()
    if form.validate_on_submit():
        upload = form.file.data
        has_file = isinstance(upload, FileStorage) and bool(upload.filename)
        # One byte past the limit is enough for the service to refuse a file that is too large.
        data = upload.stream.read(service.MAX_FILE_BYTES + 1) if has_file else b""
        try:
            certificate = service.upload(
                db.session,
                current_user,
                form.to_new(upload.filename if has_file else "", data),
                current_app.config["UPLOAD_FOLDER"],
            )
        except service.CertificateProblems as refused:
            for name, message in refused.problems.items():
                show_on_form(form, service.CertificateError(message, name))
        else:
            db.session.commit()
            flash(f"{service.label(certificate.kind)} uploaded: an admin verifies it before labs see it.", "success")
            return redirect(url_for("certificates.index"), 303)
    return _render(form, 400)


@bp.get("/certificates/<int:certificate_id>/file")
@login_required
def download(certificate_id: int):
    """The certificate's file, for the vendor, admins, and labs comparing its bid (404 for anyone else)."""
    certificate, folder = service.file_of(db.session, current_user, certificate_id, current_app.config["UPLOAD_FOLDER"])
    return send_private_file(
        folder, certificate.stored_name, filename=certificate.filename, content_type=certificate.content_type
    )
