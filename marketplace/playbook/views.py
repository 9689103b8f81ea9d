"""The playbook's pages: the lab's defaults, each contract's playbook (grants, settling, going on, the vendor's
attestation), and the admins' list of overdue attestations.

Every contract address answers 404 to anyone whose organisation is not a party to the contract, and 403 to the side
or role whose action it is not."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.payments.configured import current_gateway, fee_bps
from marketplace.playbook import service
from marketplace.playbook.forms import AttestForm, GoOnForm, GrantForm, PlaybookForm

bp = Blueprint("playbook", __name__)


@bp.app_template_global()
def contract_playbook(contract):
    """The contract's playbook, for the contract page's box (the page has checked the user may see the contract)."""
    return service.playbook_of(db.session, contract, keep=False)


def _page_url(contract_id: int) -> str:
    return url_for("playbook.show", contract_id=contract_id)


def _render(contract_id: int, status: int = 200, **forms):
    page = service.playbook_page(db.session, current_user, contract_id)
    playbook = page.playbook
    forms.setdefault("playbook_form", PlaybookForm(formdata=None, obj=playbook))
    forms.setdefault("grant_form", GrantForm(formdata=None))
    forms.setdefault("go_on_form", GoOnForm(formdata=None))
    forms.setdefault("attest_form", AttestForm(formdata=None))
    forms.setdefault("percents", {share.milestone.id: share.percent for share in page.shares})
    forms.setdefault("percent_errors", {})
    return render_template("playbook/show.html", page=page, **forms), status


def _refused(contract_id: int, form, error: service.PlaybookError, form_name: str):
    db.session.rollback()
    if isinstance(error, service.WrongSide):
        abort(403)
    if not error.field or error.field not in form:  # about the contract, not a field: said above the page
        return _render(contract_id, 400, error=str(error), **{form_name: form})
    form[error.field].errors = [*form[error.field].errors, str(error)]
    return _render(contract_id, 400, **{form_name: form})


def _done(contract_id: int, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(_page_url(contract_id), 303)


@bp.get("/contracts/<int:contract_id>/playbook")
@login_required
def show(contract_id: int):
    """The contract's playbook as each side may know it: the lab's grants and choices; the vendor's duties."""
    return _render(contract_id)


@bp.post("/contracts/<int:contract_id>/playbook")
@login_required
@org_role_required(OrgRole.MANAGER, "change a contract's playbook")
def change(contract_id: int):
    form = PlaybookForm()
    if not form.validate_on_submit():
        return _render(contract_id, 400, playbook_form=form)
    try:
        service.set_contract_playbook(
            db.session, current_user, contract_id, wind_down=form.wind_down.data, deletion_days=form.deletion_days.data
        )
    except service.PlaybookError as error:
        return _refused(contract_id, form, error, "playbook_form")
    return _done(contract_id, "The contract's playbook is saved.")


@bp.post("/contracts/<int:contract_id>/grants")
@login_required
@org_role_required(OrgRole.MANAGER, "give data access")
def grant(contract_id: int):
    form = GrantForm()
    if not form.validate_on_submit():
        return _render(contract_id, 400, grant_form=form)
    try:
        made = service.issue_grant(
            db.session,
            current_user,
            contract_id,
            resource=form.resource.data or "",
            access=form.access.data or "",
            days=form.days.data,
        )
    except service.PlaybookError as error:
        return _refused(contract_id, form, error, "grant_form")
    return _done(
        contract_id, f"Access to {made.resource} is given until {made.expires_on.isoformat()}; your storage is told."
    )


@bp.post("/contracts/<int:contract_id>/grants/<int:grant_id>/revoke")
@login_required
@org_role_required(OrgRole.MANAGER, "revoke data access")
def revoke(contract_id: int, grant_id: int):
    try:
        revoked = service.revoke_grant(db.session, current_user, contract_id, grant_id)
    except service.WrongSide:
        abort(403)
    except service.PlaybookError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_page_url(contract_id), 303)
    return _done(contract_id, f"Access to {revoked.resource} is revoked; your storage is told.")


@bp.post("/contracts/<int:contract_id>/playbook/go-on")
@login_required
@org_role_required(OrgRole.MANAGER, "go on with contracts")
def go_on(contract_id: int):
    form = GoOnForm()
    if not form.validate_on_submit():
        return _render(contract_id, 400, go_on_form=form)
    try:
        service.go_on(db.session, current_user, contract_id, form.reason.data or "")
    except service.PlaybookError as error:
        return _refused(contract_id, form, error, "go_on_form")
    return _done(contract_id, "The contract goes on; your reason is in the audit trail.")


@bp.post("/contracts/<int:contract_id>/playbook/settle")
@login_required
@org_role_required(OrgRole.MANAGER, "settle contracts")
def settle(contract_id: int):
    percents: dict[int, int | None] = {}
    for key, value in request.form.items():
        if key.startswith("percent_") and key[8:].isdigit():
            text = value.strip()
            percents[int(key[8:])] = int(text) if text.isdigit() and len(text) <= 3 else None
    try:
        service.settle(db.session, current_user, current_gateway(), contract_id, percents, fee_bps=fee_bps())
    except service.WrongSide:
        abort(403)
    except service.PlaybookError as error:
        db.session.rollback()
        given = {key: request.form.get(f"percent_{key}", "") for key in percents}
        return _render(
            contract_id,
            400,
            percents=given,
            percent_errors={error.field or "settle": str(error)},
        )
    return _done(contract_id, "Settled: the vendor is paid for the work done and the rest is refunded to you.")


@bp.post("/contracts/<int:contract_id>/playbook/attest")
@login_required
@org_role_required(OrgRole.MANAGER, "attest a deletion for your organisation")
def attest(contract_id: int):
    form = AttestForm()
    if not form.validate_on_submit():
        service.playbook_page(db.session, current_user, contract_id)  # 404 for strangers before any form error
        return _render(contract_id, 400, attest_form=form)
    try:
        service.attest(
            db.session,
            current_user,
            contract_id,
            officer_name=form.officer_name.data or "",
            officer_title=form.officer_title.data or "",
            deleted_on=form.deleted_on.data,
            details=form.details.data or "",
            confirmed=bool(form.confirmed.data),
        )
    except service.PlaybookError as error:
        return _refused(contract_id, form, error, "attest_form")
    return _done(contract_id, "Your attestation is recorded, and the lab is told.")


@bp.route("/playbook/settings", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "change the playbook's defaults")
def settings():
    """The lab's playbook for new contracts, and its storage's address and signing secret."""
    defaults = service.lab_defaults(db.session, current_user.org_id)
    form = PlaybookForm(obj=defaults)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                service.save_defaults(
                    db.session, current_user, wind_down=form.wind_down.data, deletion_days=form.deletion_days.data
                )
            except service.PlaybookError as error:
                db.session.rollback()
                form[error.field or "deletion_days"].errors = [str(error)]
            else:
                db.session.commit()
                flash("Your playbook's defaults are saved: new contracts get them.", "success")
                return redirect(url_for("playbook.settings"), 303)
        status = 400
    else:
        status = 200
    storage = service.storage_ready(db.session, current_user.org_id)
    return render_template("playbook/settings.html", form=form, storage_ready=storage), status


@bp.get("/admin/playbooks")
@login_required
@role_required("admin")
def overdue():
    """Wind-downs whose vendor has not attested the deletion by its deadline."""
    return render_template("playbook/overdue.html", rows=service.overdue_attestations(db.session, current_user))
