"""Neutrality statements the platform signed for vendors."""

from datetime import datetime

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class NeutralityStatement(SQLModel, table=True):
    """One signed statement: as of `as_of`, the vendor has no tie of `threshold_pct` or more, no board seat and no
    shared officer with any party of a list, until `expires_at` or until a later change makes it false (revoked).

    The list itself is never shown, nor in the statement: only its digest. The parties it named are kept (never
    shown) so that every later change can be checked against them."""

    id: int = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    as_of: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    threshold_pct: float
    list_sha256: str = Field(max_length=64)
    list_size: int
    party_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    key_id: str = Field(max_length=16)
    document: str = Field(sa_type=Text)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    revoked_reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
