"""In a real browser: the lab shortlists a bid and asks the shortlist for best and final offers, then invites a
vendor to its invite-only job straight from its vendor list; a new vendor reads its checklist. axe-core checks each
of these pages (every table has a header for each of its columns)."""

from datetime import timedelta

from playwright.sync_api import expect

from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, Visibility
from tests.factories import (
    BidFactory,
    BuyerFactory,
    BuyerOrgFactory,
    JobFactory,
    VendorFactory,
    VendorOrgFactory,
    VerifiedVendorFactory,
    VerifiedVendorOrgFactory,
)

LAB = "maya@northwind.example"
SHORTLISTED = "ines@scalewise.example"
NEW_VENDOR = "noor@freshlabel.example"
TITLE = "Rank 20k chatbot answers"
INVITE_ONLY = "Red-team the new model"


def _marketplace():
    lab = BuyerOrgFactory(name="Northwind AI")
    BuyerFactory(email=LAB, name="Maya Lindqvist", org_id=lab.id, timezone="UTC")
    job = JobFactory(
        buyer_org_id=lab.id,
        title=TITLE,
        bidding_mode=BiddingMode.OPEN,
        bid_deadline=utcnow() - timedelta(hours=1),
    )
    for name, email, total in (
        ("Scalewise Data", SHORTLISTED, 700_000),
        ("Quillmark", "ravi@quillmark.example", 760_000),
    ):
        vendor = VerifiedVendorFactory(email=email, org_id=VerifiedVendorOrgFactory(name=name).id)
        BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=total)
    JobFactory(buyer_org_id=lab.id, title=INVITE_ONLY, visibility=Visibility.INVITE_ONLY)
    VerifiedVendorFactory(org_id=VerifiedVendorOrgFactory(name="Brightpath Labeling").id)
    VendorFactory(email=NEW_VENDOR, org_id=VendorOrgFactory(name="Freshlabel").id)


def test_the_lab_shortlists_asks_for_final_offers_and_invites_from_its_vendor_list(
    page, live_server, commit_data, switch_user, assert_accessible
):
    commit_data(_marketplace)

    switch_user(LAB)
    page.get_by_role("link", name="Our jobs").click()
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Compare bids").first.click()
    row = page.get_by_test_id("bid-row").filter(has_text="Scalewise Data")
    row.get_by_role("button", name="Shortlist").click()
    expect(page.get_by_role("status")).to_contain_text("Scalewise Data is on the shortlist.")
    expect(
        page.get_by_test_id("bid-row").filter(has_text="Scalewise Data").get_by_test_id("shortlisted")
    ).to_be_visible()
    expect(page.get_by_test_id("ask-final-offers")).to_be_visible()
    assert_accessible("the comparison with a shortlist and the final-offers form")

    due = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Final offers due").fill(due)
    page.get_by_label("A note to the shortlisted bidders (optional)").fill("Sharpen the price.")
    page.get_by_role("button", name="Ask for best and final offers").click()
    expect(page.get_by_role("status")).to_contain_text("Asked 1 shortlisted bidder for best and final offers")
    expect(page.get_by_test_id("final-offers-due")).to_be_visible()
    expect(page.get_by_test_id("comparison")).to_have_count(0)  # every bid's terms are sealed until then
    assert_accessible("the comparison while final offers are due")

    page.goto(live_server.url("/vendors"))
    invite = page.get_by_test_id("vendor-row").filter(has_text="Brightpath Labeling").get_by_test_id("invite-one")
    invite.get_by_label("Invite Brightpath Labeling to").select_option(label=INVITE_ONLY)
    assert_accessible("the vendor list with its Invite buttons")
    invite.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_contain_text(f"{INVITE_ONLY}: Invited Brightpath Labeling.")

    # The shortlisted vendor's side: its bids and the bid asked for a final offer.
    switch_user(SHORTLISTED)
    page.get_by_role("link", name="Our bids").click()
    mine = page.get_by_test_id("my-bid").filter(has_text=TITLE)
    expect(mine.get_by_test_id("final-offer-asked")).to_contain_text("best and final offer asked, due")
    assert_accessible("the vendor's bids while a final offer is asked for")
    mine.get_by_role("link", name=TITLE).click()
    expect(page.get_by_test_id("final-offer-asked")).to_contain_text("asks for your best and final offer")
    expect(page.get_by_role("link", name="Revise")).to_be_visible()
    assert_accessible("the vendor's bid page while a final offer is asked for")


def test_a_new_vendor_reads_its_checklist(page, live_server, commit_data, switch_user, assert_accessible):
    commit_data(_marketplace)
    switch_user(NEW_VENDOR)
    page.goto(live_server.url("/jobs/"))
    checklist = page.get_by_test_id("checklist")
    expect(checklist).to_contain_text("Getting set up: 0 of 3 done")
    expect(checklist).to_contain_text("Confidential and invite-only jobs open once it is approved")
    assert_accessible("a new vendor's checklist")
