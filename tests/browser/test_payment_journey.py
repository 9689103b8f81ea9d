"""Fund → deliver → accept → paid, in a real browser, against the local Stripe simulator and its webhooks."""

import re

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.functional.payments.stripe_support import (  # noqa: F401  (stripe_sim is a fixture)
    make_deal,
    simulator_config,
    stripe_sim,
)

SLOW = 20_000  # ms: Stripe's webhook comes about a second after the payment, and the page refreshes itself


@pytest.fixture
def app(app, stripe_sim):  # noqa: F811  (extends the browser conftest's app)
    """The browser tests' app, configured for the simulator as run-demo configures it."""
    app.config.update(simulator_config(stripe_sim))
    return app


def test_a_milestone_is_funded_delivered_accepted_and_paid(
    page,
    live_server,
    commit_data,
    switch_user,
    stripe_sim,  # noqa: F811 (the fixture, imported)
    tmp_path,
):
    def award():
        deal = make_deal(db.session, total_minor=1_250_000)
        return deal.buyer.email, deal.vendor.email, deal.contract.id, deal.contract.job_id

    buyer_email, vendor_email, contract_id, job_id = commit_data(award)
    contract_path = f"/contracts/{contract_id}"
    stripe_sim.register_webhook(f"browser-{live_server.port}", live_server.url("/payments/webhook"))

    # The vendor connects its payout account through (simulated) Stripe Express onboarding.
    switch_user(vendor_email)
    page.goto(live_server.url("/payments/payouts"))
    expect(page.get_by_test_id("payments-mode")).to_contain_text("Test mode")
    page.get_by_role("button", name="Connect a payout account with Stripe").click()
    expect(page.get_by_text("Simulated Stripe")).to_be_visible()
    page.get_by_role("button", name="Complete onboarding with test details").click()
    expect(page.get_by_test_id("payout-state")).to_contain_text("Ready")

    # The buyer funds the milestone with a test card on (simulated) Stripe Checkout.
    switch_user(buyer_email)
    page.goto(live_server.url(f"/jobs/{job_id}"))
    page.get_by_test_id("contract-link").click()
    expect(page.get_by_test_id("payments-mode")).to_contain_text("no real money moves")
    page.get_by_role("button", name="Fund $12,500.00 with Stripe").click()
    expect(page.get_by_test_id("amount")).to_have_text("12,500.00 USD")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_test_id("milestone-status")).to_have_text("Funded — held by the platform", timeout=SLOW)

    # The vendor delivers, with a note and a file.
    switch_user(vendor_email)
    page.goto(live_server.url(contract_path))
    page.get_by_role("link", name="Mark delivered").click()
    page.get_by_label("What you deliver").fill("All 10,000 images boxed; manifest attached.")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("image,boxes\n1,3\n")
    page.get_by_label("Files (up to 10, 10 MB each)").set_input_files(str(manifest))
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.get_by_test_id("milestone-status")).to_have_text("Delivered — awaiting the buyer")

    # The buyer accepts; the vendor is paid the milestone less the platform fee.
    switch_user(buyer_email)
    page.goto(live_server.url(contract_path))
    expect(page.get_by_role("link", name="manifest.csv")).to_be_visible()
    page.get_by_role("button", name="Accept delivery and pay the vendor").click()
    expect(page.get_by_role("status").filter(has_text="Accepted. The vendor is paid.")).to_be_visible()
    expect(page.get_by_test_id("milestone-status")).to_have_text("Paid to the vendor")
    ledger = page.get_by_test_id("ledger")
    expect(ledger.locator("tr[data-kind=transfer]")).to_contain_text("$11,250.00")
    expect(ledger.locator("tr[data-kind=platform_fee]")).to_contain_text("$1,250.00")
    expect(ledger.locator("tr[data-kind=charge]")).to_contain_text("$12,500.00")

    switch_user(vendor_email)
    page.goto(live_server.url(contract_path))
    expect(page.get_by_test_id("payout-split")).to_have_text(
        re.compile(r"The vendor received\s+\$11,250.00 after the platform fee of\s+\$1,250.00 \(10%\)\.")
    )
