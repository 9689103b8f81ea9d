"""A lab's webhook endpoints: registering one (its secret shown once), changing its address, description and
events, rotating the secret, turning it off and on, deleting it, its delivery log, replaying a delivery, and
pruning old deliveries. Each change by a person is in the audit trail.

Only labs register endpoints (issue 16 says "a lab"; every event is about the lab's own jobs, contracts and
screening). Reading is for every member of the lab; changing, for its owner and managers. Another
organisation's endpoint is a 404. Services never commit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import OrgRole, User
from marketplace.accounts.org_roles import ensure_org_role
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.locking import lock_row
from marketplace.webhooks import events, signing
from marketplace.webhooks.addresses import check
from marketplace.webhooks.models import (
    DeliveryStatus,
    EventType,
    OutgoingEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

MAX_ENDPOINTS = 20
LOG_LIMIT = 100

EVENT_LABELS = {
    EventType.VERDICT_CHANGED: "A vendor's screening verdict changed",
    EventType.BID_RECEIVED: "A bid arrived on one of your jobs",
    EventType.DEADLINE_PASSED: "A job's bid deadline passed",
    EventType.QUESTION_ASKED: "A vendor asked a question on one of your jobs",
    EventType.DELIVERY_MADE: "A vendor delivered a milestone",
    EventType.DISPUTE_OPENED: "A dispute was opened on one of your contracts",
    EventType.DISPUTE_WITHDRAWN: "A dispute on one of your contracts was withdrawn by the side that opened it",
    EventType.DATA_ACCESS_GRANTED: "Data access given to a vendor (for your storage)",
    EventType.DATA_ACCESS_REVOKED: "Data access revoked, by you or a change-of-control playbook (for your storage)",
}


class WebhookError(Refusal):
    """A refusal the endpoint's form shows."""


@dataclass(frozen=True)
class Policy:
    """Where endpoints may point (from the configuration)."""

    allow_private: bool = False
    production: bool = False


def _ensure_lab(user: User) -> int:
    if not user.is_buyer or user.org_id is None:
        raise NotVisible("webhooks")
    return user.org_id


def endpoints_of(session: Session, user: User) -> list[WebhookEndpoint]:
    """The lab's endpoints, newest first. NotVisible (404) for anyone but a lab's users."""
    org_id = _ensure_lab(user)
    query = (
        select(WebhookEndpoint).where(col(WebhookEndpoint.org_id) == org_id).order_by(col(WebhookEndpoint.id).desc())
    )
    return list(session.execute(query).scalars())


def get_endpoint(session: Session, user: User, endpoint_id: int) -> WebhookEndpoint:
    """One of the lab's own endpoints. NotVisible (404) for any other."""
    org_id = _ensure_lab(user)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.org_id != org_id:
        raise NotVisible(f"webhook endpoint {endpoint_id}")
    return endpoint


def _events(chosen: list[str]) -> list[str]:
    chosen = list(chosen or [])
    wanted: list[str] = [kind.value for kind in EventType if kind.value in chosen]
    if set(chosen) - set(wanted):
        raise WebhookError("Choose events from the list.", "events")
    if not wanted:
        raise WebhookError("Choose at least one event.", "events")
    return wanted


def _audit(session: Session, user: User, action: str, endpoint: WebhookEndpoint, **after) -> None:
    record_event(
        session,
        user,
        action,
        "webhook_endpoint",
        endpoint.id,
        after={"url": endpoint.url, **after},
        buyer_org_id=endpoint.org_id,
    )


