"""The bidding rules, straight against the service and the database."""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.bids import service
from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.bids.service import BidError, Offer
from marketplace.codenames import codename_for
from marketplace.contracts.models import Contract
from marketplace.jobs.models import BiddingMode, JobStatus, Visibility
from marketplace.notifications.models import Notification
from marketplace.visibility import NotVisible
from tests.factories import (
    BidFactory,
    BuyerFactory,
    InterestFactory,
    JobFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)


def an_offer(**changes) -> Offer:
    terms = {
        "price_per_unit_minor": 55,
        "total_minor": 550_000,
        "turnaround_days": 14,
        "quality_guarantee_pct": 98.0,
        "proposal": "Two-pass review.",
        "data_handling_response": "EU only.",
    }
    return Offer(**{**terms, **changes})


def past_deadline(job):
    return time_machine.travel(job.bid_deadline + timedelta(minutes=1), tick=False)


def exclude(session, buyer_org_id, vendor_org, share=49.0):
    """Name a rival of the buyer that holds `share`% of the vendor."""
    rival = RivalFactory(buyer_org_id=buyer_org_id)
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor_org.party_id, share_exact=share)


def actions(session, action):
    return session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars().all()


def messages_for(session, user):
    return session.execute(select(Notification).where(Notification.user_id == user.id)).scalars().all()


# ---------------------------------------------------------------- placing


def test_placing_a_bid_keeps_revision_one_in_the_jobs_currency(session, job, buyer, vendor):
    job.currency = "EUR"
    bid = service.place_bid(session, vendor, job.id, an_offer())

    assert (bid.status, bid.revision, bid.currency, bid.total_minor) == (BidStatus.ACTIVE, 1, "EUR", 550_000)
    revisions = session.execute(select(BidRevision).where(BidRevision.bid_id == bid.id)).scalars().all()
    assert [(r.number, r.total_minor, r.created_by_id) for r in revisions] == [(1, 550_000, vendor.id)]
    [record] = actions(session, "bid.placed")
    assert (record.subject_id, record.vendor_org_id) == (bid.id, vendor.org_id)
    assert record.buyer_org_id == job.buyer_org_id


def test_the_buyer_is_told_of_a_sealed_bid_without_its_amount(session, job, buyer, vendor):
    service.place_bid(session, vendor, job.id, an_offer())

    [note] = messages_for(session, buyer)
    assert note.kind == "new_bid"
    assert job.title in note.message
    assert "5,500" not in note.message and "0.55" not in note.message
    assert "sealed" in note.message
    assert messages_for(session, vendor) == []


def test_the_buyer_is_told_the_amount_of_an_open_bid(session, job, buyer, vendor):
    job.bidding_mode = BiddingMode.OPEN
    service.place_bid(session, vendor, job.id, an_offer())

    [note] = messages_for(session, buyer)
    assert "$5,500.00" in note.message


def test_a_bid_after_the_deadline_is_refused_by_the_server_clock(session, job, vendor):
    with past_deadline(job), pytest.raises(BidError, match="closed at"):
        service.place_bid(session, vendor, job.id, an_offer())
    assert session.execute(select(Bid)).first() is None


def test_the_refusal_shows_the_deadline_in_the_vendors_time_zone(session, vendor):
    job = JobFactory(bid_deadline=datetime(2031, 3, 1, 12, 0, tzinfo=UTC))
    vendor.timezone = "Asia/Tokyo"
    after = datetime(2031, 3, 1, 12, 0, 1, tzinfo=UTC)
    with time_machine.travel(after, tick=False), pytest.raises(BidError, match="2031-03-01 21:00 JST"):
        service.place_bid(session, vendor, job.id, an_offer())


def test_a_bid_one_second_before_the_deadline_is_taken(session, job, vendor):
    with time_machine.travel(job.bid_deadline - timedelta(seconds=1), tick=False):
        assert service.place_bid(session, vendor, job.id, an_offer()).id


