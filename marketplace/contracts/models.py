"""Contracts made by an award."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class ContractStatus(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"
    PAUSED = "paused"
    ENDED = "ended"
    COMPLETED = "completed"


class Contract(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", unique=True)
    bid_id: int = Field(foreign_key="bid.id", unique=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    total_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: ContractStatus = Field(default=ContractStatus.ACTIVE, sa_type=enum_column())
    flagged_reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
