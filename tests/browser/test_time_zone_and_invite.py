"""In a real browser: a new account's time zone is the browser's own, and the invitation link has a Copy button."""

import re

from playwright.sync_api import expect

from tests.factories import BuyerFactory

LAB = "maya@northwind.example"


def test_sign_up_guesses_the_browsers_time_zone(browser, live_server):
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    try:
        page.goto(live_server.url("/sign-up"))
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
        # Typed over, the field suggests real zones and keeps what the user chose.
        page.get_by_label("Time zone").fill("Europe/Lisbon")
        expect(page.get_by_label("Time zone")).to_have_value("Europe/Lisbon")
    finally:
        context.close()


def test_settings_keep_the_zone_the_user_chose(page, live_server, commit_data, switch_user):
    commit_data(lambda: BuyerFactory(email=LAB, timezone="UTC"))
    switch_user(LAB)
    page.goto(live_server.url("/settings"))
    expect(page.get_by_label("Time zone")).to_have_value("UTC")  # a saved choice is never guessed over


def test_the_invitation_link_can_be_copied(page, live_server, commit_data, switch_user, assert_accessible):
    commit_data(lambda: BuyerFactory(email=LAB))
    switch_user(LAB)
    page.goto(live_server.url("/team"))
    page.get_by_label("Colleague's email").fill("sam@northwind.example")
    page.get_by_role("button", name="Create invitation").click()
    expect(page.get_by_test_id("invite-link")).to_have_value(re.compile(r"/invite/"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    link = page.get_by_test_id("invite-link").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert_accessible("the team page")
