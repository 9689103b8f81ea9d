"""A lab's awards above its approval amount wait for an approver: asked for by a manager, approved (the award is
made) or declined (with a reason); an approver's own award goes through; every step is audit-logged and told."""

from datetime import timedelta
from html import unescape

import pytest
from flask import g, url_for
from sqlalchemy import select

from marketplace.accounts.models import Organization, OrgRole, User
from marketplace.audit.models import AuditRecord
from marketplace.bids import approvals
from marketplace.bids.models import AwardRequest, AwardRequestStatus, Bid, BidStatus
from marketplace.contracts.models import Contract
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, Job, JobStatus
from marketplace.notifications.models import Notification
from tests.factories import BidFactory, BuyerFactory, JobFactory, VendorFactory, VerifiedVendorOrgFactory


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def lab(session):
    """An open job of a lab whose awards above $50,000 need an approver; a manager, an approver, a member."""
    job = JobFactory(
        title="Label 40k street scenes", bidding_mode=BiddingMode.OPEN, bid_deadline=utcnow() + timedelta(days=3)
    )
    org = session.get(Organization, job.buyer_org_id)
    org.award_approval_above_minor = 5_000_000
    people = {
        "owner": BuyerFactory(org_id=org.id, name="Maya Owner", org_role=OrgRole.OWNER),
        "manager": BuyerFactory(org_id=org.id, name="Oscar Manager", org_role=OrgRole.MANAGER),
        "approver": BuyerFactory(org_id=org.id, name="Ada Approver", org_role=OrgRole.MANAGER, approver=True),
        "member": BuyerFactory(org_id=org.id, name="Priya Member", org_role=OrgRole.MEMBER),
    }
    session.flush()
    return job, people


def _bid(job, total_minor):
    vendor = VerifiedVendorOrgFactory()
    VendorFactory(org_id=vendor.id)
    return BidFactory(job_id=job.id, vendor_org_id=vendor.id, total_minor=total_minor)


def _award(client, login_as, user, job, bid):
    g.pop("_login_user", None)
    login_as(user)
    return client.post(url_for("bids.award", job_id=job.id, bid_id=bid.id), follow_redirects=True)


def test_an_award_at_or_below_the_amount_goes_through(client, login_as, session, lab):
    job, people = lab
    bid = _bid(job, 5_000_000)  # exactly the amount: not above it
    assert "Awarded. Contract" in _text(_award(client, login_as, people["manager"], job, bid))
    assert session.get(Job, job.id).status == JobStatus.AWARDED
    assert session.query(AwardRequest).count() == 0


def test_an_award_above_the_amount_waits_for_an_approver_who_approves_it(client, login_as, session, lab):
    job, people = lab
    bid, other = _bid(job, 5_000_001), _bid(job, 4_000_000)
    page = _text(_award(client, login_as, people["manager"], job, bid))

    assert "your approvers are asked to approve it" in page
    assert session.get(Job, job.id).status == JobStatus.OPEN and session.query(Contract).count() == 0
    request = session.execute(select(AwardRequest)).scalar_one()
    assert (request.status, request.requested_by_id, request.total_minor) == (
        AwardRequestStatus.PENDING,
        people["manager"].id,
        5_000_001,
    )
    told = session.execute(select(Notification).where(Notification.kind == "award_approval")).scalars().all()
    assert [n.user_id for n in told] == [people["approver"].id]
    assert "Oscar Manager asks you to approve the award of “Label 40k street scenes” for $50,000.01." in told[0].message
    # The vendors learn nothing yet.
    assert session.query(Notification).filter(Notification.kind.in_(["award", "not_selected"])).count() == 0
    # Asking twice is refused.
    assert "already awaits an approver" in _text(_award(client, login_as, people["owner"], job, other))

    g.pop("_login_user", None)
    login_as(people["approver"])
    pending = _text(client.get(url_for("bids.approvals_list")))
    assert "Oscar Manager asks to award" in pending and "$50,000.01" in pending
    approved = _text(client.post(url_for("bids.approve_award", request_id=request.id), follow_redirects=True))

    assert "Approved and awarded. Contract #" in approved
    assert session.get(Job, job.id).status == JobStatus.AWARDED
    assert session.get(Bid, bid.id).status == BidStatus.AWARDED and session.get(Bid, other.id).status == BidStatus.LOST
    assert session.get(AwardRequest, request.id).status == AwardRequestStatus.APPROVED
    actions = [r.action for r in session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars()]
    assert actions[-3:] == ["award.approval_requested", "job.awarded", "award.approved"]
    decided = session.execute(select(Notification).where(Notification.kind == "award_decision")).scalar_one()
    assert decided.user_id == people["manager"].id and "Ada Approver approved" in decided.message
    # Once decided, it cannot be decided again.
    again = _text(client.post(url_for("bids.approve_award", request_id=request.id), follow_redirects=True))
    assert "This award was approved already." in again


