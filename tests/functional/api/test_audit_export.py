"""The lab's audit records over the API: the page export's records and redactions, paged oldest first."""

from datetime import timedelta

import time_machine

from marketplace.db_types import utcnow
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory
from tests.functional.api.conftest import job_body, offer_body


def test_the_lab_pages_through_its_records_and_its_tokens_actions_are_named(api, token_for):
    owner = BuyerFactory()
    token = token_for(owner, name="Risk dashboard")
    for _ in range(3):
        api("POST", "/api/v1/jobs", token, json=job_body(publish=True))
    first = api("GET", "/api/v1/audit/records?limit=2", token).json
    assert len(first["items"]) == 2 and first["next"]
    rest = api("GET", first["next"], token).json
    lines = first["items"] + rest["items"]
    assert [line["id"] for line in lines] == sorted(line["id"] for line in lines)
    published = [line for line in lines if line["action"] == "job.published"]
    assert len(published) == 3
    assert all(line["actor_label"].endswith("through API token “Risk dashboard”") for line in published)


def test_a_sealed_bids_terms_stay_out_of_the_records_until_the_deadline(api, token_for):
    job = JobFactory(bid_deadline=(utcnow() + timedelta(hours=2)).replace(microsecond=0))
    lab = token_for(BuyerFactory(org_id=job.buyer_org_id), name="lab")
    vendor = token_for(VerifiedVendorFactory(), name="vendor")
    assert api("POST", f"/api/v1/jobs/{job.id}/bids", vendor, json=offer_body(total_minor=314_159)).status_code == 201
    records = api("GET", "/api/v1/audit/records", lab)
    placed = [line for line in records.json["items"] if line["action"] == "bid.placed"]
    assert placed and placed[0]["after"] is None and placed[0]["hash"] is None
    assert "314159" not in records.get_data(as_text=True) and "3,141.59" not in records.get_data(as_text=True)
    with time_machine.travel(job.bid_deadline + timedelta(minutes=1), tick=False):
        opened = api("GET", "/api/v1/audit/records", lab).get_data(as_text=True)
    assert "3,141.59" in opened


def test_vendors_have_no_audit_export(api, token_for):
    response = api("GET", "/api/v1/audit/records", token_for(VerifiedVendorFactory()))
    assert response.status_code == 403
