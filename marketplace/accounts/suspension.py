"""Suspending and reinstating organisations, and the one check every acting service makes.

A suspended organisation's users can still sign in and read (to learn why), but cannot act: every service that
acts calls `ensure_active` first. Its open bids leave the buyers' views (marketplace.visibility), and come back
when it is reinstated: nothing about the bids themselves changes.
"""

import math
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.audit.models import AuditRecord
from marketplace.audit.service import record_event
from marketplace.bids.models import Bid, BidStatus
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.jobs.models import Job
from marketplace.locking import lock_row
from marketplace.notifications.service import notify_org, notify_users

REASON_LIMIT = 1000
PER_PAGE = 50
SUSPENSION_FILTERS = ("", "suspended", "active")


class OrganizationSuspended(ValueError):
    """The acting user's organisation is suspended; the message names the reason."""

    field = None


class SuspensionError(Refusal):
    """An admin's suspend or reinstate refused; `field` names the form field it belongs to."""


def _sentence(reason: str) -> str:
    """The reason as a sentence, so that the words after it read right."""
    reason = reason.strip()
    return reason if reason.endswith((".", "!", "?")) else reason + "."


def suspension_notice(session: Session, user: User | None) -> str | None:
    """What the user's organisation must be told on every page while it is suspended, or None."""
    if user is None or getattr(user, "org_id", None) is None:
        return None
    org = session.get(Organization, user.org_id)
    if org is None or org.suspended_at is None:
        return None
    return (
        f"{org.name} is suspended by the platform: {_sentence(org.suspended_reason)} "
        "Until an admin reinstates it, you can read but not act."
    )


def ensure_active(session: Session, user: User | None, action: str = "act") -> None:
    """Refuse anything a user of a suspended organisation tries to do; admins belong to none and pass.

    Raises OrganizationSuspended, whose message names the reason, e.g. action="place bids".
    """
    if user is None or getattr(user, "org_id", None) is None:
        return
    org = session.get(Organization, user.org_id)
    if org is not None and org.suspended_at is not None:
        raise OrganizationSuspended(
            f"{org.name} is suspended, so you cannot {action}. Reason given by the platform: "
            f"{_sentence(org.suspended_reason)} Until an admin reinstates it, you can read but not act."
        )


# What every state-changing request of a suspended organisation's user is refused as (accounts.suspension_views), and
# so also the page that asks to confirm such an action: it answers as the action would.
ANY_ACTION = "act on the marketplace"


def ensure_may_act(session: Session, user: User | None) -> None:
    """The guard of every action, also run by the pages that confirm one. Raises OrganizationSuspended."""
    ensure_active(session, user, ANY_ACTION)


def _get_org(session: Session, org_id: int) -> Organization:
    # Read again under a lock, replacing the copy the view loaded: two admins acting at once take turns, and the
    # second sees what the first did.
    org = lock_row(session, Organization, org_id)
    if org is None:
        raise NotVisible(f"organization {org_id}")
    return org


def _tell_buyers_of_open_bids(session: Session, vendor: Organization, suspended: bool) -> None:
    """Buyers whose comparison loses (or regains) the vendor's open bids are told; the reason stays private."""
    rows = session.execute(
        select(col(Job.buyer_org_id), col(Job.id), col(Job.title))
        .join(Bid, col(Bid.job_id) == Job.id)
        .where(col(Bid.vendor_org_id) == vendor.id, col(Bid.status) == BidStatus.ACTIVE)
        .order_by(col(Job.id))
    ).all()
    for buyer_org_id, job_id, title in rows:
        if suspended:
            message = (
                f"{vendor.name} is suspended from the marketplace: its bid on “{title}” leaves your "
                "comparison until it is reinstated."
            )
        else:
            message = f"{vendor.name} is reinstated: its bid on “{title}” is back in your comparison."
        notify_org(session, buyer_org_id, "vendor_suspension", message, f"/jobs/{job_id}/bids", job_id=job_id)


