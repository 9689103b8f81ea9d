"""Buyers compare the bids on their jobs and award one."""

import re
from html import unescape

import pytest
from flask import render_template, url_for
from flask_login import login_user
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.bids.models import Bid, BidStatus
from marketplace.contracts.models import Contract
from marketplace.jobs.models import BiddingMode, Job, JobStatus
from marketplace.notifications.models import Notification
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    JobFactory,
    VendorFactory,
    VendorOrgFactory,
    VerifiedVendorOrgFactory,
)


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def bids(job):
    """Three live bids with distinctive amounts, plus a withdrawn and a conflicted one."""
    names = ("Scalewise Data", "Tagly", "Annotate Co")
    live = [
        BidFactory(
            job_id=job.id,
            vendor_org_id=VerifiedVendorOrgFactory(name=name).id,
            total_minor=total,
            price_per_unit_minor=unit,
            turnaround_days=days,
            revision=revisions,
        )
        for name, total, unit, days, revisions in zip(
            names, (1_234_567, 987_654, 1_500_033), (31, 25, 38), (21, 14, 30), (1, 3, 2), strict=True
        )
    ]
    withdrawn = BidFactory(
        job_id=job.id,
        vendor_org_id=VendorOrgFactory(name="Quitters Inc").id,
        total_minor=777_777,
        status=BidStatus.WITHDRAWN,
    )
    conflicted = BidFactory(
        job_id=job.id, vendor_org_id=VendorOrgFactory(name="Cobalt Labelers").id, total_minor=555_555, conflicted=True
    )
    return live, withdrawn, conflicted


AMOUNTS = ("$12,345.67", "$9,876.54", "$15,000.33", "1234567", "987654", "1500033", "$0.31", "$0.25")


def test_a_sealed_job_shows_only_the_count_before_the_deadline(client, login_as, job, buyer, bids):
    login_as(buyer)
    response = client.get(url_for("bids.compare", job_id=job.id))
    html = page(response)

    assert response.status_code == 200
    assert re.search(r'data-testid="bid-count">3<', html)
    assert f"Amounts are sealed until {job.bid_deadline.strftime('%Y-%m-%d %H:%M UTC')}" in html
    for amount in AMOUNTS:
        assert amount not in html
    assert "Scalewise Data" not in html
    assert 'class="sortable' not in html and 'data-testid="bid-chart"' not in html


def test_a_sealed_job_shows_every_amount_after_the_deadline(client, login_as, job, buyer, bids, past_deadline):
    login_as(buyer)
    with past_deadline(job):
        html = page(client.get(url_for("bids.compare", job_id=job.id)))

    for amount in ("$12,345.67", "$9,876.54", "$15,000.33", "$0.31", "$0.25"):
        assert amount in html
    assert html.count('data-testid="bid-row"') == 3
    assert "Amounts are sealed" not in html


def test_an_open_job_shows_bids_as_they_come(client, login_as, job, buyer, bids):
    job.bidding_mode = BiddingMode.OPEN
    login_as(buyer)
    html = page(client.get(url_for("bids.compare", job_id=job.id)))
    assert "$12,345.67" in html and html.count('data-testid="bid-row"') == 3


def test_the_comparison_is_a_sortable_table_with_numeric_values(
    client, login_as, session, job, buyer, bids, past_deadline
):
    (scalewise, tagly, _), _, _ = bids
    login_as(buyer)
    with past_deadline(job):
        html = page(client.get(url_for("bids.compare", job_id=job.id)))

    assert re.search(r'<table class="sortable[^"]*"', html)
    headers = re.findall(r"<th data-sort[^>]*>([^<]+)</th>", html)
    assert headers[:6] == ["Vendor", "Total", "Price per unit", "Turnaround", "Quality guarantee", "Revisions"]
    for value in ('data-value="1234567"', 'data-value="31"', 'data-value="21"', 'data-value="3"'):
        assert value in html
    assert f'href="{url_for("accounts.vendor_profile", org_id=scalewise.vendor_org_id)}"' in html
    assert f'href="{url_for("accounts.vendor_profile", org_id=tagly.vendor_org_id)}"' in html


def test_the_comparison_has_a_scatter_chart_with_one_labelled_dot_per_bid(
    client, login_as, job, buyer, bids, past_deadline
):
    login_as(buyer)
    with past_deadline(job):
        html = page(client.get(url_for("bids.compare", job_id=job.id)))

    start = html.index('<svg class="chart bid-scatter"')
    chart = html[start : html.index("</svg>", start)]
    assert 'data-testid="bid-chart"' in chart
    assert chart.count("<circle") == 3
    for label in ("Scalewise Data", "Tagly", "Annotate Co"):
        assert f">{label}</text>" in chart
    assert "Scalewise Data: $12,345.67, 21 days" in chart
    assert "Turnaround (days)" in chart


