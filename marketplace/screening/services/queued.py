"""Re-screens that no web request waits for: a change of rivals, policy or of the whole graph (a merge, an import)
asks for one here, and the task queue does it (marketplace.tasks; the task is marketplace.screening.tasks).

Asking writes a PendingRescreen row in the change's own transaction and queues its task once that commits, under a
job id made from the row's id: one change, one job. Until the task has stored the last verdicts and deleted the
row, the buyer's stored verdicts may be behind the graph, so:

- access never waits for it: what a vendor may see is screened live (visibility asks verdicts_for_vendor on every
  page, and vendor_ids_seeing screens live while a re-screen of that buyer is pending: store.pending);
- the buyer's pages say the verdicts are updating, and how far the task got (`progress_for_buyer`).

Without a queue (no REDIS_URL) the re-screen runs here, in the caller's transaction, as it always did.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import tasks
from marketplace.screening.models import PendingRescreen
from marketplace.screening.services.refresh import refresh_after_change, refresh_verdicts
from marketplace.screening.store.pending import pending_for, rescreen_pending_kept

TASK = "marketplace.screening.tasks.run_rescreen"


def rescreen_buyer(session: Session, actor, buyer_org_id: int, reason: str) -> None:
    """Every vendor's verdict for this buyer is to be brought up to date (its rivals or policy changed)."""
    _request(session, actor, buyer_org_id, reason)


def rescreen_everyone(session: Session, actor, reason: str) -> None:
    """Every (buyer, vendor) verdict is to be brought up to date (parties merged, a register imported)."""
    _request(session, actor, None, reason)


def ties_changed(session: Session, actor, *, party_ids, vendor_org_ids) -> None:
    """Screening's answer to marketplace.changes.ties_changed (registered by the app factory). A change to known
    parties reaches few vendors and is re-screened at once (milliseconds); one to any party (a merge, an import)
    reaches every pair and goes to the queue."""
    if party_ids is None:
        rescreen_everyone(session, actor, "ties changed")
        return
    refresh_after_change(session, actor, party_ids=party_ids, vendor_org_ids=vendor_org_ids)


def lab_joined(session: Session, actor, *, buyer_org_id: int) -> None:
    """Screening's answer to marketplace.changes.lab_joined: with a queue, the new lab's first screening of every
    vendor is queued, and its lists say they are updating until it is stored; they never screen the whole platform
    inside a page (screen.screened_live_up_to). Without a queue (a small platform, no worker), nothing is
    asked: its lists screen live the vendors they have no stored verdict for, and `flask rescreen` stores them."""
    if tasks.configured():
        rescreen_buyer(session, actor, buyer_org_id, "lab joined")


def _request(session: Session, actor, buyer_org_id: int | None, reason: str) -> None:
    if not tasks.configured():
        refresh_verdicts(session, actor, buyer_org_ids=None if buyer_org_id is None else [buyer_org_id])
        return
    pending = PendingRescreen(buyer_org_id=buyer_org_id, reason=reason[:40], requested_by_id=getattr(actor, "id", None))
    session.add(pending)
    session.flush()
    tasks.enqueue_after_commit(
        session,
        TASK,
        pending.id,
        job_id=job_id(pending.id),
        description=f"re-screen for {'every buyer' if buyer_org_id is None else f'buyer {buyer_org_id}'}: {reason}",
    )


def job_id(pending_id: int) -> str:
    return tasks.job_id("rescreen", pending_id)


@dataclass(frozen=True)
class RescreenProgress:
    """What the buyer reads while its verdicts are updating: how many re-screens are pending, and of the one
    running, how many vendors it has done of how many."""

    pending: int
    done: int | None = None
    total: int | None = None
    waiting: bool = False  # none has started yet (no worker has taken it, or it waits for a retry)
    failed: bool = False  # one failed after every retry: a worker starting, or the daily `flask rescreen`, redoes it


def progress_for_buyer(session: Session, buyer_org_id: int) -> RescreenProgress | None:
    """None when the buyer's verdicts are up to date."""
    return _progress(session, buyer_org_id)


def progress_for_everyone(session: Session) -> RescreenProgress | None:
    """The re-screens of every pair (after a merge, a distinction, an import), for the admin who started one."""
    return _progress(session, None)


def _progress(session: Session, buyer_org_id: int | None) -> RescreenProgress | None:
    # Most pages find none, and whether there is any is kept between requests: an up-to-date page reads nothing here.
    if not rescreen_pending_kept(session, buyer_org_id):
        return None
    pending = pending_for(buyer_org_id)
    rows = session.execute(pending.order_by(col(PendingRescreen.id))).scalars().all()
    if not rows:
        return None
    if not tasks.configured():  # rows left by a queue no longer configured: `flask rescreen` clears them
        return RescreenProgress(len(rows), waiting=True)
    failed = False
    for row in rows:
        progress = tasks.progress_of(job_id(row.id))
        if progress is not None and progress.status == "started" and progress.total is not None:
            return RescreenProgress(len(rows), progress.done or 0, progress.total)
        failed = failed or (progress is not None and progress.status == "failed")
    return RescreenProgress(len(rows), waiting=not failed, failed=failed)


def requeue_pending(session: Session) -> int:
    """Queue again every pending re-screen (a job id already queued is left alone): for a starting worker, after
    Redis lost its jobs or a change committed while Redis was unreachable. Returns how many were queued."""
    queued = 0
    for row in session.execute(select(PendingRescreen).order_by(col(PendingRescreen.id))).scalars():
        key = job_id(row.id)
        # Queued again when Redis has no such job, and put back when its retries were spent.
        again = tasks.enqueue(TASK, row.id, job_id=key, description=f"re-screen (queued again): {row.reason}")
        if again is not None or tasks.requeue_failed(key):
            queued += 1
    return queued
