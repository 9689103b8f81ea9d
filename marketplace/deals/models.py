"""Pending transactions: a party announced to acquire a stake in another, not closed yet."""

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class DealStatus(StrEnum):
    PENDING = "pending"
    CLOSED = "closed"  # it became a tie like any other (closed_interest_id)
    ABANDONED = "abandoned"


class PendingDeal(SQLModel, table=True):
    """“Cobalt Social to acquire 49% of Scalewise Data, announced 2026-06-12, expected to close Q3”."""

    id: int = Field(default=None, primary_key=True)
    acquirer_party_id: int = Field(foreign_key="party.id", index=True)
    target_party_id: int = Field(foreign_key="party.id", index=True)
    share_pct: float
    announced_on: date
    expected_close: str = Field(default="", max_length=60)
    source_url: str = Field(default="", max_length=1000)
    source_description: str = Field(default="", max_length=1000)
    status: DealStatus = Field(default=DealStatus.PENDING, sa_type=enum_column(), index=True)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_interest_id: int | None = Field(default=None, foreign_key="interest.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
