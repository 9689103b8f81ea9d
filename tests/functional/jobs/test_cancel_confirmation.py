"""Cancelling a job asks for confirmation first, on a page that works without JavaScript."""

import re
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import BidStatus
from marketplace.db_types import utcnow
from marketplace.jobs.models import JobStatus, Visibility
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory, BidFactory, BuyerFactory, JobFactory, VendorFactory


def page(response) -> str:
    """The page's text with its whitespace run together, as a reader sees it."""
    return " ".join(unescape(response.get_data(as_text=True)).split())


def trail_and_notes(session) -> tuple[int, int]:
    return tuple(
        session.execute(select(func.count()).select_from(model)).scalar_one() for model in (AuditRecord, Notification)
    )


@pytest.fixture
def buyer():
    return BuyerFactory()


@pytest.fixture
def job(buyer):
    """An open job with two live bids and a withdrawn one."""
    job = JobFactory(buyer_org_id=buyer.org_id, title="Transcribe call-centre audio")
    for status in (BidStatus.ACTIVE, BidStatus.ACTIVE, BidStatus.WITHDRAWN):
        BidFactory(job_id=job.id, vendor_org_id=VendorFactory().org_id, status=status)
    return job


def test_the_cancel_page_says_what_happens_and_changes_nothing(client, login_as, session, buyer, job):
    login_as(buyer)
    before = trail_and_notes(session)
    response = client.get(url_for("jobs.cancel", job_id=job.id))
    html = page(response)

    assert response.status_code == 200
    assert "Cancel “Transcribe call-centre audio”?" in html
    assert "Vendors can no longer bid on it or ask about it" in html
    assert "The 2 vendors that bid on it are told it was cancelled." in html
    assert "Cancelling cannot be undone: the job cannot be reopened or edited." in html
    form = re.search(rf'<form method="post" action="{url_for("jobs.cancel", job_id=job.id)}"[^>]*>(.*?)</form>', html)
    assert form and 'name="csrf_token"' in form.group(1) and ">Cancel the job</button>" in form.group(1)
    assert f'href="{url_for("jobs.show", job_id=job.id)}">Go back</a>' in form.group(1)
    assert trail_and_notes(session) == before and job.status == JobStatus.OPEN


def test_a_draft_is_cancelled_without_telling_anyone(client, login_as, buyer):
    draft = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.DRAFT)
    login_as(buyer)
    html = page(client.get(url_for("jobs.cancel", job_id=draft.id)))
    assert "The draft is cancelled; no vendor has seen it." in html and "told" not in html


def test_the_job_page_links_to_the_cancel_page(client, login_as, buyer, job):
    login_as(buyer)
    html = page(client.get(url_for("jobs.show", job_id=job.id)))
    url = url_for("jobs.cancel", job_id=job.id)
    assert f'href="{url}">Cancel job</a>' in html and f'action="{url}"' not in html


def test_posting_the_cancel_page_cancels(app, client, login_as, session, buyer, job):
    login_as(buyer)
    app.config["WTF_CSRF_ENABLED"] = True  # the app fixture turns it off again for the next test
    url = url_for("jobs.cancel", job_id=job.id)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(client.get(url))).group(1)
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 303
    assert job.status == JobStatus.CANCELLED


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (JobStatus.CANCELLED, "This job is already cancelled."),
        (JobStatus.AWARDED, "This job has been awarded; it can no longer be cancelled."),
    ],
)
def test_a_job_that_cannot_be_cancelled_says_why_instead_of_the_button(client, login_as, buyer, job, status, message):
    job.status = status
    login_as(buyer)
    response = client.get(url_for("jobs.cancel", job_id=job.id))
    assert response.status_code == 403
    assert message in page(response) and "Cancel the job</button>" not in page(response)


def test_the_cancel_page_answers_as_cancelling_does(client, login_as, session, buyer, job):
    url = url_for("jobs.cancel", job_id=job.id)
    login_as(BuyerFactory())
    assert client.get(url).status_code == 404
    assert client.get(url_for("jobs.cancel", job_id=999_999)).status_code == 404
    for other in (VendorFactory(), AdminFactory()):
        login_as(other)
        assert client.get(url).status_code == 403
    session.get(Organization, buyer.org_id).suspended_at = utcnow()
    session.commit()  # to the test's savepoint, like real data: the refusal rolls the request's work back
    login_as(buyer)
    response = client.get(url)
    assert response.status_code == 403 and "is suspended, so you cannot act on the marketplace" in page(response)


def test_a_confidential_jobs_cancel_page_is_hidden_from_vendors_as_the_job_is(client, login_as, session, buyer):
    confidential = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
    login_as(VendorFactory())
    for url in (url_for("jobs.cancel", job_id=confidential.id), url_for("jobs.cancel", job_id=999_999)):
        assert client.get(url).status_code == 403  # a buyer's page: the role is refused before any job is read
