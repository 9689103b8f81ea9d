"""A vendor's certifications are records: it uploads a certificate (file, issuer, scope, dates), an admin verifies it
or rejects it with a reason, and a job requiring the certification shows the lab which bidders hold a verified,
current one, until the day after it expires. Every refusal says why next to its field and keeps what was typed;
the file is the vendor's, the admins' and the comparing lab's only."""

import io
import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from marketplace.accounts.models import Organization, VendorProfile
from marketplace.audit.models import AuditRecord
from marketplace.certificates.models import Certificate, CertificateStatus
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode
from marketplace.notifications.models import Notification
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    CertificateFactory,
    JobFactory,
    VendorFactory,
    VerifiedVendorFactory,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def text(response) -> str:
    return response.get_data(as_text=True)


def download(client, url: str):
    """The response, read and closed (a file response holds the file open until closed)."""
    with client.get(url) as response:
        response.get_data()
        return response


def today():
    return utcnow().date()


def form_fields(**changes):
    fields = {
        "kind": "iso27001",
        "issuer": "BSI Group",
        "scope": "Annotation platform and the Lisbon delivery centre",
        "issued_on": (today() - timedelta(days=100)).isoformat(),
        "expires_on": (today() + timedelta(days=265)).isoformat(),
    }
    fields.update(changes)
    return fields


def upload(client, file=(PDF, "iso-27001.pdf"), **changes):
    fields = MultiDict(list(form_fields(**changes).items()))
    if file is not None:
        fields.add("file", FileStorage(io.BytesIO(file[0]), file[1]))
    boundary, body = encode_multipart(fields)
    return client.post("/certificates", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def field_error(page: str, name: str) -> str:
    """The error shown inside the form field named `name`."""
    found = re.search(rf'<div class="field[^"]*has-error">(?:(?!</div>).)*?name="{name}".*?</div>', page, re.S)
    assert found, f"no error beside {name}"
    return re.sub(r"\s+", " ", found.group(0))


def declare(session, org_id: int, certifications: list[str]) -> None:
    """What the vendor's profile says as free text (self-declared, as before certificates were records)."""
    profile = session.execute(select(VendorProfile).where(VendorProfile.org_id == org_id)).scalar_one()
    profile.certifications = certifications
    session.flush()


@pytest.fixture
def vendor(session):
    return VerifiedVendorFactory(name="Ines Duarte")


@pytest.fixture
def admin(session):
    return AdminFactory(name="Ada Reviewer")


# ---------------------------------------------------------------- uploading


def test_vendor_uploads_a_certificate_that_awaits_an_admin(client, session, login_as, vendor, admin):
    login_as(vendor)
    response = upload(client)
    assert response.status_code == 303

    certificate = session.execute(select(Certificate)).scalar_one()
    assert certificate.status == CertificateStatus.PENDING
    assert (certificate.vendor_org_id, certificate.issuer, certificate.filename) == (
        vendor.org_id,
        "BSI Group",
        "iso-27001.pdf",
    )
    page = text(client.get("/certificates"))
    assert "ISO 27001" in page and "Pending" in page
    told = session.execute(select(Notification).where(Notification.user_id == admin.id)).scalar_one()
    assert "uploaded an ISO 27001 certificate for review" in told.message
    assert told.link == f"/admin/certificates/{certificate.id}"
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "certificate.uploaded")).scalar_one()
    assert record.vendor_org_id == vendor.org_id and record.after["expires_on"] == certificate.expires_on.isoformat()
    # The vendor downloads its own file back, byte for byte.
    fetched = download(client, f"/certificates/{certificate.id}/file")
    assert fetched.status_code == 200 and fetched.data == PDF


@pytest.mark.parametrize(
    ("changes", "file", "field", "message"),
    [
        ({}, (b"just some words", "iso.pdf"), "file", "is not a PDF, PNG or JPEG file"),
        ({}, (b"", "iso.pdf"), "file", "Choose the certificate"),
        ({}, None, "file", "Choose the certificate"),
        ({"kind": "made_up"}, (PDF, "iso.pdf"), "kind", "Pick the certification from the list."),
        ({"issuer": "  "}, (PDF, "iso.pdf"), "issuer", "Name who issued it"),
        ({"scope": ""}, (PDF, "iso.pdf"), "scope", "Say what the certificate covers"),
        ({"issued_on": ""}, (PDF, "iso.pdf"), "issued_on", "Give the date the certificate was issued."),
        ({"issued_on": "tomorrow"}, (PDF, "iso.pdf"), "issued_on", "Not a valid date value"),
        ({"expires_on": ""}, (PDF, "iso.pdf"), "expires_on", "Give the date the certificate expires."),
    ],
)
def test_a_bad_field_or_file_is_refused_beside_it_and_the_form_comes_back_filled_in(
    client, session, login_as, vendor, changes, file, field, message
):
    login_as(vendor)
    response = upload(client, file=file, **changes)
    assert response.status_code == 400
    page = text(response)
    assert message in field_error(page, field)
    if field != "scope":
        assert "Annotation platform and the Lisbon delivery centre</textarea>" in page
    if field != "issuer":
        assert 'value="BSI Group"' in page
    assert session.execute(select(Certificate)).first() is None


