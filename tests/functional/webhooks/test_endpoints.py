"""Registering endpoints: who may, the secret shown once and rotated, and addresses the platform refuses to call."""

import json
import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import OrgRole
from marketplace.audit.models import AuditRecord
from marketplace.bids.service import Offer, place_bid
from marketplace.config import ConfigError, load_config
from marketplace.webhooks import service
from marketplace.webhooks.addresses import AddressRefused, check
from marketplace.webhooks.models import WebhookEndpoint
from tests.factories import BuyerFactory, JobFactory, VendorFactory, VerifiedVendorFactory
from tests.functional.webhooks.helpers import attempts_of, deliver, deliveries_of, register

SECRET = re.compile(r'data-testid="secret">(whsec_[\w-]+)<')


def _endpoints(session, org_id) -> list[WebhookEndpoint]:
    return list(session.execute(select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id)).scalars())


def test_a_lab_registers_an_endpoint_and_sees_its_secret_once(client, login_as, session, receiver):
    buyer = login_as(BuyerFactory())
    box = receiver()
    response = client.post(
        "/webhooks", data={"url": box.url, "description": "Risk", "events": ["bid.received", "verdict.changed"]}
    )
    assert response.status_code == 200
    [secret] = SECRET.findall(response.get_data(as_text=True))
    [endpoint] = _endpoints(session, buyer.org_id)
    assert endpoint.secret == secret and endpoint.events == ["verdict.changed", "bid.received"]
    assert secret not in client.get("/webhooks").get_data(as_text=True)
    assert secret not in client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    record = session.execute(
        select(AuditRecord).where(AuditRecord.action == "webhook.endpoint_registered")
    ).scalar_one()
    assert secret not in str(record.after)


def test_a_rotated_secret_signs_the_next_call_and_the_old_one_no_longer_does(client, login_as, session, receiver):
    buyer = login_as(BuyerFactory())
    box = receiver()
    endpoint = register(session, buyer, box)
    old = endpoint.secret
    page = client.post(f"/webhooks/{endpoint.id}/rotate").get_data(as_text=True)
    [new] = SECRET.findall(page)
    assert new != old
    place_bid(
        session,
        VerifiedVendorFactory(),
        JobFactory(buyer_org_id=buyer.org_id).id,
        Offer(price_per_unit_minor=1, total_minor=100, turnaround_days=3),
    )
    session.commit()
    deliver()
    assert box.calls[0].signed_at is None  # the receiver still holds the old secret
    box.secret = new
    box.calls.clear()
    delivery = deliveries_of(session, endpoint)[0]
    client.post(f"/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay")
    deliver()
    assert box.calls[0].signed_at is not None
    actions = session.execute(select(AuditRecord.action).where(AuditRecord.subject_id == endpoint.id)).scalars()
    assert "webhook.secret_rotated" in list(actions)


def test_a_member_reads_but_only_an_owner_or_manager_changes(client, login_as, session, receiver):
    owner = BuyerFactory()
    endpoint = register(session, owner, receiver())
    login_as(BuyerFactory(org_id=owner.org_id, org_role=OrgRole.MEMBER))
    assert client.get("/webhooks").status_code == 200
    assert client.get(f"/webhooks/{endpoint.id}").status_code == 200
    for path in ("/webhooks", f"/webhooks/{endpoint.id}/rotate", f"/webhooks/{endpoint.id}/delete"):
        response = client.post(path, data={"url": "https://93.184.216.34/", "events": ["bid.received"]})
        assert response.status_code == 403, path
        assert "As a member of your organisation you cannot" in response.get_data(as_text=True)
    login_as(BuyerFactory(org_id=owner.org_id, org_role=OrgRole.MANAGER))
    assert client.post(f"/webhooks/{endpoint.id}/rotate").status_code == 200


