"""Admins review vendors' certificates: the queue, one certificate with its file, and verify or reject with a
reason. The rules are in marketplace.certificates.service."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.certificates import service
from marketplace.certificates.forms import RejectForm, VerifyForm
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import role_required

bp = Blueprint("admin_certificates", __name__, url_prefix="/admin/certificates")


@bp.before_request
@login_required
@role_required("admin")
def admins_only():
    """Every page here is for platform admins: others get 403."""


@bp.get("")
def queue():
    """Certificates awaiting review (the longest-waiting first), or those verified, rejected or expired."""
    status = request.args.get("status", "pending")
    status = status if status in service.QUEUE_FILTERS else "pending"
    return render_template(
        "admin/certificates.html",
        rows=service.review_queue(db.session, current_user, status),
        status=status,
        filters=service.QUEUE_FILTERS,
        label=service.label,
        state=service.state,
    )


def _render(certificate_id: int, reject_form: RejectForm | None = None, error: str = "", status: int = 200):
    certificate, vendor = service.for_review(db.session, current_user, certificate_id)
    return render_template(
        "admin/certificate.html",
        certificate=certificate,
        vendor=vendor,
        label=service.label,
        state=service.state,
        verify_form=VerifyForm(formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
        error=error,
    ), status


@bp.get("/<int:certificate_id>")
def show(certificate_id: int):
    """One certificate: the vendor, issuer, scope, dates, the file, and the decision forms."""
    return _render(certificate_id)


@bp.post("/<int:certificate_id>/verify")
def verify(certificate_id: int):
    """Verify the certificate: it counts for jobs requiring it until it expires; the vendor is told."""
    if not VerifyForm().validate_on_submit():
        return _render(certificate_id, error="The form expired: verify again.", status=400)
    try:
        certificate = service.verify(db.session, current_user, certificate_id)
    except service.CertificateError as error:
        return _render(certificate_id, error=str(error), status=400)
    db.session.commit()
    flash(f"{service.label(certificate.kind)} certificate verified; the vendor is told.", "success")
    return redirect(url_for("admin_certificates.queue"), 303)


@bp.post("/<int:certificate_id>/reject")
def reject(certificate_id: int):
    """Reject the certificate with a reason the vendor reads."""
    form = RejectForm()
    if form.validate_on_submit():
        try:
            certificate = service.reject(db.session, current_user, certificate_id, form.reason.data or "")
        except service.CertificateError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(f"{service.label(certificate.kind)} certificate rejected; the vendor reads your reason.", "success")
            return redirect(url_for("admin_certificates.queue"), 303)
    return _render(certificate_id, reject_form=form, status=400)
