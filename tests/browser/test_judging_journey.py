"""A lab guards a confidential brief with its NDA; a vendor accepts it, bids with an answer to each data-handling
requirement and a file; the lab reads the whole proposal beside the comparison and writes to the vendor, who
answers. axe-core checks every page of the way, and the admins' queue."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, Visibility
from tests.factories import AdminFactory, BuyerFactory, BuyerOrgFactory, JobFactory, VerifiedVendorFactory

LAB = "maya@northwind.example"
VENDOR = "ines@scalewise.example"
ADMIN = "admin@armslength.example"
TITLE = "Transcribe 500 hours of clinical dictation"
BRIEF = "Verbatim transcripts of cardiology dictation, with speaker turns."
NDA = "The Receiving Party keeps everything the Disclosing Party shares about this job confidential for five years."


def _marketplace():
    lab = BuyerOrgFactory(name="Northwind AI")
    BuyerFactory(email=LAB, name="Maya Lindqvist", org_id=lab.id)
    JobFactory(
        buyer_org_id=lab.id,
        title=TITLE,
        description=BRIEF,
        visibility=Visibility.CONFIDENTIAL,
        bidding_mode=BiddingMode.OPEN,
        data_residency="EU only",
        certifications=[],
        bid_deadline=utcnow() + timedelta(days=5),
        codename="Project Heron",
    )
    VerifiedVendorFactory(email=VENDOR, name="Ines Duarte")
    AdminFactory(email=ADMIN)


def test_a_lab_judges_a_whole_bid_behind_its_nda_and_talks_to_the_bidder(
    page, live_server, commit_data, switch_user, assert_accessible, tmp_path
):
    commit_data(_marketplace)

    # The lab publishes its NDA and requires it on the confidential job.
    switch_user(LAB)
    page.get_by_role("link", name="NDA").click()
    page.get_by_label("The NDA vendors accept").fill(NDA)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 published")
    assert_accessible("the lab's NDA page")
    page.get_by_role("link", name="Our jobs").click()
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("button", name="Require our NDA (version 1)").click()
    expect(page.get_by_role("status")).to_contain_text("Vendors now accept your NDA")
    assert_accessible("the lab's job page")

    # The vendor reads the NDA, not the brief, accepts it, and bids.
    switch_user(VENDOR)
    page.get_by_role("link", name="Find jobs").click()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_test_id("nda-gate")).to_contain_text(NDA)
    expect(page.locator("main")).not_to_contain_text(BRIEF)
    expect(page.locator("main")).not_to_contain_text("Northwind")
    assert_accessible("the job page behind the NDA")
    page.get_by_label("I accept this NDA on behalf of my organisation").check()
    page.get_by_role("button", name="Accept and open the brief").click()
    # The brief reads as written (it also carries this vendor's invisible marks: marketplace.leaks).
    expect(page.get_by_test_id("brief")).to_contain_text(BRIEF)
    page.get_by_role("link", name="Place a bid").click()
    page.get_by_label("Price per unit").fill("30.00")
    page.get_by_label("Total price").fill("15,000.00")
    page.get_by_label("Turnaround (days)").fill("21")
    page.get_by_label("Proposal").fill("Two medical transcribers per file, a cardiologist on disagreements.")
    page.get_by_label("Data residency").fill("Frankfurt, no transfers outside the EU.")
    sample = tmp_path / "sample-transcript.txt"
    sample.write_text("DR: Patient presents with...\n")
    page.get_by_label(re.compile("Files for the lab")).set_input_files(str(sample))
    assert_accessible("the bid form")
    page.get_by_role("button", name="Place bid").click()
    expect(page.get_by_role("status")).to_contain_text("Your bid is placed")
    expect(page.get_by_test_id("bid-files")).to_contain_text("sample-transcript.txt")

    # The lab reads the whole bid beside the comparison, and writes to the vendor.
    switch_user(LAB)
    page.goto(live_server.url("/jobs/"))
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Compare bids").first.click()
    assert_accessible("the comparison")
    page.get_by_test_id("proposal-link").click()
    answers = page.get_by_test_id("requirement-answers")
    expect(answers.get_by_role("row").filter(has_text="Data residency: EU only")).to_contain_text(
        "Frankfurt, no transfers outside the EU."
    )
    expect(page.get_by_test_id("bid-files")).to_contain_text("sample-transcript.txt")
    assert_accessible("the proposal")
    page.get_by_test_id("messages-link").click()
    page.get_by_label("Message", exact=True).fill("Can you start with a 10-hour pilot?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Message sent.")
    assert_accessible("the lab's thread")

    # The vendor is told, reads it under the codename, and answers.
    switch_user(VENDOR)
    page.goto(live_server.url("/notifications/"))
    page.get_by_role("link", name=re.compile("New message from Project Heron")).first.click()
    expect(page.get_by_test_id("message")).to_contain_text("Can you start with a 10-hour pilot?")
    expect(page.locator("main")).not_to_contain_text("Northwind")
    page.get_by_label("Message", exact=True).fill("Yes, from Monday.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("message")).to_have_count(2)
    assert_accessible("the vendor's thread")

    # The admins' queue and registry tables have a header for every column.
    switch_user(ADMIN)
    page.goto(live_server.url("/admin/"))
    assert_accessible("the review queue")
    page.goto(live_server.url("/admin/parties/imports"))
    assert_accessible("the BODS import page")
