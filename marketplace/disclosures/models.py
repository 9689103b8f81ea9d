"""A vendor's ownership disclosure, filed as immutable versions."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class DisclosureStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"


class DisclosureVersion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("vendor_org_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    number: int
    status: DisclosureStatus = Field(default=DisclosureStatus.DRAFT, sa_type=enum_column())
    summary: str = Field(default="", max_length=4000)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attested_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    attester_name: str = Field(default="", max_length=200)
    attester_title: str = Field(default="", max_length=200)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str = Field(default="", max_length=4000)


class DisclosureEvidence(SQLModel, table=True):
    """A document a vendor attached to a version (a share register extract, a board minute).

    The file lives under the upload folder with a generated name; `filename` is only ever shown.
    """

    id: int = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="disclosureversion.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    filename: str = Field(max_length=255)
    description: str = Field(default="", max_length=300)
    stored_name: str = Field(max_length=80, unique=True)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReminderSent(SQLModel, table=True):
    """A disclosure reminder that went to a vendor: one per obligation kind and period, so a rerun sends none."""

    __table_args__ = (UniqueConstraint("vendor_org_id", "kind", "period_key"),)

    id: int = Field(default=None, primary_key=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    kind: str = Field(max_length=40)
    period_key: str = Field(max_length=40)
    recipients: int = Field(default=0)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
