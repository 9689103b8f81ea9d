"""Re-screens on the task queue (marketplace.tasks, screening.services.queued): the web request that names a rival
returns without re-screening, a real worker stores the verdicts, one change is one job run once, a failing job is
retried, two worker processes share a queue, and a vendor never sees more while a re-screen waits.

Real Redis, real database, real RQ workers (in-process, and `flask --app marketplace worker` processes).
"""

import os
import subprocess
import sys
import time

from rq.job import Job, JobStatus
from sqlalchemy import func, select

from marketplace import tasks
from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditRecord
from marketplace.extensions import db
from marketplace.jobs.models import Job as LabelingJob
from marketplace.jobs.models import Visibility
from marketplace.parties import registry
from marketplace.screening.models import PendingRescreen, Rival, VerdictRecord
from marketplace.screening.services import queued
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.services.rivals import add_rival_by_party
from marketplace.screening.tasks import requeue_on_worker_start
from marketplace.visibility import vendor_ids_seeing
from tests.concurrency.harness import PROJECT_ROOT, flashes, post_and_follow, signed_in_client
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    VerifiedVendorFactory,
    VerifiedVendorOrgFactory,
)


def _buyer_with_a_tied_vendor(others: int = 5):
    """A buyer, a company it has not named yet holding 30% of one vendor, other clear vendors, every verdict stored
    (all clear), and a confidential job of the buyer."""
    buyer = BuyerFactory()
    rival_to_be = PartyFactory(name=f"Quarry Analytics {buyer.org_id}")
    tied = VerifiedVendorFactory()
    clear = VerifiedVendorFactory()
    for _ in range(others):
        VerifiedVendorOrgFactory()
    vendor_party = _party_of(tied.org_id)
    InterestFactory(interested_party_id=rival_to_be.id, subject_party_id=vendor_party, share_exact=30.0)
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
    refresh_verdicts(db.session, None, buyer_org_ids=[buyer.org_id])
    return {
        "buyer": buyer.id,
        "buyer_org": buyer.org_id,
        "rival_party": rival_to_be.id,
        "tied_user": tied.id,
        "tied_org": tied.org_id,
        "clear_user": clear.id,
        "clear_org": clear.org_id,
        "job": job.id,
    }


def _party_of(org_id: int) -> int:
    return db.session.get(Organization, org_id).party_id


def _stored(buyer_org: int, vendor_org: int) -> str | None:
    return db.session.execute(
        select(VerdictRecord.verdict).where(
            VerdictRecord.buyer_org_id == buyer_org, VerdictRecord.vendor_org_id == vendor_org
        )
    ).scalar_one_or_none()


def _pending(buyer_org: int | None = None) -> list[PendingRescreen]:
    query = select(PendingRescreen).order_by(PendingRescreen.id)
    if buyer_org is not None:
        query = query.where(PendingRescreen.buyer_org_id == buyer_org)
    return list(db.session.execute(query).scalars())


def _verdict_changes_of(buyer_org: int) -> int:
    return db.session.execute(
        select(func.count(AuditRecord.id)).where(
            AuditRecord.action == "screening.verdict_changed", AuditRecord.buyer_org_id == buyer_org
        )
    ).scalar_one()


def test_naming_a_rival_returns_before_any_vendor_is_screened_again_and_a_worker_stores_the_verdicts(
    bed, build, client_for, run_worker
):
    ids = build(lambda: _buyer_with_a_tied_vendor(others=200))
    buyer = client_for(ids["buyer"])

    started = time.perf_counter()
    outcome = post_and_follow(buyer, "/rivals", {"party_id": ids["rival_party"]})
    took = time.perf_counter() - started
    print(f"naming a rival with {200 + 2} vendors answered in {took:.3f} s (the re-screen queued)")  # no assertion
    assert outcome.status == 303 and outcome.location == "/rivals", outcome
    assert any("are being screened again" in text for text in flashes(outcome.text))
    assert "Updating verdicts: waiting for the queue to start" in outcome.text

    with bed.app_context():
        # Nothing was re-screened in the request: the stored verdict is the old one, no change was acted on...
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "clear"
        assert _verdict_changes_of(ids["buyer_org"]) == 0
        # ... and exactly one re-screen waits, queued under its change's job id.
        [pending] = _pending(ids["buyer_org"])
        key = queued.job_id(pending.id)
        assert tasks.queue(bed).job_ids == [key]
        db.session.remove()

    run_worker()

    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "exclude"
        assert _stored(ids["buyer_org"], ids["clear_org"]) == "clear"
        assert _verdict_changes_of(ids["buyer_org"]) == 1
        assert _pending() == []
        job = Job.fetch(key, connection=tasks.connection(bed))
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value()["verdicts_changed"] == 1
        assert job.meta["done"] == job.meta["total"] == job.return_value()["vendors"]
        db.session.remove()
    page = buyer.get("/rivals").get_data(as_text=True)
    assert "Updating verdicts" not in page
    assert "1 vendor" in page  # the rival's tied vendor, from the stored verdicts


