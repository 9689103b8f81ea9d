"""Shared steps of the webhook tests."""

from sqlalchemy import select

from marketplace.webhooks import service, tasks
from marketplace.webhooks.models import EventType, WebhookAttempt, WebhookDelivery
from tests.functional.webhooks.receiver import Receiver

ALL_EVENTS = [kind.value for kind in EventType]


def register(session, user, box: Receiver, events=None):
    """An endpoint of the user's lab calling the receiver, which now knows its secret."""
    endpoint = service.register(
        session, user, box.url, events or ALL_EVENTS, "Risk dashboard", service.Policy(allow_private=True)
    )
    session.commit()
    box.secret = endpoint.secret
    return endpoint


def deliver(now=None) -> int:
    """What `flask webhooks deliver` does: passed deadlines, then every attempt due."""
    return tasks.deliver_due(now)


def deliveries_of(session, endpoint) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id)
    return list(session.execute(query).scalars())


def attempts_of(session, delivery) -> list[WebhookAttempt]:
    query = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.number)
    return list(session.execute(query).scalars())
