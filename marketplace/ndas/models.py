"""A lab's non-disclosure agreement, one row per version, and each vendor organisation's acceptance of a version."""

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class Nda(SQLModel, table=True):
    """One version of a lab's NDA: its text, and optionally the signed-form PDF (stored without its metadata)."""

    __table_args__ = (UniqueConstraint("buyer_org_id", "version"),)

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    version: int
    text: str = Field(default="", sa_type=Text)
    filename: str = Field(default="", max_length=255)
    stored_name: str = Field(default="", max_length=64)
    size_bytes: int = 0
    metadata_note: str = Field(default="", max_length=1000)
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NdaAcceptance(SQLModel, table=True):
    """A vendor organisation bound by one version, accepted by one of its users, once."""

    __table_args__ = (UniqueConstraint("nda_id", "vendor_org_id"),)

    id: int = Field(default=None, primary_key=True)
    nda_id: int = Field(foreign_key="nda.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    # The job whose brief the vendor was opening when it accepted (the NDA covers every job of the lab).
    job_id: int | None = Field(default=None, foreign_key="job.id")
    accepted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
