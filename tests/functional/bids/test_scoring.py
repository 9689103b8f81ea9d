"""A lab scores bids: weights set when it posts (adding up to 100), four criteria scored from the bids, security and
the pilot scored by each colleague; the comparison shows weighted totals, each colleague's scores (the proposal too),
past ratings, and a flag where colleagues disagree. Every refusal says why."""

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.contracts.models import Rating
from marketplace.jobs.models import BiddingMode, Job
from marketplace.scoring.models import BidScore, ScoringWeights
from marketplace.scoring.service import score_rows
from tests.factories import (
    BidFactory,
    BuyerFactory,
    ContractFactory,
    JobFactory,
    VerifiedVendorFactory,
    VerifiedVendorOrgFactory,
)
from tests.functional.jobs.conftest import job_form  # noqa: F401  (the fixture)

WEIGHTS = {"price": 40, "turnaround": 20, "quality": 10, "security": 20, "ratings": 10, "pilot": 0}


def text(response) -> str:
    return response.get_data(as_text=True)


def weight_fields(weights: dict[str, int]) -> dict[str, str]:
    return {f"weight_{key}": str(value) for key, value in weights.items()}


def test_the_lab_sets_weights_when_it_posts_and_they_must_add_up_to_100(client, session, login_as, job_form):  # noqa: F811
    buyer = login_as(BuyerFactory())
    refused = client.post("/jobs/new", data=job_form(**weight_fields({**WEIGHTS, "price": 50})))
    assert refused.status_code == 400
    page = text(refused)
    assert "The weights add up to 110%: make them add up to 100%." in page
    assert re.search(r'<input[^>]*name="weight_price"[^>]*value="50"', page)  # what was typed comes back
    assert session.execute(select(Job)).first() is None

    assert client.post("/jobs/new", data=job_form(**weight_fields(WEIGHTS))).status_code == 303
    job = session.execute(select(Job).where(Job.buyer_org_id == buyer.org_id)).scalar_one()
    assert (
        session.execute(select(ScoringWeights.weights).where(ScoringWeights.job_id == job.id)).scalar_one() == WEIGHTS
    )
    event = session.execute(select(AuditRecord).where(AuditRecord.action == "scoring.weights_set")).scalar_one()
    assert event.subject_id == job.id
    # The edit form shows them as set.
    assert re.search(r'<input[^>]*name="weight_ratings"[^>]*value="10"', text(client.get(f"/jobs/{job.id}/edit")))


def test_weighted_totals_from_the_bids_the_ratings_and_the_colleagues(session):
    buyer, colleague = BuyerFactory(name="Ana"), None
    colleague = BuyerFactory(org_id=buyer.org_id, name="Bo")
    job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
    session.add(ScoringWeights(job_id=job.id, weights=WEIGHTS))
    rated = VerifiedVendorOrgFactory()
    cheap = BidFactory(
        job_id=job.id, vendor_org_id=rated.id, total_minor=500_000, turnaround_days=20, quality_guarantee_pct=98.0
    )
    fast = BidFactory(job_id=job.id, total_minor=1_000_000, turnaround_days=10, quality_guarantee_pct=None)
    contract = ContractFactory(buyer_org_id=buyer.org_id, vendor_org_id=rated.id, total_minor=1)
    session.add(Rating(contract_id=contract.id, vendor_org_id=rated.id, buyer_org_id=buyer.org_id, stars=4))
    session.add_all(
        [
            BidScore(bid_id=cheap.id, user_id=buyer.id, criterion="security", score=9),
            BidScore(bid_id=cheap.id, user_id=colleague.id, criterion="security", score=3, note="No SOC 2 report."),
            BidScore(bid_id=fast.id, user_id=buyer.id, criterion="security", score=8),
        ]
    )
    session.flush()

    scores = score_rows(session, job, [cheap, fast])
    first, second = scores[cheap.id], scores[fast.id]
    assert first.parts == {
        "price": 10.0,
        "turnaround": 5.0,
        "quality": 9.8,
        "ratings": 8.0,
        "security": 6.0,
        "pilot": None,
    }
    # (40*10 + 20*5 + 10*9.8 + 20*6 + 10*8) / 100
    assert first.total == 8.0
    assert first.disagreements == ["Security: scores from 3 to 9"]
    assert [(name, score) for name, score, _ in first.by_colleague["security"]] == [("Ana", 9), ("Bo", 3)]
    # No guarantee offered scores 0; no ratings yet is left out: (40*5 + 20*10 + 10*0 + 20*8) / 90
    assert second.parts["quality"] == 0.0 and second.parts["ratings"] is None
    assert second.total == round((40 * 5 + 20 * 10 + 0 + 20 * 8) / 90, 1)
    assert second.missing == ["Past ratings"] and second.disagreements == []


