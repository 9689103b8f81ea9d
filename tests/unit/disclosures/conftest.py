"""Fixtures for the disclosure service tests: a vendor with a draft, and an admin."""

import pytest

from marketplace.disclosures import service
from tests.factories import AdminFactory, VendorFactory


@pytest.fixture
def vendor(session):
    return VendorFactory(name="Ines Vendor")


@pytest.fixture
def admin(session):
    return AdminFactory(name="Ada Admin")


@pytest.fixture
def draft(session, vendor):
    return service.start_new_version(session, vendor)