def test_conflicted_and_withdrawn_bids_are_not_in_the_comparison(client, login_as, job, buyer, bids, past_deadline):
    login_as(buyer)
    with past_deadline(job):
        html = page(client.get(url_for("bids.compare", job_id=job.id)))
    for absent in ("Cobalt Labelers", "$5,555.55", "Quitters Inc", "$7,777.77"):
        assert absent not in html


def test_a_review_finding_is_shown_beside_the_bid(client, login_as, session, job, buyer, bids, exclude, past_deadline):
    (scalewise, _, _), _, _ = bids
    vendor_org = session.get(Organization, scalewise.vendor_org_id)
    exclude(job.buyer_org_id, vendor_org, share=15.0)
    login_as(buyer)
    with past_deadline(job):
        html = page(client.get(url_for("bids.compare", job_id=job.id)))

    [finding] = re.findall(r'data-testid="finding">([^<]+)<', html)
    assert finding.startswith("Review") and "15%" in finding and "Scalewise Data" in finding


def test_a_vendor_excluded_after_bidding_leaves_the_comparison(
    client, login_as, session, job, buyer, bids, exclude, past_deadline
):
    (scalewise, _, _), _, _ = bids
    exclude(job.buyer_org_id, session.get(Organization, scalewise.vendor_org_id))
    login_as(buyer)
    with past_deadline(job):
        html = page(client.get(url_for("bids.compare", job_id=job.id)))
    assert "Scalewise Data" not in html and html.count('data-testid="bid-row"') == 2


@pytest.mark.parametrize("who", ["other buyer", "bidding vendor", "other vendor"])
def test_only_the_jobs_buyer_sees_the_comparison(client, login_as, job, bids, who):
    (scalewise, _, _), _, _ = bids
    user = {
        "other buyer": BuyerFactory,
        "other vendor": VendorFactory,
        "bidding vendor": lambda: VendorFactory(org_id=scalewise.vendor_org_id),
    }[who]()
    login_as(user)
    assert client.get(url_for("bids.compare", job_id=job.id)).status_code == 404


def test_an_unknown_job_has_no_comparison(client, login_as, buyer):
    login_as(buyer)
    assert client.get(url_for("bids.compare", job_id=987_654)).status_code == 404


def test_an_admin_may_read_the_comparison_but_not_award(client, login_as, job, bids):
    job.bidding_mode = BiddingMode.OPEN
    login_as(AdminFactory())
    html = page(client.get(url_for("bids.compare", job_id=job.id)))
    assert "$12,345.67" in html and ">Award</button>" not in html


# ---------------------------------------------------------------- award


def award(client, job, bid, **kwargs):
    return client.post(url_for("bids.award", job_id=job.id, bid_id=bid.id), **kwargs)


def test_the_buyer_awards_a_bid_and_every_bidder_is_told(client, login_as, session, job, buyer, bids, past_deadline):
    (scalewise, tagly, annotate), withdrawn, conflicted = bids
    users = {
        bid.id: VendorFactory(org_id=bid.vendor_org_id).id
        for bid in (scalewise, tagly, annotate, withdrawn, conflicted)
    }
    login_as(buyer)
    with past_deadline(job):
        response = award(client, job, tagly)
        html = page(client.get(response.headers["Location"]))

    assert response.status_code == 303
    assert response.headers["Location"].endswith(url_for("bids.compare", job_id=job.id))
    assert "Awarded to Tagly" in html
    assert session.get(Job, job.id).status == JobStatus.AWARDED
    contract = session.execute(select(Contract).where(Contract.job_id == job.id)).scalar_one()
    assert (contract.bid_id, contract.total_minor, contract.currency) == (tagly.id, 987_654, "USD")
    statuses = {b.id: b.status for b in session.execute(select(Bid).where(Bid.job_id == job.id)).scalars()}
    assert [statuses[b.id] for b in (scalewise, tagly, annotate, withdrawn)] == [
        BidStatus.LOST,
        BidStatus.AWARDED,
        BidStatus.LOST,
        BidStatus.WITHDRAWN,
    ]
    # The bid screening set aside does not stay live on an awarded job: lost too, and its vendor told nothing.
    assert statuses[conflicted.id] == BidStatus.LOST

    notes = {
        n.user_id: n for n in session.execute(select(Notification)).scalars() if n.kind in ("award", "not_selected")
    }
    assert notes[users[tagly.id]].kind == "award" and "$9,876.54" in notes[users[tagly.id]].message
    for loser in (scalewise, annotate):
        assert notes[users[loser.id]].kind == "not_selected"
        assert "$" not in notes[users[loser.id]].message
    assert users[withdrawn.id] not in notes and users[conflicted.id] not in notes


def test_a_second_award_is_refused(client, login_as, session, job, buyer, bids, past_deadline):
    (scalewise, tagly, _), _, _ = bids
    login_as(buyer)
    with past_deadline(job):
        award(client, job, tagly)
        html = page(award(client, job, scalewise, follow_redirects=True))
    assert "This job has already been awarded." in html
    assert session.get(Bid, scalewise.id).status == BidStatus.LOST
    assert len(session.execute(select(Contract)).all()) == 1


