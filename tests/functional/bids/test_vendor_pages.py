"""Vendors place, see, revise and withdraw bids through the pages."""

from html import unescape
from zoneinfo import ZoneInfo

import pytest
from flask import url_for
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.jobs.models import JobStatus, Visibility
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory, BidFactory, BuyerFactory, JobFactory, VendorFactory
from tests.functional.bids.conftest import soon

GOOD = {
    "price_per_unit": "0.55",
    "total": "22,000.00",
    "turnaround_days": "14",
    "quality_guarantee_pct": "98.5",
    "proposal": "Two-pass review by trained annotators.",
    "data_handling_response": "Data residency: EU — all labelers in Lisbon.",
}


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def bid_of(session, job, vendor):
    return session.execute(
        select(Bid).where(Bid.job_id == job.id, Bid.vendor_org_id == vendor.org_id)
    ).scalar_one_or_none()


# ---------------------------------------------------------------- placing


def test_the_bid_form_shows_the_job_and_its_data_handling_requirements(client, login_as, job, vendor):
    job.data_residency = "EU"
    login_as(vendor)
    response = client.get(url_for("bids.new", job_id=job.id))
    html = page(response)
    assert response.status_code == 200
    assert "Label 40k street scenes" in html
    assert "Data residency: EU" in html
    assert 'name="price_per_unit"' in html and 'name="total"' in html


def test_a_vendor_places_a_bid_in_major_units(client, login_as, session, job, buyer, vendor):
    login_as(vendor)
    response = client.post(url_for("bids.new", job_id=job.id), data=GOOD)

    bid = bid_of(session, job, vendor)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url_for("bids.show", bid_id=bid.id))
    assert (bid.price_per_unit_minor, bid.total_minor, bid.currency) == (55, 2_200_000, "USD")
    assert bid.turnaround_days == 14
    assert bid.quality_guarantee_pct == 98.5
    html = page(client.get(response.headers["Location"]))
    assert "Your bid is placed" in html
    assert "$22,000.00" in html and "revision 1" in html


@pytest.mark.parametrize(
    ("changes", "message", "kept"),
    [
        ({"price_per_unit": "abc"}, "“abc” is not an amount of money", 'value="abc"'),
        ({"price_per_unit": "0.555"}, "USD amounts have at most 2 decimal places", 'value="0.555"'),
        ({"price_per_unit": "0"}, "Enter a price per unit above zero.", 'value="0"'),
        ({"total": "-4"}, "Enter a total above zero.", 'value="-4"'),
        ({"price_per_unit": "30", "total": "20"}, "The total cannot be less than the price per unit.", 'value="20"'),
        ({"turnaround_days": "0"}, "Turnaround is between 1 and 3,650 days.", 'value="0"'),
        ({"turnaround_days": "soon"}, "Not a valid integer value.", 'value="soon"'),
        ({"quality_guarantee_pct": "120"}, "A quality guarantee is between 0 and 100%.", 'value="120"'),
        ({"total": ""}, "This field is required.", 'name="total"'),
        ({"total": "1e200000"}, "“1e200000” is not an amount of money", 'value="1e200000"'),
        ({"total": "1e999999"}, "“1e999999” is not an amount of money", 'value="1e999999"'),
        ({"total": "9" * 30}, "too large to be real", 'value="' + "9" * 30 + '"'),
    ],
)
def test_bad_terms_are_refused_with_the_typed_values_kept(
    client, login_as, session, job, vendor, changes, message, kept
):
    login_as(vendor)
    response = client.post(url_for("bids.new", job_id=job.id), data={**GOOD, **changes})

    html = page(response)
    assert response.status_code == 400
    assert message in html
    assert kept in html
    assert "Two-pass review by trained annotators." in html
    assert bid_of(session, job, vendor) is None