def suspend_organization(session: Session, admin: User, org_id: int, reason: str) -> Organization:
    """Suspend an organisation with a reason its users are told.

    Raises NotVisible (404) for an unknown organisation, SuspensionError when refused.
    """
    if not admin.is_admin:
        raise SuspensionError("Only platform admins suspend organisations.")
    org = _get_org(session, org_id)
    reason = (reason or "").strip()
    if not reason:
        raise SuspensionError("Give the reason: the organisation's users are told it.", "reason")
    if len(reason) > REASON_LIMIT:
        raise SuspensionError(f"Keep the reason under {REASON_LIMIT:,} characters.", "reason")
    if org.suspended_at is not None:
        raise SuspensionError(f"{org.name} is already suspended.")
    org.suspended_at = utcnow()
    org.suspended_reason = reason
    record_event(
        session,
        admin,
        "organization.suspended",
        "organization",
        org.id,
        before={"suspended": False},
        after={"suspended": True, "reason": reason},
        **org.audit_sides,
    )
    users = session.execute(select(User).where(col(User.org_id) == org.id)).scalars().all()
    notify_users(
        session,
        users,
        "organization_suspended",
        f"{org.name} is suspended by the platform. Reason: {_sentence(reason)} Until an admin reinstates it, "
        "you can read but not act.",
    )
    if org.kind == OrgKind.VENDOR:
        _tell_buyers_of_open_bids(session, org, suspended=True)
    session.flush()
    return org


def reinstate_organization(session: Session, admin: User, org_id: int) -> Organization:
    """Lift a suspension: the organisation can act again and its open bids return to the buyers' views.

    Raises NotVisible (404) for an unknown organisation, SuspensionError when it is not suspended.
    """
    if not admin.is_admin:
        raise SuspensionError("Only platform admins reinstate organisations.")
    org = _get_org(session, org_id)
    if org.suspended_at is None:
        raise SuspensionError(f"{org.name} is not suspended.")
    before = {"suspended": True, "reason": org.suspended_reason, "suspended_at": org.suspended_at.isoformat()}
    org.suspended_at = None
    org.suspended_reason = ""
    record_event(
        session,
        admin,
        "organization.reinstated",
        "organization",
        org.id,
        before=before,
        after={"suspended": False},
        **org.audit_sides,
    )
    notify_org(
        session, org.id, "organization_reinstated", f"{org.name} is reinstated: you can act on the marketplace again."
    )
    if org.kind == OrgKind.VENDOR:
        _tell_buyers_of_open_bids(session, org, suspended=False)
    session.flush()
    return org


def suspension_history(session: Session, org: Organization, limit: int = 20) -> list[AuditRecord]:
    """The organisation's suspensions and reinstatements, newest first, from the audit trail."""
    return list(
        session.execute(
            select(AuditRecord)
            .where(
                or_(col(AuditRecord.buyer_org_id) == org.id, col(AuditRecord.vendor_org_id) == org.id),
                col(AuditRecord.action).in_(("organization.suspended", "organization.reinstated")),
            )
            .order_by(col(AuditRecord.id).desc())
            .limit(limit)
        ).scalars()
    )


# --- The admins' list -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgRow:
    org: Organization
    members: int


@dataclass(frozen=True)
class OrgPage:
    rows: list[OrgRow]
    total: int
    page: int
    pages: int


def organizations_page(
    session: Session,
    admin: User,
    *,
    text: str = "",
    kind: str = "",
    suspension: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> OrgPage:
    """Organisations by name, narrowed by a name search, a kind and whether they are suspended."""
    if not admin.is_admin:
        raise SuspensionError("Only platform admins list organisations.")
    conditions = []
    if text.strip():
        conditions.append(col(Organization.name).icontains(text.strip(), autoescape=True))
    if kind in {k.value for k in OrgKind}:
        conditions.append(col(Organization.kind) == kind)
    if suspension == "suspended":
        conditions.append(col(Organization.suspended_at).is_not(None))
    elif suspension == "active":
        conditions.append(col(Organization.suspended_at).is_(None))
    total = session.execute(select(func.count(col(Organization.id))).where(*conditions)).scalar_one()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    members = select(col(User.org_id), func.count(col(User.id)).label("members")).group_by(col(User.org_id)).subquery()
    rows = session.execute(
        select(Organization, func.coalesce(members.c.members, 0))
        .outerjoin(members, members.c.org_id == Organization.id)
        .where(*conditions)
        .order_by(Organization.name, col(Organization.id))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return OrgPage([OrgRow(org, count) for org, count in rows], total, page, pages)
