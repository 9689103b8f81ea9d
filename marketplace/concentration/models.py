"""A lab's cap on the share of its spend under one owner, and the common owners of its vendors it was told of."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class SpendCap(SQLModel, table=True):
    """At most `cap_pct`% of the lab's labeling spend (per currency) under any one owner or investor."""

    __table_args__ = (CheckConstraint("cap_pct BETWEEN 1 AND 100", name="cap_range"),)

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", unique=True)
    cap_pct: int
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OwnerGroupReport(SQLModel, table=True):
    """A lab was told that these vendors of its (contracted) are under one owner: told once per owner and set."""

    __table_args__ = (UniqueConstraint("buyer_org_id", "owner_party_id"),)

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    owner_party_id: int = Field(foreign_key="party.id")
    vendor_org_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
