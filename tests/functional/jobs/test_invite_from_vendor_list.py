"""A lab invites a vendor to one of its invite-only jobs straight from its vendor list; the vendor is told and sees
the job. Screening still decides: an excluded vendor gets no Invite button, and one invited anyway is not told."""

from sqlalchemy import select

from marketplace.jobs.models import JobInvitation, JobStatus, Visibility
from marketplace.notifications.models import Notification
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory


def text(response) -> str:
    return response.get_data(as_text=True)


def invited(session, job) -> set[int]:
    return set(session.execute(select(JobInvitation.vendor_org_id).where(JobInvitation.job_id == job.id)).scalars())


def test_the_lab_invites_a_vendor_from_its_vendor_list(client, session, login_as, exclude_vendor):
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.INVITE_ONLY, title="Red-team our new model")
    JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.PUBLIC, title="A public job")
    JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.INVITE_ONLY, status=JobStatus.CANCELLED, title="Over")
    vendor, excluded = VerifiedVendorFactory(), VerifiedVendorFactory()
    exclude_vendor(buyer.org_id, excluded.org_id)
    session.flush()

    login_as(buyer)
    page = text(client.get("/vendors?show_excluded=y"))
    assert page.count('data-testid="invite-one"') == 1  # the clear vendor's row only
    assert "Red-team our new model" in page and "A public job</option>" not in page and ">Over</option>" not in page

    response = client.post("/jobs/invite-vendor", data={"job_id": job.id, "vendor_id": vendor.org_id})
    assert response.status_code == 303 and response.location.endswith("/vendors")
    assert invited(session, job) == {vendor.org_id}
    told = session.execute(select(Notification).where(Notification.user_id == vendor.id)).scalar_one()
    assert told.kind == "job_invitation" and told.job_id == job.id

    again = client.post(
        "/jobs/invite-vendor", data={"job_id": job.id, "vendor_id": vendor.org_id}, follow_redirects=True
    )
    assert "is already invited." in text(again)

    # Invited anyway, the excluded vendor is not told, and the lab reads why in words that name no rule.
    hidden = client.post(
        "/jobs/invite-vendor", data={"job_id": job.id, "vendor_id": excluded.org_id}, follow_redirects=True
    )
    assert "Screening keeps the job hidden from" in text(hidden)
    assert session.execute(select(Notification).where(Notification.user_id == excluded.id)).first() is None

    login_as(vendor)
    assert client.get(f"/jobs/{job.id}").status_code == 200


def test_only_the_labs_own_invite_only_jobs_take_invitations_from_the_list(client, session, login_as):
    buyer, other_lab = BuyerFactory(), BuyerFactory()
    theirs = JobFactory(buyer_org_id=other_lab.org_id, visibility=Visibility.INVITE_ONLY)
    public = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.PUBLIC)
    vendor = VerifiedVendorFactory()
    session.flush()
    login_as(buyer)
    assert client.post("/jobs/invite-vendor", data={"job_id": theirs.id, "vendor_id": vendor.org_id}).status_code == 404
    refused = client.post(
        "/jobs/invite-vendor", data={"job_id": public.id, "vendor_id": vendor.org_id}, follow_redirects=True
    )
    assert "Only invite-only jobs take invitations" in text(refused)
    missing = client.post("/jobs/invite-vendor", data={"vendor_id": vendor.org_id}, follow_redirects=True)
    assert "Choose one of your invite-only jobs." in text(missing)
    login_as(vendor)
    assert client.post("/jobs/invite-vendor", data={"job_id": public.id, "vendor_id": vendor.org_id}).status_code == 403
    assert session.execute(select(JobInvitation)).first() is None
