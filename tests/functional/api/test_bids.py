"""Bids over the API: vendors place, revise and withdraw their own; a lab compares, reads and awards its job's
bids, and never reads a sealed bid's terms before the deadline; nobody reads another vendor's bid."""

from datetime import timedelta

import pytest
import time_machine

from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.contracts.models import Contract
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, Visibility
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory
from tests.functional.api.conftest import offer_body


@pytest.fixture
def job(session):
    return JobFactory(bid_deadline=(utcnow() + timedelta(hours=3)).replace(microsecond=0))


@pytest.fixture
def lab_token(job, token_for):
    return token_for(BuyerFactory(org_id=job.buyer_org_id))


@pytest.fixture
def vendor_token(token_for):
    return token_for(VerifiedVendorFactory())


def _after(job):
    return time_machine.travel(job.bid_deadline + timedelta(minutes=1), tick=False)


def test_a_vendor_places_revises_and_withdraws_its_bid(api, job, vendor_token, session):
    placed = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body())
    assert placed.status_code == 201, placed.json
    bid_id = placed.json["id"]
    assert placed.json["terms"]["total_minor"] == 250_000 and placed.json["revision"] == 1
    revised = api("PUT", f"/api/v1/bids/{bid_id}", vendor_token, json=offer_body(total_minor=240_000))
    assert revised.status_code == 200 and revised.json["revision"] == 2
    assert [r["number"] for r in revised.json["revisions"]] == [2, 1]
    withdrawn = api("POST", f"/api/v1/bids/{bid_id}/withdraw", vendor_token)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    assert session.query(BidRevision).filter_by(bid_id=bid_id).count() == 2
    listed = api("GET", "/api/v1/bids", vendor_token).json["items"]
    assert [bid["id"] for bid in listed] == [bid_id]


def test_a_second_bid_on_the_same_job_is_refused(api, job, vendor_token):
    assert api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body()).status_code == 201
    response = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body())
    assert response.status_code == 409


def test_the_services_bid_rules_name_the_api_fields(api, job, vendor_token):
    response = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body(total_minor=10))
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "total_minor", "message": "The total cannot be less than the price per unit."}
    ]


def test_bidding_after_the_deadline_is_refused(api, job, vendor_token):
    with _after(job):
        response = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body())
    assert response.status_code == 409 and "closed" in response.json["detail"]


def test_a_placed_bid_is_idempotent_by_key(api, job, vendor_token, session):
    headers = {"Idempotency-Key": "bid-1"}
    first = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body(), headers=headers)
    second = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body(), headers=headers)
    assert first.status_code == second.status_code == 201 and first.json == second.json
    conflict = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body(total_minor=9), headers=headers)
    assert conflict.status_code == 422 and conflict.json["type"].endswith("idempotency-conflict")
    assert session.query(Bid).filter_by(job_id=job.id).count() == 1


def test_another_vendors_bid_is_404(api, job, vendor_token, token_for):
    bid_id = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body()).json["id"]
    rival = token_for(VerifiedVendorFactory(), name="rival")
    assert api("GET", f"/api/v1/bids/{bid_id}", rival).status_code == 404
    assert api("PUT", f"/api/v1/bids/{bid_id}", rival, json=offer_body()).status_code == 404
    assert api("POST", f"/api/v1/bids/{bid_id}/withdraw", rival).status_code == 404
    assert api("GET", "/api/v1/bids", rival).json["items"] == []


def test_a_sealed_bids_terms_never_reach_the_lab_before_the_deadline(api, job, lab_token, vendor_token):
    assert job.bidding_mode == BiddingMode.SEALED
    bid_id = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body(total_minor=271_828)).json["id"]
    comparison = api("GET", f"/api/v1/jobs/{job.id}/bids", lab_token)
    assert comparison.status_code == 200
    assert comparison.json["amounts_visible"] is False and comparison.json["bids"] == []
    assert comparison.json["bid_count"] == 1
    assert "271828" not in comparison.get_data(as_text=True)
    assert api("GET", f"/api/v1/jobs/{job.id}/bids/{bid_id}", lab_token).status_code == 404
    refused = api("POST", f"/api/v1/jobs/{job.id}/bids/{bid_id}/award", lab_token)
    assert refused.status_code == 409 and "271828" not in refused.get_data(as_text=True)
    with _after(job):
        opened = api("GET", f"/api/v1/jobs/{job.id}/bids", lab_token).json
        assert opened["amounts_visible"] is True
        assert opened["bids"][0]["terms"]["total_minor"] == 271_828
        assert api("GET", f"/api/v1/jobs/{job.id}/bids/{bid_id}", lab_token).json["terms"]["total_minor"] == 271_828