@pytest.fixture
def open_job(session):
    buyer = BuyerFactory(name="Ana")
    colleague = BuyerFactory(org_id=buyer.org_id, name="Bo")
    job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
    vendor = VerifiedVendorFactory()
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    session.flush()
    return buyer, colleague, job, bid, vendor


def test_colleagues_score_a_bid_and_the_comparison_shows_the_total_and_where_they_disagree(
    client, session, login_as, open_job
):
    buyer, colleague, job, bid, _ = open_job
    login_as(buyer)
    saved = client.post(f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": "9", "note": "Solid answers."})
    assert saved.status_code == 303
    login_as(colleague)
    client.post(f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": "4", "score_pilot": ""})
    compared = text(client.get(f"/jobs/{job.id}/bids"))
    assert 'data-testid="score"' in compared and "Colleagues disagree · Security: scores from 4 to 9" in compared
    # Each colleague's own scores, beside the total.
    assert re.search(r'data-testid="colleague-scores">Security: Ana 9, Bo 4<', compared)
    assert re.search(r'data-testid="past-rating">\s*<span class="muted">none yet</span>', compared)
    # The weights line names each criterion it weighs.
    assert re.search(r'data-testid="weights">Scored out of 10 by\s+price \d+%', compared)
    proposal = text(client.get(f"/jobs/{job.id}/bids/{bid.id}"))
    assert "Ana: 9" in proposal and "(Solid answers.)" in proposal and "Bo: 4" in proposal
    # Taking a score back: an empty choice.
    client.post(f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": ""})
    assert session.execute(select(BidScore.score).where(BidScore.bid_id == bid.id)).scalars().all() == [9]


def test_scoring_refusals(client, session, login_as, open_job):
    buyer, _, job, bid, vendor = open_job
    login_as(buyer)
    out_of_range = client.post(
        f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": "11"}, follow_redirects=True
    )
    assert "Not a valid choice" in text(out_of_range)
    assert session.execute(select(BidScore)).first() is None
    login_as(vendor)
    assert client.post(f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": "10"}).status_code == 403
    login_as(BuyerFactory())
    assert client.post(f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": "10"}).status_code == 404
    assert session.execute(select(BidScore)).first() is None


def test_a_sealed_bid_is_scored_only_after_the_deadline(client, session, login_as, open_job):
    buyer, _, job, bid, _ = open_job
    job.bidding_mode = BiddingMode.SEALED
    session.flush()
    login_as(buyer)
    assert client.post(f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": "7"}).status_code == 404
    with time_machine.travel(job.bid_deadline + timedelta(minutes=1)):
        assert client.post(f"/jobs/{job.id}/bids/{bid.id}/scores", data={"score_security": "7"}).status_code == 303
    assert session.execute(select(BidScore.score)).scalar_one() == 7


def rated(session, buyer_org_id: int, vendor_org_id: int, stars: int) -> None:
    """A completed contract between the lab and the vendor, rated with these stars."""
    contract = ContractFactory(buyer_org_id=buyer_org_id, vendor_org_id=vendor_org_id)
    session.add(Rating(contract_id=contract.id, vendor_org_id=vendor_org_id, buyer_org_id=buyer_org_id, stars=stars))
    session.flush()


def test_the_comparison_shows_each_bidders_past_ratings(client, session, login_as, open_job):
    buyer, _, job, bid, vendor = open_job
    newcomer = BidFactory(job_id=job.id, vendor_org_id=VerifiedVendorFactory().org_id)
    rated(session, buyer.org_id, vendor.org_id, 4)
    rated(session, BuyerFactory().org_id, vendor.org_id, 5)  # another lab's rating counts too
    login_as(buyer)
    compared = text(client.get(f"/jobs/{job.id}/bids"))

    def past_rating(row_bid) -> str:
        row = compared[compared.index(f"/bids/{row_bid}/messages") :]  # from the bid's own row on
        return re.search(r'data-testid="past-rating">\s*(.*?)</td>', row).group(1)

    assert past_rating(bid.id) == "4.5 ★"
    assert "none yet" in past_rating(newcomer.id)