def register(
    session: Session, user: User, url: str, chosen: list[str], description: str, policy: Policy
) -> WebhookEndpoint:
    """A new endpoint of the lab, enabled, with a new secret (the caller shows it once). WebhookError or
    AddressRefused (a refusal for the URL field) for bad input; RoleTooLow (403) for a member."""
    org_id = _ensure_lab(user)
    ensure_org_role(user, OrgRole.MANAGER, "register webhook endpoints")
    wanted = _events(chosen)
    description = (description or "").strip()
    if len(description) > 200:
        raise WebhookError("Keep the description under 200 characters.", "description")
    url = (url or "").strip()
    check(url, allow_private=policy.allow_private, production=policy.production)
    count = session.execute(
        select(func.count(col(WebhookEndpoint.id))).where(col(WebhookEndpoint.org_id) == org_id)
    ).scalar_one()
    if count >= MAX_ENDPOINTS:
        raise WebhookError(f"A lab has at most {MAX_ENDPOINTS} endpoints: delete one first.")
    endpoint = WebhookEndpoint(
        org_id=org_id,
        url=url,
        description=description,
        events=wanted,
        secret=signing.new_secret(),
        created_by_id=user.id,
    )
    session.add(endpoint)
    session.flush()
    _audit(session, user, "webhook.endpoint_registered", endpoint, events=wanted)
    return endpoint


def update_endpoint(
    session: Session,
    user: User,
    endpoint_id: int,
    url: str,
    chosen: list[str],
    description: str,
    enabled: bool,
    policy: Policy,
) -> WebhookEndpoint:
    """Change the endpoint's address, description, events and whether it is on, with registration's checks
    (the address checked as a new one is). The secret stays; deliveries already recorded go to the new address.
    WebhookError or AddressRefused (beside its field), NotVisible (404), RoleTooLow (403) for a member."""
    endpoint = _for_change(session, user, endpoint_id, "change webhook endpoints")
    wanted = _events(chosen)
    description = (description or "").strip()
    if len(description) > 200:
        raise WebhookError("Keep the description under 200 characters.", "description")
    url = (url or "").strip()
    check(url, allow_private=policy.allow_private, production=policy.production)
    before = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
    }
    after = {"url": url, "description": description, "events": wanted, "enabled": enabled}
    if before == after:
        return endpoint
    endpoint.url, endpoint.description, endpoint.events, endpoint.enabled = url, description, wanted, enabled
    record_event(
        session,
        user,
        "webhook.endpoint_changed",
        "webhook_endpoint",
        endpoint.id,
        before=before,
        after=after,
        buyer_org_id=endpoint.org_id,
    )
    session.flush()
    return endpoint


def rotate_secret(session: Session, user: User, endpoint_id: int) -> WebhookEndpoint:
    """A new secret for the endpoint (the old one stops signing at once; the caller shows the new one once)."""
    endpoint = _for_change(session, user, endpoint_id, "rotate webhook secrets")
    endpoint.secret = signing.new_secret()
    endpoint.secret_rotated_at = utcnow()
    _audit(session, user, "webhook.secret_rotated", endpoint)
    session.flush()
    return endpoint


def set_enabled(session: Session, user: User, endpoint_id: int, enabled: bool) -> WebhookEndpoint:
    """Turn the endpoint on or off: off, nothing new is recorded for it and nothing pending is sent until it is
    on again."""
    endpoint = _for_change(session, user, endpoint_id, "turn webhook endpoints on or off")
    if endpoint.enabled != enabled:
        endpoint.enabled = enabled
        _audit(session, user, "webhook.endpoint_enabled" if enabled else "webhook.endpoint_disabled", endpoint)
    session.flush()
    return endpoint


def delete_endpoint(session: Session, user: User, endpoint_id: int) -> None:
    """Delete the endpoint with its delivery log (the audit trail keeps that it existed)."""
    endpoint = _for_change(session, user, endpoint_id, "delete webhook endpoints")
    _audit(session, user, "webhook.endpoint_deleted", endpoint, events=list(endpoint.events))
    delivery_ids = select(col(WebhookDelivery.id)).where(col(WebhookDelivery.endpoint_id) == endpoint.id)
    session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(delivery_ids)))
    session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id))
    session.delete(endpoint)
    session.flush()


