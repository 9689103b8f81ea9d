"""The task queue: work that no web request waits for (re-screening after a change), on RQ and Redis.

With `REDIS_URL` set, a service that wants work done later calls `enqueue_after_commit`: the job goes to Redis
once the caller's transaction has committed (a worker must read what the change wrote; a change rolled back
enqueues nothing), under an id derived from the change, so that the same change is never queued twice. Each job is
retried (rq.Retry) and reports its progress in its meta (`report_progress`, read back by `progress_of`). Workers
are `flask --app marketplace worker`: RQ's SimpleWorker, one job at a time, each in a fresh app context.

Without `REDIS_URL` (development, the demo's seeding, most tests) there is no queue: `configured()` is False and
the caller runs the work inline, in its own transaction, as before there was a queue.

Why RQ: well kept, small, plain Redis (no broker to run besides the one the rate limiter can share), job ids for
idempotency, retries, meta for progress, and it does not care whether the app's database is SQLite or PostgreSQL.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_AFTER_COMMIT = "marketplace.tasks.after_commit"
_on_worker_start: list[Callable[[], object]] = []


def configured() -> bool:
    """Whether work goes to the queue (REDIS_URL set) or runs inline in the caller."""
    return bool(current_app.config.get("REDIS_URL"))


def connection(app: Flask | None = None) -> Redis:
    """The app's Redis connection (one pool per app)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: dict[str, Redis] = app.extensions.setdefault("marketplace.tasks", {})
    if "redis" not in state:
        state["redis"] = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5, socket_timeout=30)
    return state["redis"]


def queue(app: Flask | None = None) -> Queue:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Queue(
        app.config.get("TASK_QUEUE", "marketplace"),
        connection=connection(app),
        default_timeout=app.config.get("TASK_TIMEOUT", 3600),
    )


def job_id(kind: str, key: object, app: Flask | None = None) -> str:
    """The id of the job doing `kind` for one change (`key`): the same change always gets the same id. The queue's
    name comes first, so that two deployments (or test runs) sharing a Redis never share a job."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return f"{app.config.get('TASK_QUEUE', 'marketplace')}-{kind}-{key}"


def _retry(app: Flask) -> Retry:
    delays = list(app.config.get("TASK_RETRY_DELAYS", (10, 60, 300)))
    # A delay of 0 puts the job straight back on the queue; any other needs a worker running the scheduler.
    return Retry(max=len(delays), interval=delays if any(delays) else 0)


def enqueue(func: str, *args: object, job_id: str, description: str, app: Flask | None = None) -> Job | None:
    """Queue func(*args) under job_id, with retries; None when a job of that id is already there (the same change
    queued twice runs once)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        return queue(app).enqueue_call(
            func,
            args=args,
            job_id=job_id,
            description=description,
            retry=_retry(app),
            unique=True,
            result_ttl=app.config.get("TASK_RESULT_TTL", 24 * 3600),
            failure_ttl=app.config.get("TASK_FAILURE_TTL", 7 * 24 * 3600),
        )
    except DuplicateJobError:
        return None


def enqueue_at(when: datetime, func: str, *args: object, job_id: str, description: str) -> Job | None:
    """Queue func(*args) to run at `when` (UTC; a worker's scheduler moves it onto the queue then), under job_id;
    None when a job of that id is already there, so that every worker booking the same run books it once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    target = queue(app)
    job = target.create_job(
        func,
        args=args,
        job_id=job_id,
        description=description,
        retry=_retry(app),
        result_ttl=app.config.get("TASK_RESULT_TTL", 24 * 3600),
        failure_ttl=app.config.get("TASK_FAILURE_TTL", 7 * 24 * 3600),
    )
    try:
        return target.schedule_job(job, when, unique=True)
    except DuplicateJobError:
        return None


def requeue_failed(key: str, app: Flask | None = None) -> bool:
    """Put a job that failed for good (its retries spent) back on the queue; False when it is not a failed job."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    registry = queue(app).failed_job_registry
    if key not in registry.get_job_ids():
        return False
    registry.requeue(key)
    return True


def enqueue_after_commit(session: Session, func: str, *args: object, job_id: str, description: str) -> None:
    """Queue func(*args) once the session's transaction commits; nothing if it rolls back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session.info.setdefault(_AFTER_COMMIT, []).append((app, func, args, job_id, description))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for app, func, args, key, description in session.info.pop(_AFTER_COMMIT, []):
        try:
            enqueue(func, *args, job_id=key, description=description, app=app)
        except RedisError:
            # The change is committed and says what is pending: the next worker to start queues it again
            # (on_worker_start), and until then whoever reads the pending row treats the change as not done.
            log.exception("Could not queue %s; a worker queues it again when it starts", key)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def report_progress(done: int, total: int, stage: str = "") -> None:
    """Inside a job: how far it is (and, for work in stages, which one), for the user who started it (progress_of).
    Inline: nothing to report."""
    job = get_current_job()
    if job is None:
        return
    job.meta.update(done=done, total=total, stage=stage)
    job.save_meta()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Progress:
    """A job as its starter sees it: queued, started, finished, failed or scheduled (waiting to be retried), and
    how far it got (done of total) when it has said."""

    status: str
    done: int | None = None
    total: int | None = None
    stage: str = ""


def progress_of(key: str) -> Progress | None:
    """The job's state and progress; None when Redis has no such job (never queued, or long finished)."""
    try:
        job = Job.fetch(key, connection=connection())
        status = job.get_status(refresh=True)
    except NoSuchJobError:
        return None
    except RedisError:
        log.warning("Could not read job %s from Redis", key, exc_info=True)
        return Progress("unknown")
    return Progress(
        str(status.value if status is not None else "unknown"),
        job.meta.get("done"),
        job.meta.get("total"),
        job.meta.get("stage", ""),
    )


def on_worker_start(callback: Callable[[], object]) -> None:
    """Register work a starting worker does first (queue again what a lost enqueue left pending), once."""
    if callback not in _on_worker_start:
        _on_worker_start.append(callback)


class AppWorker(SimpleWorker):
    """RQ's SimpleWorker (no fork: pooled database connections never cross one) running each job in a fresh app
    context, so that each job has its own database session, removed when it ends."""

    app: Flask

    def perform_job(self, job: Job, queue: Queue) -> bool:
        with self.app.app_context():
            return super().perform_job(job, queue)


def worker_for(app: Flask, name: str | None = None) -> AppWorker:
    worker = AppWorker([queue(app)], connection=connection(app), name=name)
    worker.app = app
    return worker


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, a one-off catch-up).")
@click.option("--name", default=None, help="The worker's name in Redis (default: RQ's own).")
@with_appcontext
def worker_command(burst: bool, name: str | None) -> None:
    """Run a queue worker: re-screens after changes, with retries. Needs REDIS_URL."""
    if not configured():
        raise click.UsageError("REDIS_URL is not set: without a queue every task runs inline, and no worker is needed.")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for callback in _on_worker_start:
        callback()
    worker_for(app, name).work(burst=burst, with_scheduler=not burst, logging_level=app.config.get("LOG_LEVEL", "INFO"))
