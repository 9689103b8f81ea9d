"""Paid pilots: a small batch of a job's work, with its own price and acceptance criteria, before the award.

A job may ask for one (`Job.pilot_scope`, `Job.pilot_criteria`); each bid then quotes the pilot's price. Once the
bids' terms are open, the lab starts a pilot with the bids it chooses: each is a contract of its own kind
(`ContractKind.PILOT`) between the lab and that vendor, funded, delivered, accepted or rejected and paid exactly as a
milestone of any contract is (marketplace.contracts, marketplace.payments), and it leaves the job open. The pilot
passes when the lab accepts its delivery against the criteria. A job that asks for a pilot is awarded only to a bid
whose pilot passed, and the comparison shows every pilot's state.

Starting a pilot on a confidential job tells that one vendor who the lab is (visibility.buyer_labels), as an award
does: it is the lab's counterparty from then on.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, User
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.bids.models import Bid, BidStatus
from marketplace.contracts.models import (
    Contract,
    ContractKind,
    ContractStatus,
    Delivery,
    DeliveryDecision,
    Milestone,
    MilestoneStatus,
)
from marketplace.dates import local_time
from marketplace.errors import Refusal
from marketplace.jobs.models import Job, JobStatus
from marketplace.locking import lock_row
from marketplace.money import format_money
from marketplace.notifications.service import notify_org
from marketplace.screening.services.screen import Verdict

MILESTONE_TITLE_LIMIT = 200


class PilotError(Refusal):
    """A refusal the lab can understand."""


class PilotState(StrEnum):
    AGREED = "agreed"  # started, not funded yet
    UNDER_WAY = "under_way"  # funded: the vendor works on the batch
    DELIVERED = "delivered"  # waiting for the lab's decision
    REDELIVERY = "redelivery"  # the lab rejected a delivery; the vendor delivers again
    PASSED = "passed"  # the lab accepted the delivery against the criteria
    ENDED = "ended"  # ended or cancelled without passing


STATE_WORDS = {
    PilotState.AGREED: "Started, not funded yet",
    PilotState.UNDER_WAY: "Under way",
    PilotState.DELIVERED: "Delivered, waiting for your decision",
    PilotState.REDELIVERY: "Delivery rejected, to be delivered again",
    PilotState.PASSED: "Passed",
    PilotState.ENDED: "Ended without passing",
}


@dataclass(frozen=True)
class Pilot:
    """One bid's pilot as the lab's comparison shows it."""

    contract_id: int
    bid_id: int
    state: PilotState
    price_minor: int
    currency: str
    # When the lab accepted the delivery (PASSED), and its reason for the last rejection (REDELIVERY).
    passed_at: datetime | None = None
    last_rejection: str = ""

    @property
    def words(self) -> str:
        return STATE_WORDS[self.state]


def _state(contract: Contract, milestones: list[Milestone]) -> PilotState:
    live = [m for m in milestones if m.status != MilestoneStatus.CANCELLED]
    if contract.status == ContractStatus.COMPLETED or (
        live and all(m.status in (MilestoneStatus.ACCEPTED, MilestoneStatus.RELEASED) for m in live)
    ):
        return PilotState.PASSED
    if contract.status == ContractStatus.ENDED or not live:
        return PilotState.ENDED
    statuses = {m.status for m in live}
    for status, state in (
        (MilestoneStatus.DELIVERED, PilotState.DELIVERED),
        (MilestoneStatus.REJECTED, PilotState.REDELIVERY),
        (MilestoneStatus.FUNDED, PilotState.UNDER_WAY),
        (MilestoneStatus.ACCEPTED, PilotState.UNDER_WAY),
    ):
        if status in statuses:
            return state
    return PilotState.AGREED


def pilots_of_job(session: Session, job_id: int) -> dict[int, Pilot]:
    """{bid id: its pilot} for every pilot of the job, in three queries whatever their number."""
    contracts = list(
        session.execute(
            select(Contract).where(col(Contract.job_id) == job_id, col(Contract.kind) == ContractKind.PILOT)
        ).scalars()
    )
    if not contracts:
        return {}
    milestones: dict[int, list[Milestone]] = {c.id: [] for c in contracts}
    for milestone in session.execute(
        select(Milestone).where(col(Milestone.contract_id).in_(milestones)).order_by(col(Milestone.number))
    ).scalars():
        milestones[milestone.contract_id].append(milestone)
    rejections: dict[int, str] = {}
    for contract_id, reason in session.execute(
        select(col(Milestone.contract_id), col(Delivery.reason))
        .join(Milestone, col(Milestone.id) == Delivery.milestone_id)
        .where(
            col(Milestone.contract_id).in_(milestones),
            col(Delivery.decision) == DeliveryDecision.REJECTED,
        )
        .order_by(col(Delivery.decided_at), col(Delivery.id))
    ).all():
        rejections[contract_id] = reason  # the last one wins
    pilots = {}
    for contract in contracts:
        state = _state(contract, milestones[contract.id])
        accepted = [m.accepted_at for m in milestones[contract.id] if m.accepted_at is not None]
        pilots[contract.bid_id] = Pilot(
            contract.id,
            contract.bid_id,
            state,
            contract.total_minor,
            contract.currency,
            passed_at=max(accepted) if state == PilotState.PASSED and accepted else None,
            last_rejection=rejections.get(contract.id, "") if state == PilotState.REDELIVERY else "",
        )
    return pilots


def award_refusal(session: Session, job: Job, bid: Bid) -> str | None:
    """Why this bid may not be awarded yet because of the job's pilot, or None."""
    if not job.pilot_scope:
        return None
    pilot = pilots_of_job(session, job.id).get(bid.id)
    if pilot is None:
        return "This job asks for a paid pilot first: start one with this bid, and award it once the pilot passes."
    if pilot.state != PilotState.PASSED:
        return f"This job asks for a paid pilot first, and this bid's pilot has not passed ({pilot.words.lower()})."
    return None


