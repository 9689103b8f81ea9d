"""API tokens (an organisation's, or a platform admin's own), and the stored answers of requests sent with an
idempotency key."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class ApiToken(SQLModel, table=True):
    """A token the organisation's owner made for its tools, acting as the owner; or a platform admin's personal
    token (`user_id`: admins belong to no organisation), acting as that admin. Only a SHA-256 of the secret is
    kept: the token itself is shown once (marketplace.api.tokens)."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("(org_id IS NULL) <> (user_id IS NULL)", name="one_holder"),)

    id: int = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters of the token, so that the owner can tell tokens apart on the page.
    prefix: str = Field(max_length=16)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdempotentResponse(SQLModel, table=True):
    """The answer given to a creating POST sent with an Idempotency-Key: the same key and body get it again."""

    __tablename__ = "api_idempotent_response"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: int = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id", index=True)
    key: str = Field(max_length=255)
    # The method, the path and a SHA-256 of the body: what "the same request" means.
    fingerprint: str = Field(max_length=64)
    status_code: int
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    location: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
