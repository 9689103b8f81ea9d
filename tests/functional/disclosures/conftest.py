"""The disclosure pages' vendor and its draft version."""

import pytest

from marketplace.disclosures import service
from tests.factories import VendorFactory


@pytest.fixture
def vendor(session):
    return VendorFactory(name="Ines Vendor")


@pytest.fixture
def draft(session, vendor):
    return service.start_new_version(session, vendor)
