"""A buyer names a rival, posts a confidential sealed job, reads the bids after the deadline and awards."""

import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import expect

from marketplace.db_types import utcnow
from marketplace.disclosures.service import decide_version
from marketplace.extensions import db
from marketplace.jobs.models import Job
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    BuyerOrgFactory,
    PartyFactory,
    VendorFactory,
    VendorOrgFactory,
)
from tests.unit.disclosures.helpers import file_version, tie

BUYER = "maya@quasar.example"
VENDORS = {"Scalewise Data": "ines@scalewise.example", "Tagwell Labs": "omar@tagwell.example"}
TITLE = "Transcribe 500 hours of Japanese support calls"


def _marketplace():
    """The buyer's lab, two vendors with approved disclosures (screened clear), and a rival in the registry."""
    BuyerFactory(email=BUYER, name="Maya Chen", org_id=BuyerOrgFactory(name="Quasar Research").id)
    admin = AdminFactory()
    for name, email in VENDORS.items():
        vendor = VendorFactory(email=email, org_id=VendorOrgFactory(name=name).id)
        version = file_version(db.session, vendor, tie(name=f"{name} Founders", share_exact=100.0))
        decide_version(db.session, admin, version.id, "approved")
    PartyFactory(name="Cobalt Social")


def _job_codename() -> str:
    return db.session.execute(db.select(Job.codename).where(Job.title == TITLE)).scalar_one()


def _deadline_passes():
    # A test shortcut for the passage of time: the server judges the deadline by its own clock and reads the
    # job from the database on every request, so moving the deadline into the past closes bidding.
    job = db.session.execute(db.select(Job).where(Job.title == TITLE)).scalar_one()
    job.bid_deadline = utcnow() - timedelta(minutes=1)


def _post_job(page, deadline: datetime):
    page.get_by_role("link", name="Post a job").first.click()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Description", exact=True).fill("Verbatim transcripts with speaker turns and timestamps.")
    page.get_by_label("Modality", exact=True).select_option(label="Audio")
    page.get_by_label("Task type", exact=True).select_option(label="Transcription")
    page.get_by_label("Languages (comma-separated)").fill("Japanese, English")
    page.get_by_label("Volume", exact=True).fill("500")
    page.get_by_label("Unit", exact=True).fill("hours of audio")
    page.get_by_label("Quality metric", exact=True).fill("word accuracy")
    page.get_by_label("Quality target (%)").fill("97.5")
    page.get_by_label("SOC 2 Type II", exact=True).check()
    page.get_by_label("GDPR", exact=True).check()
    page.get_by_label("Buyer's VPC").check()
    page.get_by_label("Data residency", exact=True).fill("EU only")
    page.get_by_label("Labeler locations (comma-separated)").fill("Portugal, Poland")
    page.get_by_label("Retention (days)").fill("30")
    page.get_by_label("Deletion terms", exact=True).fill("Delete every copy within 30 days of acceptance.")
    page.get_by_label("Budget from", exact=True).fill("20,000.00")
    page.get_by_label("Budget up to", exact=True).fill("45,000.00")
    page.get_by_label("Currency", exact=True).select_option("USD")
    page.get_by_label("Bid deadline", exact=True).fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Delivery date", exact=True).fill((date.today() + timedelta(days=60)).isoformat())
    page.get_by_label(re.compile(r"Confidential: only vendors screened clear")).check()
    page.get_by_label(re.compile(r"Sealed: you see amounts")).check()
    page.get_by_role("button", name="Publish").click()


def _place_bid(page, price: str, total: str, days: str, quality: str):
    page.get_by_role("link", name="Place a bid").click()
    page.get_by_label("Price per unit", exact=True).fill(price)
    page.get_by_label("Total price", exact=True).fill(total)
    page.get_by_label("Turnaround (days)").fill(days)
    page.get_by_label("Quality guarantee (%)").fill(quality)
    page.get_by_label("Proposal", exact=True).fill("Native-speaker transcribers, double review of every file.")
    page.get_by_role("button", name="Place bid").click()
    expect(page.get_by_role("status").filter(has_text="Your bid is placed.")).to_be_visible()


