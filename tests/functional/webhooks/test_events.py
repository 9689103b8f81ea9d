"""Each event is emitted by the real service call that makes it happen, and tells the lab only what it may know."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.accounts.suspension import suspend_organization
from marketplace.db_types import utcnow
from marketplace.disputes import service as disputes
from marketplace.jobs import service as jobs
from marketplace.notifications.models import Notification
from marketplace.screening.services.rivals import add_rival_by_name
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VerifiedVendorFactory,
)
from tests.functional.payments.stripe_support import connect_vendor, deliver, fund, make_deal, only_milestone
from tests.functional.webhooks.helpers import deliver as send_due
from tests.functional.webhooks.helpers import register


def _only(box, event_type: str) -> dict:
    calls = [call for call in box.calls if call.json["type"] == event_type]
    assert len(calls) == 1, [call.json["type"] for call in box.calls]
    assert calls[0].signed_at is not None, calls[0].problem
    return calls[0].json["data"]


def test_a_question_is_announced_without_naming_who_asked(session, receiver):
    buyer = BuyerFactory()
    box = receiver()
    register(session, buyer, box, ["question.asked"])
    job = JobFactory(buyer_org_id=buyer.org_id)
    vendor = VerifiedVendorFactory()
    question = jobs.ask_question(session, vendor, job.id, "Are the images all daylight?")
    session.commit()
    send_due()
    data = _only(box, "question.asked")
    assert data["job"]["id"] == job.id and data["question"] == {"id": question.id, "text": question.text}
    vendor_name = session.get(Organization, vendor.org_id).name
    assert vendor_name not in str(box.calls[0].body) and vendor.name not in str(box.calls[0].body)


def test_a_passed_deadline_is_announced_once(session, receiver):
    buyer = BuyerFactory()
    box = receiver()
    old = JobFactory(buyer_org_id=buyer.org_id, bid_deadline=utcnow() - timedelta(days=1))
    register(session, buyer, box, ["job.deadline_passed"])
    job = JobFactory(buyer_org_id=buyer.org_id, bid_deadline=utcnow() + timedelta(hours=1))
    session.commit()
    assert send_due() == 0  # not yet; and a deadline passed before the endpoint existed is not news
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        assert send_due() == 1
        assert send_due() == 0
    data = _only(box, "job.deadline_passed")
    assert data["job"]["id"] == job.id and data["job"]["id"] != old.id


def test_a_delivery_and_a_dispute_are_announced(session, receiver, gateway, stripe_sim, stripe_config):
    deal = make_deal(session)
    connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    box = receiver()
    register(session, deal.buyer, box, ["delivery.made", "dispute.opened", "dispute.withdrawn"])

    delivery = deliver(session, deal, milestone)
    dispute = disputes.open_dispute(
        session,
        deal.vendor,
        deal.contract.id,
        milestone.id,
        "Paid late.",
        [],
        None,
        deadlines=disputes.Deadlines(7, 14),
    )
    session.commit()
    send_due()

    made = _only(box, "delivery.made")
    assert made["contract"]["id"] == deal.contract.id and made["delivery"]["id"] == delivery.id
    assert made["milestone"]["id"] == milestone.id
    opened = _only(box, "dispute.opened")
    assert opened["dispute"]["id"] == dispute.id and opened["dispute"]["opened_by"] == "vendor"
    assert opened["held"]["amount_minor"] == dispute.held_minor
    assert "dispute.withdrawn" not in [call.json["type"] for call in box.calls]

    disputes.withdraw_dispute(session, deal.vendor, dispute.id, "Paid after all.")
    session.commit()
    send_due()
    withdrawn = _only(box, "dispute.withdrawn")
    assert withdrawn["dispute"]["id"] == dispute.id and withdrawn["milestone"]["status"] == "delivered"
    assert "Paid after all." not in str(withdrawn)  # the reason stays on the dispute's page


def test_a_verdict_change_tells_the_lab_the_vendor_and_the_verdicts_and_nothing_else(session, receiver):
    lab = BuyerFactory()
    other_lab = BuyerFactory()
    RivalFactory(buyer_org_id=other_lab.org_id, party_id=PartyFactory(name="Zenith Robotics").id)
    vendor = VerifiedVendorFactory()
    vendor_org = session.get(Organization, vendor.org_id)
    holdco = PartyFactory(name="Quiet Holdings Sarl")
    cobalt = PartyFactory(name="Cobalt Social")
    # Cobalt holds 49% of the vendor through a holding the lab's pages show only on the screening page.
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=holdco.id, share_exact=100.0)
    InterestFactory(interested_party_id=holdco.id, subject_party_id=vendor_org.party_id, share_exact=49.0)
    # A suspended vendor the lab's vendor search no longer lists, owned by Cobalt too.
    hidden = VerifiedVendorFactory()
    hidden_org = session.get(Organization, hidden.org_id)
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=hidden_org.party_id, share_exact=60.0)
    suspend_organization(session, AdminFactory(), hidden_org.id, "Fraud under investigation.")
    box = receiver()
    register(session, lab, box, ["verdict.changed"])

    add_rival_by_name(session, lab, "Cobalt Social")
    session.commit()
    send_due()

    # Its verdict changed too (the lab's notifications say so): the webhook alone stays silent about it.
    told = session.execute(select(Notification.message).where(Notification.user_id == lab.id)).scalars().all()
    assert any(hidden_org.name in message for message in told)
    data = _only(box, "verdict.changed")
    assert data == {
        "vendor": {"id": vendor_org.id, "name": vendor_org.name, "path": f"/vendors/{vendor_org.id}/screening"},
        "verdict": {"before": "clear", "after": "exclude"},
        "rules": data["rules"],
    }
    assert "ownership" in data["rules"] or "control" in data["rules"]
    body = box.calls[0].body.decode()
    # No route, figure, party or source; no other lab's rival; no vendor the lab may not know of.
    for secret in ("Quiet Holdings", "Zenith", "Cobalt", hidden_org.name, "Fraud", "share", "%"):
        assert secret not in body, secret
    assert all(rule.isidentifier() for rule in data["rules"])
