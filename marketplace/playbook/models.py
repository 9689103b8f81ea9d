"""A lab's playbook defaults and storage hook, each contract's playbook, its data-access grants and their calls."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import event, select
from sqlmodel import Field, SQLModel

from marketplace.contracts.models import Contract
from marketplace.db_types import UTCDateTime, enum_column, utcnow

DEFAULT_DELETION_DAYS = 14


class LabPlaybook(SQLModel, table=True):
    """A lab's defaults for new contracts. (Its storage hears of data access through the lab's webhook endpoints
    subscribed to the data_access events: marketplace.webhooks.)"""

    id: int = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", unique=True)
    wind_down: bool = True
    deletion_days: int = DEFAULT_DELETION_DAYS
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PlaybookStatus(StrEnum):
    ARMED = "armed"  # waiting: nothing has happened
    RUNNING = "running"  # the vendor turned excluded: access revoked, contract paused, settlement and deletion due
    SETTLED = "settled"  # the work done was paid for and the rest refunded; the contract is ended
    CONTINUED = "continued"  # the lab chose to go on with the contract, with its reason


class ContractPlaybook(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", unique=True)
    wind_down: bool = True  # False: the contract is only flagged and paused, and the lab decides
    deletion_days: int = DEFAULT_DELETION_DAYS
    status: PlaybookStatus = Field(default=PlaybookStatus.ARMED, sa_type=enum_column(), index=True)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deletion_due_on: date | None = None
    continued_reason: str = Field(default="", max_length=2000)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The vendor officer's attestation that the lab's data is deleted.
    attested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attested_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    officer_name: str = Field(default="", max_length=200)
    officer_title: str = Field(default="", max_length=200)
    deleted_on: date | None = None
    deletion_details: str = Field(default="", max_length=2000)
    # The deadline's reminders and escalation, each sent once.
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GrantAccess(StrEnum):
    READ = "read"
    READ_WRITE = "read-write"


class DataGrant(SQLModel, table=True):
    """Access the lab gave the vendor to a place in its storage, for this contract, until it expires or is
    revoked."""

    id: int = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    resource: str = Field(max_length=500)
    access: GrantAccess = Field(default=GrantAccess.READ, sa_type=enum_column())
    expires_on: date
    issued_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoke_reason: str = Field(default="", max_length=500)


@event.listens_for(Contract, "after_insert")
def _arm_playbook(_mapper, connection, contract: Contract) -> None:
    """Every contract gets its playbook when it is made (by an award, an approved award or a pilot), from the lab's
    defaults then: a later change of the defaults leaves it as it was."""
    lab = cast(Any, LabPlaybook).__table__
    defaults = connection.execute(
        select(lab.c.wind_down, lab.c.deletion_days).where(lab.c.org_id == contract.buyer_org_id)
    ).first()
    wind_down, deletion_days = defaults if defaults is not None else (True, DEFAULT_DELETION_DAYS)
    connection.execute(
        cast(Any, ContractPlaybook)
        .__table__.insert()
        .values(
            contract_id=contract.id,
            wind_down=wind_down,
            deletion_days=deletion_days,
            status=PlaybookStatus.ARMED.value,
            continued_reason="",
            officer_name="",
            officer_title="",
            deletion_details="",
            updated_at=utcnow(),
        )
    )