def test_an_approvers_own_award_goes_through(client, login_as, session, lab):
    job, people = lab
    bid = _bid(job, 9_000_000)
    login_as(people["manager"])
    asks = client.get(url_for("bids.award", job_id=job.id, bid_id=bid.id)).get_data(as_text=True)
    assert 'data-testid="needs-approval"' in asks  # the confirmation page says the award will wait
    g.pop("_login_user", None)
    login_as(people["approver"])
    assert 'data-testid="needs-approval"' not in client.get(
        url_for("bids.award", job_id=job.id, bid_id=bid.id)
    ).get_data(as_text=True)
    assert "Awarded. Contract" in _text(_award(client, login_as, people["approver"], job, bid))
    assert session.get(Job, job.id).status == JobStatus.AWARDED
    assert session.query(AwardRequest).count() == 0


def test_the_owner_is_no_approver_unless_named_one(client, login_as, session, lab):
    job, people = lab
    bid = _bid(job, 9_000_000)
    assert "your approvers are asked" in _text(_award(client, login_as, people["owner"], job, bid))
    assert session.get(Job, job.id).status == JobStatus.OPEN


def test_an_award_in_another_currency_waits_too(client, login_as, session, lab):
    job, people = lab
    bid = _bid(job, 100)
    bid.currency = "EUR"
    session.flush()
    assert "your approvers are asked" in _text(_award(client, login_as, people["manager"], job, bid))


def test_a_declined_award_is_not_made_and_the_asker_learns_why(client, login_as, session, lab):
    job, people = lab
    bid = _bid(job, 7_500_000)
    _award(client, login_as, people["manager"], job, bid)
    request = session.execute(select(AwardRequest)).scalar_one()
    g.pop("_login_user", None)
    login_as(people["approver"])

    empty = _text(
        client.post(url_for("bids.decline_award", request_id=request.id), data={"reason": " "}, follow_redirects=True)
    )
    assert "Say why you decline, for your colleague who asked." in empty
    declined = _text(
        client.post(
            url_for("bids.decline_award", request_id=request.id),
            data={"reason": "Over this quarter's budget"},
            follow_redirects=True,
        )
    )

    assert "Declined; your colleague who asked is told why." in declined
    assert session.get(AwardRequest, request.id).status == AwardRequestStatus.DECLINED
    assert session.get(Job, job.id).status == JobStatus.OPEN and session.query(Contract).count() == 0
    note = session.execute(select(Notification).where(Notification.kind == "award_decision")).scalar_one()
    assert note.user_id == people["manager"].id and "declined: Over this quarter's budget" in note.message
    record = session.query(AuditRecord).filter_by(action="award.declined").one()
    assert record.actor_id == people["approver"].id and record.after["reason"] == "Over this quarter's budget"
    # Declined, it may be asked for again.
    assert "your approvers are asked" in _text(_award(client, login_as, people["manager"], job, bid))


def test_an_approval_is_refused_when_the_bid_changed_since(client, login_as, session, lab):
    job, people = lab
    bid = _bid(job, 7_500_000)
    _award(client, login_as, people["manager"], job, bid)
    request = session.execute(select(AwardRequest)).scalar_one()
    bid.total_minor = 9_900_000  # the vendor revised its bid meanwhile
    session.flush()
    g.pop("_login_user", None)
    login_as(people["approver"])
    text = _text(client.post(url_for("bids.approve_award", request_id=request.id), follow_redirects=True))
    assert "The bid changed since this award was asked for: decline it and ask again." in text
    assert session.get(Job, job.id).status == JobStatus.OPEN


@pytest.mark.parametrize("who", ["manager", "member", "other_lab_approver"])
def test_only_the_labs_approvers_see_or_decide_its_waiting_awards(client, login_as, session, lab, who):
    job, people = lab
    bid = _bid(job, 7_500_000)
    _award(client, login_as, people["manager"], job, bid)
    request = session.execute(select(AwardRequest)).scalar_one()
    user = people.get(who) or BuyerFactory(approver=True)
    g.pop("_login_user", None)
    login_as(user)
    listing = client.get(url_for("bids.approvals_list"))
    assert listing.status_code == (200 if who == "other_lab_approver" else 403)
    assert "Label 40k street scenes" not in _text(listing)
    assert client.post(url_for("bids.approve_award", request_id=request.id)).status_code == 404
    assert client.post(url_for("bids.decline_award", request_id=request.id), data={"reason": "x"}).status_code == 404
    assert session.get(AwardRequest, request.id).status == AwardRequestStatus.PENDING


