"""`flask reminders`: vendors with a stale or overdue disclosure hear once a week, however often it runs."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus, ReminderSent
from marketplace.notifications.models import Notification
from marketplace.parties.models import TieOrigin
from tests.factories import DisclosureFactory, InterestFactory, PartyFactory, VendorFactory, VendorOrgFactory


def approved(org, days_ago: int) -> None:
    DisclosureFactory(
        vendor_org_id=org.id,
        status=DisclosureStatus.APPROVED,
        submitted_at=utcnow() - timedelta(days=days_ago + 5),
        decided_at=utcnow() - timedelta(days=days_ago),
    )


@pytest.fixture
def vendors(session):
    stale = VendorOrgFactory(name="Stale Labels", created_at=utcnow() - timedelta(days=900))
    approved(stale, 400)
    overdue = VendorOrgFactory(name="Overdue Data", created_at=utcnow() - timedelta(days=900))
    approved(overdue, 100)
    InterestFactory(
        interested_party_id=PartyFactory(name="Cobalt Social").id,
        subject_party_id=overdue.party_id,
        share_exact=12.0,
        origin=TieOrigin.ADMIN_FACT,
        recorded_at=utcnow() - timedelta(days=31),
    )
    current = VendorOrgFactory(name="Current Co", created_at=utcnow() - timedelta(days=900))
    approved(current, 30)
    never = VendorOrgFactory(name="Never Filed", created_at=utcnow() - timedelta(days=3))
    suspended = VendorOrgFactory(
        name="Suspended Stale",
        created_at=utcnow() - timedelta(days=900),
        suspended_at=utcnow(),
        suspended_reason="Fraud.",
    )
    approved(suspended, 500)
    orgs = {"stale": stale, "overdue": overdue, "current": current, "never": never, "suspended": suspended}
    users = {key: [VendorFactory(org_id=org.id), VendorFactory(org_id=org.id)] for key, org in orgs.items()}
    return orgs, users


def reminders_of(session, org) -> list[str]:
    return list(
        session.execute(
            select(Notification.message)
            .join(User, User.id == Notification.user_id)
            .where(User.org_id == org.id, Notification.kind == "disclosure_reminder")
            .order_by(Notification.id)
        ).scalars()
    )


def run(app):
    result = app.test_cli_runner().invoke(args=["reminders"])
    assert result.exit_code == 0, result.output
    return result.output


def test_stale_and_overdue_vendors_are_reminded_once(app, session, vendors):
    orgs, users = vendors
    output = run(app)
    assert "Reminders sent: 2 (1 material change overdue, 1 stale) to 4 users" in output
    assert "skipped (suspended vendors): 1" in output

    stale = reminders_of(session, orgs["stale"])
    assert len(stale) == 2  # one per user
    assert "Stale Labels's ownership disclosure is more than 12 months old" in stale[0]
    overdue = reminders_of(session, orgs["overdue"])
    assert len(overdue) == 2
    assert "within 30 days of a material change" in overdue[0] and "Cobalt Social: shareholding 12%" in overdue[0]
    for key in ("current", "never", "suspended"):
        assert reminders_of(session, orgs[key]) == [], key
    link = session.execute(select(Notification.link).where(Notification.user_id == users["stale"][0].id)).scalar_one()
    assert link == "/disclosure/"

    again = run(app)
    assert "Reminders sent: 0; already sent this week: 2" in again
    assert len(reminders_of(session, orgs["stale"])) == 2 and len(reminders_of(session, orgs["overdue"])) == 2
    sent = session.execute(
        select(ReminderSent.vendor_org_id, ReminderSent.kind, ReminderSent.recipients).order_by(
            ReminderSent.vendor_org_id
        )
    ).all()
    assert sorted(sent) == sorted([(orgs["stale"].id, "stale", 2), (orgs["overdue"].id, "material_change_overdue", 2)])


def test_a_week_later_they_are_reminded_again_unless_they_filed(app, session, vendors):
    orgs, _ = vendors
    run(app)
    DisclosureFactory(
        vendor_org_id=orgs["overdue"].id, number=2, status=DisclosureStatus.SUBMITTED, submitted_at=utcnow()
    )
    with time_machine.travel(utcnow() + timedelta(days=7)):
        output = run(app)
    assert "Reminders sent: 1 (1 stale)" in output
    assert len(reminders_of(session, orgs["stale"])) == 4
    assert len(reminders_of(session, orgs["overdue"])) == 2


def test_nothing_owed_sends_nothing(app, session):
    output = run(app)
    assert output.startswith("Reminders sent: 0;")