def test_a_vendor_excluded_by_screening_cannot_bid(session, job, vendor, vendor_org):
    exclude(session, job.buyer_org_id, vendor_org)
    with pytest.raises(BidError, match="You cannot bid on this job"):
        service.place_bid(session, vendor, job.id, an_offer())


def test_a_vendor_under_review_may_bid(session, job, vendor, vendor_org):
    exclude(session, job.buyer_org_id, vendor_org, share=15.0)
    assert service.place_bid(session, vendor, job.id, an_offer()).status == BidStatus.ACTIVE


def test_an_excluded_vendor_does_not_even_see_a_confidential_job(session, vendor, vendor_org):
    job = JobFactory(visibility=Visibility.CONFIDENTIAL)
    exclude(session, job.buyer_org_id, vendor_org)
    with pytest.raises(NotVisible):
        service.place_bid(session, vendor, job.id, an_offer())


@pytest.mark.parametrize("status", [JobStatus.DRAFT, JobStatus.CANCELLED, JobStatus.AWARDED])
def test_only_an_open_job_takes_bids(session, vendor, status):
    job = JobFactory(status=status)
    with pytest.raises((BidError, NotVisible)):
        service.place_bid(session, vendor, job.id, an_offer())


def test_one_bid_per_vendor_organisation(session, job, vendor):
    service.place_bid(session, vendor, job.id, an_offer())
    colleague = VendorFactory(org_id=vendor.org_id)
    with pytest.raises(BidError, match="revise that bid"):
        service.place_bid(session, colleague, job.id, an_offer())


def test_buyers_do_not_bid(session, job, buyer):
    with pytest.raises(BidError, match="Only vendors"):
        service.place_bid(session, buyer, job.id, an_offer())


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price_per_unit_minor": 0}, "price_per_unit", "above zero"),
        ({"total_minor": -1}, "total", "above zero"),
        ({"price_per_unit_minor": 600, "total_minor": 500}, "total", "less than the price per unit"),
        ({"turnaround_days": 0}, "turnaround_days", "between 1 and 3,650 days"),
        ({"turnaround_days": 10**10}, "turnaround_days", "between 1 and 3,650 days"),
        ({"total_minor": 10**16}, "total", "too large to be a real bid"),
        ({"quality_guarantee_pct": 100.5}, "quality_guarantee_pct", "between 0 and 100"),
        ({"quality_guarantee_pct": -1.0}, "quality_guarantee_pct", "between 0 and 100"),
    ],
)
def test_terms_are_checked(session, job, vendor, changes, field, message):
    with pytest.raises(BidError, match=message) as refusal:
        service.place_bid(session, vendor, job.id, an_offer(**changes))
    assert refusal.value.field == field


def test_edge_terms_are_accepted(session, job, vendor):
    bid = service.place_bid(
        session,
        vendor,
        job.id,
        an_offer(price_per_unit_minor=500, total_minor=500, turnaround_days=1, quality_guarantee_pct=100.0),
    )
    assert bid.total_minor == bid.price_per_unit_minor


# ---------------------------------------------------------------- revising and withdrawing


