"""While a re-screen of a lab waits on the queue, its stored verdicts may be behind the graph. The lab's own job page
then counts the vendors that can see the job from the stored verdicts, says the count is updating, and screens no
one for a number; a cancellation screens live only the vendors that bid, and tells none that the pending change
cut off."""

import re

from flask import url_for
from sqlalchemy import select

from marketplace.jobs.models import Visibility
from marketplace.notifications.models import Notification
from marketplace.screening.models import PendingRescreen
from marketplace.screening.services.refresh import refresh_verdicts
from tests.factories import BidFactory, BuyerFactory, JobFactory, VerifiedVendorFactory


def _market(session, exclude_vendor):
    """A lab's confidential job, three vendors with stored verdicts (all clear), two of them bidding; then a rival
    named who holds 30% of one bidder, its re-screen waiting on the queue (nothing stored yet)."""
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
    cut_off, bidder, quiet = VerifiedVendorFactory(), VerifiedVendorFactory(), VerifiedVendorFactory()
    for vendor in (cut_off, bidder):
        BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    refresh_verdicts(session, None, buyer_org_ids=[buyer.org_id])
    exclude_vendor(buyer.org_id, cut_off.org_id)
    session.add(PendingRescreen(buyer_org_id=buyer.org_id, reason="rival added"))
    session.flush()
    return {"buyer": buyer, "job": job, "cut_off": cut_off, "bidder": bidder, "quiet": quiet}


def test_the_labs_job_page_counts_from_the_stored_verdicts_and_says_so_while_they_update(
    client, login_as, session, exclude_vendor
):
    m = _market(session, exclude_vendor)
    login_as(m["buyer"])
    response = client.get(url_for("jobs.show", job_id=m["job"].id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # The three stored as clear, the cut-off one too (a live screening would have counted two: no one was screened
    # for the number), and the page says the count is updating.
    assert re.search(r"3 vendors can see this job now\.\s*<span data-testid=\"seeing-updating\">", html)

    session.delete(session.execute(select(PendingRescreen)).scalar_one())
    refresh_verdicts(session, None, buyer_org_ids=[m["buyer"].org_id])
    html = client.get(url_for("jobs.show", job_id=m["job"].id)).get_data(as_text=True)
    assert "2 vendors can see this job now." in html and 'data-testid="seeing-updating"' not in html


def test_a_cancellation_while_verdicts_update_tells_the_bidders_still_cleared_and_not_the_one_cut_off(
    client, login_as, session, exclude_vendor
):
    m = _market(session, exclude_vendor)
    login_as(m["buyer"])
    response = client.post(url_for("jobs.cancel", job_id=m["job"].id))
    assert response.status_code == 303
    told = set(
        session.execute(
            select(Notification.user_id).where(Notification.job_id == m["job"].id, Notification.kind == "job_cancelled")
        ).scalars()
    )
    assert told == {m["bidder"].id}  # not the cut-off bidder (screened live), nor the vendor that did not bid
