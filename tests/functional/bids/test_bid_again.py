"""A vendor that withdrew its bid may bid again on the same job until the deadline, through the pages: the job
page, the bid page and the job's bid address lead to "Bid again", never to a dead end; the bid's history keeps
both bids and the withdrawal between them."""

import re
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode
from marketplace.notifications.models import Notification
from tests.factories import BidFactory

AGAIN = {
    "price_per_unit": "0.51",
    "total": "20,400.00",
    "turnaround_days": "12",
    "quality_guarantee_pct": "99",
    "proposal": "Three-pass review this time.",
    "data_handling_response": "Data residency: EU — Lisbon only.",
}


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def withdrawn(client, login_as, session, job, vendor):
    """The vendor's bid of $24,000.00, withdrawn (its withdraw form posted)."""
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=2_400_000, price_per_unit_minor=60)
    login_as(vendor)
    response = client.post(url_for("bids.withdraw", bid_id=bid.id))
    assert response.status_code == 303
    assert session.get(Bid, bid.id).status == BidStatus.WITHDRAWN
    return bid


def revisions(session, bid):
    return (
        session.execute(select(BidRevision).where(BidRevision.bid_id == bid.id).order_by(BidRevision.number))
        .scalars()
        .all()
    )


def buyer_notes(session, buyer):
    return (
        session.execute(select(Notification).where(Notification.user_id == buyer.id).order_by(Notification.id))
        .scalars()
        .all()
    )


def test_every_page_of_a_withdrawn_bid_leads_to_bidding_again(client, session, job, withdrawn):
    bid_again = url_for("bids.new", job_id=job.id)
    job_page = page(client.get(url_for("jobs.show", job_id=job.id)))
    bid_page = page(client.get(url_for("bids.show", bid_id=withdrawn.id)))
    for html in (job_page, bid_page):
        assert "Bid again" in html and f'href="{bid_again}"' in html
        assert url_for("bids.revise", bid_id=withdrawn.id) not in html
    assert "You may bid again until the deadline" in bid_page

    form = client.get(bid_again)
    html = page(form)
    assert form.status_code == 200
    assert "Bid again on “Label 40k street scenes”" in html and "You withdrew your bid on" in html
    assert "as revision 2" in html
    # Filled in with the terms it withdrew.
    assert 'value="24000.00"' in html and 'value="0.60"' in html and 'value="21"' in html
    assert re.search(r'<button type="submit">Bid again</button>', html)


def test_bidding_again_makes_the_same_bid_live_with_a_new_revision(client, session, job, buyer, vendor, withdrawn):
    withdrawn_at = session.get(Bid, withdrawn.id).withdrawn_at
    response = client.post(url_for("bids.new", job_id=job.id), data=AGAIN)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(url_for("bids.show", bid_id=withdrawn.id))
    bid = session.get(Bid, withdrawn.id)
    assert (bid.status, bid.revision, bid.total_minor, bid.withdrawn_at) == (BidStatus.ACTIVE, 2, 2_040_000, None)
    assert [(r.number, r.total_minor, r.withdrawn_at) for r in revisions(session, bid)] == [
        (1, 2_400_000, withdrawn_at),
        (2, 2_040_000, None),
    ]

    html = page(client.get(response.headers["Location"]))
    assert "Your bid is live again as revision 2; its history keeps the withdrawal." in html
    assert "badge-active" in html
    history = html[html.index('data-testid="revisions"') :]
    # Newest first: the new bid, the withdrawal, the bid withdrawn.
    assert [m.group(1) for m in re.finditer(r'data-testid="(revision|withdrawal)"', history)] == [
        "revision",
        "withdrawal",
        "revision",
    ]
    assert f"Withdrawn on {withdrawn_at.strftime('%Y-%m-%d %H:%M UTC')}" in history
    assert history.index("$20,400.00") < history.index("Withdrawn on") < history.index("$24,000.00")

    record = session.execute(select(AuditRecord).where(AuditRecord.action == "bid.resubmitted")).scalar_one()
    assert (record.subject_id, record.actor_id, record.buyer_org_id) == (bid.id, vendor.id, job.buyer_org_id)
    assert record.before["status"] == "withdrawn" and record.after["total"] == "$20,400.00"

    # The buyer is told of the new bid as of any sealed bid: no amount before the deadline.
    note = buyer_notes(session, buyer)[-1]
    assert note.kind == "new_bid" and "placed a new sealed bid" in note.message
    assert session.get(Organization, vendor.org_id).name in note.message
    assert "20,400" not in note.message and "0.51" not in note.message


def test_the_buyer_sees_the_bid_again_but_no_sealed_amount(client, login_as, session, job, buyer, withdrawn):
    client.post(url_for("bids.new", job_id=job.id), data=AGAIN)
    login_as(buyer)
    html = page(client.get(url_for("bids.compare", job_id=job.id)))
    assert re.search(r'data-testid="bid-count">1<', html)
    assert "20,400" not in html and "24,000" not in html
    export = client.get("/audit/export.jsonl").get_data(as_text=True)
    assert "resubmitted" in export
    assert "20,400" not in export and "24,000" not in export