def test_dates_that_cannot_be_a_current_certificate_are_refused(client, session, login_as, vendor):
    login_as(vendor)
    future = upload(client, issued_on=(today() + timedelta(days=1)).isoformat())
    assert "The issue date is in the future" in field_error(text(future), "issued_on")

    backwards = upload(client, expires_on=(today() - timedelta(days=200)).isoformat())
    assert "The expiry date must be after the issue date." in field_error(text(backwards), "expires_on")

    expired = upload(
        client,
        issued_on=(today() - timedelta(days=400)).isoformat(),
        expires_on=(today() - timedelta(days=1)).isoformat(),
    )
    assert "expired on" in field_error(text(expired), "expires_on")
    assert f'value="{(today() - timedelta(days=1)).isoformat()}"' in text(expired)

    too_far = upload(client, expires_on=(today() + timedelta(days=366 * 11)).isoformat())
    assert "more than 10 years ahead" in field_error(text(too_far), "expires_on")
    assert session.execute(select(Certificate)).first() is None


def test_only_vendors_upload_and_a_vendor_sees_only_its_own(client, session, login_as, vendor):
    other = CertificateFactory(issuer="Someone Else's Auditor")
    login_as(BuyerFactory())
    assert client.get("/certificates").status_code == 403
    assert upload(client).status_code == 403
    login_as(vendor)
    assert "Someone Else's Auditor" not in text(client.get("/certificates"))
    assert download(client, f"/certificates/{other.id}/file").status_code == 404


# ---------------------------------------------------------------- the admin's decision


@pytest.mark.parametrize("role", ["vendor", "buyer"])
def test_only_admins_review_verify_or_reject(client, session, login_as, vendor, role):
    certificate = CertificateFactory(vendor_org_id=vendor.org_id, status=CertificateStatus.PENDING)
    login_as(vendor if role == "vendor" else BuyerFactory())
    assert client.get("/admin/certificates").status_code == 403
    assert client.get(f"/admin/certificates/{certificate.id}").status_code == 403
    assert client.post(f"/admin/certificates/{certificate.id}/verify").status_code == 403
    assert client.post(f"/admin/certificates/{certificate.id}/reject", data={"reason": "No."}).status_code == 403
    session.refresh(certificate)
    assert certificate.status == CertificateStatus.PENDING


def test_admin_verifies_from_the_queue_and_the_vendor_is_told(client, session, login_as, vendor, admin):
    certificate = CertificateFactory(vendor_org_id=vendor.org_id, status=CertificateStatus.PENDING)
    login_as(admin)
    queue = text(client.get("/admin/certificates"))
    assert f"/admin/certificates/{certificate.id}" in queue and "BSI Group" in queue
    assert "Verify" in text(client.get(f"/admin/certificates/{certificate.id}"))

    assert client.post(f"/admin/certificates/{certificate.id}/verify").status_code == 303
    session.refresh(certificate)
    assert certificate.status == CertificateStatus.VERIFIED and certificate.decided_by_id == admin.id
    assert "No certificate awaits review." in text(client.get("/admin/certificates"))
    told = session.execute(select(Notification).where(Notification.user_id == vendor.id)).scalar_one()
    assert "certificate is verified" in told.message
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "certificate.verified")).scalar_one()
    assert (record.before, record.after) == ({"status": "pending"}, {"status": "verified"})
    trail = text(client.get("/admin/audit"))
    assert "verified a certificate" in trail

    again = client.post(f"/admin/certificates/{certificate.id}/verify")
    assert again.status_code == 400 and "already verified" in text(again)


def test_admin_rejects_with_a_reason_the_vendor_reads(client, session, login_as, vendor, admin):
    certificate = CertificateFactory(vendor_org_id=vendor.org_id, status=CertificateStatus.PENDING)
    login_as(admin)
    blank = client.post(f"/admin/certificates/{certificate.id}/reject", data={"reason": "  "})
    assert blank.status_code == 400 and "Give the reason" in field_error(text(blank), "reason")
    session.refresh(certificate)
    assert certificate.status == CertificateStatus.PENDING

    reason = "The certificate number is not in the BSI register."
    assert client.post(f"/admin/certificates/{certificate.id}/reject", data={"reason": reason}).status_code == 303
    session.refresh(certificate)
    assert certificate.status == CertificateStatus.REJECTED and certificate.decision_reason == reason
    login_as(vendor)
    page = text(client.get("/certificates"))
    assert "Rejected" in page and reason in page
    assert session.execute(
        select(AuditRecord).where(AuditRecord.action == "certificate.rejected")
    ).scalar_one().after == {"status": "rejected", "reason": reason}


