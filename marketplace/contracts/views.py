"""Contract pages: milestones, funding through Stripe Checkout, deliveries, decisions, flags, ratings.

Every address answers 404 to anyone whose organisation is not a party to the contract (service.get_contract),
and 403 to the party whose action it is not (service.WrongRole).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.accounts.suspension import ensure_may_act
from marketplace.contracts import service
from marketplace.contracts.forms import DeliverForm, PlanForm, RatingForm, RejectForm
from marketplace.db_types import record_id
from marketplace.downloads import send_private_file
from marketplace.extensions import db
from marketplace.guards import org_role_required
from marketplace.payments.configured import current_gateway, fee_bps
from marketplace.payments.fees import percent

bp = Blueprint("contracts", __name__, url_prefix="/contracts")


@bp.app_template_global()
def contract_of_job(job):
    """The contract made by the job's award, if the signed-in user may see it (for the job page)."""
    if not current_user.is_authenticated:
        return None
    return service.contract_for_job(db.session, current_user, job.id)


@bp.app_template_global()
def vendor_ratings(org_id: int) -> service.VendorRatings:
    """The ratings a vendor received, for its profile page (templates/accounts/vendor_profile.html)."""
    return service.vendor_ratings(db.session, org_id)


def _deliveries_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "deliveries"


def _gateway_or_refuse():
    gateway = current_gateway()
    if gateway is None:
        raise service.ContractError("Payments are not configured on this server (no Stripe key).")
    return gateway


def _page(contract_id: int, status: int = 200, error: str | None = None, **forms):
    page = service.contract_page(db.session, current_user, contract_id)
    forms.setdefault("reject_forms", {})
    forms.setdefault("rating_form", RatingForm(formdata=None))
    paid = request.args.get("paid", type=record_id)
    waiting = next(
        (v.milestone for v in page.milestones if v.milestone.id == paid and v.milestone.status == "pending"), None
    )
    tries = min(request.args.get("tries", 0, type=record_id), 20)
    return render_template(
        "contracts/show.html",
        page=page,
        error=error,
        waiting=waiting,
        reject_blank=lambda milestone_id: RejectForm(formdata=None, prefix=f"m{milestone_id}"),
        refresh_url=url_for("contracts.show", contract_id=contract_id, paid=paid, tries=tries + 1)
        if waiting is not None and tries < 20
        else None,
        fee_label=percent(fee_bps()),
        **forms,
    ), status


def _check_side(contract_id: int, side: str) -> None:
    """404 unless the user's organisation is a party to the contract; 403 unless on this side of it."""
    try:
        service.check_side(db.session, current_user, contract_id, side)
    except service.WrongRole:
        abort(403)


def _act(contract_id: int, action, success: str | Callable[[Any], str], **forms):
    """Run one service call; commit and go back to the contract, or show the refusal there (400 / 403)."""
    try:
        result = action()
    except service.WrongRole:
        abort(403)
    except service.ContractError as error:
        db.session.rollback()
        return _page(contract_id, 400, str(error), **forms)
    db.session.commit()
    if success:
        flash(success(result) if callable(success) else success, "success")
    return redirect(url_for("contracts.show", contract_id=contract_id), 303)


@bp.get("")
@login_required
def index():
    """The contracts of the user's organisation (all of them for an admin)."""
    return render_template("contracts/index.html", rows=service.contracts_for(db.session, current_user))


@bp.get("/<int:contract_id>")
@login_required
def show(contract_id: int):
    """A contract: milestones, deliveries, what can be done now, and every money movement. 404 for strangers."""
    return _page(contract_id)


@bp.route("/<int:contract_id>/milestones", methods=["GET", "POST"])
@login_required
@org_role_required(OrgRole.MANAGER, "plan milestones")
def plan(contract_id: int):
    """The buyer splits the contract into milestones adding up to the awarded total."""
    contract = service.get_contract(db.session, current_user, contract_id)
    if not current_user.is_buyer or current_user.org_id != contract.buyer_org_id:
        abort(403)
    if request.method == "GET":
        form = PlanForm.for_milestones(service.milestones_of(db.session, contract.id), contract.currency)
        return render_template("contracts/plan.html", form=form, contract=contract)
    form = PlanForm(currency=contract.currency)
    if form.validate_on_submit():
        try:
            service.plan_milestones(
                db.session, current_user, current_gateway(), contract_id, form.plan(), fee_bps=fee_bps()
            )
        except service.WrongRole:
            abort(403)
        except service.ContractError as error:
            db.session.rollback()
            form.milestones.errors = [*form.milestones.errors, str(error)]
        else:
            db.session.commit()
            flash("Milestones saved.", "success")
            return redirect(url_for("contracts.show", contract_id=contract_id), 303)
    return render_template("contracts/plan.html", form=form, contract=contract), 400


