"""Scoring bids: the lab weighs six criteria on each job, colleagues score by hand what numbers cannot say, and the
comparison shows each bid's weighted total, every colleague's scores, and where they disagree.

Four criteria score themselves from the bids, out of 10: price (the lowest total scores 10, a bid twice as dear 5),
turnaround (likewise, the fastest 10), the quality guarantee (98% scores 9.8; none offered scores 0) and past ratings
(the vendor's average stars on completed contracts, times two; none yet: not scored). Two are scored by hand, 0 to
10, by each colleague who reads the bid: security (the answers to the data-handling requirements, the files) and the
pilot. A bid's total is the weighted mean of the criteria it has a score on; what it lacks is said beside it.
Colleagues disagree on a criterion when their scores of one bid lie 3 or more apart.
"""

from dataclasses import dataclass, field
from statistics import mean
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import User
from marketplace.audit.service import record_event
from marketplace.bids.models import Bid
from marketplace.contracts.models import Rating
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.jobs.models import Job, JobStatus
from marketplace.scoring.models import BidScore, ScoringWeights

CRITERIA = {
    "price": "Price",
    "turnaround": "Turnaround",
    "quality": "Quality guarantee",
    "security": "Security",
    "ratings": "Past ratings",
    "pilot": "Pilot",
}
BY_HAND = ("security", "pilot")
DEFAULT_WEIGHTS = {"price": 40, "turnaround": 20, "quality": 20, "security": 20, "ratings": 0, "pilot": 0}
DISAGREEMENT = 3
CLOSED = (JobStatus.CANCELLED, JobStatus.COMPLETED)


class ScoringError(Refusal):
    pass


def check_weights(weights: dict[str, int | None]) -> dict[str, int]:
    """Whole percentages from 0 to 100 adding up to 100; ScoringError naming the field otherwise."""
    cleaned = {}
    for key in CRITERIA:
        value = weights.get(key)
        value = 0 if value is None else value
        if not 0 <= value <= 100:
            raise ScoringError("A weight is a whole percentage from 0 to 100.", f"weight_{key}")
        cleaned[key] = value
    total = sum(cleaned.values())
    if total != 100:
        raise ScoringError(f"The weights add up to {total}%: make them add up to 100%.", "weight_price")
    return cleaned


def weights_of(session: Session, job_id: int) -> dict[str, int]:
    row = session.execute(select(ScoringWeights).where(col(ScoringWeights.job_id) == job_id)).scalar_one_or_none()
    return dict(row.weights) if row is not None else dict(DEFAULT_WEIGHTS)


def store_weights(session: Session, user: User, job: Job, weights: dict[str, int]) -> None:
    """Keep the job's weights (already checked), noting a change from what applied before in the audit trail."""
    row = session.execute(select(ScoringWeights).where(col(ScoringWeights.job_id) == job.id)).scalar_one_or_none()
    before = dict(row.weights) if row is not None else dict(DEFAULT_WEIGHTS)
    if before == weights:  # unchanged (the defaults included): nothing to keep or record
        return
    if row is None:
        row = ScoringWeights(job_id=job.id)
        session.add(row)
    row.weights, row.updated_at = weights, utcnow()
    session.flush()
    record_event(
        session, user, "scoring.weights_set", "job", job.id, before=before, after=weights, buyer_org_id=job.buyer_org_id
    )


