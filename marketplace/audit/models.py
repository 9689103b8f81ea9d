"""The append-only audit trail; each record carries the hash of the one before."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class AuditRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_label: str = Field(default="system", max_length=300)
    action: str = Field(max_length=60, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: int | None = None
    # Who the record concerns, so a buyer can export what is about its own jobs and vendors.
    buyer_org_id: int | None = Field(default=None, index=True)
    vendor_org_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)
