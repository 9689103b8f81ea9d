"""A dispute in a real browser: the vendor opens it with a file, the buyer answers, an admin splits the money; the
split moves through the local Stripe and both sides read the explanation."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.db_types import utcnow
from marketplace.disputes.models import Dispute
from marketplace.extensions import db
from marketplace.payments.gateway import from_config
from tests.factories import AdminFactory
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


def test_a_dispute_from_both_sides_and_the_admins_split(
    app,
    page,
    live_server,
    commit_data,
    switch_user,
    assert_accessible,
    stripe_sim,  # noqa: F811 (the fixture, imported)
    tmp_path,
):
    def delivered():
        gateway = from_config(app.config)
        deal = make_deal(db.session, total_minor=1_000_000)
        connect_vendor(db.session, deal, gateway, stripe_sim)
        milestone = only_milestone(db.session, deal)
        fund(db.session, deal, gateway, stripe_sim, milestone)
        deliver(db.session, deal, milestone)
        admin = AdminFactory()
        return deal.buyer.email, deal.vendor.email, admin.email, deal.contract.id

    buyer_email, vendor_email, admin_email, contract_id = commit_data(delivered)
    contract_path = f"/contracts/{contract_id}"

    # The vendor opens a dispute with a file: the money freezes.
    switch_user(vendor_email)
    page.goto(live_server.url(contract_path))
    page.get_by_test_id("open-dispute").click()
    expect(page.get_by_test_id("what-happens")).to_contain_text("$10,000.00")
    assert_accessible("opening a dispute")
    page.get_by_role("button", name="Open the dispute and freeze the money").click()
    expect(page.get_by_role("alert").filter(has_text="Say what the dispute is about.")).to_be_visible()
    page.get_by_label("What the dispute is about").fill("The buyer uses the labels but neither accepts nor rejects.")
    log = tmp_path / "qa-log.csv"
    log.write_text("batch,accuracy\n1,0.98\n")
    page.get_by_label("Evidence (up to 5 files, 10 MB each)").set_input_files(str(log))
    page.get_by_role("button", name="Open the dispute and freeze the money").click()
    expect(page.get_by_role("status").filter(has_text="Dispute opened")).to_be_visible()
    expect(page.get_by_role("link", name="qa-log.csv")).to_be_visible()
    dispute_path = re.search(r"/disputes/\d+", page.url)[0]

    # The buyer sees the frozen milestone and answers.
    switch_user(buyer_email)
    page.goto(live_server.url(contract_path))
    expect(page.get_by_test_id("milestone-status")).to_have_text("Disputed — frozen until an admin decides")
    page.get_by_test_id("dispute-link").get_by_role("link").click()
    expect(page.get_by_test_id("statement")).to_have_count(1)
    page.get_by_label("Your statement").fill("A third of the boxes are on the wrong class.")
    page.get_by_role("button", name="Add the statement").click()
    expect(page.get_by_test_id("statement")).to_have_count(2)
    assert_accessible("a dispute, from the buyer's side")

    # The evidence deadline passes (the live server's clock cannot be moved: the deadline is moved instead).
    def evidence_closed():
        dispute = db.session.execute(select(Dispute)).scalar_one()
        dispute.respond_by = dispute.evidence_until = utcnow() - timedelta(minutes=1)

    commit_data(evidence_closed)

    # The admin splits: the two parts must add up to what is held.
    switch_user(admin_email)
    page.goto(live_server.url("/admin/disputes"))
    expect(page.get_by_test_id("disputes")).to_contain_text("Ready for a decision")
    assert_accessible("the admins' open disputes")
    page.get_by_test_id("disputes").get_by_role("link").first.click()
    page.get_by_label("Split: a part to each").check()
    page.get_by_label("Vendor's part (a split)").fill("7,000")
    page.get_by_label("Buyer's part (a split)").fill("2,000")
    page.get_by_label("Explanation, shown to both sides").fill("Two thirds of the work meets the target.")
    page.get_by_role("button", name="Decide and move the money").click()
    expect(page.get_by_role("alert").filter(has_text="The two parts add up to $9,000.00")).to_be_visible()
    expect(page.get_by_label("Explanation, shown to both sides")).to_have_value(
        "Two thirds of the work meets the target."
    )
    assert_accessible("the decision form, refused")
    page.get_by_label("Buyer's part (a split)").fill("3,000")
    page.get_by_role("button", name="Decide and move the money").click()
    expect(page.get_by_test_id("decision")).to_contain_text("$7,000.00")

    # Both sides read the decision; the money moved as decided.
    for email in (vendor_email, buyer_email):
        switch_user(email)
        page.goto(live_server.url(dispute_path))
        expect(page.get_by_test_id("explanation")).to_have_text("Two thirds of the work meets the target.")
    page.goto(live_server.url(contract_path))
    ledger = page.get_by_test_id("ledger")
    expect(ledger.locator("tr[data-kind=refund]")).to_contain_text("$3,000.00")
    expect(ledger.locator("tr[data-kind=transfer]")).to_contain_text("$6,300.00")
    expect(ledger.locator("tr[data-kind=platform_fee]")).to_contain_text("$700.00")
    assert_accessible("the contract after the decision")
