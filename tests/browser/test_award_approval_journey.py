"""In a real browser: a manager's award above the lab's amount waits; the approver approves it on the approvals
page, and the award is made."""

from datetime import timedelta

from playwright.sync_api import expect

from marketplace.accounts.models import Organization, OrgRole
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode
from tests.factories import BidFactory, BuyerFactory, JobFactory, VendorFactory, VerifiedVendorOrgFactory

MANAGER, APPROVER = "oscar@northwind.example", "ada@northwind.example"


def _lab():
    job = JobFactory(
        title="Label 40k street scenes", bidding_mode=BiddingMode.OPEN, bid_deadline=utcnow() + timedelta(days=3)
    )
    db.session.get(Organization, job.buyer_org_id).award_approval_above_minor = 5_000_000
    BuyerFactory(org_id=job.buyer_org_id, email="maya@northwind.example", org_role=OrgRole.OWNER)
    BuyerFactory(org_id=job.buyer_org_id, email=MANAGER, name="Oscar Manager", org_role=OrgRole.MANAGER)
    BuyerFactory(org_id=job.buyer_org_id, email=APPROVER, name="Ada Approver", approver=True)
    vendor = VerifiedVendorOrgFactory(name="Tagly")
    VendorFactory(org_id=vendor.id)
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.id, total_minor=7_500_000)
    return job.id, bid.id


def test_an_award_above_the_amount_waits_for_the_approver(
    page, live_server, commit_data, switch_user, assert_accessible
):
    job_id, bid_id = commit_data(_lab)

    switch_user(MANAGER)
    page.goto(live_server.url(f"/jobs/{job_id}/bids/{bid_id}/award"))
    expect(page.get_by_test_id("needs-approval")).to_be_visible()
    assert_accessible("the award page of an award needing approval")
    page.get_by_role("button", name="Award the job to Tagly").click()
    expect(page.get_by_text("your approvers are asked to approve it")).to_be_visible()

    switch_user(APPROVER)
    page.goto(live_server.url("/approvals"))
    expect(page.get_by_text("Oscar Manager asks to award Tagly for")).to_be_visible()
    expect(page.get_by_text("$75,000.00")).to_be_visible()
    assert_accessible("the approvals page")
    page.get_by_role("button", name="Approve and award").click()
    expect(page.get_by_text("Approved and awarded. Contract #")).to_be_visible()
    expect(page.get_by_test_id("no-pending-awards")).to_be_visible()

    page.goto(live_server.url("/team"))
    expect(page.get_by_test_id("approval-amount")).to_contain_text("Awards above $50,000.00 wait for an approver")
    assert_accessible("the team page of an approver")
