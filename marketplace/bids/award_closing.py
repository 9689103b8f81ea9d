"""Awards waiting for an approver that can no longer be made: the job was cancelled, or the vendor withdrew the bid.
They are closed at once (status withdrawn, with why), so that approvers do not find them in their list and whoever
asked is told. Used by jobs.service.cancel_job and bids.service.withdraw_bid, in their transactions."""

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import User
from marketplace.audit.service import record_event
from marketplace.bids.models import AwardRequest, AwardRequestStatus
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job
from marketplace.notifications.service import notify_users


def close_waiting_awards(session: Session, actor: User | None, job: Job, why: str, *, bid_id: int | None = None) -> int:
    """Withdraw the job's pending award requests (or only the bid's), saying why; returns how many. The actor is
    the lab's user who cancelled, or None (the system) when the vendor's withdrawal closed it: the lab's trail
    names nobody of the vendor."""
    query = select(AwardRequest).where(
        col(AwardRequest.job_id) == job.id, col(AwardRequest.status) == AwardRequestStatus.PENDING
    )
    if bid_id is not None:
        query = query.where(col(AwardRequest.bid_id) == bid_id)
    closed = 0
    for request in session.execute(query.with_for_update()).scalars():
        request.status, request.decided_at, request.reason = AwardRequestStatus.WITHDRAWN, utcnow(), why
        record_event(
            session,
            actor,
            "award.request_withdrawn",
            "job",
            job.id,
            before={"request_id": request.id, "status": AwardRequestStatus.PENDING.value},
            after={"status": AwardRequestStatus.WITHDRAWN.value, "reason": why},
            buyer_org_id=job.buyer_org_id,
        )
        notify_users(
            session,
            [cast(User, session.get(User, request.requested_by_id))],
            "award_decision",
            f"The award of “{job.title}” you asked for will not be made: {why}",
            f"/jobs/{job.id}",
            job_id=job.id,
        )
        closed += 1
    return closed
