"""A lab that signed up itself drafts jobs but publishes only once an admin has verified it."""

from flask import url_for

from marketplace.audit.models import AuditRecord
from marketplace.jobs.models import Job, JobStatus
from tests.factories import AdminFactory, BuyerFactory, BuyerOrgFactory, JobFactory, VendorOrgFactory


def _unverified_buyer():
    return BuyerFactory(org_id=BuyerOrgFactory(name="Northwind Imposter", verified_at=None).id)


def test_an_unverified_lab_drafts_but_cannot_publish_a_new_job(client, login_as, session, job_form):
    buyer = login_as(_unverified_buyer())
    refused = client.post(url_for("jobs.new"), data=job_form())
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "awaiting verification by the platform" in text
    assert 'value="Transcribe call-centre audio"' in text  # the form comes back filled
    assert session.query(Job).filter_by(buyer_org_id=buyer.org_id).count() == 0
    draft = client.post(url_for("jobs.new"), data=job_form(publish=None, save_draft="Save draft"))
    assert draft.status_code == 303
    assert session.query(Job).filter_by(buyer_org_id=buyer.org_id).one().status == JobStatus.DRAFT


def test_an_unverified_lab_cannot_publish_a_draft(client, login_as, session):
    buyer = login_as(_unverified_buyer())
    job = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.DRAFT, published_at=None)
    response = client.post(url_for("jobs.publish", job_id=job.id), follow_redirects=True)
    assert "awaiting verification by the platform" in response.get_data(as_text=True)
    assert session.get(Job, job.id).status == JobStatus.DRAFT


def test_an_admin_verifies_the_lab_which_is_told_and_then_publishes(client, login_as, switch_to, session):
    buyer = _unverified_buyer()
    job = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.DRAFT, published_at=None)
    login_as(AdminFactory())
    page = client.get(url_for("admin_orgs.show", org_id=buyer.org_id)).get_data(as_text=True)
    assert "Awaiting verification" in page
    assert client.post(url_for("admin_orgs.verify", org_id=buyer.org_id)).status_code == 303
    record = session.query(AuditRecord).filter_by(action="organization.verified", subject_id=buyer.org_id).one()
    assert record.after == {"verified": True}
    switch_to(buyer)
    assert "is verified" in client.get(url_for("notifications.index")).get_data(as_text=True)
    client.post(url_for("jobs.publish", job_id=job.id))
    assert session.get(Job, job.id).status == JobStatus.OPEN


def test_verifying_twice_or_a_vendor_is_refused(client, login_as):
    login_as(AdminFactory())
    verified = BuyerOrgFactory()
    assert client.post(url_for("admin_orgs.verify", org_id=verified.id)).status_code == 400
    assert client.post(url_for("admin_orgs.verify", org_id=VendorOrgFactory().id)).status_code == 400
    assert client.post(url_for("admin_orgs.verify", org_id=999999)).status_code == 404


def test_only_admins_verify_labs(client, login_as):
    org = BuyerOrgFactory(verified_at=None)
    login_as(BuyerFactory())
    assert client.post(url_for("admin_orgs.verify", org_id=org.id)).status_code == 403
