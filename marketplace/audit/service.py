"""Writing and verifying the hash-chained audit trail."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow

GENESIS_HASH = "0" * 64


def _digest(record: AuditRecord) -> str:
    body = {
        "at": record.at.isoformat(),
        "actor_id": record.actor_id,
        "actor_label": record.actor_label,
        "action": record.action,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "buyer_org_id": record.buyer_org_id,
        "vendor_org_id": record.vendor_org_id,
        "before": record.before,
        "after": record.after,
        "prev_hash": record.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_event(
    session: Session,
    actor,
    action: str,
    subject_type: str,
    subject_id: int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    buyer_org_id: int | None = None,
    vendor_org_id: int | None = None,
) -> AuditRecord:
    """Append one record to the trail in the caller's transaction.

    The unique prev_hash makes two concurrent writers collide instead of forking the chain.
    """
    last_hash = session.execute(
        select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
    ).scalar_one_or_none()
    record = AuditRecord(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        buyer_org_id=buyer_org_id,
        vendor_org_id=vendor_org_id,
        before=before,
        after=after,
        prev_hash=last_hash or GENESIS_HASH,
    )
    record.hash = _digest(record)
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class TrailProblem:
    record_id: int
    reason: str


def verify_trail(records: Iterable[AuditRecord]) -> TrailProblem | None:
    """Return the first record that breaks the chain, or None when the trail is whole."""
    expected_prev = GENESIS_HASH
    for record in records:
        if record.prev_hash != expected_prev:
            return TrailProblem(record.id, "does not follow the record before it (missing or reordered)")
        if _digest(record) != record.hash:
            return TrailProblem(record.id, "was changed after it was written")
        expected_prev = record.hash
    return None
