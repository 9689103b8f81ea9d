"""Organisations, their users, and invitations to join them."""

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class OrgKind(StrEnum):
    BUYER = "buyer"
    VENDOR = "vendor"


class Role(StrEnum):
    BUYER = "buyer"
    VENDOR = "vendor"
    ADMIN = "admin"


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    kind: OrgKind = Field(sa_type=enum_column())
    # The organisation's own node in the ownership graph.
    party_id: int | None = Field(default=None, foreign_key="party.id", index=True)
    website: str = Field(default="", max_length=300)
    country: str = Field(default="", max_length=80)
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_reason: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(UserMixin, SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=300)
    role: Role = Field(sa_type=enum_column())
    org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    timezone: str = Field(default="UTC", max_length=64)
    # Bumped at sign-out so that an older copy of the session cookie stops working.
    session_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_buyer(self) -> bool:
        return self.role == Role.BUYER

    @property
    def is_vendor(self) -> bool:
        return self.role == Role.VENDOR


class OrgInvitation(SQLModel, table=True):
    """A colleague invited to join an organisation; the token is kept only as a hash."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    email: str = Field(max_length=254)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class VendorProfile(SQLModel, table=True):
    """What a labeling company offers; one per vendor organisation."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", unique=True)
    summary: str = Field(default="", max_length=4000)
    modalities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    task_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    certifications: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    workforce_size: int = Field(default=0)
    workforce_locations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data_handling: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
