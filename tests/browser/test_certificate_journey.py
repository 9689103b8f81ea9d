"""A vendor uploads its ISO 27001 certificate (a wrong date first, refused beside the field), an admin verifies it
from the certificates queue, and the lab comparing the vendor's bid reads that it holds a verified, current one."""

from datetime import timedelta

from playwright.sync_api import expect

from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    JobFactory,
    VerifiedVendorFactory,
)

ADMIN = "ada@armslength.example"
VENDOR = "ines@clearlabel.example"
BUYER = "maya@northwind.example"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _a_bid_on_a_job_requiring_iso27001():
    AdminFactory(email=ADMIN, name="Ada Reviewer")
    vendor = VerifiedVendorFactory(email=VENDOR, name="Ines Duarte")
    buyer = BuyerFactory(email=BUYER, name="Maya Lindqvist")
    job = JobFactory(
        buyer_org_id=buyer.org_id,
        title="Label 40k street scenes",
        bidding_mode=BiddingMode.OPEN,
        certifications=["iso27001"],
        bid_deadline=utcnow() + timedelta(days=7),
    )
    BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    return job.id


def test_a_vendor_uploads_a_certificate_an_admin_verifies_and_the_lab_sees_it_held(
    page, live_server, commit_data, switch_user, assert_accessible, tmp_path
):
    job_id = commit_data(_a_bid_on_a_job_requiring_iso27001)
    certificate = tmp_path / "iso-27001.pdf"
    certificate.write_bytes(PDF)
    today = utcnow().date()

    switch_user(VENDOR)
    page.get_by_role("link", name="Certificates").click()
    expect(page.get_by_role("heading", name="Certificates", exact=True)).to_be_visible()
    assert_accessible("the vendor's certificates page")
    page.get_by_label("Certification", exact=True).select_option(label="ISO 27001")
    page.get_by_label("Issued by (the certification body or auditor)").fill("BSI Group")
    page.get_by_label("Scope").fill("The annotation platform and the Lisbon delivery centre")
    page.get_by_label("Issued on").fill((today - timedelta(days=30)).isoformat())
    page.get_by_label("Expires on").fill((today - timedelta(days=60)).isoformat())
    page.get_by_label("The certificate (PDF, PNG or JPEG, at most 10 MB)").set_input_files(str(certificate))
    page.get_by_role("button", name="Upload for review").click()

    expect(page.get_by_role("alert")).to_have_text("The expiry date must be after the issue date.")
    expect(page.get_by_label("Issued by (the certification body or auditor)")).to_have_value("BSI Group")
    assert_accessible("the upload form with a refusal")
    page.get_by_label("Expires on").fill((today + timedelta(days=700)).isoformat())
    page.get_by_label("The certificate (PDF, PNG or JPEG, at most 10 MB)").set_input_files(str(certificate))
    page.get_by_role("button", name="Upload for review").click()
    expect(page.get_by_role("status")).to_contain_text("ISO 27001 uploaded: an admin verifies it")
    expect(page.get_by_test_id("certificate")).to_contain_text("Pending")

    switch_user(ADMIN)
    page.get_by_role("link", name="Certificates").click()
    assert_accessible("the admins' certificate queue")
    page.get_by_test_id("certificate-row").filter(has_text="BSI Group").get_by_role("link", name="Review").click()
    assert_accessible("one certificate's review")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("ISO 27001 certificate verified")
    expect(page.get_by_text("No certificate awaits review.")).to_be_visible()

    switch_user(BUYER)
    page.goto(live_server.url(f"/jobs/{job_id}/bids"))
    held = page.get_by_test_id("bid-row").get_by_test_id("certificate-held")
    expect(held).to_have_text("✓ ISO 27001")
    assert_accessible("the comparison with certificates")

    switch_user(VENDOR)
    page.get_by_role("link", name="Certificates").click()
    expect(page.get_by_test_id("certificate")).to_contain_text("Verified")
