"""Webhook deliveries on the task queue: queued when the change commits, sent by a worker, a failed attempt's retry
booked at its time; a starting worker sweeps and books the next sweep once.

Real Redis, real database, RQ's in-process worker, a real receiver on 127.0.0.1.
"""

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from marketplace import tasks
from marketplace.bids.service import Offer, place_bid
from marketplace.extensions import db
from marketplace.webhooks import service
from marketplace.webhooks import tasks as webhook_tasks
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory
from tests.functional.webhooks.receiver import Answer, Receiver


@pytest.fixture
def private_allowed(bed):
    bed.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    yield bed
    bed.config["WEBHOOKS_ALLOW_PRIVATE"] = False


def _bid_with_endpoint(box: Receiver) -> tuple[int, str]:
    buyer = BuyerFactory()
    endpoint = service.register(db.session, buyer, box.url, ["bid.received"], "", service.Policy(allow_private=True))
    offer = Offer(price_per_unit_minor=1, total_minor=100, turnaround_days=3)
    place_bid(db.session, VerifiedVendorFactory(), JobFactory(buyer_org_id=buyer.org_id).id, offer)
    return endpoint.id, endpoint.secret


def _delivery(app, endpoint_id: int) -> WebhookDelivery:
    with app.app_context():
        delivery = db.session.execute(
            select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        ).scalar_one()
        db.session.expunge(delivery)
        db.session.remove()
    return delivery


def test_a_committed_change_is_delivered_by_a_worker(private_allowed, build, run_worker):
    with Receiver() as box:
        endpoint_id, box.secret = build(lambda: _bid_with_endpoint(box))
        delivery = _delivery(private_allowed, endpoint_id)
        assert tasks.queue(private_allowed).job_ids == [tasks.job_id("webhook", f"{delivery.id}-1", private_allowed)]
        run_worker()
        [call] = box.calls
    assert call.signed_at is not None and call.json["type"] == "bid.received"
    assert _delivery(private_allowed, endpoint_id).status == DeliveryStatus.SUCCEEDED


def test_a_failed_attempt_books_its_retry_at_its_time(private_allowed, build, run_worker):
    with Receiver(Answer(status=500)) as box:
        endpoint_id, box.secret = build(lambda: _bid_with_endpoint(box))
        run_worker()
        assert len(box.calls) == 1
    delivery = _delivery(private_allowed, endpoint_id)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    registry = tasks.queue(private_allowed).scheduled_job_registry
    key = tasks.job_id("webhook", f"{delivery.id}-2", private_allowed)
    assert key in registry.get_job_ids()
    booked = registry.get_scheduled_time(key)
    assert abs((booked - delivery.next_attempt_at).total_seconds()) < 1


def test_starting_workers_sweep_once_and_book_the_next_sweep_once(private_allowed):
    with time_machine.travel(datetime(2026, 12, 6, 9, 30, 5, tzinfo=UTC)), private_allowed.app_context():
        webhook_tasks.sweep_on_worker_start()
        webhook_tasks.sweep_on_worker_start()  # a second worker starting in the same minute
        assert len(tasks.queue(private_allowed).job_ids) == 1
        assert len(tasks.queue(private_allowed).scheduled_job_registry.get_job_ids()) == 1
