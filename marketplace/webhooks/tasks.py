"""Delivering webhooks, owning the transactions as a command does: from the task queue (one job per attempt,
queued when the change commits, and a sweep every minute for retries, passed deadlines and anything a lost job
left behind; once an hour it prunes old deliveries) or from `flask --app marketplace webhooks deliver` and
`flask --app marketplace webhooks prune`.

Each attempt commits its claim before the call and its outcome after, so that the lab's server never holds a
database lock, and a claimed attempt is never made twice (sending.claim).
"""

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app

from marketplace import tasks
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.webhooks import events, sending, service
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery

log = logging.getLogger(__name__)

SWEEP_TASK = "marketplace.webhooks.tasks.sweep"
SWEEP_SECONDS = 60


def settings() -> sending.Settings:
    config = current_app.config
    return sending.Settings(
        allow_private=bool(config.get("WEBHOOKS_ALLOW_PRIVATE")),
        production=config.get("ENV_NAME") == "production",
        connect_timeout=float(config.get("WEBHOOKS_CONNECT_TIMEOUT", 3)),
        read_timeout=float(config.get("WEBHOOKS_READ_TIMEOUT", 10)),
        # Set by the tests alone (a local TLS receiver's own CA): not read from the environment. Unset, the
        # system's trusted CAs; either way every certificate is verified.
        ca_file=config.get("WEBHOOKS_CA_FILE") or None,
    )


def attempt(delivery_id: int, now: datetime | None = None) -> str | None:
    """Make the delivery's next attempt if it is due and no other sender holds it; its status after, or None when
    there was nothing to do."""
    session = db.session
    config = settings()
    call = sending.claim(session, delivery_id, config, now)
    session.commit()
    if call is None:
        return None
    outcome = sending.post(call, config)
    status = sending.record(session, call, outcome, now)
    session.commit()
    log.info(
        "webhook attempt",
        extra={
            "delivery": call.delivery_uid,
            "attempt": call.number,
            "status_code": outcome.status_code,
            "outcome": status,
        },
    )
    return status


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Emit the passed deadlines, then make every attempt due now; how many attempts were made."""
    session = db.session
    events.announce_deadlines(session, now)
    session.commit()
    made = 0
    for delivery_id in sending.due_ids(session, now, limit):
        session.commit()  # end the read: each claim is its own short transaction
        if attempt(delivery_id, now) is not None:
            made += 1
    return made


def deliver(delivery_id: int) -> str | None:
    """The queue's job for one attempt; a delivery left pending books its retry at its time."""
    status = attempt(delivery_id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if status == DeliveryStatus.PENDING and delivery is not None and delivery.next_attempt_at is not None:
        tasks.enqueue_at(
            delivery.next_attempt_at,
            events.DELIVER_TASK,
            delivery_id,
            job_id=tasks.job_id("webhook", f"{delivery_id}-{delivery.attempts + 1}"),
            description=f"webhook delivery {delivery.uid}",
        )
    db.session.commit()
    return status


def prune(now: datetime | None = None) -> int:
    """Delete the delivered webhooks older than WEBHOOKS_RETENTION_DAYS; how many. Commits."""
    deleted = service.prune_deliveries(db.session, int(current_app.config.get("WEBHOOKS_RETENTION_DAYS", 90)), now)
    db.session.commit()
    return deleted


def sweep() -> int:
    """The queue's run every minute: passed deadlines, and whatever is due that no job is carrying; at the first
    sweep of each hour, the deliveries past their retention."""
    made = deliver_due()
    prune_on_the_hour()
    book_next_sweep()
    return made


def prune_on_the_hour(now: datetime | None = None) -> int | None:
    """Prune at the sweep of minute 0 of each hour (one sweep in sixty, so the minute's work stays small); how many
    deliveries were deleted, or None at any other minute."""
    return prune(now) if (now or utcnow()).minute == 0 else None


def book_next_sweep(now: datetime | None = None) -> None:
    moment = now or utcnow()
    start = int(moment.replace(tzinfo=UTC).timestamp()) // SWEEP_SECONDS * SWEEP_SECONDS
    at = datetime.fromtimestamp(start, UTC) + timedelta(seconds=SWEEP_SECONDS)
    tasks.enqueue_at(
        at, SWEEP_TASK, job_id=tasks.job_id("webhook-sweep", at.strftime("%Y%m%dT%H%M")), description="webhooks"
    )


def sweep_on_worker_start() -> None:
    """A starting worker sweeps once now and books the next sweep (marketplace.tasks.on_worker_start)."""
    tasks.enqueue(
        SWEEP_TASK, job_id=tasks.job_id("webhook-sweep", utcnow().strftime("%Y%m%dT%H%M")), description="webhooks"
    )
    book_next_sweep()
