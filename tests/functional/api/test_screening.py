"""A lab's screening over the API: its rivals and policy, the vendor search with verdicts and findings, one vendor's
screening with its routes and sources. Nobody but the lab reads them."""

import pytest

from tests.factories import BuyerFactory, InterestFactory, PartyFactory, RivalFactory, VerifiedVendorFactory


@pytest.fixture
def lab(token_for):
    owner = BuyerFactory()
    return owner, token_for(owner)


def test_the_lab_reads_its_rivals_and_policy(api, lab):
    owner, token = lab
    rival = RivalFactory(buyer_org_id=owner.org_id)
    rivals = api("GET", "/api/v1/rivals", token).json["items"]
    assert [r["party_id"] for r in rivals] == [rival.party_id]
    policy = api("GET", "/api/v1/screening/policy", token).json
    assert policy["exclude_at"] == 25.0 and policy["review_at"] == 10.0
    assert policy["actions"]["ownership"]


def test_another_labs_rivals_are_never_shown(api, lab, token_for):
    owner, _ = lab
    RivalFactory(buyer_org_id=owner.org_id)
    other = token_for(BuyerFactory(), name="other")
    assert api("GET", "/api/v1/rivals", other).json["items"] == []


@pytest.mark.parametrize(
    "path", ["/api/v1/rivals", "/api/v1/screening/policy", "/api/v1/vendors", "/api/v1/vendors/1/screening"]
)
def test_a_vendors_token_reads_no_labs_screening(api, token_for, path):
    response = api("GET", path, token_for(VerifiedVendorFactory()))
    assert response.status_code == 403 and response.json["type"].endswith("wrong-kind")


def test_the_vendor_search_hides_excluded_vendors_unless_asked_and_explains_each_verdict(api, lab, exclude_vendor):
    owner, token = lab
    clear, excluded = VerifiedVendorFactory(), VerifiedVendorFactory()
    exclude_vendor(owner.org_id, excluded.org_id)
    page = api("GET", "/api/v1/vendors", token).json
    ids = {row["vendor_id"] for row in page["items"]}
    assert clear.org_id in ids and excluded.org_id not in ids and page["hidden_excluded"] >= 1
    shown = api("GET", "/api/v1/vendors?show_excluded=true", token).json["items"]
    row = next(row for row in shown if row["vendor_id"] == excluded.org_id)
    assert row["verdict"] == "exclude"
    assert any(f["rule"] == "ownership" and f["stake"]["low"] == 30.0 for f in row["findings"])


def test_one_vendors_screening_gives_routes_and_sources(api, lab):
    owner, token = lab
    vendor = VerifiedVendorFactory()
    rival = RivalFactory(buyer_org_id=owner.org_id)
    holding = PartyFactory(name="Midway Holdings")
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=holding.id, share_exact=60.0)
    from marketplace.accounts.models import Organization
    from marketplace.extensions import db

    vendor_party = db.session.get(Organization, vendor.org_id).party_id
    InterestFactory(interested_party_id=holding.id, subject_party_id=vendor_party, share_exact=40.0)
    report = api("GET", f"/api/v1/vendors/{vendor.org_id}/screening", token).json
    assert report["verdict"] == "exclude"
    routes = [route for finding in report["findings"] for route in finding["routes"]]
    assert any("Midway Holdings" in route for route in routes)
    assert all(finding["sources"] for finding in report["findings"] if finding["rule"] == "ownership")


def test_a_lab_or_unknown_id_is_not_a_vendor(api, lab):
    owner, token = lab
    assert api("GET", f"/api/v1/vendors/{owner.org_id}/screening", token).status_code == 404
    assert api("GET", "/api/v1/vendors/2147483647/screening", token).status_code == 404


def test_the_vendor_search_pages_with_its_cursor(api, lab):
    _, token = lab
    for _ in range(3):
        VerifiedVendorFactory()
    first = api("GET", "/api/v1/vendors", token).json
    assert first["items"]
    assert api("GET", "/api/v1/vendors?cursor=forged", token).status_code == 400