def test_an_open_jobs_bids_are_seen_as_they_come(api, token_for, vendor_token):
    job = JobFactory(bidding_mode=BiddingMode.OPEN)
    lab = token_for(BuyerFactory(org_id=job.buyer_org_id), name="lab")
    api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body())
    assert api("GET", f"/api/v1/jobs/{job.id}/bids", lab).json["bids"][0]["terms"]["total_minor"] == 250_000


def test_the_lab_awards_after_the_deadline_and_a_contract_is_made(api, job, lab_token, vendor_token, session):
    bid_id = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body()).json["id"]
    with _after(job):
        awarded = api("POST", f"/api/v1/jobs/{job.id}/bids/{bid_id}/award", lab_token)
        assert awarded.status_code == 201, awarded.json
        assert awarded.json["outcome"] == "awarded"
        contract_id = awarded.json["contract_id"]
        assert session.get(Bid, bid_id).status == BidStatus.AWARDED
        contract = api("GET", f"/api/v1/contracts/{contract_id}", lab_token).json
        assert contract["total_minor"] == 250_000 and len(contract["milestones"]) == 1
        assert api("GET", f"/api/v1/contracts/{contract_id}", vendor_token).status_code == 200
        assert api("GET", "/api/v1/contracts", vendor_token).json["items"][0]["id"] == contract_id
        assert api("POST", f"/api/v1/jobs/{job.id}/bids/{bid_id}/award", lab_token).status_code == 409
    assert session.query(Contract).filter_by(job_id=job.id).count() == 1


def test_a_stranger_cannot_read_a_contract(api, job, lab_token, vendor_token, token_for):
    bid_id = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body()).json["id"]
    with _after(job):
        contract_id = api("POST", f"/api/v1/jobs/{job.id}/bids/{bid_id}/award", lab_token).json["contract_id"]
        stranger = token_for(BuyerFactory(), name="stranger")
        assert api("GET", f"/api/v1/contracts/{contract_id}", stranger).status_code == 404
        assert api("GET", "/api/v1/contracts", stranger).json["items"] == []


def test_another_lab_cannot_compare_read_or_award(api, job, vendor_token, token_for):
    bid_id = api("POST", f"/api/v1/jobs/{job.id}/bids", vendor_token, json=offer_body()).json["id"]
    other = token_for(BuyerFactory(), name="other lab")
    with _after(job):
        assert api("GET", f"/api/v1/jobs/{job.id}/bids", other).status_code == 404
        assert api("GET", f"/api/v1/jobs/{job.id}/bids/{bid_id}", other).status_code == 404
        assert api("POST", f"/api/v1/jobs/{job.id}/bids/{bid_id}/award", other).status_code == 404


def test_a_vendor_cannot_use_the_labs_bid_endpoints(api, job, vendor_token):
    response = api("GET", f"/api/v1/jobs/{job.id}/bids", vendor_token)
    assert response.status_code == 403 and response.json["type"].endswith("wrong-kind")


def test_an_excluded_vendor_cannot_bid_and_its_bid_leaves_the_comparison(
    api, job, lab_token, token_for, exclude_vendor
):
    vendor = VerifiedVendorFactory()
    token = token_for(vendor, name="excluded")
    bid_id = api("POST", f"/api/v1/jobs/{job.id}/bids", token, json=offer_body()).json["id"]
    exclude_vendor(job.buyer_org_id, vendor.org_id)
    with _after(job):
        assert api("GET", f"/api/v1/jobs/{job.id}/bids", lab_token).json["bids"] == []
        assert api("GET", f"/api/v1/jobs/{job.id}/bids/{bid_id}", lab_token).status_code == 404
    other_job = JobFactory(buyer_org_id=job.buyer_org_id)
    refused = api("POST", f"/api/v1/jobs/{other_job.id}/bids", token, json=offer_body())
    assert refused.status_code == 409


def test_a_rival_owned_vendor_sees_nothing_of_a_confidential_job(api, token_for, exclude_vendor):
    job = JobFactory(visibility=Visibility.CONFIDENTIAL, title="Secret lidar programme")
    vendor = VerifiedVendorFactory()
    token = token_for(vendor)
    exclude_vendor(job.buyer_org_id, vendor.org_id)
    for method, path, body in [
        ("GET", f"/api/v1/jobs/{job.id}", None),
        ("GET", f"/api/v1/jobs/{job.id}/questions", None),
        ("POST", f"/api/v1/jobs/{job.id}/questions", {"text": "Which lab is this?"}),
        ("POST", f"/api/v1/jobs/{job.id}/bids", offer_body()),
    ]:
        response = api(method, path, token, json=body)
        assert response.status_code == 404, (method, path, response.json)
        assert "Secret lidar" not in response.get_data(as_text=True)
    listing = api("GET", "/api/v1/jobs?limit=100", token).get_data(as_text=True)
    assert "Secret lidar" not in listing
