"""The lab names the source of a leaked copy of its confidential brief."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from marketplace import visibility
from marketplace.accounts.models import OrgRole
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.leaks import service

bp = Blueprint("leaks", __name__)
MAX_LEAK_BYTES = 10 * 1024 * 1024


@bp.route("/jobs/<int:job_id>/leaks", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "trace leaked briefs", methods=frozenset({"POST"}))
def trace(job_id: int):
    job = visibility.get_own_job(db.session, current_user, job_id)
    result, error, typed = None, None, ""
    if request.method == "POST":
        typed = request.form.get("text", "")[:200_000]
        upload = request.files.get("file")
        leaked = None
        if isinstance(upload, FileStorage) and upload.filename:
            leaked = upload.stream.read(MAX_LEAK_BYTES + 1)
            if len(leaked) > MAX_LEAK_BYTES:
                error = "That file is larger than 10 MB."
        if error is None:
            try:
                result = service.trace(db.session, current_user, job.id, typed, leaked)
            except service.LeakError as refusal:
                error = str(refusal)
            else:
                db.session.commit()
    return render_template("leaks/trace.html", job=job, result=result, error=error, typed=typed), (
        400 if error else 200
    )
