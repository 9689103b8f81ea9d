"""How a contract and its job move along as milestones do; shared by the contract and payment services."""

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.audit.service import record_event
from marketplace.contracts.models import (
    CLOSED_STATES,
    Contract,
    ContractKind,
    ContractStatus,
    Milestone,
    MilestoneStatus,
)
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job, JobStatus
from marketplace.notifications.service import notify_org

DELIVERED_OR_LATER = (MilestoneStatus.DELIVERED, MilestoneStatus.ACCEPTED, MilestoneStatus.RELEASED)
LIVE_STATES = tuple(s for s in MilestoneStatus if s not in (MilestoneStatus.CANCELLED, MilestoneStatus.REFUNDED))


def contract_link(contract: Contract) -> str:
    return f"/contracts/{contract.id}"


def milestones_of(session: Session, contract_id: int) -> list[Milestone]:
    return list(
        session.execute(
            select(Milestone).where(col(Milestone.contract_id) == contract_id).order_by(col(Milestone.number))
        ).scalars()
    )


def lock_milestone(session: Session, milestone_id: int) -> Milestone | None:
    """The milestone, re-read and locked for this transaction: two requests never act on it at once."""
    return session.execute(
        select(Milestone)
        .where(col(Milestone.id) == milestone_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def lock_contract(session: Session, contract_id: int) -> Contract | None:
    return session.execute(
        select(Contract)
        .where(col(Contract.id) == contract_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def lock_with_contract(session: Session, milestone_id: int) -> tuple[Contract | None, Milestone | None]:
    """The milestone's contract, then the milestone, both locked: the order every contract action takes them in
    (docs/concurrency.md). A webhook that locked the milestone alone, then wrote on its contract (closing it),
    could wait for a buyer holding the contract and waiting for that milestone."""
    contract_id = session.execute(select(col(Milestone.contract_id)).where(col(Milestone.id) == milestone_id)).scalar()
    if contract_id is None:
        return None, None
    return lock_contract(session, contract_id), lock_milestone(session, milestone_id)


def _job_status_for(contract: Contract, milestones: list[Milestone]) -> JobStatus:
    if contract.status == ContractStatus.COMPLETED:
        return JobStatus.COMPLETED
    if contract.status == ContractStatus.ENDED:
        return JobStatus.CANCELLED
    live = [m for m in milestones if m.status in LIVE_STATES]
    if live and all(m.status in DELIVERED_OR_LATER for m in live):
        return JobStatus.DELIVERED
    if any(m.status != MilestoneStatus.PENDING for m in live):
        return JobStatus.IN_PROGRESS
    return JobStatus.AWARDED


def settle(session: Session, actor, contract: Contract) -> None:
    """Close the contract when every milestone is closed, and move its job to the state its milestones say."""
    milestones = milestones_of(session, contract.id)
    open_contract = contract.status not in (ContractStatus.ENDED, ContractStatus.COMPLETED)
    if open_contract and milestones and all(m.status in CLOSED_STATES for m in milestones):
        paid = any(m.status == MilestoneStatus.RELEASED for m in milestones)
        before: ContractStatus | JobStatus = contract.status
        contract.status = ContractStatus.COMPLETED if paid else ContractStatus.ENDED
        if paid:
            contract.completed_at = utcnow()
            notify_org(
                session,
                contract.buyer_org_id,
                "contract_completed",
                "A contract is complete: every milestone is settled. Rate the vendor's work.",
                contract_link(contract),
            )
        else:
            contract.ended_at = utcnow()
        record_event(
            session,
            actor,
            f"contract.{contract.status}",
            "contract",
            contract.id,
            before={"status": str(before)},
            after={"status": str(contract.status)},
            buyer_org_id=contract.buyer_org_id,
            vendor_org_id=contract.vendor_org_id,
        )
    if contract.kind == ContractKind.PILOT:  # a pilot leaves its job open for the award (marketplace.bids.pilots)
        session.flush()
        return
    job = cast(Job, session.get(Job, contract.job_id))
    wanted = _job_status_for(contract, milestones)
    if job.status != wanted:
        before = job.status
        job.status, job.updated_at = wanted, utcnow()
        if wanted == JobStatus.CANCELLED:
            job.cancelled_at = job.updated_at
        record_event(
            session,
            actor,
            "job.status_changed",
            "job",
            job.id,
            before={"status": str(before)},
            after={"status": str(wanted)},
            buyer_org_id=contract.buyer_org_id,
            vendor_org_id=contract.vendor_org_id,
        )
    session.flush()
