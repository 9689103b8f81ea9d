"""Jobs over the API: the lab posts, changes, publishes and cancels its own; vendors read what screening lets them
see, exactly as on the pages; lists page with an opaque cursor; creating POSTs take an Idempotency-Key."""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.accounts.models import OrgRole
from marketplace.codenames import codename_for
from marketplace.jobs.models import Job, JobStatus, Visibility
from tests.factories import BidFactory, BuyerFactory, JobFactory, VendorFactory, VerifiedVendorFactory
from tests.functional.api.conftest import job_body


@pytest.fixture
def lab(token_for):
    owner = BuyerFactory()
    return owner, token_for(owner)


def test_a_lab_posts_a_draft_then_publishes_it(api, lab, session):
    owner, token = lab
    response = api("POST", "/api/v1/jobs", token, json=job_body())
    assert response.status_code == 201
    job = response.json
    assert job["status"] == "draft" and job["budget_min_minor"] == 200_000 and job["buyer"]
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
    published = api("POST", f"/api/v1/jobs/{job['id']}/publish", token)
    assert published.status_code == 200 and published.json["status"] == "open"
    again = api("POST", f"/api/v1/jobs/{job['id']}/publish", token)
    assert again.status_code == 409
    assert again.json["detail"] == "This job is already published: vendors can bid on it."


def test_the_deadline_is_read_as_an_instant_whatever_the_owners_time_zone(api, token_for, session):
    owner = BuyerFactory(timezone="Asia/Tokyo")
    deadline = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
    response = api(
        "POST",
        "/api/v1/jobs",
        token_for(owner),
        json=job_body(bid_deadline=deadline.isoformat(), delivery_date="2031-06-01"),
    )
    assert response.status_code == 201, response.json
    assert session.get(Job, response.json["id"]).bid_deadline == deadline
    assert response.json["bid_deadline"].startswith("2031-03-01T12:00:00")


def test_the_services_refusals_come_back_as_422_naming_each_field(api, lab):
    _, token = lab
    response = api(
        "POST",
        "/api/v1/jobs",
        token,
        json=job_body(title=" ", budget_min="9000", budget_max="10", modality="smell", publish=True),
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json["errors"]}
    assert {"title", "budget_max", "modality"} <= fields
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "no other field"},
        {**job_body(), "volume": "many"},
        {**job_body(), "surprise": 1},
        {**job_body(), "title": "nul\x00byte"},
        {**job_body(), "bid_deadline": "next tuesday"},
    ],
    ids=["missing", "wrong-type", "unknown-field", "nul-byte", "bad-date"],
)
def test_malformed_bodies_are_422_problems(api, lab, body):
    response = api("POST", "/api/v1/jobs", lab[1], json=body)
    assert response.status_code == 422
    assert response.json["errors"]


def test_a_body_that_is_not_a_json_object_is_a_400_problem(api, lab):
    for data in ("not json", "[1, 2]"):
        response = api("POST", "/api/v1/jobs", lab[1], data=data, content_type="application/json")
        assert response.status_code == 400
        assert response.json["type"].endswith("invalid-json")


def test_the_lab_updates_its_job_until_someone_bids_then_cancels_it(api, lab, session):
    owner, token = lab
    job = JobFactory(buyer_org_id=owner.org_id)
    response = api("PUT", f"/api/v1/jobs/{job.id}", token, json=job_body(title="Renamed"))
    assert response.status_code == 200 and response.json["title"] == "Renamed"
    BidFactory(job_id=job.id)
    refused = api("PUT", f"/api/v1/jobs/{job.id}", token, json=job_body(title="Again"))
    assert refused.status_code == 409 and "already bid" in refused.json["detail"]
    cancelled = api("POST", f"/api/v1/jobs/{job.id}/cancel", token)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api("POST", f"/api/v1/jobs/{job.id}/cancel", token).status_code == 409


