"""Awards that wait for a lab's approver: asked for by a user who is not one when the total is above the lab's
amount (accounts.teams.award_needs_approval), then approved (the award is made, by the approver) or declined (with
a reason). Each step is audit-logged and notifies the other side of the lab; the vendor learns only of an award.
"""

from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, User
from marketplace.accounts.suspension import ensure_active
from marketplace.accounts.teams import approvers_of
from marketplace.audit.service import record_event
from marketplace.bids import service
from marketplace.bids.models import AwardRequest, AwardRequestStatus, Bid
from marketplace.contracts.models import Contract
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job
from marketplace.locking import lock_row
from marketplace.money import format_money
from marketplace.notifications.service import notify_users

APPROVALS_LINK = "/approvals"


class ApprovalError(service.BidError):
    """An approval or a decline that cannot be made."""


def award_or_request(session: Session, user: User, job_id: int, bid_id: int) -> Contract | AwardRequest:
    """Award the bid (service.award_bid) or, when the award needs an approver, ask the lab's approvers for it.

    Raises NotVisible (404) and BidError as award_bid does, and BidError while an award of the job awaits an approver
    (no other award of it is made meanwhile).
    """
    job = visibility.get_own_job(session, user, job_id)
    # While one award of the job waits, no other is made or asked for: the approver decides first.
    if pending_for_job(session, job.id) is not None:
        raise service.BidError("An award of this job already awaits an approver: it can be asked for once.")
    try:
        return service.award_bid(session, user, job_id, bid_id)
    except service.ApprovalNeeded:
        pass
    bid = cast(Bid, session.get(Bid, bid_id))
    request = AwardRequest(
        job_id=job.id,
        bid_id=bid.id,
        buyer_org_id=job.buyer_org_id,
        requested_by_id=user.id,
        total_minor=bid.total_minor,
        currency=bid.currency,
    )
    session.add(request)
    session.flush()
    total = format_money(bid.total_minor, bid.currency)
    record_event(
        session,
        user,
        "award.approval_requested",
        "job",
        job.id,
        after={"request_id": request.id, "bid_id": bid.id, "total": total},
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
    )
    notify_users(
        session,
        [approver for approver in approvers_of(session, job.buyer_org_id) if approver.id != user.id],
        "award_approval",
        f"{user.name} asks you to approve the award of “{job.title}” for {total}.",
        APPROVALS_LINK,
        job_id=job.id,
    )
    return request


def pending_for_job(session: Session, job_id: int) -> AwardRequest | None:
    return session.execute(
        select(AwardRequest).where(
            col(AwardRequest.job_id) == job_id, col(AwardRequest.status) == AwardRequestStatus.PENDING
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class PendingAward:
    request: AwardRequest
    job: Job
    vendor: Organization
    requested_by: User


def pending_awards(session: Session, user: User) -> list[PendingAward]:
    """The awards of the user's lab that wait for an approver, oldest first; empty for anyone but its approvers."""
    if not user.approver or user.org_id is None:
        return []
    rows = session.execute(
        select(AwardRequest, Job, Organization, User)
        .join(Job, col(Job.id) == col(AwardRequest.job_id))
        .join(Bid, col(Bid.id) == col(AwardRequest.bid_id))
        .join(Organization, col(Organization.id) == col(Bid.vendor_org_id))
        .join(User, col(User.id) == col(AwardRequest.requested_by_id))
        .where(col(AwardRequest.buyer_org_id) == user.org_id, col(AwardRequest.status) == AwardRequestStatus.PENDING)
        .order_by(col(AwardRequest.id))
    ).all()
    return [PendingAward(*row) for row in rows]


def _pending_request(session: Session, approver: User, request_id: int) -> AwardRequest:
    """The lab's pending request, locked, for an approver. NotVisible (404) for another lab's request or a user
    who is no approver; ApprovalError once it is decided."""
    ensure_active(session, approver, "approve awards")
    request = session.get(AwardRequest, request_id)
    if request is None or request.buyer_org_id != approver.org_id or not approver.approver:
        raise visibility.NotVisible(f"award request {request_id}")
    request = cast(AwardRequest, lock_row(session, AwardRequest, request_id))
    if request.status != AwardRequestStatus.PENDING:
        raise ApprovalError(f"This award was {AwardRequestStatus(request.status).value} already.")
    return request


def approve(session: Session, approver: User, request_id: int) -> Contract:
    """Approve a pending award: the approver awards the bid (every check of award_bid runs again), and whoever
    asked is told. ApprovalError when the bid changed since it was asked for, or the award cannot be made now."""
    request = _pending_request(session, approver, request_id)
    bid = cast(Bid, session.get(Bid, request.bid_id))
    if (bid.total_minor, bid.currency) != (request.total_minor, request.currency):
        raise ApprovalError("The bid changed since this award was asked for: decline it and ask again.")
    contract = service.award_bid(session, approver, request.job_id, request.bid_id)
    request.status, request.decided_by_id, request.decided_at = AwardRequestStatus.APPROVED, approver.id, utcnow()
    _record_decision(session, approver, request, "award.approved", {"contract_id": contract.id})
    return contract


def decline(session: Session, approver: User, request_id: int, reason: str) -> AwardRequest:
    """Decline a pending award, saying why: nothing is awarded, whoever asked is told the reason."""
    reason = reason.strip()
    if not reason:
        raise ApprovalError("Say why you decline, for your colleague who asked.", "reason")
    request = _pending_request(session, approver, request_id)
    request.status, request.decided_by_id, request.decided_at = AwardRequestStatus.DECLINED, approver.id, utcnow()
    request.reason = reason[:1000]
    _record_decision(session, approver, request, "award.declined", {"reason": request.reason})
    return request


def _record_decision(session: Session, approver: User, request: AwardRequest, action: str, after: dict) -> None:
    job = cast(Job, session.get(Job, request.job_id))
    bid = cast(Bid, session.get(Bid, request.bid_id))
    record_event(
        session,
        approver,
        action,
        "job",
        job.id,
        before={"request_id": request.id, "requested_by": request.requested_by_id},
        after={**after, "bid_id": bid.id, "total": format_money(request.total_minor, request.currency)},
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
    )
    asked_by = cast(User, session.get(User, request.requested_by_id))
    verdict = "approved" if request.status == AwardRequestStatus.APPROVED else f"declined: {request.reason}"
    notify_users(
        session,
        [asked_by],
        "award_decision",
        f"{approver.name} {verdict} (the award of “{job.title}”).",
        f"/jobs/{job.id}/bids",
        job_id=job.id,
    )
