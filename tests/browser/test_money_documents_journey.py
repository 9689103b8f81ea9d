"""In a real browser: a delivered milestone shows both sides its acceptance deadline; the lab adds its purchase-order
number; once the payment is released through the local Stripe, the lab's statement links its receipt and the
vendor's its payout statement, each with a CSV export. axe-core checks each page."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.contracts import service as contracts
from marketplace.extensions import db
from marketplace.payments.gateway import from_config
from tests.functional.payments.stripe_support import (  # noqa: F401  (stripe_sim is a fixture)
    connect_vendor,
    deliver,
    fund,
    make_deal,
    only_milestone,
    simulator_config,
    stripe_sim,
)


@pytest.fixture
def app(app, stripe_sim):  # noqa: F811  (extends the browser conftest's app)
    app.config.update(simulator_config(stripe_sim))
    return app


def test_the_deadline_the_po_number_and_the_documents_of_a_payment(
    app,
    page,
    live_server,
    commit_data,
    switch_user,
    assert_accessible,
    stripe_sim,  # noqa: F811 (the fixture, imported)
):
    def delivered():
        gateway = from_config(app.config)
        deal = make_deal(db.session, total_minor=1_000_000)
        connect_vendor(db.session, deal, gateway, stripe_sim)
        milestone = only_milestone(db.session, deal)
        fund(db.session, deal, gateway, stripe_sim, milestone)
        deliver(db.session, deal, milestone)
        return deal.buyer.email, deal.vendor.email, deal.contract.id, milestone.id

    buyer_email, vendor_email, contract_id, milestone_id = commit_data(delivered)
    contract_path = f"/contracts/{contract_id}"

    # Both sides read when the lab's silence releases the payment.
    for email in (vendor_email, buyer_email):
        switch_user(email)
        page.goto(live_server.url(contract_path))
        expect(page.get_by_test_id("acceptance-deadline")).to_contain_text("released to the vendor by itself")
    assert_accessible("a delivered contract, from the lab's side")

    # The lab adds its purchase-order number: a bad one is refused beside the field and kept.
    page.get_by_test_id("purchase-order").get_by_role("link", name="Add one").click()
    page.get_by_label("Purchase-order number").fill("PO<4471>")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Purchase-order number")).to_have_value("PO<4471>")
    assert_accessible("the purchase-order form, refused")
    page.get_by_label("Purchase-order number").fill("PO-4471")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("purchase-order")).to_contain_text("PO-4471")

    def accepted():
        gateway = from_config(app.config)
        buyer = db.session.execute(select(User).where(User.email == buyer_email)).scalar_one()
        assert contracts.accept_delivery(db.session, buyer, gateway, contract_id, milestone_id) is True

    commit_data(accepted)

    # The lab's statement links its receipt; the vendor's its payout statement; both export CSV.
    page.get_by_role("link", name="Contracts").click()
    page.get_by_role("link", name="Statement of every payment").click()
    expect(page.get_by_test_id("receipt-link")).to_be_visible()
    expect(page.get_by_test_id("statement-csv")).to_be_visible()
    assert_accessible("the lab's statement")
    switch_user(vendor_email)
    page.get_by_role("link", name="Contracts").click()
    page.get_by_role("link", name="Statement of every payment").click()
    expect(page.get_by_test_id("payout-link")).to_be_visible()
    expect(page.get_by_test_id("receipt-link")).to_have_count(0)
    assert_accessible("the vendor's statement")
    with page.expect_download() as download_info:
        page.get_by_test_id("statement-csv").get_by_role("button", name="Download CSV").click()
    assert download_info.value.suggested_filename.endswith(".csv")