def test_a_sealed_job_cannot_be_awarded_before_its_deadline(client, login_as, session, job, buyer, bids):
    (scalewise, _, _), _, _ = bids
    login_as(buyer)
    html = page(award(client, job, scalewise, follow_redirects=True))
    assert "Sealed bids can be awarded only after the deadline" in html
    assert session.get(Job, job.id).status == JobStatus.OPEN


def test_a_conflicted_bid_cannot_be_awarded(client, login_as, session, job, buyer, bids, past_deadline):
    _, _, conflicted = bids
    login_as(buyer)
    with past_deadline(job):
        html = page(award(client, job, conflicted, follow_redirects=True))
    assert "Your screening excludes Cobalt Labelers" in html
    assert session.get(Job, job.id).status == JobStatus.OPEN


def test_another_buyer_cannot_award(client, login_as, session, job, bids, past_deadline):
    (scalewise, _, _), _, _ = bids
    login_as(BuyerFactory())
    with past_deadline(job):
        assert award(client, job, scalewise).status_code == 404
    assert session.get(Job, job.id).status == JobStatus.OPEN


def test_a_bid_of_another_job_is_not_found(client, login_as, job, buyer, past_deadline):
    stray = BidFactory(job_id=JobFactory(buyer_org_id=job.buyer_org_id).id)
    login_as(buyer)
    with past_deadline(job):
        assert award(client, job, stray).status_code == 404


@pytest.mark.parametrize("role", ["vendor", "admin"])
def test_award_refuses_other_roles(client, login_as, job, bids, role):
    (scalewise, _, _), _, _ = bids
    login_as(VendorFactory(org_id=scalewise.vendor_org_id) if role == "vendor" else AdminFactory())
    assert award(client, job, scalewise).status_code == 403


def test_buyer_pages_send_strangers_to_sign_in(client, job, bids):
    (scalewise, _, _), _, _ = bids
    assert client.get(url_for("bids.compare", job_id=job.id)).status_code == 302
    assert award(client, job, scalewise).status_code == 302


# ---------------------------------------------------------------- the job page's panel


def render_panel(app, user, job):
    with app.test_request_context():
        login_user(user)
        return unescape(render_template("bids/_job_panel.html", job=job))


def test_the_panel_offers_a_vendor_to_bid(app, job, vendor):
    html = render_panel(app, vendor, job)
    assert "Place a bid" in html and url_for("bids.new", job_id=job.id) in html


def test_the_panel_shows_a_vendor_its_own_bid(app, job, vendor):
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=2_500_000)
    html = render_panel(app, vendor, job)
    assert "$25,000.00" in html and "badge-active" in html
    assert url_for("bids.revise", bid_id=bid.id) in html and url_for("bids.withdraw", bid_id=bid.id) in html
    assert "Place a bid" not in html


def test_the_panel_tells_an_excluded_vendor_why_it_cannot_bid(app, session, job, vendor, exclude):
    exclude(job.buyer_org_id, session.get(Organization, vendor.org_id))
    html = render_panel(app, vendor, job)
    assert "You cannot bid on this job." in html and "Place a bid" not in html


def test_the_panel_shows_the_passed_deadline_in_the_vendors_zone(app, job, vendor, past_deadline):
    vendor.timezone = "Asia/Kolkata"
    with past_deadline(job):
        html = render_panel(app, vendor, job)
    assert "Bidding on this job closed at" in html and " IST." in html and "Place a bid" not in html


def test_the_panel_shows_the_buyer_how_many_live_bids(app, job, buyer, bids):
    html = render_panel(app, buyer, job)
    assert re.search(r'data-testid="live-bid-count">3<', html)
    assert url_for("bids.compare", job_id=job.id) in html
    assert "$" not in html


def test_the_panel_is_empty_for_another_buyer(app, job, bids):
    assert "bid-panel" not in render_panel(app, BuyerFactory(), job)


def test_the_job_page_carries_the_panel(client, login_as, job, vendor):
    login_as(vendor)
    html = page(client.get(url_for("jobs.show", job_id=job.id)))
    assert 'data-testid="bid-panel"' in html and "Place a bid" in html


def test_a_suspended_vendors_bid_does_not_stay_live_after_the_award(
    client, login_as, session, job, buyer, bids, past_deadline
):
    """Out of the comparison while its vendor is suspended; after the award it is lost, so that reinstating the
    vendor cannot bring back a live bid on an awarded job."""
    from marketplace.db_types import utcnow

    (scalewise, tagly, _), _, _ = bids
    session.get(Organization, scalewise.vendor_org_id).suspended_at = utcnow()
    session.flush()
    login_as(buyer)
    with past_deadline(job):
        assert award(client, job, tagly).status_code == 303
    session.expire_all()
    assert session.get(Bid, scalewise.id).status == BidStatus.LOST
