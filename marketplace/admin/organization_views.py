"""Admins list organisations, verify new labs, suspend them with a reason, and reinstate them.

What a suspension does everywhere else (the banner, the guard on every state-changing request, the refusal page)
is in marketplace.accounts.suspension_views.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts import suspension, verification
from marketplace.accounts.models import Organization, OrgKind
from marketplace.accounts.service import org_members
from marketplace.admin.forms import SuspendForm
from marketplace.db_types import record_id
from marketplace.errors import NotVisible, show_on_form
from marketplace.extensions import db
from marketplace.guards import role_required

bp = Blueprint("admin_orgs", __name__, url_prefix="/admin/organizations")

KIND_LABELS = {"": "Any kind", OrgKind.BUYER.value: "Buyers", OrgKind.VENDOR.value: "Vendors"}
SUSPENSION_LABELS = {"": "Any", "suspended": "Suspended", "active": "Not suspended"}


@bp.before_request
@login_required
@role_required("admin")
def admins_only():
    """Every page here is for platform admins: others get 403."""


@bp.get("")
def index():
    """Organisations by name; search by name, filter by kind and by suspension."""
    text = (request.args.get("q") or "").strip()[:200]
    kind = request.args.get("kind", "")
    state = request.args.get("suspended", "")
    kind = kind if kind in KIND_LABELS else ""
    state = state if state in SUSPENSION_LABELS else ""
    page = suspension.organizations_page(
        db.session,
        current_user,
        text=text,
        kind=kind,
        suspension=state,
        page=request.args.get("page", type=record_id) or 1,
    )
    args = {"q": text, "kind": kind, "suspended": state}
    return render_template(
        "admin/organizations.html", page=page, args=args, kinds=KIND_LABELS, states=SUSPENSION_LABELS
    )


def _organization_or_404(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotVisible(f"organization {org_id}")
    return org


def render_detail(org: Organization, form: SuspendForm | None = None, status: int = 200):
    history = suspension.suspension_history(db.session, org)
    return render_template(
        "admin/organizations_show.html",
        org=org,
        form=form or SuspendForm(formdata=None),
        members=org_members(db.session, org.id),
        history=history,
    ), status


@bp.get("/<int:org_id>")
def show(org_id: int):
    """One organisation: its members, whether it is suspended and why, and the suspend or reinstate form."""
    return render_detail(_organization_or_404(org_id))


@bp.post("/<int:org_id>/suspend")
def suspend(org_id: int):
    """Suspend the organisation; a reason is required and its users are told it."""
    org = _organization_or_404(org_id)
    form = SuspendForm()
    if form.validate_on_submit():
        try:
            suspension.suspend_organization(db.session, current_user, org.id, form.reason.data)
        except suspension.SuspensionError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(f"{org.name} is suspended. Its users have been told why.", "success")
            return redirect(url_for("admin_orgs.show", org_id=org.id), 303)
    return render_detail(org, form, 400)


@bp.post("/<int:org_id>/reinstate")
def reinstate(org_id: int):
    """Lift the organisation's suspension; its users are told."""
    org = _organization_or_404(org_id)
    try:
        suspension.reinstate_organization(db.session, current_user, org.id)
    except suspension.SuspensionError as error:
        flash(str(error), "error")
        return render_detail(org, status=400)
    db.session.commit()
    flash(f"{org.name} is reinstated.", "success")
    return redirect(url_for("admin_orgs.show", org_id=org.id), 303)


@bp.post("/<int:org_id>/verify")
def verify(org_id: int):
    """Verify a lab awaiting it: it may publish jobs; its users are told."""
    org = _organization_or_404(org_id)
    try:
        verification.verify_lab(db.session, current_user, org.id)
    except verification.VerificationError as error:
        flash(str(error), "error")
        return render_detail(org, status=400)
    db.session.commit()
    flash(f"{org.name} is verified: it can publish jobs now.", "success")
    return redirect(url_for("admin_orgs.show", org_id=org.id), 303)