def test_on_an_open_job_the_buyer_is_told_the_new_terms(client, session, job, buyer, withdrawn):
    job.bidding_mode = BiddingMode.OPEN
    client.post(url_for("bids.new", job_id=job.id), data=AGAIN)
    assert "$20,400.00 total" in buyer_notes(session, buyer)[-1].message


def test_bad_terms_come_back_in_the_bid_again_form_as_typed(client, session, job, withdrawn):
    response = client.post(url_for("bids.new", job_id=job.id), data={**AGAIN, "turnaround_days": "0"})
    html = page(response)
    assert response.status_code == 400
    assert "Turnaround is between 1 and 3,650 days." in html
    assert "Bid again on" in html and 'value="0"' in html and 'value="20,400.00"' in html
    assert "Three-pass review this time." in html
    assert session.get(Bid, withdrawn.id).status == BidStatus.WITHDRAWN


def test_after_the_deadline_the_vendor_is_told_why_it_cannot_bid_again(client, session, job, withdrawn, past_deadline):
    closed = f"Bidding on this job closed at {job.bid_deadline.strftime('%Y-%m-%d %H:%M UTC')}."
    with past_deadline(job):
        shown = client.get(url_for("bids.new", job_id=job.id))
        posted = client.post(url_for("bids.new", job_id=job.id), data=AGAIN)
        bid_page = page(client.get(url_for("bids.show", bid_id=withdrawn.id)))
        job_page = page(client.get(url_for("jobs.show", job_id=job.id)))

    assert shown.status_code == 403 and closed in page(shown) and 'name="total"' not in page(shown)
    assert posted.status_code == 400 and closed in page(posted)
    assert 'value="20,400.00"' in page(posted) and "Three-pass review this time." in page(posted)
    for html in (bid_page, job_page):
        assert closed in html and "Bid again" not in html
    assert session.get(Bid, withdrawn.id).status == BidStatus.WITHDRAWN


def test_an_excluded_vendor_cannot_bid_again(client, session, job, vendor, withdrawn, exclude):
    exclude(job.buyer_org_id, session.get(Organization, vendor.org_id))
    shown = client.get(url_for("bids.new", job_id=job.id))
    posted = client.post(url_for("bids.new", job_id=job.id), data=AGAIN)

    assert shown.status_code == 403 and "You cannot bid on this job." in page(shown)
    assert posted.status_code == 400 and "You cannot bid on this job." in page(posted)
    assert 'value="20,400.00"' in page(posted)
    assert "Bid again</a>" not in page(client.get(url_for("bids.show", bid_id=withdrawn.id)))
    assert session.get(Bid, withdrawn.id).status == BidStatus.WITHDRAWN


def test_a_suspended_vendor_cannot_bid_again(client, session, job, vendor, withdrawn):
    org = session.get(Organization, vendor.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Unpaid platform fees"
    session.flush()
    shown = client.get(url_for("bids.new", job_id=job.id))
    posted = client.post(url_for("bids.new", job_id=job.id), data=AGAIN)

    assert shown.status_code == 403 and "Your organisation is suspended and cannot bid." in page(shown)
    assert posted.status_code == 403 and "is suspended, so you cannot act on the marketplace" in page(posted)
    assert session.get(Bid, withdrawn.id).status == BidStatus.WITHDRAWN


def test_the_revise_address_of_a_withdrawn_bid_leads_to_bidding_again(client, session, job, withdrawn):
    shown = client.get(url_for("bids.revise", bid_id=withdrawn.id))
    assert shown.status_code == 303
    assert shown.headers["Location"].endswith(url_for("bids.new", job_id=job.id))
    html = page(client.get(shown.headers["Location"]))
    assert "This bid is withdrawn, so there is nothing to revise." in html and "Bid again on" in html
    assert "Revise your bid" not in html

    # A revision posted from a tab opened before the withdrawal: its terms come back in the bid-again form.
    posted = client.post(url_for("bids.revise", bid_id=withdrawn.id), data=AGAIN)
    html = page(posted)
    assert posted.status_code == 400
    assert "This bid was withdrawn, so it was not revised: bid again with these terms" in html
    assert "Revise your bid" not in html and "is current" not in html
    assert f'action="{url_for("bids.new", job_id=job.id)}"' in html and 'value="20,400.00"' in html
    assert session.get(Bid, withdrawn.id).revision == 1


def test_the_revise_address_after_the_deadline_says_why_in_one_voice(client, job, withdrawn, past_deadline):
    with past_deadline(job):
        posted = client.post(url_for("bids.revise", bid_id=withdrawn.id), data=AGAIN)
    html = page(posted)
    assert posted.status_code == 400
    assert "This bid is withdrawn. Bidding on this job closed at" in html
    assert "Revise your bid" not in html and "Bid again</button>" not in html


def test_a_live_bid_still_sends_the_bid_address_to_revise(client, login_as, job, vendor):
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    login_as(vendor)
    response = client.get(url_for("bids.new", job_id=job.id))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url_for("bids.revise", bid_id=bid.id))
