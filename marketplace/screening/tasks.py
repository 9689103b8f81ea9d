"""The screening work the task queue runs (marketplace.tasks): a queued re-screen, done by a worker.

The task owns its transactions, as a command does: it stores verdicts a batch of vendors at a time, committing
each (so that its progress is real, and the database is not held for the whole run), and deletes its
PendingRescreen row with the last batch. Run again (a retry, a second copy), it does again what is left: a
re-screen stores only what changed, and a row already deleted means the work is done.
"""

from sqlalchemy import delete, select
from sqlmodel import col

from marketplace import tasks
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.extensions import db
from marketplace.screening.models import PendingRescreen
from marketplace.screening.services.queued import requeue_pending
from marketplace.screening.services.refresh import refresh_verdicts

BATCH = 500


def run_rescreen(pending_id: int) -> dict:
    """Re-screen what the pending row asks for (one buyer's vendors, or every pair), then delete the row."""
    session = db.session
    pending = session.get(PendingRescreen, pending_id)
    if pending is None:
        return {"pending_id": pending_id, "done": "already"}
    buyer_ids = None if pending.buyer_org_id is None else [pending.buyer_org_id]
    requested_by = pending.requested_by_id
    vendor_ids = list(
        session.execute(
            select(col(Organization.id)).where(col(Organization.kind) == OrgKind.VENDOR).order_by(col(Organization.id))
        ).scalars()
    )
    session.commit()
    total, changed = len(vendor_ids), 0
    tasks.report_progress(0, total)
    for start in range(0, total, BATCH):
        actor = session.get(User, requested_by) if requested_by is not None else None
        changed += len(
            refresh_verdicts(session, actor, vendor_org_ids=vendor_ids[start : start + BATCH], buyer_org_ids=buyer_ids)
        )
        session.commit()
        tasks.report_progress(min(start + BATCH, total), total)
    session.execute(delete(PendingRescreen).where(col(PendingRescreen.id) == pending_id))
    session.commit()
    return {"pending_id": pending_id, "vendors": total, "verdicts_changed": changed}


def requeue_on_worker_start() -> None:
    """A starting worker first queues again what is pending (marketplace.tasks.on_worker_start)."""
    queued = requeue_pending(db.session)
    db.session.close()
    if queued:
        tasks.log.info("Queued %d pending re-screens again", queued)
