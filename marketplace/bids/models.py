"""Bids on jobs and every revision of them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class BidStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    AWARDED = "awarded"
    LOST = "lost"


class BidTerms(SQLModel):
    """What a vendor offers; kept on the bid and copied into each revision."""

    price_per_unit_minor: int = Field(sa_type=BigInteger)
    total_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    turnaround_days: int
    quality_guarantee_pct: float | None = None
    proposal: str = Field(default="", max_length=20000)
    # The vendor's answer to each of the job's data-handling requirements, by key (bids.service.REQUIREMENTS).
    requirement_answers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    # Anything else about data handling, in the vendor's words.
    data_handling_response: str = Field(default="", max_length=8000)
    # The price of the job's paid pilot, when the job asks for one (sealed like the other terms).
    pilot_price_minor: int | None = Field(default=None, sa_type=BigInteger)


class Bid(BidTerms, table=True):
    __table_args__ = (UniqueConstraint("job_id", "vendor_org_id"),)

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    status: BidStatus = Field(default=BidStatus.ACTIVE, sa_type=enum_column())
    # Set when screening excludes the vendor for this job's buyer: the bid leaves the comparison.
    conflicted: bool = False
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BidRevision(BidTerms, table=True):
    # One row per number: two revisions saved at once can never both be "revision 3".
    __table_args__ = (UniqueConstraint("bid_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    bid_id: int = Field(foreign_key="bid.id", index=True)
    number: int
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set on the bid's latest revision when the vendor withdraws it: a bid withdrawn and placed again keeps
    # the withdrawal in its history (the bid itself forgets it when it is live again).
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ShortlistedBid(SQLModel, table=True):
    """A bid the lab keeps in the running: the ones asked for a best and final offer."""

    id: int = Field(default=None, primary_key=True)
    bid_id: int = Field(foreign_key="bid.id", unique=True)
    added_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BidAttachment(SQLModel, table=True):
    """A file of the vendor's proposal (a methodology, a sample, a security questionnaire): the lab reads it with the
    bid's terms, so on a sealed job only after the deadline."""

    id: int = Field(default=None, primary_key=True)
    bid_id: int = Field(foreign_key="bid.id", index=True)
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=64)
    content_type: str = Field(max_length=100)
    size_bytes: int
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AwardRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the job was cancelled or the bid withdrawn before an approver decided


class AwardRequest(SQLModel, table=True):
    """An award above the lab's approval amount, asked for by a user who is not an approver: it waits for one."""

    __tablename__ = "award_request"

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    bid_id: int = Field(foreign_key="bid.id")
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    requested_by_id: int = Field(foreign_key="user_account.id")
    total_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: AwardRequestStatus = Field(default=AwardRequestStatus.PENDING, sa_type=enum_column())
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
