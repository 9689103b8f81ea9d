"""A public sealed job of one buyer organisation, and vendors to bid on it."""

import pytest

from marketplace.accounts.models import Organization
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory


@pytest.fixture
def job(session):
    return JobFactory()


@pytest.fixture
def buyer(job):
    return BuyerFactory(org_id=job.buyer_org_id)


@pytest.fixture
def vendor(session):
    return VerifiedVendorFactory()


@pytest.fixture
def vendor_org(session, vendor):
    return session.get(Organization, vendor.org_id)