def test_the_buyers_pages_show_how_far_the_running_rescreen_got(bed, build, client_for, queue_name):
    """Progress is the job's meta: a job that has started and said "40 of 202" shows it to the buyer."""
    ids = build(lambda: _buyer_with_a_tied_vendor())
    buyer = client_for(ids["buyer"])
    post_and_follow(buyer, "/rivals", {"party_id": ids["rival_party"]})
    with bed.app_context():
        [pending] = _pending(ids["buyer_org"])
        job = Job.fetch(queued.job_id(pending.id), connection=tasks.connection(bed))
        db.session.remove()
    # What a worker does when it takes the job and reports (rq marks it started; the task saves its meta).
    job.set_status(JobStatus.STARTED)
    job.meta.update(done=40, total=202)
    job.save_meta()
    for page in ("/rivals", "/vendors", "/screening/policy"):
        text = buyer.get(page).get_data(as_text=True)
        assert "Updating verdicts: 40 of 202 vendors" in text, page


def test_one_change_queued_twice_runs_once(bed, build, run_worker):
    ids = build(lambda: _buyer_with_a_tied_vendor())

    def name_the_rival():
        add_rival_by_party(db.session, db.session.get(User, ids["buyer"]), ids["rival_party"])

    build(name_the_rival)  # committed: its job is queued after the commit
    with bed.app_context():
        [pending] = _pending(ids["buyer_org"])
        key = queued.job_id(pending.id)
        # The same change queued again (a retried request, a starting worker): the job id is taken, nothing added.
        assert tasks.enqueue(queued.TASK, pending.id, job_id=key, description="again", app=bed) is None
        assert queued.requeue_pending(db.session) == 0
        assert tasks.queue(bed).job_ids == [key]
        db.session.remove()

    run_worker()

    with bed.app_context():
        job = Job.fetch(key, connection=tasks.connection(bed))
        assert len(job.results()) == 1  # one run, one result
        assert _verdict_changes_of(ids["buyer_org"]) == 1
        assert _pending() == []
        db.session.remove()


def test_a_failing_job_is_retried(bed, queue_name, run_worker):
    counter = f"{queue_name}-flaky-runs"
    with bed.app_context():
        job = tasks.enqueue("tests.queue.flaky.fail_once", counter, job_id=tasks.job_id("flaky", 1), description="x")
    run_worker()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert int(tasks.connection(bed).get(counter)) == 2  # failed once, then ran again and succeeded
    assert job.retries_left == 1  # of the 2 retries the queue gives (TASK_RETRY_DELAYS in the tests)


def test_a_vendor_sees_nothing_more_while_the_rescreen_waits_for_a_worker(bed, build, client_for):
    """No worker runs in this test: the stored verdicts stay "clear" for the vendor the new rival holds 30% of, yet
    the vendor is told of nothing and shown nothing of the lab's confidential job."""
    ids = build(lambda: _buyer_with_a_tied_vendor())
    with bed.app_context():
        job = db.session.get(LabelingJob, ids["job"])
        assert vendor_ids_seeing(db.session, job) >= {ids["tied_org"], ids["clear_org"]}  # before: both see it
        db.session.remove()

    post_and_follow(client_for(ids["buyer"]), "/rivals", {"party_id": ids["rival_party"]})

    with bed.app_context():
        assert _pending(ids["buyer_org"]), "the re-screen waits"
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "clear"  # what a reader of stored verdicts would trust
        job = db.session.get(LabelingJob, ids["job"])
        seeing = vendor_ids_seeing(db.session, job)
        assert ids["tied_org"] not in seeing
        assert ids["clear_org"] in seeing
        db.session.remove()
    assert client_for(ids["tied_user"]).get(f"/jobs/{ids['job']}").status_code == 404
    assert client_for(ids["clear_user"]).get(f"/jobs/{ids['job']}").status_code == 200


