"""`flask reminders` also reminds a vendor before its verified certificate expires: at 60, 30 and 7 days left and once
expired, once per certificate and threshold however often it runs; never for a renewed, unverified or suspended
vendor's certificate."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.accounts.models import Organization, User
from marketplace.certificates.models import CertificateReminder, CertificateStatus
from marketplace.certificates.reminders import threshold_reached
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.factories import CertificateFactory, VendorFactory, VerifiedVendorOrgFactory


def on(day):
    """The server's clock at 06:00 UTC on that day (a scheduled run's time)."""
    return time_machine.travel(datetime.combine(day, time(6), tzinfo=UTC), tick=False)


def run(app) -> str:
    result = app.test_cli_runner().invoke(args=["reminders"])
    assert result.exit_code == 0, result.output
    return result.output


def reminders_of(session, org_id: int) -> list[str]:
    return list(
        session.execute(
            select(Notification.message)
            .join(User, User.id == Notification.user_id)
            .where(User.org_id == org_id, Notification.kind == "certificate_expiry")
            .order_by(Notification.id)
        ).scalars()
    )


@pytest.fixture
def vendor_org(session):
    """A vendor organisation with two users; certificates() adds its certificates, uploaded by the first."""
    org = VerifiedVendorOrgFactory(name="ClearLabel Studio")
    VendorFactory(org_id=org.id)
    VendorFactory(org_id=org.id)
    return org


def certificate_of(org, **fields):
    uploader = db.session.execute(select(User).where(User.org_id == org.id).limit(1)).scalar_one()
    return CertificateFactory(vendor_org_id=org.id, uploaded_by_id=uploader.id, **fields)


def test_each_threshold_is_reminded_once_per_user_and_never_again(app, session, vendor_org):
    start = utcnow().date()
    expires = start + timedelta(days=65)
    certificate = certificate_of(vendor_org, kind="soc2_type2", expires_on=expires)

    with on(start):
        run(app)
    assert reminders_of(session, vendor_org.id) == []

    with on(expires - timedelta(days=60)):
        assert "1 certificate expiring" in run(app)
        assert "Reminders sent: 0" in run(app)  # the same day again
    sixty = reminders_of(session, vendor_org.id)
    assert len(sixty) == 2  # one per user
    assert sixty[0] == (
        f"ClearLabel Studio's SOC 2 Type II certificate expires on {expires.isoformat()} (in 60 days). Upload the "
        "renewed certificate before then, so that labs requiring it keep seeing it as held."
    )

    with on(expires - timedelta(days=31)):
        run(app)
    assert len(reminders_of(session, vendor_org.id)) == 2
    with on(expires - timedelta(days=30)):
        run(app)
    with on(expires - timedelta(days=29)):
        run(app)
    assert len(reminders_of(session, vendor_org.id)) == 4
    assert "(in 30 days)" in reminders_of(session, vendor_org.id)[-1]

    with on(expires - timedelta(days=7)):
        run(app)
    with on(expires):
        run(app)  # still current today: nothing new
    assert len(reminders_of(session, vendor_org.id)) == 6

    with on(expires + timedelta(days=1)):
        assert "1 certificate expired" in run(app)
        run(app)
    messages = reminders_of(session, vendor_org.id)
    assert len(messages) == 8
    assert messages[-1].startswith(f"ClearLabel Studio's SOC 2 Type II certificate expired on {expires.isoformat()}")

    sent = session.execute(
        select(CertificateReminder.days_before).where(CertificateReminder.certificate_id == certificate.id)
    ).scalars()
    assert sorted(sent) == [0, 7, 30, 60]


def test_a_certificate_verified_late_hears_only_of_the_nearest_threshold(app, session, vendor_org):
    expires = utcnow().date() + timedelta(days=20)
    certificate_of(vendor_org, expires_on=expires)
    run(app)
    messages = reminders_of(session, vendor_org.id)
    assert len(messages) == 2 and "(in 20 days)" in messages[0]
    with on(expires - timedelta(days=15)):
        run(app)
    assert len(reminders_of(session, vendor_org.id)) == 2


def test_renewed_unverified_rejected_and_suspended_vendors_certificates_are_not_reminded(app, session, vendor_org):
    soon = utcnow().date() + timedelta(days=10)
    CertificateFactory(vendor_org_id=vendor_org.id, kind="iso27001", expires_on=soon)
    CertificateFactory(
        vendor_org_id=vendor_org.id,
        kind="iso27001",
        status=CertificateStatus.PENDING,
        expires_on=soon + timedelta(days=365),
    )  # the renewal, uploaded and awaiting review
    CertificateFactory(vendor_org_id=vendor_org.id, kind="hipaa", status=CertificateStatus.PENDING, expires_on=soon)
    CertificateFactory(vendor_org_id=vendor_org.id, kind="gdpr", status=CertificateStatus.REJECTED, expires_on=soon)
    suspended = VerifiedVendorOrgFactory(suspended_at=utcnow(), suspended_reason="Fraud.")
    VendorFactory(org_id=suspended.id)
    CertificateFactory(vendor_org_id=suspended.id, expires_on=soon)

    output = run(app)
    assert "certificate" not in output
    assert reminders_of(session, vendor_org.id) == [] and reminders_of(session, suspended.id) == []
    assert session.get(Organization, suspended.id).suspended_at is not None


def test_thresholds_by_days_left_and_an_expiry_long_past_is_not_news():
    today = utcnow().date()
    assert threshold_reached(today - timedelta(days=31), today) is None
    assert threshold_reached(today - timedelta(days=30), today) == 0
    assert threshold_reached(today - timedelta(days=1), today) == 0
    assert threshold_reached(today + timedelta(days=61), today) is None
    assert threshold_reached(today + timedelta(days=60), today) == 60
    assert threshold_reached(today + timedelta(days=8), today) == 30
    assert threshold_reached(today, today) == 7
