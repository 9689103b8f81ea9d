"""Changing an endpoint on its page (address, description, events, on or paused), with registration's checks; and
pruning delivered webhooks past their retention, keeping those not yet delivered."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.accounts.models import OrgRole
from marketplace.audit.models import AuditRecord
from marketplace.bids.service import Offer, place_bid
from marketplace.config import ConfigError, load_config
from marketplace.db_types import utcnow
from marketplace.webhooks import service, tasks
from marketplace.webhooks.models import DeliveryStatus, OutgoingEvent, WebhookAttempt, WebhookDelivery
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory
from tests.functional.webhooks.helpers import deliver, deliveries_of, register


def _bid_for(session, buyer) -> None:
    place_bid(
        session,
        VerifiedVendorFactory(),
        JobFactory(buyer_org_id=buyer.org_id).id,
        Offer(price_per_unit_minor=1, total_minor=100, turnaround_days=3),
    )
    session.commit()


def _form(url: str, events=("bid.received",), description="Risk", enabled=True) -> dict:
    data = {"url": url, "events": list(events), "description": description}
    if enabled:
        data["enabled"] = "y"
    return data


# --- editing ---------------------------------------------------------------------------------------------------


def test_a_manager_changes_the_address_and_events_and_the_next_delivery_goes_there(client, login_as, session, receiver):
    owner = BuyerFactory()
    old_box, new_box = receiver(), receiver()
    endpoint = register(session, owner, old_box, events=["question.asked"])
    secret = endpoint.secret
    login_as(BuyerFactory(org_id=owner.org_id, org_role=OrgRole.MANAGER))
    page = client.get(f"/webhooks/{endpoint.id}/edit")
    assert page.status_code == 200 and old_box.url in page.get_data(as_text=True)
    response = client.post(f"/webhooks/{endpoint.id}/edit", data=_form(new_box.url, description="New dashboard"))
    assert response.status_code == 303
    session.refresh(endpoint)
    assert (endpoint.url, endpoint.events, endpoint.description) == (new_box.url, ["bid.received"], "New dashboard")
    assert endpoint.secret == secret  # the receiver need not change its secret
    new_box.secret = secret
    _bid_for(session, owner)
    deliver()
    assert old_box.calls == [] and len(new_box.calls) == 1 and new_box.calls[0].signed_at is not None
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "webhook.endpoint_changed")).scalar_one()
    assert record.before["url"] == old_box.url and record.after["url"] == new_box.url
    assert record.after["events"] == ["bid.received"] and secret not in str(record.after)


def test_pausing_on_the_edit_page_stops_sending_until_it_is_on_again(client, login_as, session, receiver):
    owner = login_as(BuyerFactory())
    box = receiver()
    endpoint = register(session, owner, box)
    assert client.post(f"/webhooks/{endpoint.id}/edit", data=_form(box.url, enabled=False)).status_code == 303
    session.refresh(endpoint)
    assert endpoint.enabled is False
    _bid_for(session, owner)
    deliver()
    assert box.calls == [] and deliveries_of(session, endpoint) == []  # nothing is recorded for a paused endpoint
    assert client.post(f"/webhooks/{endpoint.id}/edit", data=_form(box.url)).status_code == 303
    _bid_for(session, owner)
    deliver()
    assert len(box.calls) == 1


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (_form("https://127.0.0.1/hook"), "private network"),
        (_form("http://93.184.216.34/hook"), "https://"),
        (_form("https://user:pw@93.184.216.34/hook"), "user name and password"),
        (_form(""), "Give the address"),
        (_form("https://93.184.216.34/hook", events=()), "Choose at least one event."),
        (_form("https://93.184.216.34/hook", events=("job.secret",)), "Choose events from the list."),
        (_form("https://93.184.216.34/hook", description="x" * 201), "under 200 characters"),
    ],
)
def test_a_change_registration_would_refuse_is_refused_beside_the_field_and_nothing_changes(
    client, login_as, session, allow_private, data, words
):
    owner = login_as(BuyerFactory())
    before = "https://93.184.216.34/before"
    endpoint = service.register(session, owner, before, ["question.asked"], "", service.Policy())
    session.commit()
    allow_private["WEBHOOKS_ALLOW_PRIVATE"] = False
    response = client.post(f"/webhooks/{endpoint.id}/edit", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert words in page and data["url"] in page  # what was typed stays in the form
    session.refresh(endpoint)
    assert (endpoint.url, endpoint.events) == ("https://93.184.216.34/before", ["question.asked"])
    assert session.execute(select(AuditRecord).where(AuditRecord.action == "webhook.endpoint_changed")).first() is None


def test_a_member_cannot_edit_and_another_lab_gets_a_404(client, login_as, session, receiver):
    owner = BuyerFactory()
    endpoint = register(session, owner, receiver())
    login_as(BuyerFactory(org_id=owner.org_id, org_role=OrgRole.MEMBER))
    assert client.get(f"/webhooks/{endpoint.id}/edit").status_code == 403
    assert client.post(f"/webhooks/{endpoint.id}/edit", data=_form("https://93.184.216.34/")).status_code == 403
    login_as(BuyerFactory())
    assert client.get(f"/webhooks/{endpoint.id}/edit").status_code == 404
    assert client.post(f"/webhooks/{endpoint.id}/edit", data=_form("https://93.184.216.34/")).status_code == 404
    session.refresh(endpoint)
    assert endpoint.url.startswith("http://127.0.0.1")


def test_saving_the_endpoint_unchanged_records_nothing(client, login_as, session, receiver):
    owner = login_as(BuyerFactory())
    box = receiver()
    endpoint = register(session, owner, box, events=["bid.received"])
    response = client.post(f"/webhooks/{endpoint.id}/edit", data=_form(box.url, description="Risk dashboard"))
    assert response.status_code == 303
    assert session.execute(select(AuditRecord).where(AuditRecord.action == "webhook.endpoint_changed")).first() is None


# --- pruning ---------------------------------------------------------------------------------------------------


def _delivered_and_failed(session, receiver):
    """Three labs' endpoints with one delivery each, made now: delivered, failed (every retry spent) and pending."""
    labs = [BuyerFactory() for _ in range(3)]
    endpoints = [register(session, lab, receiver()) for lab in labs]
    _bid_for(session, labs[0])
    deliver()
    for lab in labs[1:]:
        _bid_for(session, lab)
    [delivered], [failed], [pending] = (deliveries_of(session, endpoint) for endpoint in endpoints)
    failed.status, failed.next_attempt_at = DeliveryStatus.FAILED, None
    session.commit()
    assert delivered.status == DeliveryStatus.SUCCEEDED and pending.status == DeliveryStatus.PENDING
    return delivered, failed, pending


