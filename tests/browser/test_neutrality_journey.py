"""A vendor asks for a neutrality statement about two parties, downloads it, and a lab, signed out, checks it on the
verification page with its own list. axe-core checks both pages."""

import re

from playwright.sync_api import expect

from tests.factories import PartyFactory, VerifiedVendorFactory

VENDOR = "ines@scalewise.example"


def _marketplace():
    VerifiedVendorFactory(email=VENDOR, name="Ines Duarte")
    PartyFactory(name="Cobalt Social Ltd")
    PartyFactory(name="Northwind AI")


def test_a_vendor_proves_it_has_no_tie_and_a_lab_checks_it(
    page, live_server, commit_data, switch_user, sign_out, assert_accessible
):
    commit_data(_marketplace)
    switch_user(VENDOR)
    page.get_by_role("link", name="Neutrality").click()
    page.get_by_label("The parties, one per line").fill("Cobalt Social Ltd\nNo Such Holdings")
    page.get_by_role("button", name="Sign the statement").click()
    expect(page.get_by_text("The register has no party “no such holdings”")).to_be_visible()
    expect(page.get_by_label("The parties, one per line")).to_have_value("Cobalt Social Ltd\nNo Such Holdings")
    page.get_by_label("The parties, one per line").fill("Cobalt Social Ltd\nNorthwind AI")
    page.get_by_role("button", name="Sign the statement").click()
    expect(page.get_by_role("status")).to_contain_text("The statement is signed")
    expect(page.get_by_test_id("statement-state")).to_have_text("Valid")
    assert_accessible("the vendor's neutrality statements")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    document = download.value.path().read_text()

    sign_out()
    page.goto(live_server.url("/neutrality/verify"))
    page.get_by_label("The statement (its JSON)").fill(document)
    page.get_by_label(re.compile("Your list")).fill("northwind ai\ncobalt social ltd")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("verification-state")).to_contain_text("Valid: signed by this platform")
    expect(page.get_by_test_id("list-match")).to_have_text("It covers exactly your list.")
    assert_accessible("the verification page")
