"""Who may see a job, and telling them: a lab answers a question on its confidential job, on a register made by
bench/generate.py.

    python bench/who_sees.py --database-url sqlite:////tmp/bench-groups.db

Ours: marketplace.jobs.service.answer_question, which finds the vendors that may see the job from the stored verdicts
(visibility.vendor_ids_seeing) and notifies their users in one bulk insert (median of --repeats, each rolled back).
The obvious way, beside it in the same run: ask, for each vendor, whether the job is in what that vendor may see
(visibility.job_filter, which screens the vendor live), and add a notification per user, as answering did before
(issue 13). It is timed on --naive-vendors vendors and extrapolated to all of them, as it says.

--pending: a re-screen of the lab waits on the queue while it answers (a rival just named): its stored verdicts may be
behind, so finding whom to tell screens every vendor live (visibility.vendor_ids_seeing) until that re-screen is
done. The app runs with a queue (REDIS_URL; nothing reaches Redis, as every answer is rolled back): ours is the
request, which leaves the telling to a worker (jobs.tasks.tell_answer); then the worker's telling once the re-screen
queued before it stored the verdicts; and beside them, once, what the request did until 2026-12-07: the telling
inside it, every vendor screened live.
"""

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generate import BUYER_EMAIL  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import Organization, OrgKind, Role, User  # noqa: E402
from marketplace.db_types import utcnow  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.jobs import service as jobs  # noqa: E402
from marketplace.jobs.models import Job, JobStatus, Question, Visibility  # noqa: E402
from marketplace.notifications.models import Notification  # noqa: E402
from marketplace.screening.models import PendingRescreen, VerdictRecord  # noqa: E402
from marketplace.screening.services.refresh import refresh_verdicts  # noqa: E402
from marketplace.visibility import job_filter, vendor_ids_seeing  # noqa: E402


def _confidential_job_with_a_question(session, buyer: User) -> tuple[Job, Question]:
    job = Job(
        buyer_org_id=buyer.org_id,
        created_by_id=buyer.id,
        title="Benchmark: label 10k frames",
        modality="image",
        task_type="bounding_boxes",
        volume=10_000,
        unit="images",
        budget_min_minor=100_000,
        budget_max_minor=200_000,
        bid_deadline=utcnow() + timedelta(days=7),
        delivery_date=date.today() + timedelta(days=30),
        visibility=Visibility.CONFIDENTIAL,
        status=JobStatus.OPEN,
        codename="Project Bench",
        published_at=utcnow(),
    )
    session.add(job)
    session.flush()
    asker = session.execute(select(Organization.id).where(Organization.kind == OrgKind.VENDOR).limit(1)).scalar()
    question = Question(job_id=job.id, vendor_org_id=asker, text="Which format?")
    session.add(question)
    session.flush()
    return job, question


def _naive_answer(session, job: Job, vendors: list[Organization]) -> int:
    """Each vendor asked live whether it may see the job; a notification per user of each that may."""
    told = 0
    for vendor in vendors:
        user = session.execute(select(User).where(User.org_id == vendor.id).limit(1)).scalar()
        if user is None:
            continue
        if session.execute(select(Job.id).where(Job.id == job.id, job_filter(session, user))).first():
            for member in session.execute(select(User).where(User.org_id == vendor.id)).scalars():
                session.add(
                    Notification(user_id=member.id, kind="question_answered", message="answered", job_id=job.id)
                )
                told += 1
    session.flush()
    return told


def _as_in_production(session, buyer: User, vendors: list[Organization]) -> None:
    """What a running marketplace has and a generated register lacks, made once and kept: a user per vendor, and
    the lab's verdicts stored (every change stores them; `flask rescreen` does it for all)."""
    with_users = set(session.execute(select(User.org_id).where(User.org_id.is_not(None))).scalars())
    missing = [v for v in vendors if v.id not in with_users]
    if missing:
        session.execute(
            insert(User),
            [
                {
                    "email": f"staff{v.id}@vendor.bench.example",
                    "name": f"Staff {v.id}",
                    "password_hash": "!",
                    "role": Role.VENDOR,
                    "org_id": v.id,
                    "timezone": "UTC",
                }
                for v in missing
            ],
        )
    stored = session.execute(
        select(func.count(VerdictRecord.id)).where(VerdictRecord.buyer_org_id == buyer.org_id)
    ).scalar()
    if stored < len(vendors):
        started = time.perf_counter()
        refresh_verdicts(session, None, buyer_org_ids=[buyer.org_id])
        click.echo(f"stored the lab's verdicts once: {time.perf_counter() - started:.1f} s", err=True)
    session.commit()


