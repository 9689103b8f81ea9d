"""A vendor's own disclosure versions over the API; nobody else's."""

from marketplace.disclosures.models import DisclosureStatus
from tests.factories import BuyerFactory, DisclosureFactory, VendorFactory, VerifiedVendorFactory


def test_a_vendor_reads_its_versions_and_whether_they_are_stale(api, token_for):
    vendor = VerifiedVendorFactory()
    DisclosureFactory(vendor_org_id=vendor.org_id, number=2, status=DisclosureStatus.DRAFT)
    page = api("GET", "/api/v1/disclosures", token_for(vendor)).json
    assert [v["status"] for v in page["items"]] == ["draft", "approved"]
    assert page["stale"] is False


def test_a_vendor_sees_no_other_vendors_versions(api, token_for):
    VerifiedVendorFactory()  # another vendor's approved version exists
    page = api("GET", "/api/v1/disclosures", token_for(VendorFactory())).json
    assert page["items"] == []


def test_a_lab_has_no_disclosures_endpoint(api, token_for):
    assert api("GET", "/api/v1/disclosures", token_for(BuyerFactory())).status_code == 403