def test_pruning_deletes_delivered_webhooks_past_the_retention_and_keeps_undelivered_ones(app, session, receiver):
    delivered, failed, pending = _delivered_and_failed(session, receiver)
    ids = (delivered.id, failed.id, pending.id)
    delivered_event = delivered.event_id
    retention = app.config["WEBHOOKS_RETENTION_DAYS"]
    with time_machine.travel(utcnow() + timedelta(days=retention - 1), tick=False):
        assert service.prune_deliveries(session, retention) == 0
    with time_machine.travel(utcnow() + timedelta(days=retention + 1), tick=False):
        assert service.prune_deliveries(session, retention) == 1
    session.commit()
    session.expire_all()
    remaining = set(session.execute(select(WebhookDelivery.id).where(WebhookDelivery.id.in_(ids))).scalars())
    assert remaining == {failed.id, pending.id}
    assert session.execute(select(WebhookAttempt).where(WebhookAttempt.delivery_id == ids[0])).first() is None
    assert session.get(OutgoingEvent, delivered_event) is None  # nobody needs its body any more
    assert session.get(OutgoingEvent, failed.event_id) is not None  # a replay of the failed one still sends it


def test_the_prune_command_uses_the_configured_retention(app, session, receiver):
    delivered, failed, pending = (d.id for d in _delivered_and_failed(session, receiver))
    saved = app.config["WEBHOOKS_RETENTION_DAYS"]
    app.config["WEBHOOKS_RETENTION_DAYS"] = 3
    try:
        runner = app.test_cli_runner()
        with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
            assert "0 delivered webhooks deleted." in runner.invoke(args=["webhooks", "prune"]).output
        with time_machine.travel(utcnow() + timedelta(days=4), tick=False):
            result = runner.invoke(args=["webhooks", "prune"])
        assert result.exit_code == 0 and "1 delivered webhook deleted." in result.output
    finally:
        app.config["WEBHOOKS_RETENTION_DAYS"] = saved
    session.expire_all()
    assert session.get(WebhookDelivery, delivered) is None
    assert session.get(WebhookDelivery, failed) is not None and session.get(WebhookDelivery, pending) is not None


def test_the_sweep_prunes_once_an_hour(app, session, receiver):
    delivered = _delivered_and_failed(session, receiver)[0].id
    later = utcnow() + timedelta(days=app.config["WEBHOOKS_RETENTION_DAYS"] + 1)
    with time_machine.travel(later.replace(minute=30), tick=False):
        assert tasks.prune_on_the_hour() is None
    session.expire_all()
    assert session.get(WebhookDelivery, delivered) is not None  # not at half past
    with time_machine.travel(later.replace(minute=0, second=5), tick=False):
        assert tasks.prune_on_the_hour() == 1
    session.expire_all()
    assert session.get(WebhookDelivery, delivered) is None


def test_the_retention_setting_is_a_whole_number_of_days_from_one():
    assert load_config({"WEBHOOKS_RETENTION_DAYS": "7"})["WEBHOOKS_RETENTION_DAYS"] == 7
    assert load_config({})["WEBHOOKS_RETENTION_DAYS"] == 90
    for bad in ("0", "-3", "a week"):
        with pytest.raises(ConfigError, match="WEBHOOKS_RETENTION_DAYS"):
            load_config({"WEBHOOKS_RETENTION_DAYS": bad})
