"""A lab's webhook endpoints, the events it was sent, each delivery of an event to an endpoint and its attempts."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class EventType(StrEnum):
    """What a lab can be called about (the issue's six events)."""

    VERDICT_CHANGED = "verdict.changed"
    BID_RECEIVED = "bid.received"
    DEADLINE_PASSED = "job.deadline_passed"
    QUESTION_ASKED = "question.asked"
    DELIVERY_MADE = "delivery.made"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_WITHDRAWN = "dispute.withdrawn"
    # For the lab's storage: access to its data given to a vendor for a contract, and taken back (by hand, or by the
    # contract's change-of-control playbook: marketplace.playbook).
    DATA_ACCESS_GRANTED = "data_access.granted"
    DATA_ACCESS_REVOKED = "data_access.revoked"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every retry spent; a replay sends it again


class WebhookEndpoint(SQLModel, table=True):
    """An address of the lab's own systems, called for the events it chose, with the secret that signs the calls.

    The secret is kept as it is (it signs every call, so it cannot be a hash); pages show it once, when it is made.
    """

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=100)
    enabled: bool = True
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    secret_rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutgoingEvent(SQLModel, table=True):
    """One thing that happened, as the lab's endpoints receive it: the exact body every delivery sends."""

    id: int = Field(default=None, primary_key=True)
    uid: str = Field(max_length=40, unique=True)  # evt_…: the receiver's key for ignoring a second copy
    org_id: int = Field(foreign_key="organization.id", index=True)
    event_type: str = Field(sa_type=enum_column(40))
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: pending until an attempt gets a 2xx, retried with backoff, failed at the end."""

    id: int = Field(default=None, primary_key=True)
    uid: str = Field(max_length=40, unique=True)  # dlv_…
    event_id: int = Field(foreign_key="outgoingevent.id", index=True)
    endpoint_id: int = Field(foreign_key="webhookendpoint.id", index=True)
    status: str = Field(default=DeliveryStatus.PENDING, sa_type=enum_column(16), index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # A sender holds the delivery until then while its call is under way; another sender takes it only after.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replay_requested: bool = False  # the next attempt is a replay a person asked for
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One call of a delivery and what came back: the status, or why there was none, and the body's start."""

    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhookdelivery.id", index=True)
    number: int
    replay: bool = False
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_code: int | None = None
    error: str = Field(default="", max_length=300)
    response_excerpt: str = Field(default="", max_length=2000)
    duration_ms: int | None = None


class DeadlineAnnounced(SQLModel, table=True):
    """A job whose passed deadline was emitted as an event: the sweep emits each job's once."""

    job_id: int = Field(foreign_key="job.id", primary_key=True)
    announced_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
