"""Sending the signed calls to labs' storage (a data-access grant issued or revoked).

Each call is a row written in the transaction that issued or revoked the grant, so a change rolled back sends
nothing. `send_due` posts the calls that are due, each under a row lock (two senders never post the same attempt),
signed with the lab's secret, sent as the labs' webhooks are (marketplace.webhooks.sending: the address checked
to be public again before the call, a short timeout, no redirect followed), with the same waits between attempts.
A call answered 2xx is sent; any other answer, a timeout or a refused connection is tried again after its wait, and
after the last attempt it fails and the lab is told, so that it revokes the access by hand.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import tasks
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.notifications.service import notify_org
from marketplace.playbook.models import CallState, DataGrant, LabPlaybook, StorageCall
from marketplace.webhooks import sending
from marketplace.webhooks import tasks as webhook_tasks

# The waits after each failed attempt; after the last one the call has failed.
BACKOFF = tuple(timedelta(seconds=seconds) for seconds in sending.BACKOFF_SECONDS)


@dataclass
class SendRun:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def summary(self) -> str:
        return f"Storage calls: {self.sent} sent, {self.retrying} to retry, {self.failed} failed."


def _post(url: str, secret: str, call: StorageCall) -> tuple[int | None, str]:
    """The call made as the labs' webhooks are (marketplace.webhooks.sending): the address checked again, signed
    now, no redirect followed, short timeouts."""
    outcome = sending.post(
        sending.Call(
            delivery_id=call.id,
            attempt_id=call.attempts + 1,
            number=call.attempts + 1,
            delivery_uid=f"storage-call-{call.id}",
            event_uid=f"storage-call-{call.id}",
            event_type=call.event,
            body=call.body,
            url=url,
            secret=secret,
        ),
        webhook_tasks.settings(),
    )
    return outcome.status_code, outcome.error[:500]


SEND_TASK = "marketplace.playbook.storage.send_job"


def queue_after_commit(session: Session, call: StorageCall) -> None:
    """With a task queue, a worker posts the call as soon as the change commits (and each retry when it is due);
    without one, the page that made it sends it after its commit, and `flask playbook send` (or the reminders run)
    sends what is due."""
    if tasks.configured():
        tasks.enqueue_after_commit(
            session, SEND_TASK, job_id=tasks.job_id("storage-call", f"{call.id}-0"), description="storage call"
        )


def send_job() -> str:
    """The queue's run: send what is due, and book the next run when a call waits for a retry."""
    run = send_due(db.session)
    waiting = db.session.execute(
        select(col(StorageCall.next_attempt_at))
        .where(col(StorageCall.state) == CallState.DUE)
        .order_by(col(StorageCall.next_attempt_at))
        .limit(1)
    ).scalar_one_or_none()
    if waiting is not None:
        tasks.enqueue_at(
            waiting,
            SEND_TASK,
            job_id=tasks.job_id("storage-call", waiting.strftime("%Y%m%dT%H%M%S")),
            description="storage call retry",
        )
    return run.summary()


def send_due(session: Session, *, limit: int = 100) -> SendRun:
    """Post every call that is due (committing after each, so a crash never sends one twice knowingly)."""
    run = SendRun()
    for _ in range(limit):
        now = utcnow()
        call = session.execute(
            select(StorageCall)
            .where(col(StorageCall.state) == CallState.DUE, col(StorageCall.next_attempt_at) <= now)
            .order_by(col(StorageCall.id))
            .limit(1)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if call is None:
            break
        lab = session.execute(select(LabPlaybook).where(col(LabPlaybook.org_id) == call.org_id)).scalar_one_or_none()
        status, error = (None, "The lab has no storage address any more.")
        if lab is not None and lab.storage_url:
            status, error = _post(lab.storage_url, lab.storage_secret, call)
        call.attempts += 1
        call.last_status, call.last_error = status, error
        if status is not None and 200 <= status < 300:
            call.state, call.sent_at = CallState.SENT, utcnow()
            run.sent += 1
        elif call.attempts > len(BACKOFF):
            call.state = CallState.FAILED
            run.failed += 1
            grant = cast(DataGrant, session.get(DataGrant, call.grant_id))
            what = "revoking" if call.event.endswith("revoked") else "granting"
            notify_org(
                session,
                call.org_id,
                "storage_call_failed",
                f"Your storage did not accept the call {what} access to {grant.resource} after {call.attempts} "
                f"attempts (last: {error or status}). Change the access in your storage by hand.",
                f"/contracts/{grant.contract_id}/playbook",
            )
        else:
            call.next_attempt_at = utcnow() + BACKOFF[call.attempts - 1]
            run.retrying += 1
        session.commit()
    return run