def test_an_expired_certificate_cannot_be_verified(client, session, login_as, vendor, admin):
    certificate = CertificateFactory(
        vendor_org_id=vendor.org_id, status=CertificateStatus.PENDING, expires_on=today() + timedelta(days=2)
    )
    with time_machine.travel(datetime.combine(today() + timedelta(days=3), time(9), tzinfo=UTC), tick=False):
        login_as(admin)
        response = client.post(f"/admin/certificates/{certificate.id}/verify")
        assert response.status_code == 400 and "expired on" in text(response)
    session.refresh(certificate)
    assert certificate.status == CertificateStatus.PENDING


# ---------------------------------------------------------------- what the lab reads


@pytest.fixture
def open_job(session):
    buyer = BuyerFactory()
    job = JobFactory(
        buyer_org_id=buyer.org_id,
        bidding_mode=BiddingMode.OPEN,
        certifications=["iso27001", "soc2_type2"],
        bid_deadline=utcnow() + timedelta(days=10),
    )
    return buyer, job


def standings_of(page: str, vendor_name: str) -> str:
    row = re.search(rf'<tr data-testid="bid-row">(?:(?!</tr>).)*?{re.escape(vendor_name)}.*?</tr>', page, re.S)
    assert row, vendor_name
    cell = re.search(r'data-testid="certifications">(.*?)</td>', row.group(0), re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell.group(1)))


def test_the_comparison_shows_who_holds_a_verified_current_certificate_until_the_day_after_expiry(
    client, session, login_as, open_job
):
    buyer, job = open_job
    expiring = today() + timedelta(days=5)
    holder = VerifiedVendorFactory()
    CertificateFactory(vendor_org_id=holder.org_id, kind="iso27001", expires_on=expiring)
    pending = VerifiedVendorFactory()
    CertificateFactory(vendor_org_id=pending.org_id, kind="iso27001", status=CertificateStatus.PENDING)
    CertificateFactory(vendor_org_id=pending.org_id, kind="soc2_type2", status=CertificateStatus.REJECTED)
    declare(session, pending.org_id, ["iso27001"])
    for vendor in (holder, pending):
        BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    holder_name = session.get(Organization, holder.org_id).name
    pending_name = session.get(Organization, pending.org_id).name

    login_as(buyer)
    page = text(client.get(f"/jobs/{job.id}/bids"))
    assert "✓ ISO 27001" in standings_of(page, holder_name)
    assert f"until {expiring.isoformat()}" in standings_of(page, holder_name)
    assert "✗ SOC 2 Type II" in standings_of(page, holder_name)
    assert "✓" not in standings_of(page, pending_name)  # pending and rejected certificates do not count
    assert "(self-declared on its profile)" in standings_of(page, pending_name)

    with time_machine.travel(datetime.combine(expiring, time(23, 59), tzinfo=UTC), tick=False):
        login_as(buyer)
        assert "✓ ISO 27001" in standings_of(text(client.get(f"/jobs/{job.id}/bids")), holder_name)
    with time_machine.travel(datetime.combine(expiring + timedelta(days=1), time(0, 0), tzinfo=UTC), tick=False):
        login_as(buyer)
        after = standings_of(text(client.get(f"/jobs/{job.id}/bids")), holder_name)
        assert "✗ ISO 27001" in after and "✓" not in after


def test_the_proposal_page_shows_the_bidders_certificates(client, session, login_as, open_job):
    buyer, job = open_job
    vendor = VerifiedVendorFactory()
    CertificateFactory(vendor_org_id=vendor.org_id, kind="soc2_type2", issuer="A-LIGN")
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    login_as(buyer)
    page = text(client.get(f"/jobs/{job.id}/bids/{bid.id}"))
    section = re.search(r'data-testid="certificates">(.*?)</section>', page, re.S).group(1)
    assert "✓ SOC 2 Type II" in section and "✗ ISO 27001" in section


def test_the_vendor_profile_lists_verified_certificates_apart_from_self_declared_ones(client, session, login_as):
    vendor = VerifiedVendorFactory()
    declare(session, vendor.org_id, ["hipaa"])
    CertificateFactory(vendor_org_id=vendor.org_id, kind="iso27001", issuer="BSI Group")
    CertificateFactory(vendor_org_id=vendor.org_id, kind="gdpr", status=CertificateStatus.PENDING)
    login_as(BuyerFactory())
    page = text(client.get(f"/vendors/{vendor.org_id}"))
    verified = re.search(r'data-testid="verified-certificates">(.*?)</dd>', page, re.S).group(1)
    assert "ISO 27001" in verified and "BSI Group" in verified and "GDPR" not in verified
    assert re.search(r"Certifications \(self-declared\)</dt><dd>HIPAA</dd>", page)


