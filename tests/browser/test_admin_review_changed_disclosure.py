"""A vendor attaches evidence to a changed disclosure and files it; an admin reviews it, sees every change marked,
what approving would do to a buyer's verdict, the ownership graph and the evidence, and approves. axe-core checks
the queue with a row in it and the review page (every table has a header for each of its columns)."""

import re

from playwright.sync_api import expect

from marketplace.disclosures import service
from marketplace.extensions import db
from tests.factories import AdminFactory, BuyerOrgFactory, PartyFactory, RivalFactory, VendorFactory, VendorOrgFactory
from tests.unit.disclosures.helpers import file_version, tie

ADMIN = "ada@armslength.example"
VENDOR = "ines@scalewise.example"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _a_vendor_changing_its_disclosure():
    """Version 1 (Cobalt Social 30%, Founder Fund 60%) approved; version 2, a draft, sells Cobalt Social's stake
    to Founder Fund and adds a board member. Northwind AI names Cobalt Social as a rival."""
    admin = AdminFactory(email=ADMIN, name="Ada Reviewer")
    vendor = VendorFactory(email=VENDOR, name="Ines Duarte", org_id=VendorOrgFactory(name="Scalewise Data").id)
    northwind = BuyerOrgFactory(name="Northwind AI")
    RivalFactory(buyer_org_id=northwind.id, party_id=PartyFactory(name="Cobalt Social").id)
    first = file_version(
        db.session, vendor, tie(name="Cobalt Social", share_exact=30.0), tie(name="Founder Fund", share_exact=60.0)
    )
    service.decide_version(db.session, admin, first.id, "approved")
    second = service.start_new_version(db.session, vendor)
    for view in service.tie_views(db.session, second):
        service.remove_tie(db.session, vendor, second.id, view.table, view.id)
    service.add_tie(db.session, vendor, second.id, tie(name="Founder Fund", share_exact=90.0))
    service.add_tie(db.session, vendor, second.id, tie("boardMember", name="Rui Costa", party_kind="person"))


def test_an_admin_reviews_a_changed_disclosure_and_sees_the_change_marked(
    page, live_server, commit_data, switch_user, tmp_path, assert_accessible
):
    commit_data(_a_vendor_changing_its_disclosure)
    transfer = tmp_path / "share-transfer.pdf"
    transfer.write_bytes(PDF)

    # The vendor attaches the share transfer form, then attests and submits version 2.
    switch_user(VENDOR)
    page.get_by_role("link", name="Ownership disclosure").click()
    page.get_by_role("link", name="Continue draft version 2").click()
    evidence = page.locator("#evidence")
    evidence.get_by_label("Document (PDF, PNG, JPEG, GIF or WebP; at most 10 MB)").set_input_files(str(transfer))
    evidence.get_by_label("What it shows").fill("Share transfer form, Cobalt Social to Founder Fund")
    evidence.get_by_role("button", name="Attach document").click()
    expect(page.get_by_role("status")).to_have_text("share-transfer.pdf attached.")
    expect(page.get_by_test_id("evidence-row")).to_contain_text("Share transfer form")
    submit = page.locator("#submit")
    submit.get_by_label("Officer's title").fill("Chief executive")
    submit.get_by_label("What changed since the last version").fill("Cobalt Social sold its stake to Founder Fund.")
    submit.get_by_label("I attest that this disclosure is complete and true").check()
    submit.get_by_role("button", name="Submit version 2 (2 ties)").click()
    expect(page.get_by_role("heading", name="Version 2")).to_contain_text("Submitted")
    expect(page.get_by_test_id("evidence-row")).to_contain_text("share-transfer.pdf")

    # The admin opens it from the queue.
    switch_user(ADMIN)
    page.get_by_role("link", name="Review queue").click()
    row = page.get_by_test_id("queue-row").filter(has_text="Scalewise Data")
    expect(row).to_contain_text("Version 2")
    assert_accessible("the review queue with a disclosure in it")
    row.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Scalewise Data: version 2")).to_contain_text("Submitted")
    assert_accessible("the review page")

    diff = page.get_by_test_id("diff")
    expect(diff).to_contain_text("Compared with version 1")
    sold = diff.get_by_test_id("change").filter(has_text="Cobalt Social")
    expect(sold).to_have_attribute("data-status", "removed")
    expect(sold).to_contain_text("Removed")
    expect(sold).to_have_class(re.compile(r"\bdiff-removed\b"))
    raised = diff.get_by_test_id("change").filter(has_text="Founder Fund")
    expect(raised).to_have_attribute("data-status", "changed")
    expect(raised).to_contain_text("Share: 60% → 90%")
    expect(raised.locator(".old")).to_have_text("60%")
    added = diff.get_by_test_id("change").filter(has_text="Rui Costa")
    expect(added).to_have_attribute("data-status", "added")
    expect(added).to_contain_text("Added")

    effect = page.get_by_test_id("approval-effect")
    expect(effect.get_by_test_id("approval-effect-summary")).to_have_text(
        "Approving would change 1 buyer's verdict: Northwind AI exclude → clear."
    )
    graph = page.get_by_test_id("ownership-graph")
    expect(graph).to_be_visible()
    expect(graph.locator(".node.rival")).to_contain_text("Cobalt Social")
    with page.expect_download() as download_info:
        page.locator("#evidence").get_by_role("link", name="share-transfer.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "share-transfer.pdf"
    assert download.path().read_bytes() == PDF

    decide = page.locator("#decision")
    decide.get_by_label("Approve", exact=True).check()
    decide.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_have_text(
        "Decision recorded (approve) on version 2. The vendor has been told."
    )
    expect(page.get_by_text("No disclosures await review.")).to_be_visible()
