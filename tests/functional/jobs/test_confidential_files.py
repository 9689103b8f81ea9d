"""A confidential job's files reach vendors without what would name the lab; the lab sees what was removed, the
codename vendors see, how many vendors can see the job, and that an award reveals its name."""

import io
from pathlib import Path

from flask import url_for
from pypdf import PdfWriter
from sqlalchemy import select

from marketplace.disclosures.models import DisclosureStatus
from marketplace.jobs.models import BiddingMode, Job, JobAttachment, Visibility
from tests.factories import BidFactory, BuyerFactory, DisclosureFactory, JobFactory, VerifiedVendorFactory

AUTHOR = "Maya Lindqvist, Northwind AI"


def pdf_by_maya() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": AUTHOR, "/Creator": "Northwind AI"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def post_job(client, job_form, visibility: str, **changes):
    data = job_form(visibility=visibility, attachments=[(io.BytesIO(pdf_by_maya()), "brief\u202efdp.exe")], **changes)
    response = client.post(url_for("jobs.new"), data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def latest(session, model, **where):
    return session.execute(select(model).filter_by(**where).order_by(model.id.desc()).limit(1)).scalar_one()


def test_a_confidential_jobs_pdf_reaches_vendors_without_the_labs_name(client, switch_to, session, job_form, app):
    buyer = switch_to(BuyerFactory())
    post_job(client, job_form, "confidential")
    job = latest(session, Job, buyer_org_id=buyer.org_id)
    attachment = latest(session, JobAttachment, job_id=job.id)

    assert attachment.filename == "brieffdp.exe"
    stored = (Path(app.config["UPLOAD_FOLDER"]) / "jobs" / attachment.stored_name).read_bytes()
    assert b"Maya" not in stored and b"Northwind" not in stored
    page = client.get(url_for("jobs.show", job_id=job.id)).get_data(as_text=True)
    assert "Removed: " in page and f"PDF Author “{AUTHOR}”" in page
    assert f"Vendors see this job as <strong>{job.codename}</strong>" in page

    switch_to(VerifiedVendorFactory())
    with client.get(url_for("jobs.attachment", job_id=job.id, attachment_id=attachment.id)) as download:
        assert download.status_code == 200
        assert b"Maya" not in download.data and b"Northwind" not in download.data
    vendor_page = client.get(url_for("jobs.show", job_id=job.id)).get_data(as_text=True)
    assert "Removed:" not in vendor_page and "Vendors see this job as" not in vendor_page


def test_a_public_jobs_file_is_kept_as_uploaded(client, switch_to, session, job_form, app):
    buyer = switch_to(BuyerFactory())
    post_job(client, job_form, "public")
    attachment = latest(session, JobAttachment, job_id=latest(session, Job, buyer_org_id=buyer.org_id).id)
    assert (Path(app.config["UPLOAD_FOLDER"]) / "jobs" / attachment.stored_name).read_bytes() == pdf_by_maya()
    assert attachment.metadata_note == ""


def test_a_job_made_confidential_later_has_its_files_cleaned_then(client, switch_to, session, job_form, app):
    buyer = switch_to(BuyerFactory())
    post_job(client, job_form, "public", publish=None, save_draft="Save draft")
    job = latest(session, Job, buyer_org_id=buyer.org_id)
    response = client.post(
        url_for("jobs.edit", job_id=job.id),
        data=job_form(visibility="confidential", publish=None, save_draft="Save draft"),
    )
    assert response.status_code == 303
    attachment = latest(session, JobAttachment, job_id=job.id)
    assert b"Maya" not in (Path(app.config["UPLOAD_FOLDER"]) / "jobs" / attachment.stored_name).read_bytes()
    assert attachment.metadata_note.startswith("Removed: ") and f"PDF Author “{AUTHOR}”" in attachment.metadata_note


def test_a_broken_pdf_on_a_confidential_job_is_refused_with_the_form_kept(client, switch_to, session, job_form):
    buyer = switch_to(BuyerFactory())
    data = job_form(
        visibility="confidential", title="Keep me", attachments=[(io.BytesIO(b"%PDF-1.7 not really"), "broken.pdf")]
    )
    response = client.post(url_for("jobs.new"), data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "“broken.pdf”: This PDF could not be read" in text and 'value="Keep me"' in text
    assert session.execute(select(Job).where(Job.buyer_org_id == buyer.org_id)).first() is None


def test_the_lab_sees_how_many_vendors_can_see_its_job(client, login_as, session, exclude_vendor):
    buyer = BuyerFactory()
    clear, excluded, filing = VerifiedVendorFactory(), VerifiedVendorFactory(), VerifiedVendorFactory()
    # A vendor whose new filing awaits review sees public jobs only, whatever its verdict.
    DisclosureFactory(vendor_org_id=filing.org_id, number=2, status=DisclosureStatus.SUBMITTED)
    confidential = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL, codename="Osprey")
    public = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.PUBLIC)
    exclude_vendor(buyer.org_id, excluded.org_id)
    from marketplace.screening.services.refresh import refresh_verdicts

    refresh_verdicts(session, None)
    login_as(buyer)
    from marketplace import visibility
    from marketplace.accounts.models import Organization, OrgKind

    vendors = session.execute(select(Organization).where(Organization.kind == OrgKind.VENDOR)).scalars().all()
    for job in (confidential, public):
        live = live_seeing(session, job)
        assert visibility.vendor_ids_seeing(session, job) == live
        page = client.get(url_for("jobs.show", job_id=job.id)).get_data(as_text=True)
        assert f"{len(live)} vendor" in page
    assert visibility.count_vendors_seeing(session, public) == len(vendors)
    assert visibility.count_vendors_seeing(session, confidential) < len(vendors)
    seeing_confidential = visibility.vendor_ids_seeing(session, confidential)
    assert clear.org_id in seeing_confidential and filing.org_id not in seeing_confidential
    assert excluded.org_id not in seeing_confidential


def live_seeing(session, job) -> set[int]:
    """The vendor organisations whose users the job's page would open for: asked of each vendor, live."""
    from marketplace import visibility
    from marketplace.accounts.models import User

    users = session.execute(select(User).where(User.role == "vendor")).scalars().all()
    return {
        user.org_id
        for user in users
        if session.execute(select(Job.id).where(Job.id == job.id, visibility.job_filter(session, user))).first()
    }


def test_a_vendor_never_screened_for_the_lab_is_screened_before_it_is_counted(session, exclude_vendor):
    """No stored verdict for the pair (the tie was recorded without a refresh): a gap is never taken as clear."""
    from marketplace import visibility

    buyer = BuyerFactory()
    clear, excluded = VerifiedVendorFactory(), VerifiedVendorFactory()
    confidential = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
    exclude_vendor(buyer.org_id, excluded.org_id)
    seeing = visibility.vendor_ids_seeing(session, confidential)
    assert clear.org_id in seeing and excluded.org_id not in seeing
    assert seeing == live_seeing(session, confidential)


def test_before_an_award_the_lab_is_told_it_reveals_its_name(client, login_as, session):
    buyer = BuyerFactory()
    job = JobFactory(
        buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL, codename="Osprey", bidding_mode=BiddingMode.OPEN
    )
    BidFactory(job_id=job.id, vendor_org_id=VerifiedVendorFactory().org_id)
    login_as(buyer)
    page = client.get(url_for("bids.compare", job_id=job.id)).get_data(as_text=True)
    assert "Awarding a bid tells that vendor your organisation" in page and "Osprey" in page
