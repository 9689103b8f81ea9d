"""A vendor picks its owner from the registry; the lab, naming the owner under a shorter name, sees a possible
match; an admin marks the two as not the same and the finding is gone."""

from playwright.sync_api import expect

from marketplace.extensions import db
from marketplace.parties.models import PartyIdentifier
from marketplace.parties.service import normalize_identifier
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    BuyerOrgFactory,
    InterestFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VendorOrgFactory,
)

VENDOR, LAB, ADMIN = "ines@scalewise.example", "maya@quasar.example", "ada@armslength.example"


def _cast():
    halcyon = PartyFactory(name="Halcyon Research GmbH", jurisdiction="DE")
    db.session.add(
        PartyIdentifier(
            party_id=halcyon.id,
            scheme="XI-LEI",
            value="5493001KJTIIGC8Y1R12",
            value_normalized=normalize_identifier("5493001KJTIIGC8Y1R12"),
        )
    )
    InterestFactory(interested_party_id=halcyon.id)  # on file: an admin's fact about another company
    VendorFactory(email=VENDOR, name="Ines Duarte", org_id=VendorOrgFactory(name="Scalewise Data").id)
    lab = BuyerOrgFactory(name="Quasar Research")
    BuyerFactory(email=LAB, name="Maya Chen", org_id=lab.id)
    RivalFactory(buyer_org_id=lab.id, party_id=PartyFactory(name="Halcyon Research").id)
    AdminFactory(email=ADMIN, name="Ada Reviewer")


def test_a_possible_match_from_the_pick_to_the_settling(page, live_server, commit_data, switch_user):
    commit_data(_cast)
    switch_user(VENDOR)
    page.get_by_role("link", name="Ownership disclosure").click()
    page.get_by_role("button", name="Start your disclosure").click()
    form = page.locator("#add-tie")
    form.get_by_label("Find the person or organisation in the registry").fill("HALCYON RESEARCH, G.m.b.H.")
    form.get_by_role("button", name="Find").click()
    choice = page.get_by_test_id("registry-choice")
    expect(choice).to_have_count(1)
    expect(choice).to_contain_text("Halcyon Research GmbH")
    choice.get_by_role("radio").check()
    form.get_by_label("Kind of tie").select_option(label="Shareholding")
    form.get_by_label("Exact share %", exact=True).fill("30")
    form.get_by_role("button", name="Add tie").click()
    expect(page.get_by_role("status")).to_have_text("Halcyon Research GmbH added.")
    page.get_by_label("Officer's title").fill("CEO")
    page.get_by_label("I attest that this disclosure is complete and true").check()
    page.get_by_role("button", name="Submit version 1").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 submitted")

    switch_user(LAB)
    page.goto(live_server.url("/vendors"))
    page.get_by_role("link", name="Scalewise Data").first.click()
    finding = page.get_by_test_id("finding").filter(has_text="Possible match")
    expect(finding).to_contain_text("Halcyon Research GmbH may be Halcyon Research under another name")

    switch_user(ADMIN)
    page.goto(live_server.url("/admin/parties/?q=halcyon"))
    page.get_by_role("link", name="Merge, or mark not the same").first.click()
    section = page.get_by_test_id("not-the-same")
    section.get_by_label("How you know they are not the same").fill("German GmbH; the rival is a US company.")
    section.get_by_role("button", name="Not the same party").click()
    expect(page.get_by_role("status")).to_contain_text("Marked as not the same party")

    switch_user(LAB)
    page.goto(live_server.url("/vendors"))
    page.get_by_role("link", name="Scalewise Data").first.click()
    expect(page.get_by_test_id("finding").filter(has_text="Possible match")).to_have_count(0)
