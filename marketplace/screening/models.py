"""A buyer's rivals."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class Rival(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("buyer_org_id", "party_id"),)

    id: int | None = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    added_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VerdictRecord(SQLModel, table=True):
    """The last verdict each buyer had of each vendor, to tell who must hear when it changes."""

    __table_args__ = (UniqueConstraint("buyer_org_id", "vendor_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    verdict: str = Field(max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
