"""A new lab signs up, confirms its address and invites a colleague, in a real browser."""

from playwright.sync_api import expect


def test_a_lab_signs_up_and_invites_a_colleague(page, live_server, outbox, sign_in):
    page.goto(live_server.url("/"))
    page.get_by_role("link", name="I'm an AI lab").click()
    page.get_by_label("Organisation name").fill("Quasar Research")
    page.get_by_label("Your name").fill("Priya Raman")
    page.get_by_label("Work email").fill("priya@quasar.example")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat password").fill("a long enough password")
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_test_id("check-email")).to_be_visible()
    sign_in("priya@quasar.example", "a long enough password")
    expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    page.goto(outbox.last_link("priya@quasar.example", "/confirm-email/"))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("status").filter(has_text="is confirmed")).to_be_visible()
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Quasar Research — team")).to_be_visible()
    page.get_by_label("Colleague's email").fill("sam@quasar.example")
    page.get_by_role("button", name="Create invitation").click()
    link = page.get_by_test_id("invite-link").input_value()
    assert "/invite/" in link

    page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    expect(page.get_by_role("heading", name="Join Quasar Research")).to_be_visible()
    page.get_by_label("Your name").fill("Sam Okafor")
    page.get_by_label("Password", exact=True).fill("another long password")
    page.get_by_label("Repeat password").fill("another long password")
    page.get_by_role("button", name="Join").click()
    page.goto(outbox.last_link("sam@quasar.example", "/confirm-email/"))
    page.get_by_role("button", name="Confirm my address").click()
    page.goto(live_server.url("/team"))
    expect(page.get_by_role("cell", name="Sam Okafor")).to_be_visible()
