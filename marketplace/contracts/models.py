"""Contracts made by an award, their milestones, deliveries, and the buyer's rating of the vendor."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import BigInteger, CheckConstraint, Index, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class ContractStatus(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"
    PAUSED = "paused"
    ENDED = "ended"
    COMPLETED = "completed"


class ContractKind(StrEnum):
    FULL = "full"  # made by the job's award: one per job
    PILOT = "pilot"  # a paid pilot before the award (marketplace.bids.pilots): at most one per bid


class Contract(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("bid_id", "kind", name="uq_contract_bid_kind"),
        # One award per job; a job may have many pilots (one per bid) beside it.
        Index(
            "uq_contract_full_job",
            "job_id",
            unique=True,
            sqlite_where=text("kind = 'full'"),
            postgresql_where=text("kind = 'full'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    bid_id: int = Field(foreign_key="bid.id", index=True)
    kind: ContractKind = Field(default=ContractKind.FULL, sa_type=enum_column())
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    total_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: ContractStatus = Field(default=ContractStatus.ACTIVE, sa_type=enum_column())
    flagged_reason: str = Field(default="", max_length=2000)
    # The lab's own purchase-order number, shown on its receipts (payments/documents.py); "" when none.
    purchase_order: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MilestoneStatus(StrEnum):
    PENDING = "pending"  # not funded yet
    FUNDED = "funded"  # the platform holds the money
    DELIVERED = "delivered"  # waiting for the buyer's decision
    REJECTED = "rejected"  # the buyer asked for another delivery; the money stays held
    ACCEPTED = "accepted"  # accepted; the payout waits for the vendor's payout account
    RELEASED = "released"  # paid to the vendor, less the platform fee
    CANCELLED = "cancelled"  # cancelled before it was funded
    REFUNDED = "refunded"  # cancelled or ended after funding: the buyer got the money back
    DISPUTED = "disputed"  # a dispute is open: the money is frozen until an admin decides


HELD_STATES = (
    MilestoneStatus.FUNDED,
    MilestoneStatus.DELIVERED,
    MilestoneStatus.REJECTED,
    MilestoneStatus.ACCEPTED,
    MilestoneStatus.DISPUTED,
)
CLOSED_STATES = (MilestoneStatus.RELEASED, MilestoneStatus.CANCELLED, MilestoneStatus.REFUNDED)


def new_key() -> str:
    return uuid.uuid4().hex


class Milestone(SQLModel, table=True):
    """A part of a contract, funded, delivered and paid on its own."""

    __table_args__ = (
        UniqueConstraint("contract_id", "number"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: int = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    number: int
    title: str = Field(max_length=200)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    due_date: date | None = None
    status: MilestoneStatus = Field(default=MilestoneStatus.PENDING, sa_type=enum_column())
    # Our own stable identifier at Stripe: idempotency keys and metadata are derived from it.
    key: str = Field(default_factory=new_key, max_length=32, unique=True)
    checkout_session_id: str | None = Field(default=None, max_length=255)
    checkout_attempt: int = 0
    payment_intent_id: str | None = Field(default=None, max_length=255, unique=True)
    charge_id: str | None = Field(default=None, max_length=255)
    last_payment_error: str = Field(default="", max_length=500)
    # The platform fee in force when the milestone was funded, in basis points.
    fee_bps: int | None = None
    # What an admin's dispute decision gave the vendor (the fee is taken from it); None: the whole amount.
    payout_minor: int | None = Field(default=None, sa_type=BigInteger)
    funded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@event.listens_for(Contract, "after_insert")
def _default_milestone(_mapper, connection, contract: Contract) -> None:
    """Every contract starts with one milestone for the whole amount (README, "Payments"), whoever creates it."""
    now = utcnow()
    connection.execute(
        cast(Any, Milestone)
        .__table__.insert()
        .values(
            contract_id=contract.id,
            number=1,
            title="The whole contract",
            amount_minor=contract.total_minor,
            currency=contract.currency,
            status=MilestoneStatus.PENDING.value,
            key=new_key(),
            checkout_attempt=0,
            last_payment_error="",
            created_at=now,
            updated_at=now,
        )
    )


class DeliveryDecision(StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Delivery(SQLModel, table=True):
    """One delivery of a milestone; a rejected one is kept and the vendor delivers again."""

    id: int = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestone.id", index=True)
    note: str = Field(default="", max_length=8000)
    delivered_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    delivered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decision: DeliveryDecision = Field(default=DeliveryDecision.WAITING, sa_type=enum_column())
    reason: str = Field(default="", max_length=4000)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When both sides were told that the payment will be released by itself (the acceptance deadline nears).
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryFile(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=80, unique=True)
    content_type: str = Field(max_length=100)
    size_bytes: int


class Rating(SQLModel, table=True):
    """The buyer's rating of the vendor after a completed contract; one per contract."""

    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)

    id: int = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", unique=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    buyer_org_id: int = Field(foreign_key="organization.id")
    stars: int
    comment: str = Field(default="", max_length=2000)
    rated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