def job_refusal(job: Job, user: User) -> str | None:
    """Why no pilot may start on this job now, or None."""
    if not job.pilot_scope:
        return "This job asks for no pilot."
    if job.status != JobStatus.OPEN:
        return "Pilots run before the award, while the job is open."
    sealed_until = visibility.sealed_until(job)
    if sealed_until is not None:
        return f"The bids' terms open {local_time(sealed_until, user)}: start pilots after that."
    return None


def bid_refusal(bid: Bid, started: bool) -> str | None:
    """Why this bid may not start a pilot, from the bid alone (`started`: it has a pilot already), or None."""
    if bid.status != BidStatus.ACTIVE:
        return f"This bid is {bid.status}: only a live bid can run a pilot."
    if bid.pilot_price_minor is None:
        return "This bid quotes no price for the pilot: ask the vendor to revise it."
    if started:
        return "This bid's pilot has already started."
    return None


def startable(job: Job, user: User, bids: list[Bid], pilots: dict[int, Pilot]) -> set[int]:
    """Which of the bids the lab compares (already screened) may start a pilot now: the comparison's buttons."""
    if not user.is_buyer or job_refusal(job, user) is not None:
        return set()
    return {bid.id for bid in bids if bid_refusal(bid, bid.id in pilots) is None}


def start_refusal(session: Session, job: Job, bid: Bid, user: User) -> str | None:
    """Why the lab may not start a pilot with this bid now, or None when it may."""
    started = session.execute(
        select(col(Contract.id)).where(col(Contract.bid_id) == bid.id, col(Contract.kind) == ContractKind.PILOT)
    ).first()
    refusal = job_refusal(job, user) or bid_refusal(bid, started is not None)
    if refusal:
        return refusal
    vendor = cast(Organization, session.get(Organization, bid.vendor_org_id))
    if vendor.suspended_at is not None:
        return f"{vendor.name} is suspended and cannot run a pilot."
    if visibility.verdict_between(session, job.buyer_org_id, vendor) == Verdict.EXCLUDE:
        return f"Your screening excludes {vendor.name}: it cannot run a pilot."
    return None


def start_pilot(session: Session, user: User, job_id: int, bid_id: int) -> Contract:
    """Start the job's paid pilot with one bid: a pilot contract for the bid's pilot price, to be funded like any
    milestone. Raises NotVisible (404) unless the user is the job's buyer and may read the bid's proposal,
    PilotError for every refusal."""
    ensure_active(session, user, "start pilots")
    job = visibility.get_own_job(session, user, job_id)
    bid = visibility.get_proposal_bid(session, user, bid_id)
    if bid.job_id != job.id:
        raise visibility.NotVisible(f"bid {bid_id} of job {job_id}")
    job = lock_row(session, Job, job.id)  # one pilot per bid, even when two colleagues click at once
    bid = lock_row(session, Bid, bid.id)
    refusal = start_refusal(session, job, bid, user)
    if refusal:
        raise PilotError(refusal)
    contract = Contract(
        job_id=job.id,
        bid_id=bid.id,
        kind=ContractKind.PILOT,
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
        total_minor=cast(int, bid.pilot_price_minor),
        currency=bid.currency,
    )
    session.add(contract)
    session.flush()
    milestone = session.execute(select(Milestone).where(col(Milestone.contract_id) == contract.id)).scalar_one()
    milestone.title = f"Pilot: {' '.join(job.pilot_scope.split())}"[:MILESTONE_TITLE_LIMIT]
    price = format_money(contract.total_minor, contract.currency)
    buyer = cast(Organization, session.get(Organization, job.buyer_org_id))
    notify_org(
        session,
        bid.vendor_org_id,
        "pilot_started",
        f"{buyer.name} started a paid pilot of “{job.title}” with your bid: {price}. It is paid like a milestone once "
        "the lab funds it; the job is awarded after the pilots.",
        f"/contracts/{contract.id}",
        job_id=job.id,
    )
    record_event(
        session,
        user,
        "pilot.started",
        "contract",
        contract.id,
        after={"job_id": job.id, "bid_id": bid.id, "price": price},
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
    )
    session.flush()
    return contract
