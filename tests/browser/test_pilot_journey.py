"""A lab asks for a paid pilot before the award: it posts the job with the pilot's batch and criteria, a vendor bids
with the pilot's price, the lab starts the pilot from the comparison and lands on the pilot's contract, the vendor
is told and reads the criteria there, and award waits for the pilot to pass. axe-core checks every new page."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from marketplace.db_types import utcnow
from tests.factories import BuyerFactory, BuyerOrgFactory, VerifiedVendorFactory

LAB = "maya@northwind.example"
VENDOR = "ines@scalewise.example"
TITLE = "Boxes for 120k warehouse frames"
SCOPE = "2,000 frames from three warehouses, all 14 classes"
CRITERIA = "Box IoU of at least 0.8 on 97% of our 300 audited frames"


def _marketplace():
    lab = BuyerOrgFactory(name="Northwind AI")
    BuyerFactory(email=LAB, name="Maya Lindqvist", org_id=lab.id, timezone="UTC")
    VerifiedVendorFactory(email=VENDOR, name="Ines Duarte", timezone="UTC")


def test_a_lab_pays_for_a_pilot_before_it_awards(page, live_server, commit_data, switch_user, assert_accessible):
    commit_data(_marketplace)

    # The lab posts an open-bidding job that asks for a pilot first.
    switch_user(LAB)
    page.goto(live_server.url("/jobs/new"))
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Volume").fill("120000")
    page.get_by_label("Unit").fill("frames")
    page.get_by_label("Budget from").fill("30000")
    page.get_by_label("Budget up to").fill("48000")
    page.get_by_label("Bid deadline").fill((utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Delivery date").fill((utcnow() + timedelta(days=40)).date().isoformat())
    page.get_by_label(re.compile("Open: you see bids")).check()
    page.get_by_label(re.compile("Paid pilot: the batch")).fill(SCOPE)
    assert_accessible("the job form with a pilot")
    page.get_by_role("button", name="Publish").click()
    # The criteria were left out: the form comes back filled in, the message beside the field.
    expect(page.get_by_text("Say what the pilot must show to pass")).to_be_visible()
    expect(page.get_by_label(re.compile("Paid pilot: the batch"))).to_have_value(SCOPE)
    page.get_by_label("Pilot acceptance criteria").fill(CRITERIA)
    page.get_by_label("Bid deadline").fill((utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Delivery date").fill((utcnow() + timedelta(days=40)).date().isoformat())
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("pilot-ask")).to_contain_text(CRITERIA)

    # The vendor reads the pilot's terms and quotes its price with the bid.
    switch_user(VENDOR)
    page.get_by_role("link", name="Find jobs").click()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_test_id("pilot-ask")).to_contain_text(SCOPE)
    page.get_by_role("link", name="Place a bid").click()
    page.get_by_label("Price per unit").fill("0.35")
    page.get_by_label("Total price").fill("42,000.00")
    page.get_by_label("Turnaround (days)").fill("30")
    page.get_by_label("Price of the paid pilot").fill("1,100")
    page.get_by_role("button", name="Place bid").click()
    expect(page.get_by_role("status")).to_contain_text("Your bid is placed")

    # The lab cannot award before the pilot; it starts the pilot from the comparison.
    switch_user(LAB)
    page.goto(live_server.url("/jobs/"))
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Compare bids").first.click()
    expect(page.get_by_test_id("pilot")).to_contain_text("$1,100.00")
    assert_accessible("the comparison with pilots")
    page.get_by_role("link", name="Award").click()
    expect(page.locator("main")).to_contain_text("This job asks for a paid pilot first")
    page.go_back()
    page.get_by_test_id("start-pilot").click()
    expect(page.get_by_role("status")).to_contain_text("The pilot has started")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid pilot for")
    expect(page.get_by_test_id("pilot-terms")).to_contain_text(CRITERIA)
    expect(page.get_by_test_id("contract-total")).to_have_text("$1,100.00")
    assert_accessible("the lab's pilot contract")
    page.goto(live_server.url("/jobs/"))
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Compare bids").first.click()
    expect(page.get_by_test_id("pilot-state")).to_have_text("Started, not funded yet")

    # The vendor is told, and reads the pilot's criteria on its contract.
    switch_user(VENDOR)
    page.goto(live_server.url("/notifications/"))
    page.get_by_role("link", name=re.compile("started a paid pilot")).first.click()
    expect(page.get_by_test_id("pilot-terms")).to_contain_text(CRITERIA)
    assert_accessible("the vendor's pilot contract")
    page.goto(live_server.url("/contracts"))
    expect(page.get_by_test_id("pilot-badge")).to_be_visible()