@bp.post("/<int:contract_id>/milestones/<int:milestone_id>/fund")
@login_required
@org_role_required(OrgRole.MANAGER, "pay for milestones")
def fund(contract_id: int, milestone_id: int):
    """The buyer pays for a milestone on Stripe Checkout; the platform then holds the money."""

    def start():
        return service.funding_url(
            db.session,
            current_user,
            _gateway_or_refuse(),
            contract_id,
            milestone_id,
            success_url=url_for("contracts.show", contract_id=contract_id, paid=milestone_id, _external=True),
            cancel_url=url_for("contracts.show", contract_id=contract_id, _external=True),
            fee_bps=fee_bps(),
        )

    try:
        checkout = start()
    except service.WrongRole:
        abort(403)
    except service.ContractError as error:
        db.session.rollback()
        return _page(contract_id, 400, str(error))
    db.session.commit()
    if checkout is None:
        flash("Stripe already has this payment: the milestone is funded.", "success")
        return redirect(url_for("contracts.show", contract_id=contract_id), 303)
    return redirect(checkout, 303)


@bp.post("/<int:contract_id>/milestones/<int:milestone_id>/check-payment")
@login_required
def check_payment(contract_id: int, milestone_id: int):
    """Ask Stripe now whether the milestone was paid (when its notification is late)."""
    return _act(
        contract_id,
        lambda: service.check_payment(
            db.session, current_user, _gateway_or_refuse(), contract_id, milestone_id, fee_bps=fee_bps()
        ),
        lambda funded: (
            "Payment received: the milestone is funded."
            if funded
            else "Stripe has no completed payment for this milestone yet."
        ),
    )


@bp.route("/<int:contract_id>/milestones/<int:milestone_id>/deliver", methods=["GET", "POST"])
@login_required
def deliver(contract_id: int, milestone_id: int):
    """The vendor marks a funded milestone delivered, with a note and files."""
    page = service.contract_page(db.session, current_user, contract_id)
    view = next((v for v in page.milestones if v.milestone.id == milestone_id), None)
    if view is None:
        abort(404)
    if page.side != "vendor":
        abort(403)
    form = DeliverForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            uploads = [
                service.Upload(f.filename or "", f.mimetype or "", f.read())
                for f in (form.files.data or [])
                if f and f.filename
            ]
            try:
                service.deliver(
                    db.session, current_user, contract_id, milestone_id, form.note.data, uploads, _deliveries_folder()
                )
            except service.WrongRole:
                abort(403)
            except service.ContractError as error:
                db.session.rollback()
                getattr(form, error.field or "note").errors.append(str(error))
            else:
                db.session.commit()
                flash("Delivered. The buyer is told and will accept or reject it.", "success")
                return redirect(url_for("contracts.show", contract_id=contract_id), 303)
    return render_template("contracts/deliver.html", form=form, page=page, milestone=view.milestone), status


@bp.post("/<int:contract_id>/milestones/<int:milestone_id>/accept")
@login_required
@org_role_required(OrgRole.MANAGER, "accept deliveries")
def accept(contract_id: int, milestone_id: int):
    """The buyer accepts the delivery: the vendor is paid the milestone less the platform fee."""
    return _act(
        contract_id,
        lambda: service.accept_delivery(db.session, current_user, current_gateway(), contract_id, milestone_id),
        lambda paid: (
            "Accepted. The vendor is paid."
            if paid
            else "Accepted. The payment waits until the vendor connects its payout account."
        ),
    )


@bp.post("/<int:contract_id>/milestones/<int:milestone_id>/reject")
@login_required
@org_role_required(OrgRole.MANAGER, "reject deliveries")
def reject(contract_id: int, milestone_id: int):
    """The buyer rejects the delivery with a reason; the vendor can deliver again."""
    _check_side(contract_id, "buyer")
    form = RejectForm(prefix=f"m{milestone_id}")
    if not form.validate_on_submit():
        return _page(contract_id, 400, None, reject_forms={milestone_id: form})
    return _act(
        contract_id,
        lambda: service.reject_delivery(db.session, current_user, contract_id, milestone_id, form.reason.data),
        "Rejected. The vendor is told why and can deliver again.",
        reject_forms={milestone_id: form},
    )


