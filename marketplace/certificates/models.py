"""A vendor's certificate (ISO 27001, SOC 2 Type II, ...) with its file, and the expiry reminders it was sent."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class CertificateStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Certificate(SQLModel, table=True):
    """One certificate a vendor uploaded. It counts for a job that requires its kind while it is verified and
    `expires_on` is today or later (the day after, it no longer does). The file lives under the upload folder with a
    generated name; `filename` is only ever shown."""

    id: int = Field(default=None, primary_key=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    kind: str = Field(max_length=40)  # a code of marketplace.jobs.models.CERTIFICATIONS
    issuer: str = Field(max_length=200)
    scope: str = Field(max_length=1000)
    issued_on: date
    expires_on: date
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=80, unique=True)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    status: CertificateStatus = Field(default=CertificateStatus.PENDING, sa_type=enum_column())
    uploaded_by_id: int = Field(foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str = Field(default="", max_length=1000)


class CertificateReminder(SQLModel, table=True):
    """An expiry reminder that went to the vendor: one per certificate and threshold, so a rerun sends none."""

    __table_args__ = (UniqueConstraint("certificate_id", "days_before"),)

    id: int = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    days_before: int
    recipients: int = Field(default=0)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