def test_vendors_have_no_webhooks(client, login_as):
    login_as(VendorFactory())
    assert client.get("/webhooks").status_code == 403
    assert client.post("/webhooks", data={"url": "https://93.184.216.34/"}).status_code == 403


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:8080/hook", "https://"),
        ("https://127.0.0.1/hook", "private network"),
        ("https://localhost/hook", "private network"),
        ("https://10.1.2.3/hook", "private network"),
        ("https://192.168.0.10/hook", "private network"),
        ("https://169.254.169.254/latest/meta-data", "private network"),  # the cloud's metadata service
        ("https://[::1]/hook", "private network"),
        ("https://[::ffff:127.0.0.1]/hook", "private network"),
        ("https://0.0.0.0/hook", "private network"),
        ("http://93.184.216.34/hook", "https://"),
        ("https://user:pw@93.184.216.34/hook", "user name and password"),
        ("ftp://93.184.216.34/hook", "https://"),
        ("https://", "https://"),
        ("not an address", "https://"),
        ("", "Give the address"),
        ("https://93.184.216.34:99999/", "not a web address"),
    ],
)
def test_addresses_of_this_network_or_without_https_are_refused_beside_the_field(
    client, login_as, session, allow_private, url, words
):
    allow_private["WEBHOOKS_ALLOW_PRIVATE"] = False
    buyer = login_as(BuyerFactory())
    response = client.post("/webhooks", data={"url": url, "events": ["bid.received"]})
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert _endpoints(session, buyer.org_id) == []


def test_a_public_https_address_is_accepted_without_the_flag(client, login_as, session, allow_private):
    allow_private["WEBHOOKS_ALLOW_PRIVATE"] = False
    buyer = login_as(BuyerFactory())
    response = client.post("/webhooks", data={"url": "https://93.184.216.34/hook", "events": ["bid.received"]})
    assert response.status_code == 200
    assert len(_endpoints(session, buyer.org_id)) == 1


def test_no_event_chosen_is_refused_beside_the_events(client, login_as):
    login_as(BuyerFactory())
    response = client.post("/webhooks", data={"url": "https://93.184.216.34/hook"})
    assert response.status_code == 400 and "Choose at least one event." in response.get_data(as_text=True)
    response = client.post("/webhooks", data={"url": "https://93.184.216.34/hook", "events": ["job.secret"]})
    assert response.status_code == 400 and "Choose events from the list." in response.get_data(as_text=True)


def test_production_calls_only_https_and_refuses_the_private_flag():
    with pytest.raises(AddressRefused):
        check("http://127.0.0.1/", allow_private=True, production=True)
    assert check("https://93.184.216.34/x?y=1", allow_private=False, production=True).path == "/x?y=1"
    with pytest.raises(ConfigError, match="WEBHOOKS_ALLOW_PRIVATE"):
        load_config({"MARKETPLACE_ENV": "production", "SECRET_KEY": "k" * 40, "WEBHOOKS_ALLOW_PRIVATE": "1"})


def test_an_address_checked_at_registration_is_checked_again_at_delivery(session, receiver, allow_private):
    buyer = BuyerFactory()
    box = receiver()
    endpoint = register(session, buyer, box)  # allowed then
    allow_private["WEBHOOKS_ALLOW_PRIVATE"] = False  # not any more (as a name that now points inside would be)
    place_bid(
        session,
        VerifiedVendorFactory(),
        JobFactory(buyer_org_id=buyer.org_id).id,
        Offer(price_per_unit_minor=1, total_minor=100, turnaround_days=3),
    )
    session.commit()
    deliver()
    assert box.calls == []
    [attempt] = attempts_of(session, deliveries_of(session, endpoint)[0])
    assert attempt.error.startswith("Not called:") and attempt.status_code is None


def test_a_lab_has_at_most_twenty_endpoints(session):
    buyer = BuyerFactory()
    policy = service.Policy()
    for _ in range(service.MAX_ENDPOINTS):
        service.register(session, buyer, "https://93.184.216.34/", ["bid.received"], "", policy)
    with pytest.raises(service.WebhookError, match="at most 20"):
        service.register(session, buyer, "https://93.184.216.34/", ["bid.received"], "", policy)


def test_the_labs_audit_export_holds_its_webhook_records_and_another_lab_gets_none(client, login_as, session):
    lab = BuyerFactory()
    endpoint = service.register(session, lab, "https://93.184.216.34/", ["bid.received"], "", service.Policy())
    session.commit()
    login_as(lab)
    lines = [json.loads(line) for line in client.get("/audit/export.jsonl").get_data(as_text=True).splitlines()]
    [line] = [line for line in lines if line["action"] == "webhook.endpoint_registered"]
    assert line["subject_id"] == endpoint.id and endpoint.secret not in json.dumps(line)
    login_as(BuyerFactory())
    assert "webhook." not in client.get("/audit/export.jsonl").get_data(as_text=True)
