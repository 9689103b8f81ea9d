"""Organisations, their users, and invitations to join them."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, Column, event
from sqlmodel import Field, SQLModel

from marketplace.accounts.names import org_name_key
from marketplace.db_types import UTCDateTime, enum_column, utcnow


class OrgKind(StrEnum):
    BUYER = "buyer"
    VENDOR = "vendor"


class Role(StrEnum):
    BUYER = "buyer"
    VENDOR = "vendor"
    ADMIN = "admin"


class OrgRole(StrEnum):
    """A user's role inside its organisation (not the account kind, `Role`): what each may do is in org_roles.py."""

    OWNER = "owner"
    MANAGER = "manager"
    MEMBER = "member"


class Organization(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    # The name without case, punctuation or legal suffix: one organisation per key (set on every write).
    name_key: str = Field(default="", max_length=200, unique=True)
    kind: OrgKind = Field(sa_type=enum_column(), index=True)  # the few buyers found without reading every vendor
    # The organisation's own node in the ownership graph.
    party_id: int | None = Field(default=None, foreign_key="party.id", index=True)
    website: str = Field(default="", max_length=300)
    country: str = Field(default="", max_length=80)
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_reason: str = Field(default="", max_length=1000)
    # A lab (buyer) publishes jobs only once an admin has checked that it is who it says it is.
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A lab's awards above this total (minor units, in the bid's currency) wait for an approver; None: never.
    award_approval_above_minor: int | None = Field(default=None, sa_type=BigInteger)
    award_approval_currency: str = Field(default="USD", max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def awaiting_verification(self) -> bool:
        return self.kind == OrgKind.BUYER and self.verified_at is None

    @property
    def audit_sides(self) -> dict[str, Any]:
        """The audit record's organisation columns: the side of the trail the organisation reads it on."""
        return {
            "buyer_org_id": self.id if self.kind == OrgKind.BUYER else None,
            "vendor_org_id": self.id if self.kind == OrgKind.VENDOR else None,
        }


@event.listens_for(Organization, "before_insert")
@event.listens_for(Organization, "before_update")
def _keep_name_key(_mapper, _connection, org: Organization) -> None:
    org.name_key = org_name_key(org.name)


class User(UserMixin, SQLModel, table=True):
    __tablename__ = "user_account"

    id: int = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=300)
    role: Role = Field(sa_type=enum_column())
    org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    # The role inside the organisation: sign-up makes the first user its owner, an invitation makes a member.
    org_role: OrgRole = Field(default=OrgRole.OWNER, sa_type=enum_column())
    # A lab's user whose approval an award above the lab's amount needs (and whose own awards need none).
    approver: bool = Field(default=False)
    # Set when the owner removed the user (or the user left): it signs in no more; its name stays on what it did.
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timezone: str = Field(default="UTC", max_length=64)
    # Bumped at sign-out so that an older copy of the session cookie stops working.
    session_version: int = Field(default=1)
    # None until the owner follows the link mailed to the address.
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Second factor (RFC 6238); the secret counts only once enabled. The last time step accepted, so that a code
    # is never accepted twice.
    totp_secret: str = Field(default="", max_length=64)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None

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

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    email: str = Field(max_length=254)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class VendorProfile(SQLModel, table=True):
    """What a labeling company offers; one per vendor organisation."""

    id: int = Field(default=None, primary_key=True)
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


class TokenPurpose(StrEnum):
    CONFIRM_EMAIL = "confirm_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a password)


class AccountToken(SQLModel, table=True):
    """A link mailed to a user (confirm the address, reset the password): kept only as a hash, expiring, used once."""

    __tablename__ = "account_token"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    purpose: TokenPurpose = Field(sa_type=enum_column())
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountSession(SQLModel, table=True):
    """One sign-in: the session cookie carries its key (stored here only as a hash); ending it signs that device out."""

    __tablename__ = "account_session"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    key_hash: str = Field(max_length=64, unique=True)
    user_agent: str = Field(default="", max_length=300)
    ip_address: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for the second factor; kept only as a hash."""

    __tablename__ = "recovery_code"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
