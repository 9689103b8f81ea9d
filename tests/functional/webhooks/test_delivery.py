"""Deliveries against a real receiver on 127.0.0.1: signed, retried with backoff, logged with their answers,
replayable; a change rolled back sends nothing."""

import json
import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.bids.service import Offer, place_bid
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode
from marketplace.webhooks import sending
from marketplace.webhooks.models import DeliveryStatus, OutgoingEvent
from marketplace.webhooks.signing import BadSignature, verify
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory
from tests.functional.webhooks.helpers import attempts_of, deliver, deliveries_of, register
from tests.functional.webhooks.receiver import Answer

OFFER = Offer(price_per_unit_minor=60, total_minor=600_000, turnaround_days=21)


def _bid(session, buyer, **job):
    vendor = VerifiedVendorFactory()
    bid = place_bid(session, vendor, JobFactory(buyer_org_id=buyer.org_id, **job).id, OFFER)
    session.commit()
    return bid


def test_a_delivery_is_signed_and_names_its_event_and_delivery(session, receiver):
    buyer = BuyerFactory()
    box = receiver()
    endpoint = register(session, buyer, box)
    bid = _bid(session, buyer, bidding_mode=BiddingMode.OPEN)

    assert deliver() == 1

    [call] = box.calls
    assert call.signed_at is not None, call.problem
    assert abs(call.signed_at - int(utcnow().timestamp())) < 60
    [delivery] = deliveries_of(session, endpoint)
    event = session.get(OutgoingEvent, delivery.event_id)
    assert call.headers["Arms-Length-Event-Id"] == event.uid == call.json["id"]
    assert call.headers["Arms-Length-Delivery-Id"] == delivery.uid
    assert call.headers["Content-Type"] == "application/json"
    assert call.path == "/hooks/armslength"
    assert call.json["type"] == "bid.received"
    assert call.json["data"]["bid"]["id"] == bid.id
    assert call.json["data"]["bid"]["total_minor"] == 600_000  # an open job: the lab sees amounts as they come
    # Another secret, or a body changed on the way, does not verify.
    header = call.headers["Arms-Length-Signature"]
    for secret, body in (("whsec_other", call.body), (box.secret, call.body + b" ")):
        try:
            verify(secret, body, header)
        except BadSignature:
            continue
        raise AssertionError("verified under the wrong secret or body")
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    assert deliver() == 0  # done: nothing is sent twice


def test_a_sealed_bid_is_announced_without_its_amounts(session, receiver):
    buyer = BuyerFactory()
    box = receiver()
    register(session, buyer, box)
    _bid(session, buyer, bidding_mode=BiddingMode.SEALED)
    deliver()
    [call] = box.calls
    bid = call.json["data"]["bid"]
    assert "total_minor" not in bid and "price_per_unit_minor" not in bid and bid["sealed_until"]
    assert b"600000" not in call.body


def test_a_failing_receiver_is_retried_after_1_5_30_minutes_2_5_10_hours_then_the_delivery_fails(session, receiver):
    buyer = BuyerFactory()
    box = receiver(Answer(status=500, body=b"down for maintenance"))
    endpoint = register(session, buyer, box, ["bid.received"])  # not the job's deadline a month later
    start = utcnow().replace(microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        _bid(session, buyer)
        assert deliver() == 1
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)]
    waits += [timedelta(hours=2), timedelta(hours=5), timedelta(hours=10)]
    moment = start
    for wait in waits:
        with time_machine.travel(moment + wait - timedelta(seconds=1), tick=False):
            assert deliver() == 0, f"sent before its {wait} wait was over"
        moment += wait
        with time_machine.travel(moment, tick=False):
            assert deliver() == 1
    with time_machine.travel(moment + timedelta(days=30), tick=False):
        assert deliver() == 0
    [delivery] = deliveries_of(session, endpoint)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 7, None)
    attempts = attempts_of(session, delivery)
    assert [a.status_code for a in attempts] == [500] * 7
    assert attempts[0].response_excerpt == "down for maintenance"
    assert len(box.calls) == 7 and all(call.signed_at is not None for call in box.calls)
    # Each attempt is signed when it is made: a receiver's tolerance accepts a retry hours later.
    assert box.calls[-1].signed_at - box.calls[0].signed_at == sum(w.total_seconds() for w in waits)