def test_a_bid_after_the_deadline_is_refused_with_the_deadline_in_the_users_zone(
    client, login_as, session, vendor, past_deadline
):
    job = JobFactory(bid_deadline=soon())
    vendor.timezone = "America/New_York"
    in_new_york = job.bid_deadline.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M %Z")
    login_as(vendor)
    with past_deadline(job):
        shown = client.get(url_for("bids.new", job_id=job.id))
        posted = client.post(url_for("bids.new", job_id=job.id), data=GOOD)

    assert in_new_york.endswith(("EST", "EDT"))
    assert shown.status_code == 403
    assert f"Bidding on this job closed at {in_new_york}." in page(shown)
    assert 'name="total"' not in page(shown)
    assert posted.status_code == 400
    assert f"Bidding on this job closed at {in_new_york}." in page(posted)
    assert 'value="22,000.00"' in page(posted)
    assert bid_of(session, job, vendor) is None


def test_an_excluded_vendor_is_told_it_cannot_bid(client, login_as, session, job, vendor, exclude):
    exclude(job.buyer_org_id, session.get(Organization, vendor.org_id))
    login_as(vendor)
    shown = client.get(url_for("bids.new", job_id=job.id))
    posted = client.post(url_for("bids.new", job_id=job.id), data=GOOD)

    assert shown.status_code == 403 and "You cannot bid on this job" in page(shown)
    assert posted.status_code == 400 and "You cannot bid on this job" in page(posted)
    assert bid_of(session, job, vendor) is None


def test_a_cancelled_job_takes_no_bids(client, login_as, vendor):
    job = JobFactory(status=JobStatus.CANCELLED)
    login_as(vendor)
    response = client.get(url_for("bids.new", job_id=job.id))
    assert response.status_code == 403 and "This job is not taking bids." in page(response)


def test_a_second_bid_goes_to_revise_the_first(client, login_as, job, vendor):
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    login_as(VendorFactory(org_id=vendor.org_id))
    response = client.get(url_for("bids.new", job_id=job.id))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url_for("bids.revise", bid_id=bid.id))


