"""The buyer's screening pages: rivals, policy, the vendor search, and one vendor's screening with waivers."""

from typing import Any, cast

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlmodel import col
from wtforms.fields.core import Label

from marketplace import tasks
from marketplace.accounts.models import Organization, OrgKind, OrgRole
from marketplace.db_types import record_id
from marketplace.errors import NotVisible
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.screening.engine.verdicts import Policy
from marketplace.screening.forms import AddFoundRivalForm, AddRivalForm, PolicyForm, VendorSearchForm, WaiveForm
from marketplace.screening.services import policy as policy_service
from marketplace.screening.services import queued, vendor_search
from marketplace.screening.services import rivals as service
from marketplace.screening.store.policies import policy_for

bp = Blueprint("screening", __name__)


@bp.route("/rivals", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "change your rivals", methods=frozenset({"POST"}))
def rivals():
    """The buyer organisation's rivals; `q` searches the registry; POST names a rival (403 if not a buyer)."""
    form = AddRivalForm()
    query = (request.values.get("q") or "").strip()
    found_error = None
    if request.method == "POST":
        adding_found = "party_id" in request.form
        try:
            party = _add_found() if adding_found else _add_named(form)
        except service.RivalError as error:
            if adding_found:
                found_error = str(error)
            else:
                form.name.errors = [*form.name.errors, str(error)]
        else:
            if party is not None:
                db.session.commit()
                flash(f"{party.name} is now on your rival list; {_screened_again()}", "success")
                return redirect(url_for("screening.rivals"), 303)
    return render_template(
        "screening/rivals.html",
        form=form,
        query=query,
        found_error=found_error,
        rivals=service.rival_list(db.session, current_user),
        matches=service.find_candidates(db.session, current_user, query) if query else None,
        updating=queued.progress_for_buyer(db.session, current_user.org_id),
    ), 400 if request.method == "POST" else 200


@bp.post("/rivals/<int:rival_id>/remove")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "change your rivals")
def remove_rival(rival_id: int):
    """Take a rival off the list (404 for another organisation's rival, 403 if not a buyer)."""
    try:
        party = service.remove_rival(db.session, current_user, rival_id)
    except service.RivalError as error:  # taken off a moment ago
        flash(str(error), "info")
        return redirect(url_for("screening.rivals"), 303)
    db.session.commit()
    flash(f"{party.name} is no longer on your rival list; {_screened_again()}", "success")
    return redirect(url_for("screening.rivals"), 303)


def _screened_again() -> str:
    if tasks.configured():
        return "your vendors are being screened again (this page shows how far it got)."
    return "your vendors were screened again."


def _add_named(form: AddRivalForm):
    """The typed name added as a rival, or None when the form itself is invalid."""
    if not form.validate():
        return None
    return service.add_rival_by_name(db.session, current_user, form.name.data)


def _add_found():
    """The search result whose "Add as rival" button was pressed, added as a rival."""
    found = AddFoundRivalForm()
    if not found.validate():
        raise service.RivalError("Choose a company from the search results.")
    return service.add_rival_by_party(db.session, current_user, found.party_id.data)


@bp.route("/screening/policy", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "change the screening policy", methods=frozenset({"POST"}))
def policy():
    """The buyer's thresholds and what each rule does; POST saves them and screens every vendor again."""
    if request.method == "GET":
        form = PolicyForm(data=_policy_data(policy_for(db.session, current_user.org_id)))
    else:
        form = PolicyForm()
    if form.validate_on_submit():
        values = policy_service.PolicyInput(
            form.exclude_at.data, form.review_at.data, form.people_window_months.data, form.actions()
        )
        try:
            changed = policy_service.save_policy(db.session, current_user, values)
        except policy_service.PolicyError as error:
            field = getattr(form, error.field or "exclude_at")
            field.errors = [*field.errors, str(error)]
        else:
            db.session.commit()
            flash(
                f"Policy saved; {_screened_again()}" if changed else "Your policy is unchanged.",
                "success" if changed else "info",
            )
            return redirect(url_for("screening.policy"), 303)
    return render_template(
        "screening/policy.html",
        form=form,
        defaults=Policy(),
        updating=queued.progress_for_buyer(db.session, current_user.org_id),
    ), (400 if request.method == "POST" else 200)


def _policy_data(current: Policy) -> dict:
    data: dict[str, Any] = {
        "exclude_at": current.exclude_at,
        "review_at": current.review_at,
        "people_window_months": current.people_window_months,
    }
    data.update({f"{rule}_action": str(action) for rule, action in current.actions.items()})
    return data


@bp.get("/vendors")
@login_required
@role_required("buyer")
def vendors():
    """Every vendor with its verdict for this buyer and the reasons; excluded ones only when asked for."""
    args = request.args.to_dict()
    form = VendorSearchForm(request.args)
    form.validate()
    page = vendor_search.search_vendors(
        db.session, current_user, form.to_search(request.args.get("page", type=record_id) or 1)
    )
    updating = queued.progress_for_buyer(db.session, current_user.org_id)
    return render_template("screening/vendors.html", form=form, page=page, args=args, updating=updating), (
        400 if form.errors else 200
    )


