"""The money ledger, Stripe webhook events seen, and the organisations' Stripe accounts."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class EntryKind(StrEnum):
    """Each money movement; amounts are always positive, the kind says which way it went."""

    CHARGE = "charge"  # buyer → platform: a milestone funded (Stripe PaymentIntent)
    TRANSFER = "transfer"  # platform → vendor: the payout (Stripe Transfer)
    PLATFORM_FEE = "platform_fee"  # kept by the platform when it paid the vendor (on the same Transfer)
    REFUND = "refund"  # platform → buyer (Stripe Refund)


class LedgerEntry(SQLModel, table=True):
    """One money movement and the Stripe object that carried it; never changed after it is written."""

    __table_args__ = (
        UniqueConstraint("kind", "stripe_object_id"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    )

    id: int = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    milestone_id: int = Field(foreign_key="milestone.id", index=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    kind: EntryKind = Field(sa_type=enum_column())
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    stripe_object_id: str = Field(max_length=255)
    # What it came from: a charge's Charge, a refund's or a fee's PaymentIntent, a transfer's source Charge.
    source_object_id: str | None = Field(default=None, max_length=255, index=True)
    # Basis points of the platform fee, on PLATFORM_FEE entries.
    fee_bps: int | None = None
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookEvent(SQLModel, table=True):
    """A Stripe event already processed: a second delivery of the same id does nothing."""

    id: int = Field(default=None, primary_key=True)
    stripe_event_id: str = Field(max_length=255, unique=True)
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutAccount(SQLModel, table=True):
    """A vendor organisation's Stripe Connect Express account, where its payouts go."""

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", unique=True)
    key: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=32, unique=True)
    stripe_account_id: str | None = Field(default=None, max_length=255, unique=True)
    details_submitted: bool = False
    payouts_ready: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BillingCustomer(SQLModel, table=True):
    """A buyer organisation as a Stripe Customer, so that its payments are grouped at Stripe."""

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", unique=True)
    key: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=32, unique=True)
    stripe_customer_id: str | None = Field(default=None, max_length=255, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
