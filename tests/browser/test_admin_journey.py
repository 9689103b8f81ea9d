"""An admin sends a disclosure back with a reason, and approves the version that answers it."""

from playwright.sync_api import expect

from marketplace.disclosures import service
from marketplace.extensions import db
from tests.factories import AdminFactory, VendorFactory, VendorOrgFactory
from tests.unit.disclosures.helpers import file_version, tie

ADMIN = "ada@armslength.example"
VENDOR = "ines@scalewise.example"
REASON = "Big Bank's loan was repaid in March, says the registry. Who lends to you now?"


def _a_submitted_disclosure():
    """Version 1 approved (the baseline the admin compares with); version 2, with a new board seat, submitted."""
    admin = AdminFactory(email=ADMIN, name="Ada Reviewer")
    vendor = VendorFactory(email=VENDOR, name="Ines Duarte", org_id=VendorOrgFactory(name="Scalewise Data").id)
    first = file_version(
        db.session, vendor, tie(name="Duarte Family Holdings", share_exact=70.0), tie("lender", name="Big Bank")
    )
    service.decide_version(db.session, admin, first.id, "approved")
    file_version(db.session, vendor, tie("boardMember", name="Rui Costa", party_kind="person"))


def _record_decision(page, decision, reason=""):
    decide = page.locator("#decision")
    decide.get_by_label(decision, exact=True).check()
    if reason:
        decide.get_by_label("Reason (required to request changes or reject; the vendor sees it)").fill(reason)
    decide.get_by_role("button", name="Record decision").click()


def test_an_admin_requests_changes_then_approves_the_next_version(page, live_server, commit_data, switch_user):
    commit_data(_a_submitted_disclosure)

    switch_user(ADMIN)
    page.get_by_role("link", name="Review queue").click()
    row = page.get_by_test_id("queue-row").filter(has_text="Scalewise Data")
    expect(row).to_contain_text("Version 2")
    row.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Scalewise Data: version 2")).to_contain_text("Submitted")
    expect(page.get_by_test_id("change").filter(has_text="Rui Costa")).to_have_attribute("data-status", "added")
    _record_decision(page, "Request changes", REASON)
    expect(page.get_by_role("status")).to_have_text(
        "Decision recorded (request changes) on version 2. The vendor has been told."
    )
    expect(page.get_by_test_id("queue-row")).to_have_count(0)
    expect(page.get_by_text("No disclosures await review.")).to_be_visible()
    page.get_by_role("link", name="Changes requested").click()
    expect(page.get_by_test_id("queue-row").filter(has_text="Scalewise Data")).to_contain_text("Version 2")

    # The vendor reads the reason and answers with a new version.
    switch_user(VENDOR)
    page.get_by_role("link", name="Ownership disclosure").click()
    second = page.get_by_test_id("version-row").filter(has_text="Version 2")
    expect(second).to_contain_text("Changes requested")
    expect(second).to_contain_text(REASON)
    second.get_by_role("link", name="Version 2").click()
    expect(page.get_by_test_id("decision-reason")).to_contain_text(REASON)
    page.get_by_role("button", name="Start a new version to answer").click()
    expect(page.get_by_role("heading", name="Version 3")).to_contain_text("Draft")
    lenders = page.get_by_test_id("section-funding").get_by_test_id("tie")
    lenders.filter(has_text="Big Bank").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Tie removed.")
    expect(lenders).to_have_count(0)
    form = page.locator("#add-tie")
    form.get_by_label("Kind of tie").select_option(label="Lender")
    form.get_by_label("Name of the person or organisation").fill("Harbor Credit")
    form.get_by_role("button", name="Add tie").click()
    expect(lenders.filter(has_text="Harbor Credit")).to_be_visible()
    submit = page.locator("#submit")
    submit.get_by_label("Officer's title").fill("Chief executive")
    submit.get_by_label("What changed since the last version").fill("Big Bank repaid; Harbor Credit lends now.")
    submit.get_by_label("I attest that this disclosure is complete and true").check()
    submit.get_by_role("button", name="Submit version 3 (3 ties)").click()
    expect(page.get_by_role("heading", name="Version 3")).to_contain_text("Submitted")

    # The admin sees what changed since the approved version 1, and approves.
    switch_user(ADMIN)
    page.get_by_role("link", name="Review queue").click()
    page.get_by_test_id("queue-row").filter(has_text="Version 3").get_by_role("link", name="Review").click()
    expect(page.get_by_text("Big Bank repaid; Harbor Credit lends now.")).to_be_visible()
    diff = page.get_by_test_id("diff")
    expect(diff).to_contain_text("Compared with version 1")
    expect(diff.get_by_test_id("change").filter(has_text="Big Bank")).to_have_attribute("data-status", "removed")
    expect(diff.get_by_test_id("change").filter(has_text="Big Bank")).to_contain_text("Removed")
    expect(diff.get_by_test_id("change").filter(has_text="Harbor Credit")).to_have_attribute("data-status", "added")
    expect(diff.get_by_test_id("change").filter(has_text="Harbor Credit")).to_contain_text("Added")
    expect(diff.get_by_test_id("change").filter(has_text="Duarte Family Holdings")).to_have_count(0)
    _record_decision(page, "Approve")
    expect(page.get_by_role("status")).to_have_text(
        "Decision recorded (approve) on version 3. The vendor has been told."
    )

    # The vendor sees its disclosure approved, and is told.
    switch_user(VENDOR)
    page.get_by_role("link", name="Ownership disclosure").click()
    expect(page.get_by_test_id("current-disclosure")).to_contain_text("In force: version 3")
    expect(page.get_by_test_id("version-row").filter(has_text="Version 3")).to_contain_text("Approved")
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_test_id("notification").first).to_contain_text("Disclosure decision")
    expect(page.get_by_test_id("notification").first).to_contain_text("Disclosure version 3 is approved.")