def _for_change(session: Session, user: User, endpoint_id: int, action: str) -> WebhookEndpoint:
    endpoint = get_endpoint(session, user, endpoint_id)
    ensure_org_role(user, OrgRole.MANAGER, action)
    return lock_row(session, WebhookEndpoint, endpoint.id)


@dataclass(frozen=True)
class LogRow:
    delivery: WebhookDelivery
    event_type: str
    event_uid: str
    attempts: list[WebhookAttempt]

    @property
    def last(self) -> WebhookAttempt | None:
        return self.attempts[-1] if self.attempts else None


def delivery_log(session: Session, user: User, endpoint_id: int, limit: int = LOG_LIMIT) -> list[LogRow]:
    """The endpoint's latest deliveries, newest first, each with its event and every attempt. 404 as get_endpoint."""
    endpoint = get_endpoint(session, user, endpoint_id)
    rows = session.execute(
        select(WebhookDelivery, OutgoingEvent)
        .join(OutgoingEvent, col(OutgoingEvent.id) == WebhookDelivery.event_id)
        .where(col(WebhookDelivery.endpoint_id) == endpoint.id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
    ).all()
    attempts: dict[int, list[WebhookAttempt]] = {}
    if rows:
        found = session.execute(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_([delivery.id for delivery, _ in rows]))
            .order_by(col(WebhookAttempt.number))
        ).scalars()
        for attempt in found:
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [LogRow(delivery, event.event_type, event.uid, attempts.get(delivery.id, [])) for delivery, event in rows]


def replay(
    session: Session, user: User, endpoint_id: int, delivery_id: int, now: datetime | None = None
) -> WebhookDelivery:
    """Send the delivery again, as a new attempt due now (the same event id and body, signed anew). 404 for a
    delivery of another endpoint; WebhookError while an attempt is under way or the endpoint is off."""
    endpoint = _for_change(session, user, endpoint_id, "replay webhook deliveries")
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotVisible(f"webhook delivery {delivery_id}")
    delivery = lock_row(session, WebhookDelivery, delivery.id)
    now = now or utcnow()
    if not endpoint.enabled:
        raise WebhookError("This endpoint is off: turn it on to send anything to it.")
    if delivery.claimed_until is not None and delivery.claimed_until > now:
        raise WebhookError("An attempt of this delivery is under way: wait for it, then replay if you still need to.")
    if delivery.status == DeliveryStatus.PENDING and delivery.replay_requested:
        raise WebhookError("This delivery is already waiting to be sent again.")
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.replay_requested = True
    record_event(
        session,
        user,
        "webhook.delivery_replayed",
        "webhook_endpoint",
        endpoint.id,
        after={"delivery": delivery.uid, "attempt": delivery.attempts + 1},
        buyer_org_id=endpoint.org_id,
    )
    session.flush()
    events.queue_after_commit(session, delivery)
    return delivery


def prune_deliveries(session: Session, retention_days: int, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete the deliveries older than `retention_days` that were delivered (with their attempts), and the events
    no delivery needs any more; a pending or failed delivery is kept, however old, so that the lab can still see
    it and send it again. How many deliveries were deleted. The caller commits."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    deleted = 0
    while True:
        ids = list(
            session.execute(
                select(col(WebhookDelivery.id))
                .where(
                    col(WebhookDelivery.status) == DeliveryStatus.SUCCEEDED,
                    col(WebhookDelivery.created_at) < cutoff,
                )
                .limit(batch)
            ).scalars()
        )
        if not ids:
            break
        quietly = {"synchronize_session": False}
        attempts = delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(ids))
        session.execute(attempts, execution_options=quietly)
        session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids)), execution_options=quietly)
        deleted += len(ids)
    still_needed = select(col(WebhookDelivery.event_id))
    session.execute(
        delete(OutgoingEvent).where(col(OutgoingEvent.created_at) < cutoff, col(OutgoingEvent.id).not_in(still_needed)),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return deleted
