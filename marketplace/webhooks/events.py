"""Emitting events to a lab's endpoints: one delivery row per subscribed endpoint, in the changing transaction.

`emit` is called beside the notification each event already sends (bids, jobs, contracts, disputes, screening),
so the same change writes both or, rolled back, neither: a bid that was never placed calls nobody. Each payload
builder below says what the lab is told, and it is no more than the lab's own pages show it.
"""

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import tasks, visibility
from marketplace.accounts.models import Organization
from marketplace.bids.models import Bid
from marketplace.contracts.models import Contract, Delivery, Milestone
from marketplace.db_types import utcnow
from marketplace.disputes.models import Dispute
from marketplace.jobs.models import Job, JobStatus, Question
from marketplace.locking import lock_row
from marketplace.webhooks.models import (
    DeadlineAnnounced,
    EventType,
    OutgoingEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

DELIVER_TASK = "marketplace.webhooks.tasks.deliver"


def new_uid(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def subscribed(session: Session, org_id: int, event_type: EventType) -> list[WebhookEndpoint]:
    """The organisation's enabled endpoints that asked for this event."""
    endpoints = session.execute(
        select(WebhookEndpoint).where(col(WebhookEndpoint.org_id) == org_id, col(WebhookEndpoint.enabled).is_(True))
    ).scalars()
    return [endpoint for endpoint in endpoints if event_type.value in endpoint.events]


def emit(session: Session, org_id: int, event_type: EventType, data: dict[str, Any]) -> OutgoingEvent | None:
    """Record the event and a delivery due now for each endpoint of the organisation subscribed to it, in the
    caller's transaction; with the task queue, each delivery is queued once that transaction commits. None (and
    nothing written) when no endpoint wants it."""
    endpoints = subscribed(session, org_id, event_type)
    if not endpoints:
        return None
    now = utcnow()
    uid = new_uid("evt")
    body = json.dumps(
        {"id": uid, "type": event_type.value, "created": now.isoformat(timespec="seconds"), "data": data},
        sort_keys=True,
        default=str,
    )
    event = OutgoingEvent(uid=uid, org_id=org_id, event_type=event_type.value, body=body, created_at=now)
    session.add(event)
    session.flush()
    deliveries = [
        WebhookDelivery(uid=new_uid("dlv"), event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=now)
        for endpoint in endpoints
    ]
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        queue_after_commit(session, delivery)
    return event


def queue_after_commit(session: Session, delivery: WebhookDelivery) -> None:
    """With the task queue, send the delivery's next attempt once the transaction commits (nothing if it rolls
    back); without it, `flask webhooks deliver` sends what is due."""
    if tasks.configured():
        tasks.enqueue_after_commit(
            session,
            DELIVER_TASK,
            delivery.id,
            job_id=tasks.job_id("webhook", f"{delivery.id}-{delivery.attempts + 1}"),
            description=f"webhook delivery {delivery.uid}",
        )


# --- what each event tells the lab --------------------------------------------------------------------------------


def _job(job: Job) -> dict[str, Any]:
    return {"id": job.id, "title": job.title, "path": f"/jobs/{job.id}"}


def bid_received(session: Session, job: Job, bid: Bid, vendor: Organization) -> None:
    """A bid (or a bid again after a withdrawal) on the lab's job: the vendor's name, as the lab's notification says
    it, and the amounts only where the lab's comparison shows them (never a sealed bid's before the deadline)."""
    data: dict[str, Any] = {
        "job": _job(job),
        "bid": {"id": bid.id, "vendor": {"id": vendor.id, "name": vendor.name}, "revision": bid.revision},
    }
    if visibility.bid_amounts_visible(job):
        data["bid"].update(
            total_minor=bid.total_minor,
            price_per_unit_minor=bid.price_per_unit_minor,
            currency=bid.currency,
            turnaround_days=bid.turnaround_days,
        )
    else:
        data["bid"]["sealed_until"] = visibility.sealed_until(job)
    emit(session, job.buyer_org_id, EventType.BID_RECEIVED, data)


def question_asked(session: Session, job: Job, question: Question) -> None:
    """A vendor's question on the lab's job: its text, never who asked (as the lab's page shows it)."""
    data = {"job": _job(job), "question": {"id": question.id, "text": question.text}}
    emit(session, job.buyer_org_id, EventType.QUESTION_ASKED, data)


def delivery_made(session: Session, contract: Contract, milestone: Milestone, delivery: Delivery) -> None:
    """The vendor delivered a milestone of the lab's contract."""
    data = {
        "contract": {"id": contract.id, "path": f"/contracts/{contract.id}"},
        "milestone": {"id": milestone.id, "title": milestone.title},
        "delivery": {"id": delivery.id},
        "vendor": {"id": contract.vendor_org_id},
    }
    emit(session, contract.buyer_org_id, EventType.DELIVERY_MADE, data)


def _dispute_data(contract: Contract, dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute": {"id": dispute.id, "path": f"/disputes/{dispute.id}", "opened_by": dispute.opened_by_side},
        "contract": {"id": contract.id, "path": f"/contracts/{contract.id}"},
        "milestone": {"id": dispute.milestone_id},
        "held": {"amount_minor": int(dispute.held_minor), "currency": dispute.currency},  # PostgreSQL sums: Decimal
    }


def dispute_opened(session: Session, contract: Contract, dispute: Dispute) -> None:
    """A dispute on the lab's contract, opened by either side (the lab's own included: its tools hear of it too)."""
    emit(session, contract.buyer_org_id, EventType.DISPUTE_OPENED, _dispute_data(contract, dispute))


def dispute_withdrawn(session: Session, contract: Contract, dispute: Dispute) -> None:
    """A dispute on the lab's contract withdrawn by the side that opened it: the money is no longer frozen, and the
    milestone is back in the state named (the reason is on the dispute's page)."""
    data = _dispute_data(contract, dispute)
    data["milestone"]["status"] = dispute.milestone_status_before
    emit(session, contract.buyer_org_id, EventType.DISPUTE_WITHDRAWN, data)


def verdict_changed(
    session: Session, buyer_org_id: int, vendor: Organization, before: str, after: str, rules: list[str]
) -> None:
    """A vendor's verdict for the lab changed: the vendor as the lab's vendor search shows it, the two verdicts and
    the rules that found something. No figure, route, party or source: the lab reads those on the screening page,
    signed in. A vendor the lab may not know of (visibility.vendor_known_to_lab) is never named: nothing is sent."""
    if not visibility.vendor_known_to_lab(vendor):
        return
    data = {
        "vendor": {"id": vendor.id, "name": vendor.name, "path": f"/vendors/{vendor.id}/screening"},
        "verdict": {"before": before, "after": after},
        "rules": sorted(set(rules)),
    }
    emit(session, buyer_org_id, EventType.VERDICT_CHANGED, data)


def announce_deadlines(session: Session, now: datetime | None = None) -> int:
    """Emit `job.deadline_passed` for each open job whose deadline has passed since an endpoint of its lab asked
    for the event, once per job (the sweep runs every minute on the queue, and with `flask webhooks deliver`).
    The caller commits. Returns how many were emitted."""
    now = now or utcnow()
    endpoints = session.execute(select(WebhookEndpoint).where(col(WebhookEndpoint.enabled).is_(True))).scalars()
    since: dict[int, datetime] = {}
    for endpoint in endpoints:
        if EventType.DEADLINE_PASSED.value in endpoint.events:
            since[endpoint.org_id] = min(since.get(endpoint.org_id, endpoint.created_at), endpoint.created_at)
    emitted = 0
    for org_id, start in sorted(since.items()):
        jobs = session.execute(
            select(col(Job.id))
            .outerjoin(DeadlineAnnounced, col(DeadlineAnnounced.job_id) == Job.id)
            .where(
                col(Job.buyer_org_id) == org_id,
                col(Job.status) == JobStatus.OPEN,
                col(Job.bid_deadline) <= now,
                col(Job.bid_deadline) >= start,
                col(DeadlineAnnounced.job_id).is_(None),
            )
            .order_by(col(Job.id))
        ).scalars()
        for job_id in list(jobs):
            job = lock_row(session, Job, job_id)  # two sweeps at once: the second waits, then finds it announced
            if job is None or session.get(DeadlineAnnounced, job_id) is not None:
                continue
            session.add(DeadlineAnnounced(job_id=job_id, announced_at=now))
            data = {"job": {**_job(job), "bid_deadline": job.bid_deadline.isoformat()}}
            emit(session, org_id, EventType.DEADLINE_PASSED, data)
            emitted += 1
    session.flush()
    return emitted
