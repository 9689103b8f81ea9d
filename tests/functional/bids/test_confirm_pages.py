"""Withdrawing a bid and awarding one ask for confirmation first, on a page that works without JavaScript: it says
what will happen and what cannot be undone, answers as the action would to whoever may not act, and changes
nothing until its form is posted."""

import re
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid, BidStatus
from marketplace.contracts.models import Contract
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, JobStatus, Visibility
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory, BidFactory, BuyerFactory, JobFactory, VendorFactory, VerifiedVendorOrgFactory


def page(response) -> str:
    """The page's text with its whitespace run together, as a reader sees it."""
    return " ".join(unescape(response.get_data(as_text=True)).split())


def changes(session) -> tuple:
    """Everything a confirmation page could change: the trail, the notifications, the bids, jobs and contracts."""
    count = lambda model: session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
    return (
        count(AuditRecord),
        count(Notification),
        count(Contract),
        tuple(session.execute(select(Bid.id, Bid.status, Bid.revision).order_by(Bid.id)).all()),
    )


def asks_to_confirm(html: str, action: str, button: str, back: str) -> bool:
    """A plain form posting to the action with its CSRF token, the button, and a way back."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    return bool(
        form
        and 'name="csrf_token"' in form.group(1)
        and f">{button}</button>" in form.group(1)
        and f'href="{back}">Go back</a>' in form.group(1)
    )


def posts_with_the_pages_token(app, client, url: str):
    """Post the page's own form as a browser without JavaScript would, with CSRF checked as in production."""
    app.config["WTF_CSRF_ENABLED"] = True  # the app fixture turns it off again for the next test
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(client.get(url))).group(1)
    return client.post(url, data={"csrf_token": token})


# ---------------------------------------------------------------- withdrawing


@pytest.fixture
def bid(job, vendor):
    return BidFactory(
        job_id=job.id, vendor_org_id=vendor.org_id, total_minor=2_400_000, price_per_unit_minor=60, revision=1
    )


def test_the_withdraw_page_says_what_happens_and_changes_nothing(client, login_as, session, job, vendor, bid):
    login_as(vendor)
    before = changes(session)
    response = client.get(url_for("bids.withdraw", bid_id=bid.id))
    html = page(response)

    assert response.status_code == 200
    assert "Withdraw your bid on “Label 40k street scenes”?" in html
    assert "$24,000.00" in html and "revision 1" in html
    assert "It leaves the buyer's comparison at once" in html and "The buyer is told that you withdrew." in html
    assert "you may bid again on this job" in html
    assert "The withdrawal cannot be taken back" in html
    assert asks_to_confirm(
        html, url_for("bids.withdraw", bid_id=bid.id), "Withdraw bid", url_for("bids.show", bid_id=bid.id)
    )
    assert changes(session) == before


def test_the_bid_and_job_pages_link_to_the_withdraw_page(client, login_as, job, vendor, bid):
    login_as(vendor)
    confirm = f'href="{url_for("bids.withdraw", bid_id=bid.id)}"'
    for url in (url_for("bids.show", bid_id=bid.id), url_for("jobs.show", job_id=job.id)):
        html = page(client.get(url))
        assert confirm in html
        assert f'action="{url_for("bids.withdraw", bid_id=bid.id)}"' not in html


def test_posting_the_withdraw_page_withdraws(app, client, login_as, session, vendor, bid):
    login_as(vendor)
    response = posts_with_the_pages_token(app, client, url_for("bids.withdraw", bid_id=bid.id))
    assert response.status_code == 303
    assert session.get(Bid, bid.id).status == BidStatus.WITHDRAWN