def _vendor_org(org_id: int) -> Organization:
    """The vendor organisation; NotVisible (404) for anything else."""
    org = db.session.get(Organization, org_id)
    if org is None or org.kind != OrgKind.VENDOR:
        raise NotVisible(f"vendor {org_id}")
    return org


def _buyer_org_for_view() -> Organization | None:
    """The buyer whose view is shown: the user's own, or for an admin the ?buyer= one (None: not chosen yet).

    Raises NotVisible (404) when an admin names an organisation that is not a buyer.
    """
    if not current_user.is_admin:
        return db.session.get(Organization, current_user.org_id)
    buyer_id = request.args.get("buyer", type=record_id)
    if buyer_id is None:
        return None
    buyer = db.session.get(Organization, buyer_id)
    if buyer is None or buyer.kind != OrgKind.BUYER:
        raise NotVisible(f"buyer {buyer_id}")
    return buyer


@bp.get("/vendors/<int:org_id>/screening")
@login_required
@role_required("buyer", "admin")
def vendor(org_id: int):
    """One vendor's screening for the buyer: findings, routes, sources, waivers, and the ownership picture.

    Admins choose whose view with ?buyer=<org id>. 404 for an organisation that is not a vendor; 403 for vendors.
    """
    vendor_org = _vendor_org(org_id)
    buyer_org = _buyer_org_for_view()
    if buyer_org is None:
        buyers = (
            db.session.execute(
                select(Organization).where(col(Organization.kind) == OrgKind.BUYER).order_by(Organization.name)
            )
            .scalars()
            .all()
        )
        return render_template("screening/choose_buyer.html", vendor=vendor_org, buyers=buyers)
    return _render_vendor(vendor_org, buyer_org)


def _render_vendor(
    vendor_org: Organization,
    buyer_org: Organization,
    *,
    failed: WaiveForm | None = None,
    page_error: str | None = None,
    status: int = 200,
):
    report = vendor_search.vendor_report(db.session, buyer_org, vendor_org)
    # One waive form per waiver key, beside the first finding it would waive; keyed by the finding's position.
    forms, keys = {}, set()
    if current_user.is_buyer:
        for index, row in enumerate(report.findings):
            if row.waivable and row.key not in keys:
                keys.add(row.key)
                forms[index] = _waive_form(row, failed)
    return render_template(
        "screening/vendor.html", report=report, waive_forms=forms, page_error=page_error, as_admin=current_user.is_admin
    ), status


def _waive_form(row: vendor_search.FindingRow, failed: WaiveForm | None) -> WaiveForm:
    """The waive form of one finding, or the one just refused (errors and typed reason kept); ids kept apart."""
    key = row.key
    if failed is not None and vendor_search.waiver_key(failed.rule.data, failed.rival()) == key:
        form = failed
    else:
        form = WaiveForm(formdata=None, rule=str(row.finding.rule), rival_party_id=row.finding.rival_party_id or "")
    form.reason.id = f"reason-{key}"
    form.reason.label = Label(form.reason.id, form.reason.label.text)
    return form


@bp.post("/vendors/<int:org_id>/waivers")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "waive findings")
def waive(org_id: int):
    """Waive a review finding for this vendor, with a reason (404 for a non-vendor; 400 for an exclude finding)."""
    vendor_org = _vendor_org(org_id)
    form = WaiveForm()
    page_error = None
    if form.validate_on_submit():
        try:
            policy_service.add_waiver(
                db.session, current_user, vendor_org.id, form.rule.data, form.rival(), form.reason.data
            )
        except policy_service.PolicyError as error:
            if error.field == "reason":
                form.reason.errors = [*form.reason.errors, str(error)]
            else:
                page_error = str(error)
        else:
            db.session.commit()
            flash(f"Finding waived: {vendor_org.name} is no longer held back by it.", "success")
            return redirect(url_for("screening.vendor", org_id=vendor_org.id), 303)
    elif form.rule.errors:
        page_error = form.rule.errors[0]
    buyer_org = cast(Organization, db.session.get(Organization, current_user.org_id))
    return _render_vendor(vendor_org, buyer_org, failed=form, page_error=page_error, status=400)


@bp.post("/vendors/<int:org_id>/waivers/<int:waiver_id>/remove")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "withdraw waivers")
def unwaive(org_id: int, waiver_id: int):
    """Withdraw a waiver: the finding counts again at once (404 for another organisation's waiver)."""
    vendor_org = _vendor_org(org_id)
    try:
        policy_service.remove_waiver(db.session, current_user, vendor_org.id, waiver_id)
    except policy_service.PolicyError as error:  # withdrawn a moment ago
        flash(str(error), "info")
        return redirect(url_for("screening.vendor", org_id=vendor_org.id), 303)
    db.session.commit()
    flash(f"Waiver withdrawn: the finding counts against {vendor_org.name} again.", "success")
    return redirect(url_for("screening.vendor", org_id=vendor_org.id), 303)
