"""Dispute pages: opening one on a milestone, its statements and files, and (for admins) the decision form.

Every address answers 404 to anyone but the contract's two organisations and admins (visibility.get_dispute), and
403 to whoever may see it but not do this (service.WrongSide).
"""

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.contracts.deadlines import lab_decides_by, silence_accepted
from marketplace.disputes import service
from marketplace.disputes.forms import OpenDisputeForm, StatementForm, WithdrawForm
from marketplace.disputes.pages import act_on_dispute, attempt, page_response
from marketplace.downloads import send_private_file
from marketplace.extensions import db
from marketplace.guards import org_role_required

bp = Blueprint("disputes", __name__)


def evidence_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "disputes"


def deadlines() -> service.Deadlines:
    config = current_app.config
    return service.Deadlines(int(config.get("DISPUTE_RESPONSE_DAYS", 7)), int(config.get("DISPUTE_EVIDENCE_DAYS", 14)))


@bp.app_template_global()
def milestone_disputes(contract, milestones) -> service.ContractDisputes:
    """The contract's disputes the signed-in user may see, and where its side may open one (for the contract's page)."""
    return service.disputes_of_contract(db.session, current_user, contract, milestones)


@bp.app_template_global()
def delivery_deadline(delivery):
    """When a waiting delivery's payment is released if the lab stays silent (for the contract's page)."""
    return lab_decides_by(delivery)


@bp.app_template_global()
def delivery_deadline_passed(delivery) -> bool:
    """Whether the lab's time to decide on a waiting delivery has ended (its silence accepted it)."""
    return silence_accepted(delivery)


def _uploads(form) -> list[service.Upload]:
    return [
        service.Upload(f.filename or "", f.mimetype or "", f.read())
        for f in (form.files.data or [])
        if f and f.filename
    ]


@bp.route("/contracts/<int:contract_id>/milestones/<int:milestone_id>/dispute", methods=["GET", "POST"])
@login_required
@org_role_required(OrgRole.MANAGER, "open disputes", methods=frozenset({"POST"}))
def open_dispute(contract_id: int, milestone_id: int):
    """Either side opens a dispute on a milestone whose money the platform holds: the money freezes."""
    try:
        preview = service.open_preview(db.session, current_user, contract_id, milestone_id, deadlines())
    except service.WrongSide:
        abort(403)
    form = OpenDisputeForm()
    status = 403 if preview.refusal else 200
    if form.is_submitted():
        status = 400
        opened = attempt(
            form,
            lambda: (
                service.open_dispute(
                    db.session,
                    current_user,
                    contract_id,
                    milestone_id,
                    form.reason.data,
                    _uploads(form),
                    evidence_folder(),
                    deadlines=deadlines(),
                ).id
            ),
            "Dispute opened: the milestone's money is frozen until an admin decides.",
        )
        if opened:
            return opened
    return render_template("disputes/open.html", preview=preview, form=form), status


@bp.get("/disputes/<int:dispute_id>")
@login_required
def show(dispute_id: int):
    """A dispute: what each side says, its files, its deadlines, and the decision. 404 for strangers."""
    return page_response(dispute_id)


@bp.post("/disputes/<int:dispute_id>/statements")
@login_required
@org_role_required(OrgRole.MANAGER, "speak for your organisation in a dispute")
def add_statement(dispute_id: int):
    """One side adds a statement and files while the evidence is open."""
    form = StatementForm()
    return act_on_dispute(
        dispute_id,
        form,
        lambda: service.add_statement(
            db.session, current_user, dispute_id, form.body.data, _uploads(form), evidence_folder()
        ),
        "Statement added. The other side is told.",
        "statement_form",
    )


@bp.post("/disputes/<int:dispute_id>/withdraw")
@login_required
@org_role_required(OrgRole.MANAGER, "withdraw disputes")
def withdraw(dispute_id: int):
    """The side that opened the dispute withdraws it: the money unfreezes, the milestone is as it was."""
    form = WithdrawForm()
    return act_on_dispute(
        dispute_id,
        form,
        lambda: service.withdraw_dispute(db.session, current_user, dispute_id, form.reason.data),
        "Dispute withdrawn: the milestone's money is no longer frozen. The other side is told.",
        "withdraw_form",
    )


@bp.get("/disputes/<int:dispute_id>/files/<int:file_id>")
@login_required
def evidence_file(dispute_id: int, file_id: int):
    """Download a file added to the dispute. 404 to anyone but the two organisations and admins."""
    found = service.get_dispute_file(db.session, current_user, dispute_id, file_id)
    return send_private_file(
        evidence_folder(), found.stored_name, filename=found.filename, content_type=found.content_type
    )
