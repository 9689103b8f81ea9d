"""The owner's changes to the team (roles, approvers, removal, ownership, the approval amount), leaving a team,
and the refusal page of a role too low for an action (accounts.org_roles). The team page itself is accounts.team.
"""

from typing import cast

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user

from marketplace.accounts import teams
from marketplace.accounts.forms import InviteForm
from marketplace.accounts.models import Organization, OrgRole
from marketplace.accounts.org_roles import RoleTooLow
from marketplace.accounts.service import pending_invitations
from marketplace.accounts.team_forms import ROLE_CHOICES, ApprovalAmountForm, MemberRoleForm, TransferForm
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.money import to_major, to_minor

bp = Blueprint("teams", __name__, url_prefix="/team")


def team_page(invite_form, *, invite_link: str | None = None, amount_form: ApprovalAmountForm | None = None):
    """The team page (accounts.team): members with their roles, invitations, and the owner's forms; 400 when a form
    comes back with its errors."""
    org = cast(Organization, db.session.get(Organization, current_user.org_id))
    if amount_form is None:
        amount_form = ApprovalAmountForm(
            formdata=None,
            amount=to_major(org.award_approval_above_minor, org.award_approval_currency)
            if org.award_approval_above_minor is not None
            else "",
            currency=org.award_approval_currency,
        )
    return render_template(
        "accounts/team.html",
        form=invite_form,
        org=org,
        invite_link=invite_link,
        members=teams.active_members(db.session, org.id),
        invitations=pending_invitations(db.session, org.id),
        approvers=teams.approvers_of(db.session, org.id),
        role_choices=ROLE_CHOICES,
        amount_form=amount_form,
    ), 400 if invite_form.errors or amount_form.errors else 200


def _back(message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("accounts.team"), 303)


def _refused(error: teams.TeamError):
    # Nothing to undo: every refusal of accounts.teams comes before its change.
    return _back(str(error), "error")


def _changed(change, said):
    """Makes the team's change and says `said(what it answered)` on the team page, or says why it was refused."""
    try:
        answer = change()
    except teams.TeamError as error:
        return _refused(error)
    db.session.commit()
    return _back(said(answer))


@bp.post("/members/<int:member_id>/role")
@login_required
@role_required("buyer", "vendor")
@org_role_required(OrgRole.OWNER, "change roles")
def change_role(member_id: int):
    """Make a colleague a manager or a member, and (in a lab) an approver or not."""
    form = MemberRoleForm()
    if not form.validate_on_submit():
        return _back("Choose manager or member.", "error")
    return _changed(
        lambda: teams.change_role(db.session, current_user, member_id, OrgRole(form.role.data), form.approver.data),
        lambda member: f"{member.name} is now a {member.org_role}{' and an approver' if member.approver else ''}.",
    )


@bp.post("/members/<int:member_id>/remove")
@login_required
@role_required("buyer", "vendor")
@org_role_required(OrgRole.OWNER, "remove members")
def remove(member_id: int):
    """Remove a colleague: every session of theirs ends at once."""
    return _changed(
        lambda: teams.remove_member(db.session, current_user, member_id),
        lambda member: f"{member.name} is removed and signed out everywhere.",
    )


@bp.post("/transfer")
@login_required
@role_required("buyer", "vendor")
@org_role_required(OrgRole.OWNER, "hand ownership over")
def transfer():
    """Hand ownership to a colleague; the former owner stays on as a manager."""
    form = TransferForm()
    if not form.validate_on_submit() or not form.new_owner.data:
        return _back("Choose the colleague who becomes the owner.", "error")
    return _changed(
        lambda: teams.transfer_ownership(db.session, current_user, form.new_owner.data),
        lambda new_owner: f"{new_owner.name} is now the owner; you are a manager.",
    )


@bp.post("/leave")
@login_required
@role_required("buyer", "vendor")
def leave():
    """Leave the organisation (not its owner): this account signs in no more."""
    try:
        teams.leave(db.session, current_user)
    except teams.TeamError as error:
        return _refused(error)
    db.session.commit()
    logout_user()
    flash("You have left your organisation and are signed out.", "info")
    return redirect(url_for("accounts.sign_in"), 303)


@bp.post("/approval-amount")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.OWNER, "change the approval amount")
def approval_amount():
    """Set or clear the total above which an award waits for an approver."""
    form = ApprovalAmountForm()
    if form.validate_on_submit():
        text = (form.amount.data or "").strip()
        try:
            amount = to_minor(text, form.currency.data) if text else None
        except ValueError as error:
            form.amount.errors = [str(error)]
        else:
            try:
                teams.set_approval_amount(db.session, current_user, amount, form.currency.data)
            except teams.TeamError as error:
                show_on_form(form, error)
            else:
                db.session.commit()
                return _back("Approval amount saved." if text else "Awards no longer need approval.")
    return team_page(InviteForm(formdata=None), amount_form=form)


@bp.app_errorhandler(RoleTooLow)
def refused_for_role(error):
    """An action the user's role in its organisation does not allow: 403, naming who may (refused before any
    view ran: nothing to undo)."""
    return render_template("accounts/refused_for_role.html", message=str(error)), 403