# ---------------------------------------------------------------- who may download the file


@pytest.fixture
def stored(client, session, login_as, vendor, admin):
    """The vendor's ISO 27001 certificate, uploaded through the page and verified by the admin."""
    login_as(vendor)
    upload(client)
    certificate = session.execute(select(Certificate)).scalar_one()
    login_as(admin)
    client.post(f"/admin/certificates/{certificate.id}/verify")
    return certificate


def test_the_file_goes_to_the_vendor_admins_and_a_lab_comparing_its_bid(
    client, session, login_as, vendor, admin, stored, open_job
):
    buyer, job = open_job
    BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    url = f"/certificates/{stored.id}/file"
    for reader in (vendor, VendorFactory(org_id=vendor.org_id), admin, buyer):
        login_as(reader)
        response = download(client, url)
        assert response.status_code == 200 and response.data == PDF
        assert response.headers["Content-Disposition"].startswith("attachment")

    for stranger in (BuyerFactory(), VerifiedVendorFactory()):
        login_as(stranger)
        assert download(client, url).status_code == 404
    login_as(buyer)
    assert download(client, f"/certificates/{stored.id + 1000}/file").status_code == 404


def test_a_lab_whose_screening_excludes_the_vendor_gets_404(
    client, session, login_as, vendor, stored, open_job, exclude_vendor
):
    buyer, job = open_job
    BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    exclude_vendor(buyer.org_id, vendor.org_id)
    login_as(buyer)
    assert download(client, f"/certificates/{stored.id}/file").status_code == 404
    assert f"/certificates/{stored.id}/file" not in text(client.get(f"/jobs/{job.id}/bids"))


def test_a_sealed_bid_shows_the_lab_nothing_before_the_deadline(client, session, login_as, vendor, stored):
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.SEALED, certifications=["iso27001"])
    BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    login_as(buyer)
    assert download(client, f"/certificates/{stored.id}/file").status_code == 404
    with time_machine.travel(job.bid_deadline + timedelta(minutes=1), tick=False):
        login_as(buyer)
        assert download(client, f"/certificates/{stored.id}/file").status_code == 200


def test_a_lab_reads_no_certificate_an_admin_has_not_verified(client, session, login_as, vendor, open_job):
    buyer, job = open_job
    login_as(vendor)
    upload(client)
    certificate = session.execute(select(Certificate)).scalar_one()
    BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    login_as(buyer)
    assert download(client, f"/certificates/{certificate.id}/file").status_code == 404


def test_the_bid_form_tells_the_vendor_which_required_certificates_the_lab_will_see(
    client, session, login_as, vendor, open_job
):
    _, job = open_job
    CertificateFactory(vendor_org_id=vendor.org_id, kind="iso27001")
    CertificateFactory(vendor_org_id=vendor.org_id, kind="soc2_type2", status=CertificateStatus.PENDING)
    login_as(vendor)
    page = text(client.get(f"/jobs/{job.id}/bid"))
    hint = re.sub(r"\s+", " ", re.search(r'data-testid="certificates-held">(.*?)</p>', page, re.S).group(1))
    assert "ISO 27001 ✓" in hint and "SOC 2 Type II ✗ (not verified)" in hint


def test_an_upload_on_29_february_is_judged_like_any_other_day(client, session, login_as, vendor):
    with time_machine.travel(datetime(2028, 2, 29, 10, tzinfo=UTC), tick=False):
        login_as(vendor)
        assert upload(client).status_code == 303
        old = upload(client, issued_on="1990-01-01")
        assert "more than 30 years ago" in field_error(text(old), "issued_on")


def test_the_labs_vendor_list_marks_verified_certifications_apart_from_self_declared_ones(client, session, login_as):
    vendor = VerifiedVendorFactory()
    declare(session, vendor.org_id, ["iso27001", "hipaa"])
    CertificateFactory(vendor_org_id=vendor.org_id, kind="iso27001")
    CertificateFactory(vendor_org_id=vendor.org_id, kind="hipaa", expires_on=today() - timedelta(days=1))
    name = session.get(Organization, vendor.org_id).name
    login_as(BuyerFactory())
    page = text(client.get("/vendors"))
    row = re.search(rf'<tr data-testid="vendor-row"(?:(?!</tr>).)*?{re.escape(name)}.*?</tr>', page, re.S).group(0)
    cell = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.split('data-testid="vendor-certifications">')[1]))
    assert "✓ ISO 27001" in cell and "HIPAA (self-declared)" in cell and "✓ HIPAA" not in cell