def score_bid(
    session: Session, user: User, job_id: int, bid_id: int, scores: dict[str, int | None], note: str = ""
) -> None:
    """The colleague's own scores of one bid (a criterion left empty takes back their score on it)."""
    bid = visibility.get_proposal_bid(session, user, bid_id)
    job = cast(Job, session.get(Job, bid.job_id))
    if not user.is_buyer or job.id != job_id:
        raise NotVisible(f"scores of bid {bid_id}")
    if job.status in CLOSED:
        raise ScoringError("This job is over: its bids are no longer scored.", None)
    if len(note) > 1000:
        raise ScoringError("Keep the note under 1,000 characters.", "note")
    for criterion in BY_HAND:
        value = scores.get(criterion)
        if value is not None and not 0 <= value <= 10:
            raise ScoringError("A score is a whole number from 0 to 10.", f"score_{criterion}")
    for criterion in BY_HAND:
        value = scores.get(criterion)
        row = session.execute(
            select(BidScore).where(
                col(BidScore.bid_id) == bid.id, col(BidScore.user_id) == user.id, col(BidScore.criterion) == criterion
            )
        ).scalar_one_or_none()
        if value is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = BidScore(bid_id=bid.id, user_id=user.id, criterion=criterion, score=value)
            session.add(row)
        row.score, row.note, row.updated_at = value, note.strip(), utcnow()
    session.flush()


def own_scores(session: Session, user: User, bid_id: int) -> dict[str, BidScore]:
    return {
        row.criterion: row
        for row in session.execute(
            select(BidScore).where(col(BidScore.bid_id) == bid_id, col(BidScore.user_id) == user.id)
        ).scalars()
    }


@dataclass
class Scored:
    """One bid's scores: each criterion out of 10 (None: no score), the weighted total, each colleague's own
    scores by hand, and what the colleagues disagree on."""

    parts: dict[str, float | None]
    total: float | None
    missing: list[str]
    by_colleague: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)


def _ratio(best: float, value: float) -> float:
    return round(10 * best / value, 1) if value > 0 else 0.0


def score_rows(session: Session, job: Job, bids: list[Bid]) -> dict[int, Scored]:
    """Each bid's scores, against the others in the list (price and turnaround are relative), in three queries."""
    if not bids:
        return {}
    weights = weights_of(session, job.id)
    lowest_total = min(bid.total_minor for bid in bids)
    fastest = min(bid.turnaround_days for bid in bids)
    stars: dict[int, float] = {
        vendor: float(average)
        for vendor, average in session.execute(
            select(col(Rating.vendor_org_id), func.avg(Rating.stars))
            .where(col(Rating.vendor_org_id).in_({bid.vendor_org_id for bid in bids}))
            .group_by(col(Rating.vendor_org_id))
        ).all()
    }
    by_hand: dict[tuple[int, str], list[tuple[str, int, str]]] = {}
    for row, name in session.execute(
        select(BidScore, col(User.name))
        .join(User, col(User.id) == col(BidScore.user_id))
        .where(col(BidScore.bid_id).in_([bid.id for bid in bids]))
        .order_by(col(User.name))
    ).all():
        by_hand.setdefault((row.bid_id, row.criterion), []).append((name, row.score, row.note))
    scored = {}
    for bid in bids:
        parts: dict[str, float | None] = {
            "price": _ratio(lowest_total, bid.total_minor),
            "turnaround": _ratio(fastest, bid.turnaround_days),
            "quality": round(bid.quality_guarantee_pct / 10, 1) if bid.quality_guarantee_pct is not None else 0.0,
            "ratings": round(stars[bid.vendor_org_id] * 2, 1) if bid.vendor_org_id in stars else None,
        }
        colleagues = {criterion: by_hand.get((bid.id, criterion), []) for criterion in BY_HAND}
        for criterion, given in colleagues.items():
            parts[criterion] = round(mean(score for _, score, _ in given), 1) if given else None
        counted = {key: weight for key, weight in weights.items() if weight and parts.get(key) is not None}
        total = (
            round(sum(weight * cast(float, parts[key]) for key, weight in counted.items()) / sum(counted.values()), 1)
            if counted
            else None
        )
        missing = [CRITERIA[key] for key, weight in weights.items() if weight and parts.get(key) is None]
        disagreements = [
            f"{CRITERIA[criterion]}: scores from {min(s for _, s, _ in given)} to {max(s for _, s, _ in given)}"
            for criterion, given in colleagues.items()
            if len(given) > 1 and max(s for _, s, _ in given) - min(s for _, s, _ in given) >= DISAGREEMENT
        ]
        scored[bid.id] = Scored(parts, total, missing, colleagues, disagreements)
    return scored
