"""An answer given while the lab's verdicts are being re-screened: the request does not screen every vendor live to
find whom to tell; the answer is on the job page at once, a worker tells the vendors that may see the job (after the
re-screen queued before it, so from the stored verdicts), once, and a starting worker tells what a lost enqueue left.

Real Redis, real database, RQ's in-process worker (tests/queue/conftest.py).
"""

from sqlalchemy import func, select

from marketplace import tasks
from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.jobs import service as jobs
from marketplace.jobs import tasks as job_tasks
from marketplace.jobs.models import Question, Visibility
from marketplace.notifications.models import Notification
from marketplace.screening.models import PendingRescreen
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.tasks import requeue_on_worker_start
from tests.concurrency.harness import flashes, post_and_follow, signed_in_client
from tests.factories import (
    BuyerFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    QuestionFactory,
    VerifiedVendorFactory,
)
from tests.queue.test_rescreen_queue import _party_of

ANSWER = "Yes: English only, with a few French street signs."


def _market() -> dict:
    """A lab with a confidential job, a vendor that asked about it, a vendor 30% held by a company the lab has not
    named yet, every verdict stored (all clear)."""
    buyer = BuyerFactory()
    asker, tied = VerifiedVendorFactory(), VerifiedVendorFactory()
    rival_to_be = PartyFactory(name=f"Quarry Analytics {buyer.org_id}")
    InterestFactory(interested_party_id=rival_to_be.id, subject_party_id=_party_of(tied.org_id), share_exact=30.0)
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL, title="Label 9k shop fronts")
    question = QuestionFactory(job_id=job.id, vendor_org_id=asker.org_id, asked_by_id=asker.id)
    refresh_verdicts(db.session, None, buyer_org_ids=[buyer.org_id])
    return {
        "buyer": buyer.id,
        "rival_party": rival_to_be.id,
        "asker": asker.id,
        "asker_org": asker.org_id,
        "tied_org": tied.org_id,
        "job": job.id,
        "question": question.id,
    }


def _told(org_id: int) -> int:
    """How many of the organisation's users were told of an answer."""
    return db.session.scalar(
        select(func.count(Notification.id))
        .join(User, User.id == Notification.user_id)
        .where(User.org_id == org_id, Notification.kind == "question_answered")
    )


def _answer(client, ids):
    return post_and_follow(client, f"/jobs/{ids['job']}/questions/{ids['question']}/answer", {"answer": ANSWER})


def test_an_answer_given_while_the_verdicts_update_is_told_by_the_worker_once_to_those_that_may_see_the_job(
    bed, build, client_for, run_worker
):
    ids = build(_market)
    lab = client_for(ids["buyer"])
    assert post_and_follow(lab, "/rivals", {"party_id": ids["rival_party"]}).status == 303  # the re-screen waits

    outcome = _answer(lab, ids)
    assert outcome.status == 303, outcome
    assert any("notified in a moment" in text for text in flashes(outcome.text)), flashes(outcome.text)
    with bed.app_context():
        question = db.session.get(Question, ids["question"])
        assert question.answer == ANSWER and question.told_at is None
        assert _told(ids["asker_org"]) == _told(ids["tied_org"]) == 0  # nobody screened, nobody told in the request
        [pending] = db.session.execute(select(PendingRescreen)).scalars().all()
        # The re-screen first, then the telling: one worker tells from the verdicts the re-screen stored.
        assert tasks.queue(bed).job_ids[-1] == jobs.tell_answer_job_id(ids["question"])
        assert len(tasks.queue(bed).job_ids) == 2
        db.session.remove()
    # The answer is on the job page at once for the vendor that may see it.
    assert ANSWER in client_for(ids["asker"]).get(f"/jobs/{ids['job']}").get_data(as_text=True)

    run_worker()

    with bed.app_context():
        assert db.session.get(Question, ids["question"]).told_at is not None
        assert _told(ids["asker_org"]) == 1
        assert _told(ids["tied_org"]) == 0  # owned by the rival now named: never told of the lab's job
        assert db.session.scalar(select(func.count(PendingRescreen.id))) == 0
        # Run again (a retry, a second copy), it tells no one twice.
        assert job_tasks.tell_answer(ids["question"])["done"] == "already"
        assert _told(ids["asker_org"]) == 1
        db.session.remove()


def test_an_answer_given_while_nothing_is_pending_is_told_in_the_request(bed, build, client_for):
    ids = build(_market)
    outcome = _answer(client_for(ids["buyer"]), ids)
    assert outcome.status == 303
    assert "Answer published to every vendor who can see the job." in flashes(outcome.text)
    with bed.app_context():
        assert db.session.get(Question, ids["question"]).told_at is not None
        assert (_told(ids["asker_org"]), _told(ids["tied_org"])) == (1, 1)  # no rival named: both may see it
        assert tasks.queue(bed).job_ids == []
        db.session.remove()


def test_an_answer_whose_telling_could_not_be_queued_is_told_once_a_worker_starts(bed, build, cut_off, run_worker):
    """Redis down as the answer commits: the answer stands (the request does not fail), and the next worker to start
    queues its telling again, as it does the re-screen."""
    ids = build(_market)
    lab = signed_in_client(cut_off, ids["buyer"])
    assert post_and_follow(lab, "/rivals", {"party_id": ids["rival_party"]}).status == 303
    assert _answer(lab, ids).status == 303
    with bed.app_context():
        assert db.session.get(Question, ids["question"]).told_at is None
        assert tasks.queue(bed).job_ids == []
        # What `flask worker` does first when it starts (marketplace.tasks.on_worker_start), in the app's order.
        requeue_on_worker_start()
        job_tasks.requeue_on_worker_start()
        assert tasks.queue(bed).job_ids[-1] == jobs.tell_answer_job_id(ids["question"])
        db.session.remove()
    run_worker()
    with bed.app_context():
        assert (_told(ids["asker_org"]), _told(ids["tied_org"])) == (1, 0)
        db.session.remove()
