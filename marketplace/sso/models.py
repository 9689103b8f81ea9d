"""An organisation's OpenID Connect sign-in, the email domains it claims, and its SCIM provisioning tokens."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class SsoConfig(SQLModel, table=True):
    """One per organisation: where its identity provider is and how the marketplace is known to it. The client
    secret is kept to talk to the provider and never shown back on any page."""

    __tablename__ = "sso_config"

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", unique=True)
    # The issuer; its discovery document is at ISSUER/.well-known/openid-configuration.
    issuer: str = Field(max_length=300)
    client_id: str = Field(max_length=200)
    client_secret: str = Field(default="", max_length=500)
    # Off: nobody signs in through the provider (the owner's switch while the provider is being set up or is down).
    enabled: bool = Field(default=False)
    # On: the organisation's users at its verified domains cannot sign in with a password (the owner's break-glass
    # excepted, see sso.service.password_refusal).
    required: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SsoDomain(SQLModel, table=True):
    """An email domain an organisation claims; it counts only once a platform admin has verified the claim."""

    __tablename__ = "sso_domain"

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    domain: str = Field(max_length=253, index=True)
    claimed_by_id: int = Field(foreign_key="user_account.id")
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # The domain again once verified, else None: unique, so that a domain belongs to one organisation at most
    # (claims may be many; NULLs do not collide on SQLite or PostgreSQL).
    verified_domain: str | None = Field(default=None, max_length=253, unique=True)


class ScimToken(SQLModel, table=True):
    """A bearer token the organisation's identity provider sends to /scim/v2: shown once, stored as a hash."""

    __tablename__ = "scim_token"

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    label: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