def test_a_receiver_that_fails_then_succeeds_shows_both_answers_in_the_log(client, login_as, session, receiver):
    buyer = login_as(BuyerFactory())
    box = receiver(Answer(status=503, body=b"try later"), Answer(status=204, body=b""))
    endpoint = register(session, buyer, box)
    start = utcnow() + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        _bid(session, buyer)
        deliver()
    with time_machine.travel(start + timedelta(minutes=1, seconds=1), tick=False):
        deliver()
    [delivery] = deliveries_of(session, endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert box.calls[0].json["id"] == box.calls[1].json["id"]  # the same event, for the receiver to recognise

    page = client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "bid.received" in page and "HTTP 503" in page and "try later" in page and "HTTP 204" in page
    assert endpoint.secret not in page  # shown once, at registration


def test_timeouts_and_refused_connections_are_retried(app, session, receiver):
    buyer = BuyerFactory()
    app.config["WEBHOOKS_READ_TIMEOUT"] = 0.3
    slow = receiver(Answer(delay=1.5))
    slow_endpoint = register(session, buyer, slow)
    closed = receiver()
    closed_endpoint = register(session, buyer, closed)
    closed.server.server_close()  # nothing listens there any more
    _bid(session, buyer)
    deliver()
    [timed_out] = attempts_of(session, deliveries_of(session, slow_endpoint)[0])
    [refused] = attempts_of(session, deliveries_of(session, closed_endpoint)[0])
    assert timed_out.error == "Timed out." and timed_out.status_code is None
    assert refused.error.startswith("Could not connect") and refused.status_code is None
    for endpoint in (slow_endpoint, closed_endpoint):
        [delivery] = deliveries_of(session, endpoint)
        assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None


def test_no_redirect_is_followed(session, receiver):
    buyer = BuyerFactory()
    target = receiver()
    box = receiver(Answer(status=302, headers={"Location": target.url}))
    endpoint = register(session, buyer, box)
    _bid(session, buyer)
    deliver()
    assert target.calls == []
    [attempt] = attempts_of(session, deliveries_of(session, endpoint)[0])
    assert attempt.status_code == 302


def test_a_replay_sends_the_delivery_again_as_a_new_attempt(client, login_as, session, receiver):
    buyer = login_as(BuyerFactory())
    box = receiver()
    endpoint = register(session, buyer, box)
    _bid(session, buyer)
    deliver()
    [delivery] = deliveries_of(session, endpoint)

    page = client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert f"/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay" in page
    response = client.post(f"/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay")
    assert response.status_code == 303
    assert deliver() == 1

    assert len(box.calls) == 2 and box.calls[0].body == box.calls[1].body
    assert all(call.signed_at is not None for call in box.calls)
    first, second = attempts_of(session, delivery)
    assert (first.replay, second.replay, second.number) == (False, True, 2)
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "webhook.delivery_replayed")).scalar_one()
    assert record.subject_id == endpoint.id and record.buyer_org_id == buyer.org_id


def test_another_labs_delivery_cannot_be_replayed_or_read(client, login_as, session, receiver):
    owner = BuyerFactory()
    box = receiver()
    endpoint = register(session, owner, box)
    _bid(session, owner)
    [delivery] = deliveries_of(session, endpoint)
    login_as(BuyerFactory())
    assert client.get(f"/webhooks/{endpoint.id}").status_code == 404
    assert client.post(f"/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay").status_code == 404
    assert client.post(f"/webhooks/{endpoint.id}/rotate").status_code == 404
    assert client.post(f"/webhooks/{endpoint.id}/delete").status_code == 404


def test_a_rolled_back_change_sends_nothing(session, receiver):
    buyer = BuyerFactory()
    box = receiver()
    register(session, buyer, box)
    job = JobFactory(buyer_org_id=buyer.org_id)
    vendor = VerifiedVendorFactory()
    session.commit()
    nested = session.begin_nested()
    place_bid(session, vendor, job.id, OFFER)
    assert session.execute(select(OutgoingEvent)).scalars().all() != []  # written, in the change's transaction
    nested.rollback()

    assert session.execute(select(OutgoingEvent)).scalars().all() == []
    assert deliver() == 0 and box.calls == []


def test_a_disabled_endpoint_gets_nothing_and_a_deleted_one_is_gone(client, login_as, session, receiver):
    buyer = login_as(BuyerFactory())
    box = receiver()
    endpoint = register(session, buyer, box)
    assert client.post(f"/webhooks/{endpoint.id}/enabled", data={"enabled": "0"}).status_code == 303
    _bid(session, buyer)
    deliver()
    assert box.calls == []
    assert client.post(f"/webhooks/{endpoint.id}/delete").status_code == 303
    assert client.get(f"/webhooks/{endpoint.id}").status_code == 404
    actions = session.execute(select(AuditRecord.action).where(AuditRecord.subject_type == "webhook_endpoint"))
    assert list(actions.scalars()) == [
        "webhook.endpoint_registered",
        "webhook.endpoint_disabled",
        "webhook.endpoint_deleted",
    ]


def test_a_response_body_is_kept_truncated(session, receiver):
    buyer = BuyerFactory()
    box = receiver(Answer(status=200, body=b"x" * 10_000 + b"\x00"))
    endpoint = register(session, buyer, box)
    _bid(session, buyer)
    deliver()
    [attempt] = attempts_of(session, deliveries_of(session, endpoint)[0])
    assert attempt.response_excerpt == "x" * sending.EXCERPT_BYTES


def test_the_command_delivers_what_is_due(app, session, receiver):
    buyer = BuyerFactory()
    box = receiver()
    register(session, buyer, box)
    _bid(session, buyer)
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert re.match(r"1 webhook attempt made", result.output)
    assert json.loads(box.calls[0].body)["type"] == "bid.received"
