"""The append-only audit trail; each record carries the hash of the one before."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, event
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class AuditRecord(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
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


class AuditTrailIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove a record of the trail: records are only ever added."""


# Append-only in the ORM as well as by the hash chain: a flush that would UPDATE or DELETE a record fails
# before reaching the database. (Raw SQL can still do it; `flask audit verify` then finds it.)
@event.listens_for(AuditRecord, "before_update")
def _refuse_update(_mapper, _connection, target: AuditRecord) -> None:
    raise AuditTrailIsAppendOnly(f"audit record {target.id} cannot be changed: the trail is append-only")


@event.listens_for(AuditRecord, "before_delete")
def _refuse_delete(_mapper, _connection, target: AuditRecord) -> None:
    raise AuditTrailIsAppendOnly(f"audit record {target.id} cannot be deleted: the trail is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state) -> None:
    """Bulk `update(AuditRecord)` / `delete(AuditRecord)` statements skip the mapper events: refuse them here."""
    if (
        (state.is_update or state.is_delete)
        and state.bind_mapper is not None
        and state.bind_mapper.class_ is AuditRecord
    ):
        raise AuditTrailIsAppendOnly("audit records cannot be changed or deleted: the trail is append-only")
