"""The audit trail: admins read it with filters; a buyer exports its own share (audit.service)."""

import json

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from marketplace.accounts.models import OrgRole
from marketplace.audit import service, wording
from marketplace.audit.forms import TrailFilterForm
from marketplace.db_types import record_id, utcnow
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required

bp = Blueprint("audit", __name__)
# The page's place in the trail: older than one record, or newer (audit.service.TrailFilters).
PAGING = ("before", "after")


@bp.app_template_global("describe_record")
def describe_record(record):
    """The record in words, with a link to what it concerns (marketplace.audit.wording)."""
    return wording.describe(record)


@bp.get("/admin/audit")
@login_required
@role_required("admin")
def trail():
    """The trail, newest first, filtered by action, organisation, actor and dates, paged by record ids (`before`,
    `after`); 403 for anyone but admins."""
    args = {key: value for key, value in request.args.items() if key not in PAGING}
    form = TrailFilterForm(MultiDict(args), actions=service.recorded_actions(db.session))
    form.validate()
    before, after = (request.args.get(key, type=record_id) for key in PAGING)
    page = service.trail_page(
        db.session,
        current_user,
        form.to_filters(before, after),
        count_up_to=current_app.config["AUDIT_TRAIL_COUNTS_UP_TO"],
    )
    return render_template("audit/trail.html", form=form, page=page, args=args), 400 if form.errors else 200


@bp.get("/audit/export.jsonl")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "export the audit records")
def export():
    """The buyer's records as JSON lines, for its security review; 403 for vendors and admins."""
    records = service.export_for_buyer(db.session, current_user)

    def lines():
        for record in records:
            yield json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"

    filename = f"audit-{current_user.org_id}-{utcnow():%Y%m%d}.jsonl"
    return Response(
        stream_with_context(lines()),
        mimetype="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