def test_a_withdrawn_bid_or_a_passed_deadline_is_said_instead_of_the_button(
    client, login_as, session, job, vendor, bid, past_deadline
):
    login_as(vendor)
    with past_deadline(job):
        late = client.get(url_for("bids.withdraw", bid_id=bid.id))
    assert late.status_code == 403
    assert "Bidding on this job closed at" in page(late) and "Withdraw bid</button>" not in page(late)

    bid.status, bid.withdrawn_at = BidStatus.WITHDRAWN, utcnow()
    done = client.get(url_for("bids.withdraw", bid_id=bid.id))
    assert done.status_code == 403
    assert "This bid is already withdrawn." in page(done) and "Withdraw bid</button>" not in page(done)
    assert f'href="{url_for("bids.show", bid_id=bid.id)}">Go back' in page(done)


def test_the_withdraw_page_answers_as_withdrawing_does(client, login_as, session, job, vendor, bid):
    url = url_for("bids.withdraw", bid_id=bid.id)
    login_as(VendorFactory())
    assert client.get(url).status_code == 404
    assert client.get(url_for("bids.withdraw", bid_id=bid.id + 1000)).status_code == 404
    for other in (BuyerFactory(org_id=job.buyer_org_id), AdminFactory()):
        login_as(other)
        assert client.get(url).status_code == 403
    org = session.get(Organization, vendor.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Unpaid platform fees"
    session.commit()  # to the test's savepoint, like real data: the refusal rolls the request's work back
    login_as(vendor)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 403
        assert "is suspended, so you cannot act on the marketplace" in page(response)


def test_an_excluded_vendor_cannot_see_the_withdraw_page_of_a_confidential_job(
    client, login_as, session, vendor, exclude
):
    confidential = JobFactory(visibility=Visibility.CONFIDENTIAL)
    bid = BidFactory(job_id=confidential.id, vendor_org_id=vendor.org_id)
    exclude(confidential.buyer_org_id, session.get(Organization, vendor.org_id))
    login_as(vendor)
    assert client.get(url_for("bids.withdraw", bid_id=bid.id)).status_code == 404
    assert client.post(url_for("bids.withdraw", bid_id=bid.id)).status_code == 404


# ---------------------------------------------------------------- awarding


@pytest.fixture
def open_bids(job):
    """Three live bids on the (now open-bidding) job, and a withdrawn one."""
    job.bidding_mode = BiddingMode.OPEN
    live = [
        BidFactory(
            job_id=job.id,
            vendor_org_id=VerifiedVendorOrgFactory(name=name).id,
            total_minor=total,
            price_per_unit_minor=unit,
        )
        for name, total, unit in (
            ("Scalewise Data", 1_234_567, 31),
            ("Tagly", 987_654, 25),
            ("Annotate Co", 1_500_033, 38),
        )
    ]
    BidFactory(
        job_id=job.id, vendor_org_id=VerifiedVendorOrgFactory(name="Quitters Inc").id, status=BidStatus.WITHDRAWN
    )
    return live


def test_the_award_page_names_the_vendor_the_total_and_the_losers(client, login_as, session, job, buyer, open_bids):
    tagly = open_bids[1]
    url = url_for("bids.award", job_id=job.id, bid_id=tagly.id)
    login_as(buyer)
    before = changes(session)
    response = client.get(url)
    html = page(response)

    assert response.status_code == 200
    assert "Award “Label 40k street scenes” to Tagly?" in html
    assert re.search(r'data-testid="award-total">\$9,876\.54<', html)
    assert "a contract for $9,876.54 is made with Tagly" in html
    assert "The 2 other live bids (Scalewise Data, Annotate Co) lose." in html
    assert "Quitters Inc" not in html
    assert "Every bidder is told" in html and "An award cannot be undone" in html
    assert asks_to_confirm(html, url, "Award the job to Tagly", url_for("bids.compare", job_id=job.id))
    assert changes(session) == before
    assert job.status == JobStatus.OPEN


def test_the_comparison_links_each_award_button_to_its_page(client, login_as, job, buyer, open_bids):
    login_as(buyer)
    html = page(client.get(url_for("bids.compare", job_id=job.id)))
    for bid in open_bids:
        url = url_for("bids.award", job_id=job.id, bid_id=bid.id)
        assert f'href="{url}"' in html and f'action="{url}"' not in html


def test_posting_the_award_page_awards(app, client, login_as, session, job, buyer, open_bids):
    login_as(buyer)
    response = posts_with_the_pages_token(app, client, url_for("bids.award", job_id=job.id, bid_id=open_bids[1].id))
    assert response.status_code == 303
    assert job.status == JobStatus.AWARDED
    assert [b.status for b in open_bids] == [BidStatus.LOST, BidStatus.AWARDED, BidStatus.LOST]


def test_a_confidential_job_warns_that_the_award_reveals_the_lab(client, login_as, job, buyer, open_bids):
    job.visibility, job.codename = Visibility.CONFIDENTIAL, "Project Amber Heron"
    login_as(buyer)
    html = page(client.get(url_for("bids.award", job_id=job.id, bid_id=open_bids[0].id)))
    assert "Vendors know this job only as <strong>Project Amber Heron</strong>" in html
    assert "the award tells Scalewise Data your organisation's name" in html


def test_a_sealed_job_before_its_deadline_shows_no_amount_and_no_button(
    client, login_as, session, job, buyer, open_bids
):
    job.bidding_mode = BiddingMode.SEALED
    login_as(buyer)
    response = client.get(url_for("bids.award", job_id=job.id, bid_id=open_bids[0].id))
    html = page(response)
    assert response.status_code == 403
    assert "Sealed bids can be awarded only after the deadline" in html
    assert "Award the job" not in html
    for secret in ("12,345.67", "Scalewise Data", "9,876.54", "Tagly"):
        assert secret not in html


def test_once_awarded_the_page_says_so_instead_of_the_button(client, login_as, session, job, buyer, open_bids):
    from marketplace.bids.service import award_bid

    award_bid(session, buyer, job.id, open_bids[0].id)
    login_as(buyer)
    for bid in open_bids:
        response = client.get(url_for("bids.award", job_id=job.id, bid_id=bid.id))
        assert response.status_code == 403
        assert "This job has already been awarded." in page(response)
        assert "Award the job" not in page(response)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("withdrawn", "This bid is withdrawn and cannot be awarded."),
        ("conflicted", "Your screening excludes Scalewise Data: its bid cannot be awarded."),
        ("suspended", "Scalewise Data is suspended and cannot be awarded."),
    ],
)
def test_a_bid_that_cannot_be_awarded_is_said_instead_of_the_button(
    client, login_as, session, job, buyer, open_bids, case, message
):
    bid = open_bids[0]
    if case == "withdrawn":
        bid.status = BidStatus.WITHDRAWN
    elif case == "conflicted":
        bid.conflicted = True
    else:
        session.get(Organization, bid.vendor_org_id).suspended_at = utcnow()
    login_as(buyer)
    response = client.get(url_for("bids.award", job_id=job.id, bid_id=bid.id))
    assert response.status_code == 403
    assert message in page(response) and "Award the job" not in page(response)


def test_the_award_page_answers_as_awarding_does(client, login_as, session, job, buyer, open_bids):
    url = url_for("bids.award", job_id=job.id, bid_id=open_bids[0].id)
    login_as(BuyerFactory())
    assert client.get(url).status_code == 404
    login_as(buyer)
    stray = BidFactory(job_id=JobFactory(buyer_org_id=job.buyer_org_id).id)
    assert client.get(url_for("bids.award", job_id=job.id, bid_id=stray.id)).status_code == 404
    assert client.get(url_for("bids.award", job_id=job.id, bid_id=999_999)).status_code == 404
    for other in (VendorFactory(org_id=open_bids[0].vendor_org_id), AdminFactory()):
        login_as(other)
        assert client.get(url).status_code == 403
    session.get(Organization, buyer.org_id).suspended_at = utcnow()
    session.commit()
    login_as(buyer)
    response = client.get(url)
    assert response.status_code == 403 and "is suspended, so you cannot act on the marketplace" in page(response)
    assert job.status == JobStatus.OPEN
