"""Races over one job outside its bids: publishing, editing, cancelling, inviting, answering.

Each racer is a signed-in client with its own connection, all released at once. The invariants: what a user was
told happened is what was committed, once; a change refused by the state another racer left is refused in words;
no 5xx.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.contracts.models import Contract
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode, Job, JobInvitation, JobStatus, Question, Visibility
from tests.concurrency.harness import flashes, post_and_follow, together
from tests.concurrency.invariants import audit_count, later, no_server_errors, notification_count, told
from tests.factories import (
    BidFactory,
    BuyerFactory,
    JobFactory,
    QuestionFactory,
    UserFactory,
    VerifiedVendorFactory,
    VerifiedVendorOrgFactory,
)

TRIALS = 3


def colleague(user) -> int:
    """Another user of the same organisation: a second person, or the same one in a second browser."""
    return UserFactory(role=user.role, org_id=user.org_id).id


def offer(total: str = "900.00") -> dict:
    return {"price_per_unit": "1.00", "total": total, "turnaround_days": "20", "proposal": "We label well."}


def job_form(job: Job, **changes) -> dict:
    """The edit form as the buyer would send it back, with some fields changed."""
    data = {
        "title": job.title,
        "description": job.description,
        "modality": job.modality,
        "task_type": job.task_type,
        "volume": str(job.volume),
        "unit": job.unit,
        "quality_metric": "accuracy",
        "quality_target_pct": "98",
        "certifications": ["soc2_type2"],
        "hosting": "vendor_cloud",
        "budget_min": "5000.00",
        "budget_max": "10000.00",
        "currency": "USD",
        "bid_deadline": (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (utcnow() + timedelta(days=60)).date().isoformat(),
        "visibility": str(job.visibility),
        "bidding_mode": str(job.bidding_mode),
    }
    data.update(changes)
    return data


def _own_job(status=JobStatus.OPEN, **fields):
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, status=status, **fields)
    return job.id, buyer.id, colleague(buyer)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_draft_published_twice_at_once_is_published_once(race_app, build, client_for, trial):
    job_id, *buyer_ids = build(lambda: _own_job(JobStatus.DRAFT, published_at=None))
    clients = [client_for(user_id) for user_id in buyer_ids]
    outcomes = together([lambda c=c: post_and_follow(c, f"/jobs/{job_id}/publish") for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "Job published") == 1, [flashes(o.text) for o in outcomes]
    assert told(outcomes, "already published") == 1, [flashes(o.text) for o in outcomes]
    with race_app.app_context():
        assert db.session.get(Job, job_id).status == JobStatus.OPEN
        assert audit_count("job.published", job_id) == 1


def _invite_only_draft_with_invitee():
    job_id, buyer_id, other_id = _own_job(JobStatus.DRAFT, published_at=None, visibility=Visibility.INVITE_ONLY)
    vendor = VerifiedVendorFactory()
    db.session.add(JobInvitation(job_id=job_id, vendor_org_id=vendor.org_id))
    db.session.flush()
    return job_id, buyer_id, other_id, vendor.id


def test_invited_vendors_hear_of_a_publication_once(race_app, build, client_for):
    job_id, buyer_id, other_id, vendor_id = build(_invite_only_draft_with_invitee)
    clients = [client_for(buyer_id), client_for(other_id)]
    outcomes = together([lambda c=c: post_and_follow(c, f"/jobs/{job_id}/publish") for c in clients])
    no_server_errors(outcomes)
    with race_app.app_context():
        assert notification_count("job_invitation", user_id=vendor_id, job_id=job_id) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_job_cancelled_twice_at_once_is_cancelled_once(race_app, build, client_for, trial):
    job_id, buyer_id, other_id, vendor_id = build(_open_job_with_a_bid)
    clients = [client_for(buyer_id), client_for(other_id)]
    outcomes = together([lambda c=c: post_and_follow(c, f"/jobs/{job_id}/cancel") for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "Job cancelled.") == 1
    assert told(outcomes, "already cancelled") == 1
    with race_app.app_context():
        assert db.session.get(Job, job_id).status == JobStatus.CANCELLED
        assert audit_count("job.cancelled", job_id) == 1
        assert notification_count("job_cancelled", user_id=vendor_id, job_id=job_id) == 1


def _open_job_with_a_bid():
    job_id, buyer_id, other_id = _own_job(bidding_mode=BiddingMode.OPEN)
    vendor = VerifiedVendorFactory()
    BidFactory(job_id=job_id, vendor_org_id=vendor.org_id, total_minor=100_000, price_per_unit_minor=100)
    return job_id, buyer_id, other_id, vendor.id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_job_cancelled_as_it_is_awarded_ends_one_way_only(race_app, build, client_for, trial):
    job_id, buyer_id, other_id, _ = build(_open_job_with_a_bid)
    with race_app.app_context():
        bid_id = db.session.execute(select(Bid.id).where(Bid.job_id == job_id)).scalar_one()
    buyer, other = client_for(buyer_id), client_for(other_id)
    cancelled, awarded = together(
        [
            lambda: post_and_follow(buyer, f"/jobs/{job_id}/cancel"),
            lambda: post_and_follow(other, f"/jobs/{job_id}/bids/{bid_id}/award"),
        ]
    )
    no_server_errors([cancelled, awarded])
    with race_app.app_context():
        job = db.session.get(Job, job_id)
        contracts = db.session.execute(select(Contract).where(Contract.job_id == job_id)).scalars().all()
        if job.status == JobStatus.CANCELLED:
            assert contracts == [] and told([cancelled], "Job cancelled.") == 1
            assert told([awarded], "Awarded") == 0
        else:
            assert job.status == JobStatus.AWARDED and len(contracts) == 1
            assert told([cancelled], "Job cancelled.") == 0
            assert told([cancelled], "awarded; it can no longer be cancelled") == 1


# The bid's page checks what the vendor may see before the bid is written, which takes a while: the edit is sent
# after a range of delays, so that some land between that check and the bid's commit.
@pytest.mark.parametrize("delay_ms", range(0, 120, 15))
def test_terms_never_change_under_a_bid_placed_at_the_same_moment(race_app, build, client_for, delay_ms):
    """The buyer makes a public job invite-only as a vendor bids: either the bid is placed and the edit refused
    (vendors have bid), or the edit is saved and the vendor, no longer able to see the job, places nothing."""
    job_id, buyer_id, _ = build(lambda: _own_job(bidding_mode=BiddingMode.OPEN))
    vendor_id = build(lambda: VerifiedVendorFactory().id)
    buyer, vendor = client_for(buyer_id), client_for(vendor_id)
    with race_app.app_context():
        form = job_form(db.session.get(Job, job_id), visibility="invite_only")
    edited, placed = together(
        [
            lambda: later(delay_ms, lambda: post_and_follow(buyer, f"/jobs/{job_id}/edit", form)),
            lambda: post_and_follow(vendor, f"/jobs/{job_id}/bid", offer()),
        ]
    )
    no_server_errors([edited, placed])
    saved = told([edited], "Changes saved.") == 1
    with race_app.app_context():
        job = db.session.get(Job, job_id)
        bids = db.session.execute(select(Bid).where(Bid.job_id == job_id)).scalars().all()
        assert job.visibility == (Visibility.INVITE_ONLY if saved else Visibility.PUBLIC)
        if saved:
            assert bids == [] and placed.status == 404
        else:
            assert len(bids) == 1 and told([placed], "Your bid is placed") == 1
            assert told([edited], "Vendors have already bid on this job") == 1


def _invite_only_job_and_vendors():
    job_id, buyer_id, other_id = _own_job(visibility=Visibility.INVITE_ONLY)
    return job_id, buyer_id, other_id, [VerifiedVendorOrgFactory().id for _ in range(2)]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_vendors_invited_twice_at_once_are_invited_once(race_app, build, client_for, trial):
    job_id, buyer_id, other_id, vendor_org_ids = build(_invite_only_job_and_vendors)
    clients = [client_for(buyer_id), client_for(other_id)]
    outcomes = together(
        [lambda c=c: post_and_follow(c, f"/jobs/{job_id}/invitations", {"vendors": vendor_org_ids}) for c in clients]
    )
    no_server_errors(outcomes)
    with race_app.app_context():
        invited = (
            db.session.execute(select(JobInvitation.vendor_org_id).where(JobInvitation.job_id == job_id))
            .scalars()
            .all()
        )
        assert sorted(invited) == sorted(vendor_org_ids)
        assert audit_count("job.vendors_invited", job_id) == 1
    assert told(outcomes, "Invited ") == 1
    # The other is told, beside the form, that both are invited already.
    assert sum(o.status == 400 and " are already invited." in o.text for o in outcomes) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_question_answered_twice_at_once_keeps_the_answer_it_announced(race_app, build, client_for, trial):
    job_id, buyer_id, other_id, question_id = build(_job_with_question)
    clients = [client_for(buyer_id), client_for(other_id)]
    outcomes = together(
        [
            lambda c=c, n=n: post_and_follow(
                c, f"/jobs/{job_id}/questions/{question_id}/answer", {"answer": f"Answer number {n}."}
            )
            for n, c in enumerate(clients)
        ]
    )
    no_server_errors(outcomes)
    published = [n for n, o in enumerate(outcomes) if told([o], "Answer published") == 1]
    assert len(published) == 1
    assert told(outcomes, "This question is already answered") == 1
    with race_app.app_context():
        assert db.session.get(Question, question_id).answer == f"Answer number {published[0]}."


def _job_with_question():
    job_id, buyer_id, other_id = _own_job()
    question = QuestionFactory(job_id=job_id, vendor_org_id=VerifiedVendorOrgFactory().id)
    return job_id, buyer_id, other_id, question.id