def test_a_merge_queues_one_rescreen_of_every_pair(bed, build, client_for, run_worker):
    """Merging a party into the rival's makes the rival hold the vendor: every buyer's verdicts wait for it."""

    def setup():
        ids = _buyer_with_a_tied_vendor()
        admin = AdminFactory()
        rival = db.session.get(Rival, _name_rival(ids))
        alias = PartyFactory(name=f"Quarry Holdings {ids['buyer_org']}")
        InterestFactory(interested_party_id=alias.id, subject_party_id=_party_of(ids["clear_org"]), share_exact=40.0)
        return {**ids, "admin": admin.id, "rival_party": rival.party_id, "alias": alias.id}

    ids = build(setup)
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["clear_org"]) == "clear"
        db.session.remove()

    def merge():
        registry.merge_parties(db.session, db.session.get(User, ids["admin"]), ids["rival_party"], ids["alias"])

    build(merge)
    with bed.app_context():
        [pending] = _pending()
        assert pending.buyer_org_id is None  # every buyer
        assert _stored(ids["buyer_org"], ids["clear_org"]) == "clear"
        db.session.remove()
    admin = client_for(ids["admin"])
    assert "Updating verdicts: waiting" in admin.get(f"/admin/parties/{ids['rival_party']}").get_data(as_text=True)
    assert "Updating verdicts: waiting" in client_for(ids["buyer"]).get("/vendors").get_data(as_text=True)
    run_worker()
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["clear_org"]) == "exclude"
        assert _pending() == []
        db.session.remove()
    assert "Updating verdicts" not in admin.get(f"/admin/parties/{ids['rival_party']}").get_data(as_text=True)


def _name_rival(ids) -> int:
    """Name the rival inline (no queue involved): returns the Rival's id."""
    rival = Rival(buyer_org_id=ids["buyer_org"], party_id=ids["rival_party"])
    db.session.add(rival)
    db.session.flush()
    refresh_verdicts(db.session, None, buyer_org_ids=[ids["buyer_org"]])
    return rival.id