def test_each_revision_is_kept_and_the_bid_shows_the_latest(session, job, buyer, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.revise_bid(session, vendor, bid.id, an_offer(total_minor=500_000, proposal="Sharper."))
    service.revise_bid(session, vendor, bid.id, an_offer(total_minor=480_000, turnaround_days=10))

    revisions = (
        session.execute(select(BidRevision).where(BidRevision.bid_id == bid.id).order_by(BidRevision.number))
        .scalars()
        .all()
    )
    assert [(r.number, r.total_minor, r.turnaround_days) for r in revisions] == [
        (1, 550_000, 14),
        (2, 500_000, 14),
        (3, 480_000, 10),
    ]
    assert revisions[1].proposal == "Sharper."
    assert (bid.revision, bid.total_minor, bid.turnaround_days) == (3, 480_000, 10)
    assert len(actions(session, "bid.revised")) == 2
    assert all("480" not in n.message for n in messages_for(session, buyer))


def test_a_withdrawn_bid_is_not_revised(session, job, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.withdraw_bid(session, vendor, bid.id)

    assert bid.status == BidStatus.WITHDRAWN and bid.withdrawn_at is not None
    with pytest.raises(BidError, match="This bid is withdrawn: bid again"):
        service.revise_bid(session, vendor, bid.id, an_offer(total_minor=1_000_000))
    with pytest.raises(BidError, match="already withdrawn"):
        service.withdraw_bid(session, vendor, bid.id)
    assert bid.revision == 1
    assert len(actions(session, "bid.withdrawn")) == 1


# ---------------------------------------------------------------- bidding again after withdrawing


def revisions_of(session, bid):
    return (
        session.execute(select(BidRevision).where(BidRevision.bid_id == bid.id).order_by(BidRevision.number))
        .scalars()
        .all()
    )


def test_withdrawing_marks_the_live_revision(session, job, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.revise_bid(session, vendor, bid.id, an_offer(total_minor=500_000))
    service.withdraw_bid(session, vendor, bid.id)

    first, second = revisions_of(session, bid)
    assert first.withdrawn_at is None
    assert second.withdrawn_at == bid.withdrawn_at is not None


def test_a_vendor_that_withdrew_bids_again_on_the_same_bid(session, job, buyer, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.withdraw_bid(session, vendor, bid.id)
    withdrawn_at = bid.withdrawn_at

    again = service.place_bid(
        session, vendor, job.id, an_offer(total_minor=450_000, turnaround_days=9, proposal="A second look.")
    )

    assert again.id == bid.id
    assert (again.status, again.withdrawn_at, again.revision) == (BidStatus.ACTIVE, None, 2)
    assert (again.total_minor, again.turnaround_days, again.proposal) == (450_000, 9, "A second look.")
    first, second = revisions_of(session, bid)
    assert (first.number, first.total_minor, first.withdrawn_at) == (1, 550_000, withdrawn_at)
    assert (second.number, second.total_minor, second.withdrawn_at, second.created_by_id) == (
        2,
        450_000,
        None,
        vendor.id,
    )
    [record] = actions(session, "bid.resubmitted")
    assert (record.subject_id, record.buyer_org_id, record.vendor_org_id) == (bid.id, job.buyer_org_id, vendor.org_id)
    assert record.before["status"] == "withdrawn" and record.after["status"] == "active"
    assert record.after["revision"] == 2 and record.after["total"] == "$4,500.00"
    # It is live again: the buyer counts and compares it, and it can be revised and withdrawn as before.
    assert service.panel_for(session, buyer, job).live_bids == 1
    service.revise_bid(session, vendor, bid.id, an_offer(total_minor=440_000))
    service.withdraw_bid(session, vendor, bid.id)
    assert [r.withdrawn_at is not None for r in revisions_of(session, bid)] == [True, False, True]


def test_the_buyer_is_told_of_a_bid_again_and_a_sealed_one_shows_no_amount(session, job, buyer, vendor, vendor_org):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.withdraw_bid(session, vendor, bid.id)
    service.place_bid(session, vendor, job.id, an_offer(total_minor=432_100, price_per_unit_minor=43))

    note = messages_for(session, buyer)[-1]
    assert note.kind == "new_bid" and note.link == f"/jobs/{job.id}/bids"
    assert vendor_org.name in note.message and job.title in note.message and "withdrawn" in note.message
    assert "sealed" in note.message
    assert "4,321" not in note.message and "0.43" not in note.message


def test_on_an_open_job_the_buyer_is_told_the_new_amount(session, job, buyer, vendor):
    job.bidding_mode = BiddingMode.OPEN
    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.withdraw_bid(session, vendor, bid.id)
    service.place_bid(session, vendor, job.id, an_offer(total_minor=432_100, price_per_unit_minor=43))

    assert "$4,321.00 total" in messages_for(session, buyer)[-1].message


@pytest.mark.parametrize("cause", ["deadline", "excluded", "suspended", "filing", "cancelled"])
def test_bidding_again_is_refused_as_a_first_bid_would_be(session, job, vendor, vendor_org, cause):
    from marketplace.accounts.suspension import OrganizationSuspended
    from marketplace.db_types import utcnow

    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.withdraw_bid(session, vendor, bid.id)
    expected = {
        "deadline": (BidError, "closed at"),
        "excluded": (BidError, "You cannot bid on this job."),
        "suspended": (OrganizationSuspended, "is suspended, so you cannot place bids"),
        "filing": (BidError, "Bidding is paused"),
        "cancelled": (BidError, "not taking bids"),
    }[cause]
    if cause == "excluded":
        exclude(session, job.buyer_org_id, vendor_org)
    elif cause == "suspended":
        vendor_org.suspended_at, vendor_org.suspended_reason = utcnow(), "Unpaid fees"
    elif cause == "filing":
        from tests.factories import DisclosureFactory

        DisclosureFactory(vendor_org_id=vendor_org.id, number=2)
    elif cause == "cancelled":
        job.status = JobStatus.CANCELLED
    session.flush()
    clock = past_deadline(job) if cause == "deadline" else contextlib.nullcontext()
    with clock, pytest.raises(expected[0], match=expected[1]):
        service.place_bid(session, vendor, job.id, an_offer(total_minor=400_000))

    assert (bid.status, bid.revision, bid.total_minor) == (BidStatus.WITHDRAWN, 1, 550_000)
    assert actions(session, "bid.resubmitted") == []


def test_bad_terms_for_a_bid_again_change_nothing(session, job, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    service.withdraw_bid(session, vendor, bid.id)
    with pytest.raises(BidError, match="Turnaround"):
        service.place_bid(session, vendor, job.id, an_offer(turnaround_days=0))
    assert (bid.status, bid.revision) == (BidStatus.WITHDRAWN, 1)
    assert len(revisions_of(session, bid)) == 1


def test_a_live_bid_is_still_not_placed_twice(session, job, vendor):
    service.place_bid(session, vendor, job.id, an_offer())
    with pytest.raises(BidError, match="already bid on this job: revise that bid instead"):
        service.place_bid(session, vendor, job.id, an_offer())


def test_revising_and_withdrawing_stop_at_the_deadline(session, job, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    with past_deadline(job):
        with pytest.raises(BidError, match="closed at"):
            service.revise_bid(session, vendor, bid.id, an_offer(total_minor=1_000_000))
        with pytest.raises(BidError, match="closed at"):
            service.withdraw_bid(session, vendor, bid.id)
    assert (bid.status, bid.revision, bid.total_minor) == (BidStatus.ACTIVE, 1, 550_000)


def test_a_bad_revision_changes_nothing(session, job, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    with pytest.raises(BidError):
        service.revise_bid(session, vendor, bid.id, an_offer(turnaround_days=0))
    assert (bid.revision, bid.turnaround_days) == (1, 14)


def test_another_vendors_bid_is_not_visible(session, job, vendor):
    bid = service.place_bid(session, vendor, job.id, an_offer())
    stranger = VendorFactory()
    with pytest.raises(NotVisible):
        service.revise_bid(session, stranger, bid.id, an_offer())
    with pytest.raises(NotVisible):
        service.withdraw_bid(session, stranger, bid.id)
    with pytest.raises(NotVisible):
        service.bid_page(session, stranger, bid.id)


# ---------------------------------------------------------------- comparing and awarding


@pytest.fixture
def three_bids(session, job):
    """Three live bids and one withdrawn one on the job."""
    bids = [
        BidFactory(job_id=job.id, vendor_org_id=VerifiedVendorOrgFactory().id, total_minor=total)
        for total in (600_000, 450_000, 700_000)
    ]
    withdrawn = BidFactory(job_id=job.id, status=BidStatus.WITHDRAWN)
    return bids, withdrawn


def test_a_sealed_comparison_carries_no_bid_before_the_deadline(session, job, buyer, three_bids):
    comparison = service.comparison(session, buyer, job.id)
    assert (comparison.amounts_visible, comparison.bid_count, comparison.rows) == (False, 3, [])
    with past_deadline(job):
        comparison = service.comparison(session, buyer, job.id)
    assert comparison.amounts_visible
    assert sorted(row.bid.total_minor for row in comparison.rows) == [450_000, 600_000, 700_000]


def test_conflicted_and_newly_excluded_bids_leave_the_comparison(session, job, buyer, three_bids):
    (first, second, third), _ = three_bids
    first.conflicted = True
    exclude(session, job.buyer_org_id, session.get(Organization, second.vendor_org_id))
    with past_deadline(job):
        rows = service.comparison(session, buyer, job.id).rows
    assert [row.bid.id for row in rows] == [third.id]


def test_a_review_finding_is_shown_beside_the_bid(session, job, buyer, three_bids):
    (first, _, _), _ = three_bids
    vendor_org = session.get(Organization, first.vendor_org_id)
    exclude(session, job.buyer_org_id, vendor_org, share=12.0)
    with past_deadline(job):
        rows = {row.bid.id: row for row in service.comparison(session, buyer, job.id).rows}
    assert "12%" in rows[first.id].findings[0] and vendor_org.name in rows[first.id].findings[0]
    assert [r.findings for bid_id, r in rows.items() if bid_id != first.id] == [[], []]


def test_another_organisation_cannot_compare(session, job, three_bids):
    for user in (BuyerFactory(), VendorFactory()):
        with pytest.raises(NotVisible):
            service.comparison(session, user, job.id)


def test_award_makes_a_contract_and_the_other_bids_lose(session, job, buyer, three_bids):
    (first, second, third), withdrawn = three_bids
    with past_deadline(job):
        contract = service.award_bid(session, buyer, job.id, second.id)

    assert (contract.total_minor, contract.currency, contract.vendor_org_id, contract.buyer_org_id) == (
        450_000,
        "USD",
        second.vendor_org_id,
        job.buyer_org_id,
    )
    assert job.status == JobStatus.AWARDED and job.awarded_at is not None
    assert [b.status for b in (first, second, third, withdrawn)] == [
        BidStatus.LOST,
        BidStatus.AWARDED,
        BidStatus.LOST,
        BidStatus.WITHDRAWN,
    ]
    [record] = actions(session, "job.awarded")
    assert record.after["bid_id"] == second.id


def test_award_tells_the_winner_and_every_other_bidder(session, job, buyer, three_bids):
    (first, second, third), withdrawn = three_bids
    winners = VendorFactory(org_id=second.vendor_org_id)
    losers = [VendorFactory(org_id=bid.vendor_org_id) for bid in (first, third)]
    quitter = VendorFactory(org_id=withdrawn.vendor_org_id)
    with past_deadline(job):
        service.award_bid(session, buyer, job.id, second.id)

    [won] = messages_for(session, winners)
    assert won.kind == "award" and "$4,500.00" in won.message
    for loser in losers:
        [lost] = messages_for(session, loser)
        assert lost.kind == "not_selected" and "$" not in lost.message
    assert messages_for(session, quitter) == []


def test_a_second_award_is_refused(session, job, buyer, three_bids):
    (first, second, _), _ = three_bids
    with past_deadline(job):
        service.award_bid(session, buyer, job.id, first.id)
        with pytest.raises(BidError, match="already been awarded"):
            service.award_bid(session, buyer, job.id, second.id)
    assert session.execute(select(Contract)).scalars().all()[0].bid_id == first.id


def test_a_sealed_job_is_awarded_only_after_its_deadline(session, job, buyer, three_bids):
    (first, _, _), _ = three_bids
    with pytest.raises(BidError, match="only after the deadline"):
        service.award_bid(session, buyer, job.id, first.id)
    assert job.status == JobStatus.OPEN


def test_an_open_job_is_awarded_any_time(session, job, buyer, three_bids):
    (first, _, _), _ = three_bids
    job.bidding_mode = BiddingMode.OPEN
    assert service.award_bid(session, buyer, job.id, first.id).bid_id == first.id


def test_a_withdrawn_conflicted_or_excluded_bid_is_not_awarded(session, job, buyer, three_bids):
    (first, second, _), withdrawn = three_bids
    first.conflicted = True
    exclude(session, job.buyer_org_id, session.get(Organization, second.vendor_org_id))
    with past_deadline(job):
        with pytest.raises(BidError, match="withdrawn"):
            service.award_bid(session, buyer, job.id, withdrawn.id)
        for bid in (first, second):
            with pytest.raises(BidError, match="screening excludes"):
                service.award_bid(session, buyer, job.id, bid.id)
    assert job.status == JobStatus.OPEN


def test_only_the_jobs_buyer_awards(session, job, three_bids):
    (first, _, _), _ = three_bids
    other_job_bid = BidFactory()
    buyer = BuyerFactory(org_id=job.buyer_org_id)
    with past_deadline(job):
        with pytest.raises(NotVisible):
            service.award_bid(session, BuyerFactory(), job.id, first.id)
        with pytest.raises(NotVisible):
            service.award_bid(session, VendorFactory(org_id=first.vendor_org_id), job.id, first.id)
        with pytest.raises(NotVisible):
            service.award_bid(session, buyer, job.id, other_job_bid.id)


# ---------------------------------------------------------------- what pages show


def test_outcome_names_a_conflicted_bid(session, job, vendor):
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, conflicted=True)
    assert service.outcome(bid) == "not_considered"
    bid.status = BidStatus.LOST
    assert service.outcome(bid) == "lost"


def test_my_bids_lists_the_vendors_own_bids_with_the_buyer_hidden_on_confidential_jobs(session, vendor):
    confidential = JobFactory(visibility=Visibility.CONFIDENTIAL, codename="Project Kestrel")
    public = JobFactory()
    BidFactory(job_id=confidential.id, vendor_org_id=vendor.org_id)
    BidFactory(job_id=public.id, vendor_org_id=vendor.org_id, conflicted=True)
    BidFactory(job_id=public.id)

    rows = {row.job.id: row for row in service.my_bids(session, vendor)}
    assert set(rows) == {confidential.id, public.id}
    assert rows[confidential.id].buyer == codename_for("Project Kestrel", confidential.id, vendor.org_id)
    assert rows[confidential.id].buyer.startswith("Project Kestrel ")  # the job's codename and this vendor's tag
    assert rows[public.id].buyer == session.get(Organization, public.buyer_org_id).name
    assert rows[public.id].outcome == "not_considered"


def test_the_job_panel_for_each_role(session, job, buyer, vendor, vendor_org):
    panel = service.panel_for(session, vendor, job)
    assert (panel.role, panel.own_bid, panel.bid_refusal) == ("vendor", None, None)

    bid = service.place_bid(session, vendor, job.id, an_offer())
    panel = service.panel_for(session, vendor, job)
    assert (panel.own_bid, panel.outcome, panel.change_refusal) == (bid, "active", None)

    assert service.panel_for(session, buyer, job).live_bids == 1
    assert service.panel_for(session, BuyerFactory(), job) is None

    stranger = VendorFactory()
    exclude(session, job.buyer_org_id, session.get(Organization, stranger.org_id))
    assert service.panel_for(session, stranger, job).bid_refusal == "You cannot bid on this job."
    with past_deadline(job):
        assert "closed at" in service.panel_for(session, VendorFactory(), job).bid_refusal
        assert "closed at" in service.panel_for(session, vendor, job).change_refusal