def _confirmation(template: str, preview_of):
    """A page asking the buyer to confirm an action: refused as the action would be (403 while suspended or for
    the vendor's side and admins, 404 for strangers); it says why when the action is not possible now."""
    ensure_may_act(db.session, current_user)
    try:
        preview = preview_of()
    except service.WrongRole:
        abort(403)
    return render_template(template, preview=preview), (403 if preview.refusal else 200)


@bp.route("/<int:contract_id>/milestones/<int:milestone_id>/cancel", methods=["GET", "POST"])
@login_required
@org_role_required(OrgRole.MANAGER, "cancel milestones")
def cancel(contract_id: int, milestone_id: int):
    """The buyer cancels a milestone before delivery, once confirmed on the page this address shows; money
    already paid for it is refunded."""
    if request.method == "GET":
        return _confirmation(
            "contracts/cancel.html",
            lambda: service.cancel_milestone_preview(
                db.session, current_user, contract_id, milestone_id, payments_on=current_gateway() is not None
            ),
        )
    return _act(
        contract_id,
        lambda: service.cancel_milestone(
            db.session, current_user, current_gateway(), contract_id, milestone_id, fee_bps=fee_bps()
        ),
        lambda m: "Milestone cancelled and refunded." if m.status == "refunded" else "Milestone cancelled.",
    )


@bp.post("/<int:contract_id>/milestones/<int:milestone_id>/retry-payout")
@login_required
@org_role_required(OrgRole.MANAGER, "ask for payouts")
def retry_payout(contract_id: int, milestone_id: int):
    """The vendor asks for a waiting payout again, after connecting its payout account."""
    return _act(
        contract_id,
        lambda: service.retry_payout(db.session, current_user, _gateway_or_refuse(), contract_id, milestone_id),
        "Paid.",
    )


@bp.post("/<int:contract_id>/pause")
@login_required
@org_role_required(OrgRole.MANAGER, "pause contracts")
def pause(contract_id: int):
    """The buyer pauses a contract that screening flagged."""
    return _act(
        contract_id,
        lambda: service.pause_contract(db.session, current_user, contract_id),
        "Contract paused. Held money stays held until you continue or end it.",
    )


@bp.post("/<int:contract_id>/continue")
@login_required
@org_role_required(OrgRole.MANAGER, "go on with contracts")
def resume(contract_id: int):
    """The buyer goes on with a flagged or paused contract."""
    return _act(
        contract_id, lambda: service.continue_contract(db.session, current_user, contract_id), "The contract goes on."
    )


@bp.route("/<int:contract_id>/end", methods=["GET", "POST"])
@login_required
@org_role_required(OrgRole.MANAGER, "end contracts")
def end(contract_id: int):
    """The buyer ends a flagged or paused contract, once confirmed on the page this address shows; what was not
    released is refunded."""
    if request.method == "GET":
        return _confirmation(
            "contracts/end.html",
            lambda: service.end_preview(
                db.session, current_user, contract_id, payments_on=current_gateway() is not None
            ),
        )
    return _act(
        contract_id,
        lambda: service.end_contract(db.session, current_user, current_gateway(), contract_id, fee_bps=fee_bps()),
        "Contract ended. Money not yet paid to the vendor was refunded to you.",
    )


@bp.post("/<int:contract_id>/rating")
@login_required
@org_role_required(OrgRole.MANAGER, "rate vendors")
def rate(contract_id: int):
    """The buyer rates the vendor after completion."""
    _check_side(contract_id, "buyer")
    form = RatingForm()
    if not form.validate_on_submit():
        return _page(contract_id, 400, None, rating_form=form)
    return _act(
        contract_id,
        lambda: service.rate_vendor(
            db.session, current_user, contract_id, int(form.stars.data), form.comment.data or ""
        ),
        "Thank you: your rating is on the vendor's profile.",
        rating_form=form,
    )


@bp.get("/<int:contract_id>/files/<int:file_id>")
@login_required
def delivery_file(contract_id: int, file_id: int):
    """Download a delivered file. 404 to anyone but the contract's parties and admins."""
    found = service.get_delivery_file(db.session, current_user, contract_id, file_id)
    return send_private_file(
        _deliveries_folder(), found.stored_name, filename=found.filename, content_type=found.content_type
    )