def test_a_bid_posted_after_a_colleagues_bid_comes_back_as_typed(client, login_as, session, job, vendor):
    """The form was opened before a colleague's bid landed: nothing typed is lost, and the page says why."""
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    login_as(VendorFactory(org_id=vendor.org_id))
    response = client.post(url_for("bids.new", job_id=job.id), data={**GOOD, "proposal": "Our typed proposal"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "already bid on this job: revise that bid instead" in page
    assert "Our typed proposal" in page
    assert session.get(Bid, bid.id).revision == 1


def test_a_job_the_vendor_may_not_see_is_not_found(client, login_as, session, vendor, exclude):
    confidential = JobFactory(visibility=Visibility.CONFIDENTIAL)
    exclude(confidential.buyer_org_id, session.get(Organization, vendor.org_id))
    draft = JobFactory(status=JobStatus.DRAFT)
    login_as(vendor)
    for job in (confidential, draft):
        assert client.get(url_for("bids.new", job_id=job.id)).status_code == 404
        assert client.post(url_for("bids.new", job_id=job.id), data=GOOD).status_code == 404
    assert client.get(url_for("bids.new", job_id=999_999)).status_code == 404


# ---------------------------------------------------------------- seeing, revising, withdrawing


@pytest.fixture
def bid(job, vendor):
    return BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=2_400_000, price_per_unit_minor=60)


def test_the_bid_page_shows_every_revision(client, login_as, session, job, vendor, bid):
    login_as(vendor)
    response = client.post(url_for("bids.revise", bid_id=bid.id), data={**GOOD, "total": "21,000"})
    assert response.status_code == 303
    html = page(client.get(url_for("bids.show", bid_id=bid.id)))

    assert html.count('data-testid="revision"') == 2
    assert "$24,000.00" in html and "$21,000.00" in html
    revisions = session.execute(select(BidRevision).where(BidRevision.bid_id == bid.id)).scalars().all()
    assert sorted((r.number, r.total_minor) for r in revisions) == [(1, 2_400_000), (2, 2_100_000)]


def test_the_revise_form_is_filled_in_with_the_current_terms(client, login_as, vendor, bid):
    login_as(vendor)
    html = page(client.get(url_for("bids.revise", bid_id=bid.id)))
    assert 'value="24000.00"' in html and 'value="0.60"' in html and 'value="21"' in html


def test_a_bad_revision_is_refused_and_keeps_the_typed_values(client, login_as, session, vendor, bid):
    login_as(vendor)
    response = client.post(url_for("bids.revise", bid_id=bid.id), data={**GOOD, "quality_guarantee_pct": "-3"})
    assert response.status_code == 400
    assert "A quality guarantee is between 0 and 100%." in page(response)
    assert 'value="-3"' in page(response)
    assert session.get(Bid, bid.id).revision == 1


def test_a_withdrawn_bid_is_not_revised(client, login_as, session, job, vendor, bid):
    login_as(vendor)
    response = client.post(url_for("bids.withdraw", bid_id=bid.id))
    assert response.status_code == 303
    assert "Your bid is withdrawn. You may bid again on this job until its deadline." in page(
        client.get(response.headers["Location"])
    )
    assert session.get(Bid, bid.id).status == BidStatus.WITHDRAWN

    shown = client.get(url_for("bids.revise", bid_id=bid.id))
    posted = client.post(url_for("bids.revise", bid_id=bid.id), data=GOOD)
    # Both lead to bidding again (tests/functional/bids/test_bid_again.py), never to a revision.
    assert shown.status_code == 303 and shown.headers["Location"].endswith(url_for("bids.new", job_id=job.id))
    assert posted.status_code == 400 and "This bid was withdrawn, so it was not revised" in page(posted)
    assert session.get(Bid, bid.id).revision == 1


def test_revising_and_withdrawing_after_the_deadline_are_refused(
    client, login_as, session, job, vendor, bid, past_deadline
):
    login_as(vendor)
    with past_deadline(job):
        shown = client.get(url_for("bids.revise", bid_id=bid.id))
        withdrawn = client.post(url_for("bids.withdraw", bid_id=bid.id), follow_redirects=True)
        bid_page = page(client.get(url_for("bids.show", bid_id=bid.id)))
    deadline = job.bid_deadline.strftime("%Y-%m-%d %H:%M UTC")
    assert shown.status_code == 403 and f"Bidding on this job closed at {deadline}." in page(shown)
    assert f"Bidding on this job closed at {deadline}." in page(withdrawn)
    assert session.get(Bid, bid.id).status == BidStatus.ACTIVE
    assert url_for("bids.revise", bid_id=bid.id) not in bid_page


def test_another_vendors_bid_is_not_found(client, login_as, bid):
    login_as(VendorFactory())
    assert client.get(url_for("bids.show", bid_id=bid.id)).status_code == 404
    assert client.get(url_for("bids.revise", bid_id=bid.id)).status_code == 404
    assert client.post(url_for("bids.revise", bid_id=bid.id), data=GOOD).status_code == 404
    assert client.post(url_for("bids.withdraw", bid_id=bid.id)).status_code == 404


VENDOR_ENDPOINTS = ["bids.new", "bids.mine", "bids.show", "bids.revise", "bids.withdraw"]


def request_vendor_page(client, endpoint, job, bid):
    args = {"bids.new": {"job_id": job.id}, "bids.mine": {}}.get(endpoint, {"bid_id": bid.id})
    method = client.post if endpoint == "bids.withdraw" else client.get
    return method(url_for(endpoint, **args))


@pytest.mark.parametrize("endpoint", VENDOR_ENDPOINTS)
def test_vendor_pages_send_strangers_to_sign_in(client, job, bid, endpoint):
    response = request_vendor_page(client, endpoint, job, bid)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", ["buyer", "admin"])
@pytest.mark.parametrize("endpoint", VENDOR_ENDPOINTS)
def test_vendor_pages_refuse_other_roles(client, login_as, job, bid, endpoint, role):
    login_as(BuyerFactory(org_id=job.buyer_org_id) if role == "buyer" else AdminFactory())
    assert request_vendor_page(client, endpoint, job, bid).status_code == 403


# ---------------------------------------------------------------- our bids


def test_our_bids_lists_each_bid_with_its_outcome(client, login_as, session, vendor):
    won_job = JobFactory(title="Box 10k drone frames")
    BidFactory(job_id=won_job.id, vendor_org_id=vendor.org_id, status=BidStatus.AWARDED, total_minor=1_234_500)
    conflicted_job = JobFactory(title="Transcribe call-centre audio")
    BidFactory(job_id=conflicted_job.id, vendor_org_id=vendor.org_id, conflicted=True)
    confidential = JobFactory(visibility=Visibility.CONFIDENTIAL, codename="Project Osprey")
    BidFactory(job_id=confidential.id, vendor_org_id=vendor.org_id, status=BidStatus.WITHDRAWN)
    others_job = JobFactory(title="Somebody else's job")
    BidFactory(job_id=others_job.id)
    login_as(vendor)
    html = page(client.get(url_for("bids.mine")))

    assert html.count('data-testid="my-bid"') == 3
    assert "Box 10k drone frames" in html and "$12,345.00" in html
    assert session.get(Organization, won_job.buyer_org_id).name in html
    assert "Project Osprey" in html
    assert session.get(Organization, confidential.buyer_org_id).name not in html
    for outcome in ("badge-awarded", "badge-not-considered", "badge-withdrawn"):
        assert outcome in html
    assert "Somebody else's job" not in html


def test_notifications_of_a_new_bid_go_to_the_buyer_only(client, login_as, session, job, buyer, vendor):
    colleague = BuyerFactory(org_id=job.buyer_org_id)
    outsider = BuyerFactory()
    login_as(vendor)
    client.post(url_for("bids.new", job_id=job.id), data=GOOD)

    notes = session.execute(select(Notification)).scalars().all()
    assert sorted(n.user_id for n in notes) == sorted([buyer.id, colleague.id])
    assert outsider.id not in {n.user_id for n in notes}
    for note in notes:
        assert note.kind == "new_bid"
        assert "22,000" not in note.message and "0.55" not in note.message


def test_posts_without_the_csrf_token_change_nothing(app, client, login_as, session, job, vendor, bid):
    app.config["WTF_CSRF_ENABLED"] = True  # the app fixture turns it off again for the next test
    login_as(vendor)
    assert client.post(url_for("bids.withdraw", bid_id=bid.id)).status_code == 400
    assert client.post(url_for("bids.revise", bid_id=bid.id), data=GOOD).status_code == 400
    assert session.get(Bid, bid.id).status == BidStatus.ACTIVE
    assert 'name="csrf_token"' in page(client.get(url_for("bids.revise", bid_id=bid.id)))


def test_an_excluded_vendor_learns_only_that_its_bid_is_out_never_why(
    client, login_as, session, job, vendor, exclude_vendor
):
    from marketplace.bids import service
    from marketplace.bids.service import Offer

    bid = service.place_bid(
        session, vendor, job.id, Offer(price_per_unit_minor=50, total_minor=50_000, turnaround_days=10)
    )
    exclude_vendor(job.buyer_org_id, vendor.org_id)
    from marketplace.screening.services.refresh import refresh_verdicts

    refresh_verdicts(session, None, vendor_org_ids=[vendor.org_id])
    login_as(vendor)
    for path in (f"/bids/{bid.id}", "/bids/mine", f"/jobs/{job.id}", f"/jobs/{job.id}/bid"):
        text = client.get(path).get_data(as_text=True)
        lowered = text.lower()
        assert "screening" not in lowered and "exclude" not in lowered and "conflict" not in lowered, path
        assert "this buyer's" not in lowered and "this buyer&#39;s" not in lowered, path
    assert "This bid is no longer being considered." in client.get(f"/bids/{bid.id}").get_data(as_text=True)
