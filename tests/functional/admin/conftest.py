"""The admin pages' usual cast: an admin, and a vendor user of Scalewise Data."""

import pytest

from tests.factories import AdminFactory, VendorFactory, VendorOrgFactory


@pytest.fixture
def admin(session):
    return AdminFactory(name="Ada Reviewer")


@pytest.fixture
def vendor(session):
    return VendorFactory(name="Ines Duarte", org_id=VendorOrgFactory(name="Scalewise Data").id)