def test_a_buyer_names_a_rival_posts_a_confidential_sealed_job_and_awards(page, live_server, commit_data, switch_user):
    commit_data(_marketplace)

    # The buyer names a rival from the registry.
    switch_user(BUYER)
    page.get_by_role("link", name="Rivals").click()
    page.get_by_label("Name contains").fill("cobalt")
    page.get_by_role("button", name="Search").click()
    match = page.get_by_test_id("match").filter(has_text="Cobalt Social")
    match.get_by_role("button", name="Add as rival").click()
    expect(page.get_by_role("status")).to_contain_text("Cobalt Social is now on your rival list")
    expect(page.get_by_test_id("rival")).to_contain_text("Cobalt Social")

    # ... and posts a confidential, sealed job with every field filled in.
    deadline = datetime.now(UTC) + timedelta(days=3)
    _post_job(page, deadline)
    expect(page.get_by_role("status")).to_have_text("Job published: vendors can now bid.")
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_test_id("buyer-label")).to_have_text("Quasar Research")
    expect(page.locator(".badge-confidential")).to_have_text("Confidential")
    expect(page.locator(".badge-sealed")).to_have_text("Sealed")
    expect(page.get_by_test_id("budget")).to_have_text("$20,000.00 – $45,000.00")
    expect(page.get_by_test_id("deadline")).to_have_text(deadline.strftime("%Y-%m-%d %H:%M UTC"))
    for fact in (
        "Audio",
        "Transcription",
        "500 hours of audio",
        "word accuracy ≥ 97.5%",
        "Japanese, English",
        "SOC 2 Type II, GDPR",
        "Buyer's VPC",
        "EU only",
        "Portugal, Poland",
        "30 days",
        "Delete every copy within 30 days of acceptance.",
    ):
        expect(page.locator("dl.facts dd").filter(has_text=fact).first).to_be_visible()
    codename = commit_data(_job_codename)
    assert codename

    # Each vendor, screened clear, finds the job under its codename and bids.
    bids = {"Scalewise Data": ("64.00", "32,000.00", "20", "98"), "Tagwell Labs": ("58.50", "29,250.00", "35", "97.5")}
    for vendor, terms in bids.items():
        switch_user(VENDORS[vendor])
        page.get_by_role("link", name="Find jobs").click()
        row = page.get_by_test_id("job-row").filter(has_text=TITLE)
        expect(row).to_contain_text(codename)
        expect(row).not_to_contain_text("Quasar Research")
        row.get_by_role("link", name=TITLE).click()
        expect(page.get_by_test_id("buyer-label")).to_have_text(re.compile(rf"^{re.escape(codename)} [A-Z2-9]{{3}}$"))
        expect(page.locator("main")).not_to_contain_text("Quasar Research")
        _place_bid(page, *terms)

    # Before the deadline the buyer sees how many bids, never their amounts.
    switch_user(BUYER)
    page.get_by_role("link", name="Our jobs").click()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_test_id("live-bid-count")).to_have_text("2")
    page.get_by_role("link", name="Compare bids").click()
    expect(page.get_by_test_id("sealed")).to_contain_text("Amounts are sealed until")
    expect(page.get_by_test_id("bid-count")).to_have_text("2")
    expect(page.get_by_test_id("comparison")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("$32,000.00")
    expect(page.locator("main")).not_to_contain_text("$29,250.00")

    commit_data(_deadline_passes)
    page.reload()
    expect(page.get_by_test_id("sealed")).to_have_count(0)
    rows = page.get_by_test_id("bid-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Scalewise Data")).to_contain_text("$32,000.00")
    expect(rows.filter(has_text="Tagwell Labs")).to_contain_text("$29,250.00")
    expect(page.get_by_test_id("bid-chart")).to_be_visible()
    expect(page.get_by_test_id("chart-dot")).to_have_count(2)

    # Sorting by a column heading reorders the table in the page.
    # (The heading's name includes its sort arrow, drawn by the style sheet.)
    total = page.get_by_role("columnheader", name=re.compile(r"^Total\b"))
    total.click()
    expect(total).to_have_class(re.compile(r"\bsorted-asc\b"))
    expect(rows.first).to_contain_text("Tagwell Labs")
    total.click()
    expect(total).to_have_class(re.compile(r"\bsorted-desc\b"))
    expect(rows.first).to_contain_text("Scalewise Data")
    page.get_by_role("columnheader", name=re.compile(r"^Quality guarantee\b")).click()
    expect(rows.first).to_contain_text("Tagwell Labs")
    expect(rows.first).to_contain_text("97.5%")

    # Awarding asks first: the vendor, the total, and the bid that loses.
    rows.filter(has_text="Tagwell Labs").get_by_role("link", name="Award").click()
    expect(page.get_by_role("heading", name=re.compile(r"to Tagwell Labs\?$"))).to_be_visible()
    expect(page.get_by_test_id("award-total")).to_have_text("$29,250.00")
    expect(page.get_by_test_id("losers")).to_contain_text("The other live bid (Scalewise Data) loses.")
    page.get_by_role("button", name="Award the job to Tagwell Labs").click()
    expect(page.get_by_role("status")).to_contain_text("Awarded. Contract #")
    expect(page.get_by_test_id("winner")).to_contain_text("Awarded to Tagwell Labs")
    expect(page.get_by_role("link", name="Award", exact=True)).to_have_count(0)
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator(".badge-awarded").first).to_have_text("Awarded")
    expect(page.get_by_test_id("bid-panel")).to_contain_text("Awarded to Tagwell Labs.")

    # The vendor that lost is told.
    switch_user(VENDORS["Scalewise Data"])
    page.get_by_role("link", name="Notifications").click()
    notice = page.get_by_test_id("notification").filter(has_text="Not selected")
    expect(notice).to_contain_text(f"Your bid on “{TITLE}” was not selected.")
