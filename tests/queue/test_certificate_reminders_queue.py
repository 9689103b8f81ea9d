"""Certificate expiry reminders ride on the queue's scheduled reminders run: a starting worker's run tells the vendor
once, and the next booked run sends nothing more for the same threshold.

Real Redis, real database, RQ's in-process worker. The moment is far from the other reminder tests' own, so that
what each leaves in the shared database is not due in the other.
"""

from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.disclosures import reminders
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.factories import CertificateFactory, VendorFactory, VerifiedVendorOrgFactory

MOMENT = datetime(2027, 6, 1, 9, 30, tzinfo=UTC)


def _vendor_whose_certificate_expires_in_4_days() -> int:
    org = VerifiedVendorOrgFactory(name="Soon Expiring Labels")
    uploader = VendorFactory(org_id=org.id)
    VendorFactory(org_id=org.id)
    CertificateFactory(vendor_org_id=org.id, uploaded_by_id=uploader.id, kind="hipaa", expires_on=date(2027, 6, 5))
    return org.id


def _reminded(org_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(Notification.message)
            .join(User, User.id == Notification.user_id)
            .where(User.org_id == org_id, Notification.kind == "certificate_expiry")
        ).scalars()
    )


def test_the_queue_run_reminds_of_an_expiring_certificate_once(bed, build, run_worker):
    with time_machine.travel(MOMENT - timedelta(days=1)):
        org_id = build(_vendor_whose_certificate_expires_in_4_days)
    with time_machine.travel(MOMENT):
        with bed.app_context():
            reminders.run_on_worker_start()
        run_worker()
    with time_machine.travel(MOMENT + timedelta(hours=1)), bed.app_context():
        told = _reminded(org_id)
        assert len(told) == 2 and "HIPAA certificate expires on 2027-06-05 (in 4 days)" in told[0]
        assert "certificate expiring" not in reminders.reminders_job()
        assert len(_reminded(org_id)) == 2
        db.session.remove()
