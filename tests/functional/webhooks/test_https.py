"""The https path of a delivery, against a local TLS receiver whose certificate a throwaway CA (trustme) signed.
The sender trusts that CA because the tests tell it to (WEBHOOKS_CA_FILE, which the environment cannot set); it
still checks every certificate: one it cannot trust, or one for another name, gets no call."""

import ssl

import pytest
import trustme

from marketplace.bids.service import Offer, place_bid
from marketplace.webhooks.models import DeliveryStatus
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory
from tests.functional.webhooks.helpers import attempts_of, deliver, deliveries_of, register
from tests.functional.webhooks.receiver import Receiver


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def _server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture
def tls_receiver(ca):
    """tls_receiver(*names): an https receiver on 127.0.0.1 with a certificate for those names, stopped after."""
    started = []

    def _start(*names: str) -> Receiver:
        box = Receiver(tls=_server_context(ca, *names)).__enter__()
        started.append(box)
        return box

    yield _start
    for box in started:
        box.__exit__(None, None, None)


@pytest.fixture
def trust(app, ca, tmp_path):
    """trust(ca): the sender trusts that CA's certificates (and no others) until the test ends."""
    saved = app.config.get("WEBHOOKS_CA_FILE")

    def _trust(authority: trustme.CA) -> None:
        path = tmp_path / "ca.pem"
        authority.cert_pem.write_to_path(str(path))
        app.config["WEBHOOKS_CA_FILE"] = str(path)

    yield _trust
    app.config["WEBHOOKS_CA_FILE"] = saved


def _bid_for(session, buyer) -> None:
    place_bid(
        session,
        VerifiedVendorFactory(),
        JobFactory(buyer_org_id=buyer.org_id).id,
        Offer(price_per_unit_minor=1, total_minor=100, turnaround_days=3),
    )
    session.commit()


def test_a_delivery_over_https_reaches_a_receiver_whose_certificate_checks_out(session, ca, tls_receiver, trust):
    trust(ca)
    box = tls_receiver("127.0.0.1")
    assert box.url.startswith("https://")
    buyer = BuyerFactory()
    endpoint = register(session, buyer, box)
    _bid_for(session, buyer)
    assert deliver() == 1
    [call] = box.calls
    assert call.signed_at is not None, call.problem
    assert call.json["type"] == "bid.received"
    [delivery] = deliveries_of(session, endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert attempts_of(session, delivery)[0].status_code == 200


def test_a_certificate_from_an_untrusted_authority_gets_no_call(session, tls_receiver, trust):
    trust(trustme.CA())  # another authority than the one that signed the receiver's certificate
    box = tls_receiver("127.0.0.1")
    buyer = BuyerFactory()
    endpoint = register(session, buyer, box)
    _bid_for(session, buyer)
    deliver()
    assert box.calls == []
    [delivery] = deliveries_of(session, endpoint)
    [attempt] = attempts_of(session, delivery)
    assert attempt.status_code is None and attempt.error.startswith("Could not connect")
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None  # retried later


def test_without_the_tests_authority_the_systems_store_does_not_trust_the_receiver(session, ca, tls_receiver):
    box = tls_receiver("127.0.0.1")
    buyer = BuyerFactory()
    endpoint = register(session, buyer, box)
    _bid_for(session, buyer)
    deliver()
    assert box.calls == []
    [attempt] = attempts_of(session, deliveries_of(session, endpoint)[0])
    assert attempt.error.startswith("Could not connect")


def test_a_certificate_for_another_name_gets_no_call(session, ca, tls_receiver, trust):
    trust(ca)
    box = tls_receiver("hooks.example.org")  # a trusted authority, but not this address's certificate
    buyer = BuyerFactory()
    endpoint = register(session, buyer, box)
    _bid_for(session, buyer)
    deliver()
    assert box.calls == []
    [attempt] = attempts_of(session, deliveries_of(session, endpoint)[0])
    assert attempt.error.startswith("Could not connect")
