"""A public sealed job of one buyer, its buyer, and vendors, for driving the bid pages."""

from datetime import timedelta

import pytest
import time_machine

from marketplace.db_types import utcnow
from tests.factories import BuyerFactory, InterestFactory, JobFactory, RivalFactory, VerifiedVendorFactory


def soon():
    """A deadline a few hours ahead: travelling past it stays within the sign-in session's 12 hours."""
    return (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)


@pytest.fixture
def job(session):
    return JobFactory(title="Label 40k street scenes", volume=40_000, unit="images", bid_deadline=soon())


@pytest.fixture
def buyer(job):
    return BuyerFactory(org_id=job.buyer_org_id)


@pytest.fixture
def vendor(session):
    return VerifiedVendorFactory()


@pytest.fixture
def past_deadline():
    """Move the server clock just past a job's bid deadline."""

    def travel(job):
        return time_machine.travel(job.bid_deadline + timedelta(minutes=1), tick=False)

    return travel


@pytest.fixture
def exclude():
    """Name a rival of the buyer holding `share`% of the vendor organisation."""

    def _exclude(buyer_org_id, vendor_org, share=49.0):
        rival = RivalFactory(buyer_org_id=buyer_org_id)
        InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor_org.party_id, share_exact=share)

    return _exclude
