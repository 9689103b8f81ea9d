"""A buyer exports, as JSON lines, the records about its own jobs and the vendors it screens, and nothing else."""

import json

import pytest

from marketplace.audit.service import _digest, record_event
from marketplace.screening.models import VerdictRecord
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    BuyerOrgFactory,
    JobFactory,
    VendorFactory,
    VendorOrgFactory,
)

EXPORT = "/audit/export.jsonl"


@pytest.fixture
def world(session):
    """Lab A and lab B; a vendor bidding for both, one screened by A only, one by B only, one by nobody."""
    lab_a, lab_b = BuyerOrgFactory(name="Lab A"), BuyerOrgFactory(name="Lab B")
    job_a, job_b = JobFactory(buyer_org_id=lab_a.id), JobFactory(buyer_org_id=lab_b.id)
    bidder, screened, other, stranger = (VendorOrgFactory(name=n) for n in ("Bidder", "Screened", "Other",
                                                                             "Stranger"))
    bid_a = BidFactory(job_id=job_a.id, vendor_org_id=bidder.id)
    bid_b = BidFactory(job_id=job_b.id, vendor_org_id=bidder.id)
    BidFactory(job_id=job_b.id, vendor_org_id=other.id)
    session.add_all([VerdictRecord(buyer_org_id=lab_a.id, vendor_org_id=screened.id, verdict="review"),
                     VerdictRecord(buyer_org_id=lab_b.id, vendor_org_id=other.id, verdict="clear")])
    session.flush()
    admin = AdminFactory()

    def rec(action, subject_type, subject_id, buyer=None, vendor=None):
        return record_event(session, admin, action, subject_type, subject_id, after={"note": action},
                            buyer_org_id=buyer.id if buyer else None,
                            vendor_org_id=vendor.id if vendor else None).id

    ids = {
        # Lab A may export these:
        "a_job": rec("job.published", "job", job_a.id, buyer=lab_a),
        "a_bid": rec("bid.placed", "bid", bid_a.id, buyer=lab_a, vendor=bidder),
        "a_verdict": rec("screening.verdict_changed", "organization", screened.id, buyer=lab_a, vendor=screened),
        "bidder_disclosure": rec("disclosure.approved", "disclosure", 1, vendor=bidder),
        "screened_suspended": rec("organization.suspended", "organization", screened.id, vendor=screened),
        # ...and never these:
        "b_job": rec("job.published", "job", job_b.id, buyer=lab_b),
        "b_bid_of_bidder": rec("bid.placed", "bid", bid_b.id, buyer=lab_b, vendor=bidder),
        "b_verdict_of_bidder": rec("screening.verdict_changed", "organization", bidder.id, buyer=lab_b,
                                   vendor=bidder),
        "other_disclosure": rec("disclosure.approved", "disclosure", 2, vendor=other),
        "stranger_disclosure": rec("disclosure.submitted", "disclosure", 3, vendor=stranger),
        "party_merged": rec("party.merged", "party", 1),
    }
    return {"lab_a": lab_a, "lab_b": lab_b, "ids": ids}


def lines(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_the_export_holds_its_jobs_and_screened_vendors_and_nothing_about_another_buyer(client, login_as, world):
    login_as(BuyerFactory(org_id=world["lab_a"].id))
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.mimetype == "application/jsonl"
    assert "attachment" in response.headers["Content-Disposition"]
    records = lines(response)
    ids = world["ids"]
    assert [r["id"] for r in records] == [ids[key] for key in (
        "a_job", "a_bid", "a_verdict", "bidder_disclosure", "screened_suspended")]
    assert all(r["buyer_org_id"] in (None, world["lab_a"].id) for r in records)


def test_the_other_buyer_gets_its_own_share(client, login_as, world):
    login_as(BuyerFactory(org_id=world["lab_b"].id))
    ids = world["ids"]
    assert [r["id"] for r in lines(client.get(EXPORT))] == [ids[key] for key in (
        "bidder_disclosure", "b_job", "b_bid_of_bidder", "b_verdict_of_bidder", "other_disclosure")]


def test_each_line_can_be_checked_against_its_hash(client, login_as, world):
    login_as(BuyerFactory(org_id=world["lab_a"].id))
    records = lines(client.get(EXPORT))
    assert records
    for record in records:
        from datetime import datetime

        assert _digest({**record, "at": datetime.fromisoformat(record["at"])}) == record["hash"]


def test_a_buyer_with_nothing_gets_an_empty_file(client, login_as, world):
    login_as(BuyerFactory())
    response = client.get(EXPORT)
    assert response.status_code == 200 and response.get_data() == b""


@pytest.mark.parametrize("who", ["vendor", "admin"])
def test_vendors_and_admins_may_not_export(client, login_as, world, who):
    login_as(VendorFactory() if who == "vendor" else AdminFactory())
    assert client.get(EXPORT).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
