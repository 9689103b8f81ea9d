"""A check made again under a row lock asks the database (transaction_cache forgets its answers at a locked read).

In production the change arrives as another request's commit, which PostgreSQL shows a READ COMMITTED transaction
once the lock is granted (tests/concurrency/test_job_races.py races it, and caught it about once in 24). Here the
change is written on the transaction's own connection, past the session, which the per-transaction cache does not see
either: the same situation, on both databases, every time.
"""

import pytest
from sqlalchemy import update

from marketplace import visibility
from marketplace.errors import NotVisible
from marketplace.jobs.models import BiddingMode, Job, Visibility
from marketplace.locking import lock_row
from tests.factories import JobFactory, VerifiedVendorFactory


def test_a_vendor_who_may_no_longer_see_the_job_is_refused_under_its_lock(session):
    vendor = VerifiedVendorFactory()
    job = JobFactory(bidding_mode=BiddingMode.OPEN)
    session.commit()
    assert visibility.get_visible_job(session, vendor, job.id) is not None  # answered, and kept for the transaction
    # The buyer's edit, as the lock will let the transaction see it.
    session.connection().execute(
        update(Job.__table__).where(Job.__table__.c.id == job.id).values(visibility=Visibility.INVITE_ONLY.value)
    )
    assert visibility.get_visible_job(session, vendor, job.id) is not None  # no lock yet: the kept answer

    lock_row(session, Job, job.id)

    with pytest.raises(NotVisible):
        visibility.get_visible_job(session, vendor, job.id)