def test_the_service_refuses_a_direct_award_above_the_amount(session, lab):
    from marketplace.bids import service

    job, people = lab
    bid = _bid(job, 7_500_000)
    with pytest.raises(service.ApprovalNeeded):
        service.award_bid(session, people["manager"], job.id, bid.id)
    assert isinstance(approvals.award_or_request(session, people["manager"], job.id, bid.id), AwardRequest)


def test_a_member_reads_the_comparison_without_award_buttons(client, login_as, session, lab):
    job, people = lab
    bid = _bid(job, 1_000_000)
    login_as(people["member"])
    member_page = client.get(url_for("bids.compare", job_id=job.id)).get_data(as_text=True)
    assert "$10,000.00" in member_page and url_for("bids.award", job_id=job.id, bid_id=bid.id) not in member_page
    refused = client.post(url_for("bids.award", job_id=job.id, bid_id=bid.id))
    assert refused.status_code == 403
    assert "As a member of your organisation you cannot award jobs: ask a manager or the owner." in _text(refused)
    g.pop("_login_user", None)
    login_as(people["manager"])
    manager_page = client.get(url_for("bids.compare", job_id=job.id)).get_data(as_text=True)
    assert url_for("bids.award", job_id=job.id, bid_id=bid.id) in manager_page


def test_a_waiting_award_is_withdrawn_when_the_job_is_cancelled(client, login_as, session, lab):
    """Cancelling the job closes the award waiting for an approver: it leaves the approvers' list, cannot be
    approved, and whoever asked is told why."""
    job, people = lab
    bid = _bid(job, 6_000_000)
    _award(client, login_as, people["manager"], job, bid)
    request = session.execute(select(AwardRequest)).scalar_one()
    g.pop("_login_user", None)
    login_as(people["owner"])
    assert client.post(url_for("jobs.cancel", job_id=job.id)).status_code == 303

    assert session.get(Job, job.id).status == JobStatus.CANCELLED
    closed = session.get(AwardRequest, request.id)
    assert closed.status == AwardRequestStatus.WITHDRAWN and closed.reason == "the job was cancelled."
    note = session.execute(select(Notification).where(Notification.kind == "award_decision")).scalar_one()
    assert note.user_id == people["manager"].id
    assert (
        note.message == "The award of “Label 40k street scenes” you asked for will not be made: the job was cancelled."
    )
    record = session.query(AuditRecord).filter_by(action="award.request_withdrawn").one()
    assert record.actor_id == people["owner"].id and record.buyer_org_id == job.buyer_org_id
    g.pop("_login_user", None)
    login_as(people["approver"])
    assert "asks to award" not in _text(client.get(url_for("bids.approvals_list")))
    again = _text(client.post(url_for("bids.approve_award", request_id=request.id), follow_redirects=True))
    assert "This award was withdrawn already." in again
    assert session.query(Contract).count() == 0


def test_a_waiting_award_is_withdrawn_when_the_vendor_withdraws_its_bid(client, login_as, session, lab):
    """The vendor's withdrawal closes only the award of its bid; the lab's trail names nobody of the vendor."""
    job, people = lab
    bid = _bid(job, 6_000_000)
    vendor_user = session.execute(select(User).where(User.org_id == bid.vendor_org_id)).scalar_one()
    _award(client, login_as, people["manager"], job, bid)
    request = session.execute(select(AwardRequest)).scalar_one()
    g.pop("_login_user", None)
    login_as(vendor_user)
    assert client.post(url_for("bids.withdraw", bid_id=bid.id)).status_code == 303

    assert session.get(Bid, bid.id).status == BidStatus.WITHDRAWN
    closed = session.get(AwardRequest, request.id)
    assert closed.status == AwardRequestStatus.WITHDRAWN and closed.reason.endswith("withdrew its bid.")
    record = session.query(AuditRecord).filter_by(action="award.request_withdrawn").one()
    assert record.actor_id is None and record.vendor_org_id is None
    # Another bid can be put to the approvers now.
    other = _bid(job, 6_500_000)
    assert "your approvers are asked" in _text(_award(client, login_as, people["manager"], job, other))
