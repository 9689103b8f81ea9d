"""Who may reach which job page: another organisation's job is 404, a wrong role 403, a stranger signs in."""

import pytest
from flask import url_for

from marketplace.extensions import db
from marketplace.jobs.models import JobAttachment
from tests.factories import AdminFactory, BuyerFactory, JobFactory, QuestionFactory, VendorFactory

# (endpoint, method) for every route about one job.
JOB_ROUTES = [
    ("jobs.show", "get"),
    ("jobs.edit", "get"),
    ("jobs.edit", "post"),
    ("jobs.publish", "post"),
    ("jobs.cancel", "get"),
    ("jobs.cancel", "post"),
    ("jobs.invite", "post"),
    ("jobs.answer", "post"),
    ("jobs.attachment", "get"),
]
BUYER_ONLY = [
    ("jobs.new", "get"),
    ("jobs.new", "post"),
    ("jobs.edit", "get"),
    ("jobs.edit", "post"),
    ("jobs.publish", "post"),
    ("jobs.cancel", "get"),
    ("jobs.cancel", "post"),
    ("jobs.invite", "post"),
    ("jobs.answer", "post"),
]


def route_url(endpoint: str, job) -> str:
    params = {}
    if endpoint != "jobs.new":
        params["job_id"] = job.id
    if endpoint == "jobs.answer":
        params["question_id"] = QuestionFactory(job_id=job.id).id
    if endpoint == "jobs.attachment":
        attachment = JobAttachment(
            job_id=job.id,
            filename="brief.pdf",
            stored_name=f"x{job.id}secret",
            content_type="application/pdf",
            size_bytes=3,
        )
        db.session.add(attachment)
        db.session.flush()
        params["attachment_id"] = attachment.id
    return url_for(endpoint, **params)


@pytest.mark.parametrize(("endpoint", "method"), JOB_ROUTES)
def test_another_buyers_job_is_not_found_on_every_route(client, login_as, endpoint, method):
    job = JobFactory()
    url = route_url(endpoint, job)
    login_as(BuyerFactory())
    response = getattr(client, method)(url, data={"answer": "x", "vendors": "1", "title": "x"})
    assert response.status_code == 404
    assert b"nothing you can see" in response.data


@pytest.mark.parametrize(("endpoint", "method"), BUYER_ONLY)
@pytest.mark.parametrize("role_factory", [VendorFactory, AdminFactory])
def test_buyer_only_routes_refuse_other_roles(client, login_as, endpoint, method, role_factory):
    job = JobFactory()
    url = route_url(endpoint, job)
    login_as(role_factory())
    response = getattr(client, method)(url, data={})
    assert response.status_code == 403


@pytest.mark.parametrize("role_factory", [BuyerFactory, AdminFactory])
def test_only_vendors_ask_questions(client, login_as, role_factory):
    job = JobFactory()
    login_as(role_factory())
    response = client.post(url_for("jobs.ask", job_id=job.id), data={"text": "Why?"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("endpoint", "method"), [*JOB_ROUTES, ("jobs.index", "get"), ("jobs.new", "get"), ("jobs.ask", "post")]
)
def test_strangers_are_asked_to_sign_in(client, endpoint, method):
    job = JobFactory()
    url = url_for(endpoint) if endpoint in ("jobs.index", "jobs.new") else route_url(endpoint, job)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_vendor_never_sees_a_draft(client, login_as):
    job = JobFactory(status="draft")
    login_as(VendorFactory())
    assert client.get(url_for("jobs.show", job_id=job.id)).status_code == 404
    assert client.post(url_for("jobs.ask", job_id=job.id), data={"text": "Hello?"}).status_code == 404


def test_admin_sees_every_job_but_has_no_buttons(client, login_as):
    job = JobFactory(status="draft", visibility="confidential")
    login_as(AdminFactory())
    page = client.get(url_for("jobs.show", job_id=job.id))
    assert page.status_code == 200
    assert b"Cancel job" not in page.data and b">Publish</button>" not in page.data
