"""Two senders at once (two workers, or a worker and `flask webhooks deliver`) never make the same attempt twice:
on PostgreSQL each claims its rows FOR UPDATE SKIP LOCKED; SQLite's writers take turns."""

import threading

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.webhooks import events, service, tasks
from marketplace.webhooks.models import EventType, WebhookAttempt, WebhookDelivery
from tests.conftest import make_app, migrated_database
from tests.factories import BuyerFactory
from tests.functional.webhooks.receiver import Answer, Receiver

DELIVERIES = 12


@pytest.fixture(autouse=True)
def allow_private():
    """Not the folder's own: that one takes the test-transaction app, whose session would stand in for this app's."""
    return None


@pytest.fixture(params=["postgresql", "sqlite"])
def committed_app(request, tmp_path_factory):
    """The app on its own migrated database, with no test transaction around it: each sender commits for real."""
    url = migrated_database(tmp_path_factory.mktemp("webhook-race"), "webhook_race", backend=request.param)
    app = make_app(url, WEBHOOKS_ALLOW_PRIVATE=True, MAIL_SERVER="")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_two_senders_at_once_make_each_attempt_once(committed_app):
    app = committed_app
    with Receiver(Answer(delay=0.05)) as box:
        with app.app_context():
            buyer = BuyerFactory()
            endpoint = service.register(
                db.session, buyer, box.url, [EventType.BID_RECEIVED.value], "", service.Policy(allow_private=True)
            )
            box.secret = endpoint.secret
            for number in range(DELIVERIES):
                events.emit(db.session, buyer.org_id, EventType.BID_RECEIVED, {"n": number})
            db.session.commit()
            db.session.remove()

        start = threading.Barrier(2)
        made: list[int] = []
        failures: list[BaseException] = []

        def sender():
            try:
                with app.app_context():
                    start.wait()
                    made.append(tasks.deliver_due())
                    db.session.remove()
            except BaseException as error:  # noqa: BLE001 (reported by the test below)
                failures.append(error)

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert failures == []
        assert sum(made) == DELIVERIES
        delivered = [call.headers["Arms-Length-Delivery-Id"] for call in box.calls]
        assert len(delivered) == DELIVERIES == len(set(delivered))
        assert all(call.signed_at is not None for call in box.calls)
        with app.app_context():
            assert db.session.execute(select(func.count(WebhookAttempt.id))).scalar_one() == DELIVERIES
            statuses = db.session.execute(select(WebhookDelivery.status, WebhookDelivery.attempts)).all()
            assert set(statuses) == {("succeeded", 1)}
            db.session.remove()