def test_another_labs_job_is_404_for_every_action(api, lab):
    other = JobFactory(status=JobStatus.DRAFT)
    _, token = lab
    for method, path, body in [
        ("GET", f"/api/v1/jobs/{other.id}", None),
        ("PUT", f"/api/v1/jobs/{other.id}", job_body()),
        ("POST", f"/api/v1/jobs/{other.id}/publish", None),
        ("POST", f"/api/v1/jobs/{other.id}/cancel", None),
    ]:
        response = api(method, path, token, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json["detail"] == "There is nothing at this address."


def test_a_vendor_reads_open_jobs_but_never_drafts(api, token_for):
    vendor = VendorFactory()
    token = token_for(vendor)
    open_job, draft = JobFactory(), JobFactory(status=JobStatus.DRAFT)
    ids = {job["id"] for job in api("GET", "/api/v1/jobs", token).json["items"]}
    assert open_job.id in ids and draft.id not in ids
    assert api("GET", f"/api/v1/jobs/{draft.id}", token).status_code == 404


def test_an_excluded_vendor_gets_404_for_a_confidential_jobs_id(api, token_for, exclude_vendor):
    vendor = VerifiedVendorFactory()
    token = token_for(vendor)
    confidential = JobFactory(visibility=Visibility.CONFIDENTIAL)
    seen = api("GET", f"/api/v1/jobs/{confidential.id}", token)
    assert seen.status_code == 200
    # The lab stays hidden behind the codename this vendor reads (the job's, and the vendor's own tag).
    assert seen.json["buyer"] == codename_for(confidential.codename, confidential.id, vendor.org_id)
    exclude_vendor(confidential.buyer_org_id, vendor.org_id)
    assert api("GET", f"/api/v1/jobs/{confidential.id}", token).status_code == 404
    assert confidential.id not in {job["id"] for job in api("GET", "/api/v1/jobs", token).json["items"]}
    assert api("GET", f"/api/v1/jobs/{confidential.id}/questions", token).status_code == 404


def test_lists_page_with_an_opaque_cursor_and_a_next_link(api, lab):
    owner, token = lab
    made = {JobFactory(buyer_org_id=owner.org_id).id for _ in range(5)}
    first = api("GET", "/api/v1/jobs?limit=2", token).json
    assert len(first["items"]) == 2 and first["next"]
    seen = [job["id"] for job in first["items"]]
    following = first["next"]
    while following:
        page = api("GET", following, token).json
        seen += [job["id"] for job in page["items"]]
        following = page["next"]
    assert set(seen) == made and len(seen) == len(made)
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("cursor", ["garbage", "eyJhZnRlciI6IDF9"])
def test_a_cursor_this_list_did_not_give_is_a_400_problem(api, lab, cursor):
    response = api("GET", f"/api/v1/jobs?cursor={cursor}", lab[1])
    assert response.status_code == 400
    assert response.json["type"].endswith("invalid-cursor")


def test_another_lists_cursor_is_refused(api, token_for):
    vendor = VendorFactory()
    token = token_for(vendor)
    for _ in range(3):
        BidFactory(vendor_org_id=vendor.org_id)
    cursor = api("GET", "/api/v1/bids?limit=1", token).json["next"].split("cursor=")[1].split("&")[0]
    assert api("GET", f"/api/v1/jobs?cursor={cursor}", token).status_code == 400


def test_a_limit_out_of_range_is_a_422_problem(api, lab):
    assert api("GET", "/api/v1/jobs?limit=0", lab[1]).status_code == 422
    assert api("GET", "/api/v1/jobs?limit=1000", lab[1]).status_code == 422


def test_the_same_idempotency_key_and_body_give_the_stored_answer(api, lab, session):
    owner, token = lab
    headers, body = {"Idempotency-Key": "post-job-1"}, job_body()
    first = api("POST", "/api/v1/jobs", token, json=body, headers=headers)
    second = api("POST", "/api/v1/jobs", token, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json and second.headers["Idempotent-Replayed"] == "true"
    assert session.query(Job).filter_by(buyer_org_id=owner.org_id).count() == 1


def test_the_same_idempotency_key_with_another_body_is_a_422_problem(api, lab, session):
    owner, token = lab
    headers = {"Idempotency-Key": "post-job-2"}
    assert api("POST", "/api/v1/jobs", token, json=job_body(), headers=headers).status_code == 201
    response = api("POST", "/api/v1/jobs", token, json=job_body(title="Another"), headers=headers)
    assert response.status_code == 422
    assert response.json["type"].endswith("idempotency-conflict")
    assert session.query(Job).filter_by(buyer_org_id=owner.org_id).count() == 1


def test_a_refused_request_does_not_use_up_its_idempotency_key(api, lab, session):
    owner, token = lab
    headers = {"Idempotency-Key": "post-job-3"}
    assert api("POST", "/api/v1/jobs", token, json=job_body(title=" "), headers=headers).status_code == 422
    assert api("POST", "/api/v1/jobs", token, json=job_body(title=" "), headers=headers).status_code == 422
    assert api("POST", "/api/v1/jobs", token, json=job_body(), headers=headers).status_code == 201


def test_keys_are_per_token(api, lab, token_for):
    owner, token = lab
    other = token_for(BuyerFactory(), name="other")
    headers = {"Idempotency-Key": "shared-key"}
    assert api("POST", "/api/v1/jobs", token, json=job_body(), headers=headers).status_code == 201
    response = api("POST", "/api/v1/jobs", other, json=job_body(title="Theirs"), headers=headers)
    assert response.status_code == 201 and response.json["title"] == "Theirs"


def test_the_token_acts_as_the_owner_so_a_managers_rules_are_the_owners(api, lab):
    """A token made by the owner keeps acting after a manager joins: it is the owner's, never a member's."""
    owner, token = lab
    BuyerFactory(org_id=owner.org_id, org_role=OrgRole.MEMBER)
    assert api("POST", "/api/v1/jobs", token, json=job_body()).status_code == 201


def test_requests_beyond_the_tokens_rate_are_429_problems(app, api, lab):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [api("GET", "/api/v1/jobs", lab[1]).status_code for _ in range(4)]
        response = api("GET", "/api/v1/jobs", lab[1])
    finally:
        app.config.pop("API_RATE_LIMIT")
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert response.headers["Content-Type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0


def test_an_unknown_address_or_method_is_a_problem_not_a_page(api, lab):
    assert api("GET", "/api/v1/nowhere", lab[1]).json["status"] == 404
    response = api("DELETE", "/api/v1/jobs", lab[1])
    assert response.status_code == 405 and response.headers["Allow"] == "GET, POST"


def test_the_deadline_passed_shows_the_job_closed(api, token_for):
    vendor = VendorFactory()
    job = JobFactory(bid_deadline=datetime.now(UTC) - timedelta(minutes=1))
    assert api("GET", f"/api/v1/jobs/{job.id}", token_for(vendor)).json["status"] == "closed"
