"""Sending deliveries: claim one that is due, call the endpoint, record what came back, and book the retry.

Three steps, so that no database lock is held while the lab's server takes its time: `claim` (in a short
transaction: the delivery's next attempt is numbered and the delivery held for a lease; on PostgreSQL the row is
read `FOR UPDATE SKIP LOCKED`, so two senders never claim one attempt, and SQLite's writers take turns), `post`
(no database), and `record` (the outcome; a 2xx ends it, anything else is retried after 1 min, 5 min, 30 min,
2 h, 5 h and 10 h, then the delivery has failed). The caller (tasks.py, the command) owns the transactions.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.db_types import utcnow
from marketplace.locking import lock_row
from marketplace.webhooks import signing
from marketplace.webhooks.addresses import AddressRefused, check
from marketplace.webhooks.models import (
    DeliveryStatus,
    OutgoingEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

# Seconds after each failed attempt before the next one; after the last, the delivery has failed.
BACKOFF_SECONDS = (60, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
EXCERPT_BYTES = 2000
USER_AGENT = "ArmsLength-Webhooks/1"
EVENT_ID_HEADER = "Arms-Length-Event-Id"
DELIVERY_ID_HEADER = "Arms-Length-Delivery-Id"
EVENT_TYPE_HEADER = "Arms-Length-Event-Type"


@dataclass(frozen=True)
class Settings:
    """What a sender needs from the app's configuration."""

    allow_private: bool = False
    production: bool = False
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    ca_file: str | None = None  # the CAs to trust instead of the system's (the tests' own); None: the system's

    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery is held: past the longest call, so that no second sender takes it mid-call."""
        return timedelta(seconds=2 * (self.connect_timeout + self.read_timeout) + 30)


@dataclass(frozen=True)
class Call:
    """One attempt to make, as claimed."""

    delivery_id: int
    attempt_id: int
    number: int
    delivery_uid: str
    event_uid: str
    event_type: str
    body: str
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _due(now: datetime):
    return (
        col(WebhookDelivery.status) == DeliveryStatus.PENDING,
        col(WebhookDelivery.next_attempt_at) <= now,
        or_(col(WebhookDelivery.claimed_until).is_(None), col(WebhookDelivery.claimed_until) < now),
        col(WebhookEndpoint.enabled).is_(True),
    )


def due_ids(session: Session, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Deliveries due now (enabled endpoints, not held by a sender), oldest first."""
    now = now or utcnow()
    query = (
        select(col(WebhookDelivery.id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
        .where(*_due(now))
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def claim(session: Session, delivery_id: int, settings: Settings, now: datetime | None = None) -> Call | None:
    """Number the delivery's next attempt and hold the delivery for a lease; None when it is not due, or another
    sender holds it (on PostgreSQL its locked row is skipped, not waited for). The caller commits before calling."""
    now = now or utcnow()
    row = session.execute(
        select(WebhookDelivery, WebhookEndpoint, OutgoingEvent)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
        .join(OutgoingEvent, col(OutgoingEvent.id) == WebhookDelivery.event_id)
        .where(col(WebhookDelivery.id) == delivery_id, *_due(now))
        .with_for_update(skip_locked=True, of=WebhookDelivery)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    delivery, endpoint, event = row
    delivery.attempts += 1
    delivery.claimed_until = now + settings.lease
    attempt = WebhookAttempt(
        delivery_id=delivery.id, number=delivery.attempts, replay=delivery.replay_requested, started_at=now
    )
    delivery.replay_requested = False
    session.add(attempt)
    session.flush()
    return Call(
        delivery_id=delivery.id,
        attempt_id=attempt.id,
        number=attempt.number,
        delivery_uid=delivery.uid,
        event_uid=event.uid,
        event_type=event.event_type,
        body=event.body,
        url=endpoint.url,
        secret=endpoint.secret,
    )


def _excerpt(data: bytes) -> str:
    # PostgreSQL stores no NUL in text; a receiver may answer anything.
    return data[:EXCERPT_BYTES].decode("utf-8", errors="replace").replace("\x00", "")[:EXCERPT_BYTES]


def post(call: Call, settings: Settings) -> Outcome:
    """Make the call: the address checked again (a private one is refused without a call), the body signed now,
    no redirect followed, short timeouts, the first bytes of the answer kept."""
    try:
        target = check(call.url, allow_private=settings.allow_private, production=settings.production)
    except AddressRefused as refused:
        return Outcome(error=f"Not called: {refused}"[:300])
    body = call.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.host_header,
        signing.HEADER: signing.signature_header(call.secret, body),
        EVENT_ID_HEADER: call.event_uid,
        DELIVERY_ID_HEADER: call.delivery_uid,
        EVENT_TYPE_HEADER: call.event_type,
    }
    timeout = urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout)
    pool: urllib3.HTTPConnectionPool
    # The connection goes to the address just checked; TLS still checks the certificate against the host's name.
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.ca_file,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, headers=headers, redirect=False, retries=False, preload_content=False
        )
        try:
            excerpt = _excerpt(response.read(EXCERPT_BYTES))
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError:  # a ConnectTimeoutError too, in urllib3 2: refused, unreachable
        return Outcome(error="Could not connect.", duration_ms=_since(started))
    except urllib3.exceptions.TimeoutError:
        return Outcome(error="Timed out.", duration_ms=_since(started))
    except urllib3.exceptions.HTTPError as error:
        return Outcome(error=f"Could not connect: {type(error).__name__}."[:300], duration_ms=_since(started))
    finally:
        pool.close()
    return Outcome(status_code=response.status, excerpt=excerpt, duration_ms=_since(started))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def record(session: Session, call: Call, outcome: Outcome, now: datetime | None = None) -> str:
    """Store the attempt's outcome and what comes next for the delivery: done, retried later, or failed. A
    sender whose lease ran out (another has claimed a later attempt) records its attempt only. The caller commits.
    Returns the delivery's status."""
    now = now or utcnow()
    attempt = session.get(WebhookAttempt, call.attempt_id)
    if attempt is not None:
        attempt.finished_at = now
        attempt.status_code = outcome.status_code
        attempt.error = outcome.error
        attempt.response_excerpt = outcome.excerpt
        attempt.duration_ms = outcome.duration_ms
    delivery = lock_row(session, WebhookDelivery, call.delivery_id)
    if delivery is None:  # the endpoint was deleted meanwhile
        return DeliveryStatus.FAILED.value
    if delivery.attempts != call.number:
        return str(delivery.status)
    delivery.claimed_until = None
    if outcome.ok:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, None
    elif delivery.attempts <= len(BACKOFF_SECONDS):
        delivery.next_attempt_at = now + timedelta(seconds=BACKOFF_SECONDS[delivery.attempts - 1])
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    session.flush()
    return str(delivery.status)
