"""An admin records a deal from the news; the lab it would change is told, and reads on its Pending deals page which
vendor would turn excluded if it closed, with its live bid and its share of the lab's spend, before anything
changes; when the deal closes, the lab's vendor list follows. axe-core checks both new pages."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from marketplace.bids.service import award_bid
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    BuyerOrgFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VerifiedVendorOrgFactory,
)

LAB = "maya@northwind.example"
ADMIN = "ada@armslength.example"


def _marketplace():
    lab = BuyerOrgFactory(name="Northwind AI")
    maya = BuyerFactory(email=LAB, name="Maya Lindqvist", org_id=lab.id, timezone="UTC")
    cobalt = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=lab.id, party_id=cobalt.id)
    vendor = VerifiedVendorOrgFactory(name="ClearLabel Studio")
    job = JobFactory(buyer_org_id=lab.id, bidding_mode=BiddingMode.OPEN, title="Boxes for 120k frames")
    award_bid(db.session, maya, job.id, BidFactory(job_id=job.id, vendor_org_id=vendor.id, total_minor=600_000).id)
    other = JobFactory(buyer_org_id=lab.id, title="Transcribe 800 hours")
    BidFactory(job_id=other.id, vendor_org_id=vendor.id, total_minor=300_000)
    AdminFactory(email=ADMIN, name="Ada Reviewer")


def test_a_lab_sees_a_deal_before_it_closes(page, live_server, commit_data, switch_user, assert_accessible):
    commit_data(_marketplace)
    switch_user(ADMIN)
    page.get_by_role("link", name="Deals").click()
    page.get_by_label("The acquirer").fill("Cobalt Social")
    page.get_by_label("The company it buys into").fill("ClearLabel Studio")
    page.get_by_label("Stake (%)").fill("49")
    page.get_by_label("Announced on").fill((utcnow() - timedelta(days=2)).date().isoformat())
    page.get_by_label("Expected to close").fill("Q3 2027")
    assert_accessible("the admin's deals page")
    page.get_by_role("button", name="Record the deal").click()
    expect(page.get_by_role("status")).to_contain_text("The pending deal is recorded")
    expect(page.get_by_test_id("admin-deal")).to_contain_text("Cobalt Social to acquire 49% of ClearLabel Studio")

    switch_user(LAB)
    page.goto(live_server.url("/notifications/"))
    page.get_by_role("link", name=re.compile("A pending deal would change your screening of 1 vendor")).click()
    impact = page.get_by_test_id("impact")
    expect(impact).to_contain_text("ClearLabel Studio")
    expect(impact.get_by_test_id("verdict-after")).to_have_text("Exclude")
    expect(impact).to_contain_text("Transcribe 800 hours")
    expect(impact.get_by_test_id("spend-share")).to_have_text("100% of $6,000.00")
    assert_accessible("the lab's pending deals")

    switch_user(ADMIN)
    page.get_by_role("link", name="Deals").click()
    page.get_by_role("button", name="It closed").click()
    expect(page.get_by_role("status")).to_contain_text("The deal is closed")
    switch_user(LAB)
    page.get_by_role("link", name="Pending deals").click()
    expect(page.locator("main")).to_contain_text("No deal is pending.")