@click.command()
@click.option("--database-url", required=True)
@click.option("--repeats", default=5, show_default=True)
@click.option("--naive-vendors", default=200, show_default=True, help="vendors asked the naive way, then extrapolated")
@click.option("--pending", is_flag=True, help="answer while a re-screen of the lab waits on the queue")
def main(database_url: str, repeats: int, naive_vendors: int, pending: bool) -> None:
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False}
    if pending:  # answer_question leaves the telling to the queue; the bench commits nothing, so nothing is queued
        config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    app = create_app(config)
    with app.app_context():
        session = db.session
        buyer = session.execute(select(User).where(User.email == BUYER_EMAIL)).scalar_one()
        vendors = session.execute(select(Organization).where(Organization.kind == OrgKind.VENDOR)).scalars().all()
        _as_in_production(session, buyer, vendors)
        click.echo(f"{len(vendors):,} vendors, {session.execute(select(func.count(User.id))).scalar():,} users")
        ours, worker, told = [], [], 0
        with click.progressbar(range(repeats), label="ours (answer_question)", file=sys.stderr) as bar:
            for _ in bar:
                job, question = _confidential_job_with_a_question(session, buyer)
                if pending:  # rolled back with the rest
                    waiting = PendingRescreen(buyer_org_id=buyer.org_id, reason="bench: rival named")
                    session.add(waiting)
                    session.flush()
                started = time.perf_counter()
                jobs.answer_question(session, buyer, job.id, question.id, "JSON lines.")
                session.flush()
                ours.append(time.perf_counter() - started)
                if pending:  # the worker, after the re-screen queued before it: the pending row is gone
                    assert question.told_at is None, "the request told the vendors itself"
                    session.delete(waiting)
                    session.flush()
                    started = time.perf_counter()
                    jobs.tell_answer(session, job, question)
                    session.flush()
                    worker.append(time.perf_counter() - started)
                told = session.execute(
                    select(func.count(Notification.id)).where(Notification.job_id == job.id)
                ).scalar()
                seeing = len(vendor_ids_seeing(session, job))
                session.rollback()
        if pending:
            job, question = _confidential_job_with_a_question(session, buyer)
            session.add(PendingRescreen(buyer_org_id=buyer.org_id, reason="bench: rival named"))
            session.flush()
            with click.progressbar(length=1, label="before: told in the request", file=sys.stderr) as bar:
                started = time.perf_counter()
                jobs.tell_answer(session, job, question)
                session.flush()
                in_request = time.perf_counter() - started
                bar.update(1)
            session.rollback()
            click.echo(
                f"while a re-screen waits: the request {statistics.median(ours) * 1000:.0f} ms (median of {repeats}: "
                f"{', '.join(f'{t * 1000:.0f}' for t in ours)} ms), the worker's telling after the re-screen "
                f"{statistics.median(worker) * 1000:.0f} ms ({', '.join(f'{t * 1000:.0f}' for t in worker)}); "
                f"{seeing:,} vendors may see the job, {told:,} users told; before, told inside the request with "
                f"every vendor screened live: {in_request:.1f} s; ratio {in_request / statistics.median(ours):,.0f}x"
            )
        job, _ = _confidential_job_with_a_question(session, buyer)
        sample = vendors[:naive_vendors]
        with click.progressbar(length=1, label=f"naive ({len(sample)} vendors)", file=sys.stderr) as bar:
            started = time.perf_counter()
            _naive_answer(session, job, sample)
            naive_sample = time.perf_counter() - started
            bar.update(1)
        session.rollback()
        naive_all = naive_sample * len(vendors) / max(1, len(sample))
        median = statistics.median(ours)
        telling = statistics.median(worker) if pending else median  # with a queue, the request tells no one
        click.echo(
            f"ours:  median {median * 1000:.0f} ms over {repeats} (runs: "
            f"{', '.join(f'{t * 1000:.0f}' for t in ours)} ms); {seeing:,} vendors may see the job, "
            f"{told:,} users told"
        )
        click.echo(
            f"naive: {naive_sample:.1f} s for {len(sample)} vendors -> {naive_all:.0f} s for "
            f"{len(vendors):,} (extrapolated); ratio naive / ours {naive_all / telling:,.0f}x"
            + (" (ours: the worker's telling)" if pending else "")
        )


if __name__ == "__main__":
    main()
