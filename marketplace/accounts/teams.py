"""The owner's part of a team: roles, approvers, removing members, handing over ownership, the lab's approval
amount. Every change is audit-logged; removing a member ends its sessions in the same transaction.

Each function raises TeamError (a refusal the page shows) or RoleTooLow (403) and never commits.
"""

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts import sessions
from marketplace.accounts.models import Organization, OrgKind, OrgRole, User
from marketplace.accounts.org_roles import ensure_org_role
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import Refusal
from marketplace.jobs.models import CURRENCIES
from marketplace.locking import lock_row
from marketplace.money import format_money
from marketplace.notifications.service import notify_users


class TeamError(Refusal):
    """A change to the team that cannot be made, said so that the owner knows what to do instead."""


def active_members(session: Session, org_id: int) -> list[User]:
    """The organisation's users who have not been removed, owner first, then by name."""
    users = session.execute(
        select(User).where(col(User.org_id) == org_id, col(User.removed_at).is_(None)).order_by(col(User.name))
    ).scalars()
    return sorted(users, key=lambda user: user.org_role != OrgRole.OWNER)


def approvers_of(session: Session, org_id: int) -> list[User]:
    """The lab's users whose approval an award above its amount needs."""
    return [user for user in active_members(session, org_id) if user.approver]


def _owner_and_org(session: Session, owner: User, action: str) -> Organization:
    ensure_org_role(owner, OrgRole.OWNER, action)
    # Under the organisation's lock: two changes to one team at once (two transfers) take turns.
    return cast(Organization, lock_row(session, Organization, cast(int, owner.org_id)))


def _colleague(session: Session, org: Organization, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.org_id != org.id or user.removed_at is not None:
        raise TeamError("There is no such member of your organisation.")
    return user


def change_role(session: Session, owner: User, member_id: int, role: OrgRole, approver: bool) -> User:
    """Make a member a manager or a member, and (in a lab) an approver or not. The owner's own role changes only
    by handing ownership over."""
    org = _owner_and_org(session, owner, "change roles")
    member = _colleague(session, org, member_id)
    if role == OrgRole.OWNER:
        raise TeamError("There is one owner: hand ownership over instead.", "role")
    if member.id == owner.id and role != OrgRole.OWNER:
        raise TeamError("You are the owner: hand ownership to a colleague before you change your own role.", "role")
    if approver and org.kind != OrgKind.BUYER:
        raise TeamError("Approvers approve a lab's awards: a vendor has none.", "approver")
    if member.approver and not approver and _last_approver(session, org, member):
        raise TeamError(
            f"{member.name} is your lab's last approver: name another approver, or remove the amount first.",
            "approver",
        )
    before = {"role": OrgRole(member.org_role).value, "approver": member.approver}
    if member.id != owner.id:
        member.org_role = role
    member.approver = approver
    record_event(
        session,
        owner,
        "user.role_changed",
        "user",
        member.id,
        before=before,
        after={"role": OrgRole(member.org_role).value, "approver": member.approver},
        **org.audit_sides,
    )
    return member


def remove_member(session: Session, owner: User, member_id: int) -> User:
    """Remove a colleague: it can sign in no more, and every session of it ends now (its next request is signed
    out). The owner cannot remove itself."""
    org = _owner_and_org(session, owner, "remove members")
    member = _colleague(session, org, member_id)
    if member.id == owner.id:
        raise TeamError("You are the owner: hand ownership to a colleague before you leave.")
    _remove(session, owner, org, member)
    return member


def leave(session: Session, user: User) -> None:
    """Leave one's organisation: the owner must hand ownership over first, so that the team keeps one."""
    org = cast(Organization, lock_row(session, Organization, cast(int, user.org_id)))
    if user.org_role == OrgRole.OWNER:
        raise TeamError(f"You are the owner of {org.name}: hand ownership to a colleague before you leave.")
    _remove(session, user, org, user)


def _last_approver(session: Session, org: Organization, member: User) -> bool:
    """Whether the lab sets an amount and `member` is the only one who could approve above it."""
    return org.award_approval_above_minor is not None and [u.id for u in approvers_of(session, org.id)] == [member.id]


def _remove(session: Session, actor: User, org: Organization, member: User) -> None:
    if _last_approver(session, org, member):
        raise TeamError(
            f"{member.name} is your lab's last approver: name another approver, or remove the amount first."
        )
    member.removed_at = utcnow()
    member.approver = False
    member.session_version += 1  # every copy of its cookie stops working, and the sessions' rows end too
    sessions.end_all_sessions(session, member)
    record_event(
        session,
        actor,
        "user.left" if actor.id == member.id else "user.removed",
        "user",
        member.id,
        before={"role": OrgRole(member.org_role).value},
        after={"removed": True},
        **org.audit_sides,
    )


def transfer_ownership(session: Session, owner: User, new_owner_id: int) -> User:
    """Hand ownership to a colleague, who becomes the one owner; the former owner becomes a manager."""
    org = _owner_and_org(session, owner, "hand ownership over")
    session.refresh(owner)  # under the lock: a transfer made meanwhile is seen
    ensure_org_role(owner, OrgRole.OWNER, "hand ownership over")
    new_owner = _colleague(session, org, new_owner_id)
    if new_owner.id == owner.id:
        raise TeamError("You are the owner already: choose a colleague.", "new_owner")
    owner.org_role, new_owner.org_role = OrgRole.MANAGER, OrgRole.OWNER
    record_event(
        session,
        owner,
        "organization.ownership_transferred",
        "organization",
        org.id,
        before={"owner": owner.id},
        after={"owner": new_owner.id},
        **org.audit_sides,
    )
    notify_users(session, [new_owner], "ownership", f"{owner.name} made you the owner of {org.name}.", "/team")
    return new_owner


def set_approval_amount(session: Session, owner: User, amount_minor: int | None, currency: str) -> Organization:
    """Set (or clear, with None) the total above which a lab's award waits for an approver."""
    org = _owner_and_org(session, owner, "change the approval amount")
    if org.kind != OrgKind.BUYER:
        raise TeamError("Only a lab's awards need approval.")
    if currency not in CURRENCIES:
        raise TeamError("Choose one of the listed currencies.", "currency")
    if amount_minor is not None and amount_minor < 0:
        raise TeamError("Give an amount of zero or more.", "amount")
    if amount_minor is not None and not approvers_of(session, org.id):
        raise TeamError("Name an approver first (on the member's row): nobody could approve an award.", "amount")
    before = _amount_words(org)
    org.award_approval_above_minor, org.award_approval_currency = amount_minor, currency
    record_event(
        session,
        owner,
        "organization.approval_amount_set",
        "organization",
        org.id,
        before={"above": before},
        after={"above": _amount_words(org)},
        **org.audit_sides,
    )
    return org


def _amount_words(org: Organization) -> str | None:
    if org.award_approval_above_minor is None:
        return None
    return format_money(org.award_approval_above_minor, org.award_approval_currency)


def award_needs_approval(org: Organization, user: User, total_minor: int, currency: str) -> bool:
    """Whether this award by this user waits for an approver: above the lab's amount, by a user who is not one.
    An award in another currency than the amount's waits too (no exchange rate decides it)."""
    if org.award_approval_above_minor is None or user.approver:
        return False
    return currency != org.award_approval_currency or total_minor > org.award_approval_above_minor
