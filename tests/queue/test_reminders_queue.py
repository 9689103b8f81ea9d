"""Disclosure reminders on the task queue: a starting worker sends what is due and books the next run, once however
many workers start, and the booked run sends nothing twice in a week.

Real Redis, real database, RQ's in-process worker.
"""

from datetime import UTC, datetime, timedelta

import time_machine
from rq.job import Job
from sqlalchemy import select

from marketplace import tasks
from marketplace.accounts.models import User
from marketplace.db_types import utcnow
from marketplace.disclosures import reminders
from marketplace.disclosures.models import DisclosureStatus
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.factories import DisclosureFactory, VendorFactory, VendorOrgFactory


def _stale_vendor_with_two_users() -> int:
    org = VendorOrgFactory(name="Stale Labels", created_at=utcnow() - timedelta(days=900))
    DisclosureFactory(
        vendor_org_id=org.id,
        status=DisclosureStatus.APPROVED,
        submitted_at=utcnow() - timedelta(days=405),
        decided_at=utcnow() - timedelta(days=400),
    )
    VendorFactory(org_id=org.id)
    VendorFactory(org_id=org.id)
    return org.id


def _reminded(org_id: int) -> int:
    return len(
        db.session.execute(
            select(Notification.id)
            .join(User, User.id == Notification.user_id)
            .where(User.org_id == org_id, Notification.kind == "disclosure_reminder")
        ).all()
    )


def _booked(app) -> list[tuple[str, datetime]]:
    registry = tasks.queue(app).scheduled_job_registry
    return [(key, registry.get_scheduled_time(key)) for key in registry.get_job_ids()]


def test_starting_workers_send_what_is_due_once_and_book_the_next_run_once(bed, build, run_worker):
    org_id = build(_stale_vendor_with_two_users)
    moment = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment):
        with bed.app_context():
            reminders.run_on_worker_start()
            reminders.run_on_worker_start()  # a second worker starting in the same interval
            [now_key] = tasks.queue(bed).job_ids
            assert now_key == tasks.job_id("reminders", "20261206T0000")
            booked = _booked(bed)
        # The next run is booked once, for the next midnight (UTC).
        assert booked == [(tasks.job_id("reminders", "20261207T0000", app=bed), datetime(2026, 12, 7, tzinfo=UTC))]

        run_worker()

    with time_machine.travel(moment + timedelta(hours=1)), bed.app_context():
        assert _reminded(org_id) == 2  # one notification per user
        assert Job.fetch(now_key, connection=tasks.connection(bed)).return_value() == (
            "Reminders sent: 1 (1 stale) to 2 users; already sent this week: 0; skipped (suspended vendors): 0. "
            "Acceptance deadlines: 0 reminded, 0 released, 0 accepted with the payout waiting, 0 on hold. "
            "Dispute answers due: 0 reminded. Deletion attestations: 0 reminded, 0 escalated to the admins."
        )
        # The run booked the next one too: still one booking.
        assert [key for key, _ in _booked(bed)] == [key for key, _ in booked]
        # The booked run, when it comes the same week, sends nothing more.
        assert reminders.reminders_job().startswith("Reminders sent: 0; already sent this week: 1")
        assert _reminded(org_id) == 2
        db.session.remove()


def test_an_interval_of_zero_leaves_the_reminders_to_cron(bed):
    bed.config["REMINDER_INTERVAL_HOURS"] = 0
    try:
        with bed.app_context():
            reminders.run_on_worker_start()
            assert tasks.queue(bed).job_ids == []
            assert _booked(bed) == []
    finally:
        bed.config["REMINDER_INTERVAL_HOURS"] = 24