def test_two_worker_processes_drain_one_queue_each_job_run_once(bed, build, queue_name, queue_database_url, redis_url):
    """Eight labs each name a rival at once; two `flask --app marketplace worker --burst` processes share the queue."""
    labs = [build(lambda: _buyer_with_a_tied_vendor(others=20)) for _ in range(8)]

    def name_rivals():
        for ids in labs:
            add_rival_by_party(db.session, db.session.get(User, ids["buyer"]), ids["rival_party"])

    build(name_rivals)
    with bed.app_context():
        keys = [queued.job_id(p.id) for p in _pending()]
        assert len(keys) == 8 and sorted(tasks.queue(bed).job_ids) == sorted(keys)
        db.session.remove()

    env = {
        **os.environ,
        "DATABASE_URL": queue_database_url,
        "REDIS_URL": redis_url,
        "TASK_QUEUE": queue_name,
        "SECRET_KEY": "test-secret",
        "MAIL_SERVER": "",
        "LOG_LEVEL": "WARNING",
    }
    workers = [
        subprocess.Popen(  # noqa: S603  (our own command line)
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "marketplace",
                "worker",
                "--burst",
                "--name",
                f"{queue_name}-{n}",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in (1, 2)
    ]
    outputs = []
    for worker in workers:
        try:
            output, _ = worker.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        outputs.append(output)
        assert worker.returncode == 0, output

    connection = tasks.connection(bed)
    ran_on = []
    for key in keys:
        job = Job.fetch(key, connection=connection)
        assert job.get_status() == JobStatus.FINISHED, (key, job.get_status(), outputs)
        assert len(job.results()) == 1, key  # exactly one run
        ran_on.append(job.worker_name)
    assert set(ran_on) <= {f"{queue_name}-1", f"{queue_name}-2"}
    print("jobs per worker:", {name: ran_on.count(name) for name in set(ran_on)})
    with bed.app_context():
        assert _pending() == []
        for ids in labs:
            assert _stored(ids["buyer_org"], ids["tied_org"]) == "exclude"
            assert _verdict_changes_of(ids["buyer_org"]) == 1
        db.session.remove()


def test_a_rescreen_that_failed_for_good_says_so_and_a_starting_worker_queues_it_again(bed, build, client_for):
    """A pending re-screen whose job spent its retries: the buyer reads that it failed (access is still live), and
    the next worker to start puts it back on the queue."""
    ids = build(lambda: _buyer_with_a_tied_vendor())
    row_id = build(lambda: _pending_row(ids["buyer_org"]))
    with bed.app_context():
        key = queued.job_id(row_id)
        # The job under the change's id fails on every run (a stand-in for a database gone for longer than the retries).
        tasks.enqueue("tests.queue.flaky.always_fail", row_id, job_id=key, description="fails")
    tasks.worker_for(bed, name=f"{bed.config['TASK_QUEUE']}-failing").work(burst=True, logging_level="CRITICAL")
    assert Job.fetch(key, connection=tasks.connection(bed)).get_status() == JobStatus.FAILED
    assert "Updating verdicts failed and will be tried again" in client_for(ids["buyer"]).get("/vendors").get_data(
        as_text=True
    )
    with bed.app_context():
        assert queued.requeue_pending(db.session) == 1
        assert tasks.queue(bed).job_ids == [key]
        db.session.remove()


def _pending_row(buyer_org: int) -> int:
    row = PendingRescreen(buyer_org_id=buyer_org, reason="test")
    db.session.add(row)
    db.session.flush()
    return row.id


def test_a_change_made_while_redis_is_unreachable_is_saved_and_queued_by_the_next_worker(
    bed, build, cut_off, run_worker
):
    """Redis down at the moment of the commit: the rival is named all the same (the request does not fail), the
    re-screen stays pending (so access stays live), and the next worker to start queues it."""
    ids = build(lambda: _buyer_with_a_tied_vendor())
    outcome = post_and_follow(signed_in_client(cut_off, ids["buyer"]), "/rivals", {"party_id": ids["rival_party"]})
    assert outcome.status == 303, outcome
    with bed.app_context():
        [pending] = _pending(ids["buyer_org"])
        assert tasks.queue(bed).job_ids == []
        assert ids["tied_org"] not in vendor_ids_seeing(db.session, db.session.get(LabelingJob, ids["job"]))
        db.session.remove()
    # What `flask worker` does first when it starts (marketplace.tasks.on_worker_start).
    with bed.app_context():
        requeue_on_worker_start()
    run_worker()
    with bed.app_context():
        assert _pending() == []
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "exclude"
        db.session.remove()


def test_a_second_change_after_the_first_was_screened_is_screened_too(bed, build, client_for, run_worker):
    """The pending row of the first change is deleted when its job finishes; the second change's row must not take
    its id again (SQLite reuses the highest id of a table without AUTOINCREMENT), or its job id would be the
    finished job's, which Redis keeps for a day, and the second change would never be screened."""
    ids = build(lambda: _buyer_with_a_tied_vendor())
    buyer = client_for(ids["buyer"])
    assert post_and_follow(buyer, "/rivals", {"party_id": ids["rival_party"]}).status == 303
    with bed.app_context():
        [first] = _pending(ids["buyer_org"])
        first_key = queued.job_id(first.id)
        db.session.remove()
    run_worker()
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "exclude" and _pending() == []
        rival = db.session.execute(select(Rival).where(Rival.buyer_org_id == ids["buyer_org"])).scalar_one()
        db.session.remove()

    assert post_and_follow(buyer, f"/rivals/{rival.id}/remove", {}).status == 303
    with bed.app_context():
        [second] = _pending(ids["buyer_org"])
        assert queued.job_id(second.id) != first_key
        db.session.remove()
    run_worker()
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "clear"  # the rival is gone: screened again
        assert _pending() == []
        db.session.remove()
