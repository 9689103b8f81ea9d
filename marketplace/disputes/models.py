"""A dispute over a milestone's held money, the statements and files both sides add, and the admin's decision."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, text
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class DisputeStatus(StrEnum):
    OPEN = "open"  # the milestone's money is frozen
    DECIDED = "decided"  # an admin decided; the money moved as decided
    WITHDRAWN = "withdrawn"  # the side that opened it withdrew it before a decision; the money unfroze


class DisputeOutcome(StrEnum):
    RELEASE = "release"  # all of it to the vendor (less the platform fee)
    REFUND = "refund"  # all of it back to the buyer
    SPLIT = "split"  # a part each


class Dispute(SQLModel, table=True):
    """A dispute on a milestone: opened by either side while the platform holds the milestone's money. A milestone
    has one dispute open or decided at most; withdrawn ones stay beside it, as its history."""

    __table_args__ = (
        Index(
            "uq_dispute_milestone_live",
            "milestone_id",
            unique=True,
            sqlite_where=text("status != 'withdrawn'"),
            postgresql_where=text("status != 'withdrawn'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    milestone_id: int = Field(foreign_key="milestone.id", index=True)
    opened_by_side: str = Field(max_length=10)  # buyer or vendor
    opened_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str = Field(max_length=4000)
    status: DisputeStatus = Field(default=DisputeStatus.OPEN, sa_type=enum_column())
    # The milestone's state when the dispute froze it (funded, delivered, rejected or accepted).
    milestone_status_before: str = Field(max_length=32)
    held_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The other side answers by respond_by; both add evidence until evidence_until (or until respond_by, when the
    # other side has not answered): then the admin decides.
    respond_by: datetime = Field(sa_type=UTCDateTime)
    evidence_until: datetime = Field(sa_type=UTCDateTime)
    # When the other side was reminded that its answer is due (once, ANSWER_REMINDER before respond_by).
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: DisputeOutcome | None = Field(default=None, sa_type=enum_column())
    vendor_minor: int | None = Field(default=None, sa_type=BigInteger)
    buyer_minor: int | None = Field(default=None, sa_type=BigInteger)
    explanation: str = Field(default="", max_length=4000)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Withdrawn by the side that opened it, before a decision: who, when and why (both sides and admins read it).
    withdrawn_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdraw_reason: str = Field(default="", max_length=4000)


class DisputeStatement(SQLModel, table=True):
    """What one side says in a dispute; the opening reason is the first statement."""

    id: int = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    side: str = Field(max_length=10)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    body: str = Field(max_length=8000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DisputeFile(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="disputestatement.id", index=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=80, unique=True)
    content_type: str = Field(max_length=100)
    size_bytes: int
