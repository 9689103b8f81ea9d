"""The change-of-control playbook in a real browser: the lab gives its storage's address and data access on a
contract; the rival's deal closes; the lab is told, finds the contract paused and the access revoked (its storage
called, signed), settles the work done pro rata through the local Stripe; the vendor's officer attests the deletion
and the lab reads it. axe-core checks the new pages."""

import json
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from marketplace.bids.service import award_bid
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode
from marketplace.payments.gateway import from_config
from marketplace.webhooks.signing import HEADER, verify
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    BuyerOrgFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)
from tests.functional.payments.stripe_support import (  # noqa: F401  (stripe_sim is a fixture)
    Deal,
    connect_vendor,
    fund,
    only_milestone,
    simulator_config,
    stripe_sim,
)
from tests.functional.playbook.conftest import storage  # noqa: F401  (the lab's storage, a fixture)

LAB = "maya@northwind.example"
VENDOR = "dana@clearlabel.example"
ADMIN = "ada@armslength.example"


@pytest.fixture
def app(app, stripe_sim):  # noqa: F811  (extends the browser conftest's app)
    app.config.update(simulator_config(stripe_sim), WEBHOOKS_ALLOW_PRIVATE=True)
    return app


def test_a_rivals_deal_winds_a_contract_down_by_the_labs_playbook(
    app,
    page,
    live_server,
    commit_data,
    switch_user,
    assert_accessible,
    stripe_sim,  # noqa: F811
    storage,  # noqa: F811
):
    def marketplace():
        lab = BuyerOrgFactory(name="Northwind AI")
        maya = BuyerFactory(email=LAB, name="Maya Lindqvist", org_id=lab.id, timezone="UTC")
        RivalFactory(buyer_org_id=lab.id, party_id=PartyFactory(name="Cobalt Social").id)
        vendor = VerifiedVendorOrgFactory(name="ClearLabel Studio")
        dana = VendorFactory(email=VENDOR, name="Dana Whitfield", org_id=vendor.id, timezone="UTC")
        job = JobFactory(buyer_org_id=lab.id, bidding_mode=BiddingMode.OPEN, title="Boxes for 120k frames")
        bid = BidFactory(job_id=job.id, vendor_org_id=vendor.id, total_minor=1_000_000)
        contract = award_bid(db.session, maya, job.id, bid.id)
        deal = Deal(contract, maya, dana)
        gateway = from_config(app.config)
        connect_vendor(db.session, deal, gateway, stripe_sim)
        milestone = only_milestone(db.session, deal)
        milestone.due_date = utcnow().date() + timedelta(days=20)
        fund(db.session, deal, gateway, stripe_sim, milestone)
        milestone.funded_at = utcnow() - timedelta(days=20)  # half the time to the due date has passed
        AdminFactory(email=ADMIN, name="Ada Reviewer")
        return contract.id

    contract_id = commit_data(marketplace)
    playbook_path = f"/contracts/{contract_id}/playbook"

    # The lab registers its storage as a webhook endpoint for the data access events; its secret shown once.
    switch_user(LAB)
    page.goto(live_server.url("/playbook/settings"))
    expect(page.get_by_test_id("storage")).to_contain_text("No endpoint of yours takes data_access.revoked yet")
    assert_accessible("the lab's playbook settings")
    page.get_by_test_id("storage").get_by_role("link", name="Webhooks").click()
    page.get_by_label("Address to call (https://…)").fill(storage.url)
    page.get_by_label(re.compile("Data access given to a vendor")).check()
    page.get_by_label(re.compile("Data access revoked")).check()
    page.get_by_role("button", name="Register").click()
    secret = page.get_by_test_id("secret").inner_text()
    assert secret.startswith("whsec_")

    # On the contract: what its playbook will do, and data access given (the storage is called, signed).
    page.goto(live_server.url(f"/contracts/{contract_id}"))
    expect(page.get_by_test_id("playbook-box")).to_contain_text("the vendor must attest deletion within 14 days")
    page.get_by_role("link", name="The playbook and data access").click()
    page.get_by_label("Data").fill("s3://northwind-labeling/frames-batch-7/")
    page.get_by_role("button", name="Give access").click()
    expect(page.get_by_role("status")).to_contain_text("your storage is told")
    assert_accessible("a contract's playbook, armed")

    # The news: Cobalt Social buys 49% of the vendor, and the deal closes.
    switch_user(ADMIN)
    page.get_by_role("link", name="Deals").click()
    page.get_by_label("The acquirer").fill("Cobalt Social")
    page.get_by_label("The company it buys into").fill("ClearLabel Studio")
    page.get_by_label("Stake (%)").fill("49")
    page.get_by_label("Announced on").fill((utcnow() - timedelta(days=2)).date().isoformat())
    page.get_by_role("button", name="Record the deal").click()
    page.get_by_role("button", name="It closed").click()
    expect(page.get_by_role("status")).to_contain_text("The deal is closed")

    # The lab is told; the contract is paused, the access revoked; it settles the work done.
    switch_user(LAB)
    page.goto(live_server.url("/notifications/"))
    page.get_by_role("link", name=re.compile("change-of-control playbook started")).first.click()
    expect(page.get_by_test_id("playbook-plan")).to_contain_text("Running since")
    expect(page.get_by_test_id("grant")).to_contain_text("Revoked")
    expect(page.get_by_test_id("share")).to_contain_text("pro rata")
    assert_accessible("a running playbook, the lab's side")
    page.get_by_label("Work done on milestone 1 (%)").fill("250")
    page.get_by_role("button", name="Settle and end the contract").click()
    expect(page.get_by_role("alert").filter(has_text="a whole number from 0 to 100")).to_be_visible()
    expect(page.get_by_label("Work done on milestone 1 (%)")).to_have_value("250")
    page.get_by_label("Work done on milestone 1 (%)").fill("50")
    page.get_by_role("button", name="Settle and end the contract").click()
    expect(page.get_by_role("status")).to_contain_text("Settled")
    expect(page.get_by_test_id("attestation")).to_contain_text("Due by")

    # The storage heard both calls, each signed with the lab's secret (sent by `flask webhooks deliver`, as cron
    # does where there is no task queue).
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert [json.loads(body)["type"] for _, body in storage.calls] == ["data_access.granted", "data_access.revoked"]
    for headers, body in storage.calls:
        verify(secret, body, headers[HEADER])

    # The vendor's officer attests the deletion; the lab reads it.
    switch_user(VENDOR)
    page.goto(live_server.url(playbook_path))
    expect(page.get_by_test_id("vendor-duties")).to_contain_text("The lab is winding down this contract")
    expect(page.locator("main")).not_to_contain_text("Cobalt")
    page.get_by_label("Your full name").fill("Dana Whitfield")
    page.get_by_label("Your title").fill("Chief Operating Officer")
    page.get_by_label("The data was deleted on").fill(utcnow().date().isoformat())
    page.get_by_role("button", name="Attest the deletion").click()
    expect(page.get_by_role("alert").filter(has_text="tick the box")).to_be_visible()
    assert_accessible("the vendor's attestation, refused")
    page.get_by_label(re.compile("I attest that every copy")).check()
    page.get_by_role("button", name="Attest the deletion").click()
    expect(page.get_by_role("status")).to_contain_text("Your attestation is recorded")
    switch_user(LAB)
    page.goto(live_server.url(playbook_path))
    expect(page.get_by_test_id("attestation")).to_contain_text("Dana Whitfield, Chief Operating Officer, attested")
