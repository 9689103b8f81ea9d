"""A buyer posts, edits, publishes and cancels its jobs."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job, JobAttachment, JobStatus
from tests.factories import BidFactory, BuyerFactory, JobFactory, VendorFactory


def only_job(session, buyer) -> Job:
    return session.execute(select(Job).where(Job.buyer_org_id == buyer.org_id)).scalar_one()


def test_the_form_offers_every_field_of_a_job(client, login_as):
    login_as(BuyerFactory(timezone="Asia/Tokyo"))
    page = client.get(url_for("jobs.new"))
    assert page.status_code == 200
    for name in (
        "title",
        "description",
        "modality",
        "task_type",
        "volume",
        "unit",
        "quality_metric",
        "quality_target_pct",
        "languages",
        "certifications",
        "data_residency",
        "labeler_locations",
        "hosting",
        "retention_days",
        "deletion_terms",
        "budget_min",
        "budget_max",
        "currency",
        "bid_deadline",
        "delivery_date",
        "visibility",
        "bidding_mode",
        "attachments",
    ):
        assert f'name="{name}"'.encode() in page.data, name
    assert b"Save draft" in page.data and b'value="Publish"' in page.data
    assert b'type="datetime-local"' in page.data
    assert b"Your time zone: Asia/Tokyo" in page.data
    assert b'enctype="multipart/form-data"' in page.data


def test_buyer_publishes_a_job_and_sees_it(client, login_as, session, job_form):
    buyer = login_as(BuyerFactory(timezone="Europe/Madrid"))
    response = client.post(
        url_for("jobs.new"), data=job_form(bid_deadline="2031-07-01T18:30", delivery_date="2031-09-01")
    )
    job = only_job(session, buyer)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url_for("jobs.show", job_id=job.id))
    assert job.status == JobStatus.OPEN
    assert job.bid_deadline == datetime(2031, 7, 1, 16, 30, tzinfo=UTC)
    assert (job.budget_min_minor, job.budget_max_minor, job.currency) == (1_250_000, 3_000_050, "EUR")
    assert job.languages == ["English", "Spanish"] and job.labeler_locations == ["Spain", "Portugal"]
    assert job.certifications == ["soc2_type2", "gdpr"] and job.hosting == "buyer_hosted"
    assert job.quality_target_pct == 97.5 and job.retention_days == 30

    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert "Job published" in text
    assert "Transcribe call-centre audio" in text
    assert "€12,500.00 – €30,000.50" in text
    assert "2031-07-01 18:30 CEST" in text
    assert "SOC 2 Type II, GDPR" in text and "Buyer-hosted storage" in text
    assert ">Edit</a>" in text and "Cancel job" in text


def test_buyer_saves_a_draft_then_publishes_it(client, login_as, session, job_form):
    buyer = login_as(BuyerFactory())
    client.post(url_for("jobs.new"), data=job_form(publish=None, save_draft="Save draft"))
    job = only_job(session, buyer)
    assert job.status == JobStatus.DRAFT
    assert b">Publish</button>" in client.get(url_for("jobs.show", job_id=job.id)).data

    response = client.post(url_for("jobs.publish", job_id=job.id))
    assert response.status_code == 303
    assert job.status == JobStatus.OPEN
    actions = (
        session.execute(
            select(AuditRecord.action).where(AuditRecord.subject_id == job.id, AuditRecord.subject_type == "job")
        )
        .scalars()
        .all()
    )
    assert actions == ["job.published"]


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("1e200000", "“1e200000” is not an amount of money"),
        ("1e999999", "“1e999999” is not an amount of money"),
        ("9" * 30, "too large to be real"),
        ("99999999999999", "cannot be posted"),
    ],
)
def test_an_absurd_budget_is_refused_in_words(client, login_as, session, job_form, budget, message):
    login_as(BuyerFactory())
    response = client.post(url_for("jobs.new"), data=job_form(budget_max=budget))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert f'value="{budget}"' in response.get_data(as_text=True)


def test_bad_input_comes_back_with_messages_and_the_typed_values(client, login_as, session, job_form):
    buyer = login_as(BuyerFactory())
    response = client.post(
        url_for("jobs.new"),
        data=job_form(
            title="Keep my title",
            volume="0",
            quality_target_pct="140",
            budget_min="900",
            budget_max="12.345",
            bid_deadline="2020-01-01T10:00",
            delivery_date="2019-12-01",
        ),
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The volume must be more than zero." in text
    assert "The quality target is a percentage from 0 to 100." in text
    assert "EUR amounts have at most 2 decimal places" in text
    assert "The bid deadline must be in the future to publish the job." in text
    assert "The delivery date must be after the bid deadline." in text
    assert 'value="Keep my title"' in text and 'value="12.345"' in text and 'value="2020-01-01T10:00"' in text
    assert re.search(r'value="gdpr"\s+checked', text)
    assert session.execute(select(Job).where(Job.buyer_org_id == buyer.org_id)).first() is None


def test_unreadable_values_are_refused_next_to_their_field(client, login_as, job_form):
    login_as(BuyerFactory())
    response = client.post(url_for("jobs.new"), data=job_form(volume="lots", budget_min="ten", title=""))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the job a title." in text
    assert "Not a valid integer value." in text and 'value="lots"' in text
    assert "“ten” is not an amount of money" in text


def test_budget_minimum_above_maximum_is_refused(client, login_as, job_form):
    login_as(BuyerFactory())
    response = client.post(url_for("jobs.new"), data=job_form(budget_min="5000", budget_max="4000"))
    assert response.status_code == 400
    assert b"The maximum budget must be at least the minimum." in response.data


def test_confidential_job_gets_a_codename(client, login_as, session, job_form):
    buyer = login_as(BuyerFactory())
    client.post(url_for("jobs.new"), data=job_form(visibility="confidential"))
    assert only_job(session, buyer).codename.startswith("Project ")


def test_attachments_are_stored_under_random_names_and_downloadable(client, login_as, session, job_form, app):
    buyer = login_as(BuyerFactory())
    data = job_form(
        attachments=[
            (io.BytesIO(b"guidelines v1"), "guide lines.pdf"),
            (io.BytesIO(b"a,b\n1,2"), "sample.csv"),
        ]
    )
    response = client.post(url_for("jobs.new"), data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    job = only_job(session, buyer)
    stored = (
        session.execute(select(JobAttachment).where(JobAttachment.job_id == job.id).order_by(JobAttachment.id))
        .scalars()
        .all()
    )
    assert [a.filename for a in stored] == ["guide lines.pdf", "sample.csv"]
    folder = Path(app.config["UPLOAD_FOLDER"]) / "jobs"
    assert (folder / stored[0].stored_name).read_bytes() == b"guidelines v1"
    assert "guide" not in stored[0].stored_name

    with client.get(url_for("jobs.attachment", job_id=job.id, attachment_id=stored[0].id)) as download:
        assert download.status_code == 200
        assert download.data == b"guidelines v1"
        assert download.headers["Content-Disposition"] == 'attachment; filename="guide lines.pdf"'
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in download.headers["Content-Security-Policy"]
        assert "no-store" in download.headers["Cache-Control"]


def test_an_attachment_over_10_mb_is_refused(client, login_as, session, job_form):
    buyer = login_as(BuyerFactory())
    big = FileStorage(io.BytesIO(b"x" * (10 * 1024 * 1024 + 1)), "huge.bin")
    # Encoded in memory: the test client would spool so large a body to a file it never closes.
    boundary, body = encode_multipart(MultiDict(job_form(attachments=big)))
    response = client.post(url_for("jobs.new"), data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert "“huge.bin” is larger than 10 MB." in response.get_data(as_text=True)
    assert session.execute(select(Job).where(Job.buyer_org_id == buyer.org_id)).first() is None


def test_edit_form_shows_the_job_in_the_buyers_zone_and_saves_changes(client, login_as, session, job_form):
    buyer = login_as(BuyerFactory(timezone="America/New_York"))
    client.post(url_for("jobs.new"), data=job_form(bid_deadline="2031-01-15T09:00", delivery_date="2031-03-01"))
    job = only_job(session, buyer)
    page = client.get(url_for("jobs.edit", job_id=job.id))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="2031-01-15T09:00"' in text
    assert 'value="12500.00"' in text and 'value="English, Spanish"' in text
    assert "Save changes" in text and ">Publish<" not in text

    response = client.post(
        url_for("jobs.edit", job_id=job.id),
        data=job_form(
            title="Transcribe and translate",
            bid_deadline="2031-01-20T09:00",
            delivery_date="2031-03-01",
            publish=None,
        ),
    )
    assert response.status_code == 303
    assert job.title == "Transcribe and translate"
    assert job.bid_deadline == datetime(2031, 1, 20, 14, 0, tzinfo=UTC)


def test_edit_with_bad_input_keeps_it(client, login_as, job_form):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id)
    response = client.post(url_for("jobs.edit", job_id=job.id), data=job_form(volume="-5", title="Typed"))
    assert response.status_code == 400
    assert b"The volume must be more than zero." in response.data and b'value="Typed"' in response.data


def test_edit_refused_once_a_vendor_has_bid(client, login_as, job_form):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id)
    BidFactory(job_id=job.id)
    page = client.get(url_for("jobs.show", job_id=job.id))
    assert b">Edit</a>" not in page.data
    for response in (
        client.get(url_for("jobs.edit", job_id=job.id)),
        client.post(url_for("jobs.edit", job_id=job.id), data=job_form(title="Sneaky")),
    ):
        assert response.status_code == 303
    followed = client.get(url_for("jobs.show", job_id=job.id))
    assert b"Vendors have already bid on this job" in followed.data
    assert job.title != "Sneaky"


def test_edit_refused_after_cancel(client, login_as):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.CANCELLED)
    response = client.get(url_for("jobs.edit", job_id=job.id), follow_redirects=True)
    assert b"This job is cancelled; it can no longer be edited." in response.data


def test_edit_removes_and_adds_attachments(client, login_as, session, job_form):
    buyer = login_as(BuyerFactory())
    client.post(
        url_for("jobs.new"),
        data=job_form(publish=None, save_draft="Save draft", attachments=[(io.BytesIO(b"old"), "old.txt")]),
        content_type="multipart/form-data",
    )
    job = only_job(session, buyer)
    [old] = session.execute(select(JobAttachment).where(JobAttachment.job_id == job.id)).scalars().all()
    response = client.post(
        url_for("jobs.edit", job_id=job.id),
        data=job_form(
            remove_attachments=[str(old.id)], publish="Publish", attachments=[(io.BytesIO(b"new"), "new.txt")]
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    names = session.execute(select(JobAttachment.filename).where(JobAttachment.job_id == job.id)).scalars().all()
    assert names == ["new.txt"]
    assert job.status == JobStatus.OPEN


def test_cancel_tells_the_bidders(client, login_as, session, notifications):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id)
    bidder = VendorFactory()
    BidFactory(job_id=job.id, vendor_org_id=bidder.org_id)
    response = client.post(url_for("jobs.cancel", job_id=job.id))
    assert response.status_code == 303
    assert job.status == JobStatus.CANCELLED
    assert notifications(bidder.org_id) == [
        ("job_cancelled", f"“{job.title}”, which you bid on, was cancelled by the buyer.")
    ]
    page = client.get(url_for("jobs.show", job_id=job.id))
    assert b"Job cancelled." in page.data and b"Cancel job" not in page.data


def test_cancel_refused_after_award(client, login_as):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.AWARDED, awarded_at=utcnow())
    response = client.post(url_for("jobs.cancel", job_id=job.id), follow_redirects=True)
    assert b"This job has been awarded; it can no longer be cancelled." in response.data
    assert job.status == JobStatus.AWARDED


def test_publish_refused_when_the_deadline_has_passed(client, login_as):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.DRAFT, bid_deadline=utcnow() - timedelta(hours=2))
    response = client.post(url_for("jobs.publish", job_id=job.id), follow_redirects=True)
    assert b"The bid deadline has passed" in response.data
    assert job.status == JobStatus.DRAFT


def test_an_open_job_past_its_deadline_shows_as_closed(client, login_as):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id, bid_deadline=utcnow() - timedelta(minutes=5))
    page = client.get(url_for("jobs.show", job_id=job.id))
    assert b'class="badge badge-closed"' in page.data
    assert b">Edit</a>" not in page.data and b"Cancel job" in page.data
