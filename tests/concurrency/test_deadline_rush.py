"""The deadline rush, served as in production: gunicorn with 4 workers, 40 vendors bidding and revising a sealed job
until its deadline passes, then the lab awarding through the real form.

What must hold: no 5xx; every "Revision N saved" a vendor read is committed under that number; each bid's
revisions numbered 1..n with no gap or duplicate and its counter at n; nothing saved after the deadline, and
everything tried after it refused in words; one contract, for the awarded bid's total.
"""

import re
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.contracts.models import Contract
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode, Job
from tests.concurrency.harness import Server, committed, csrf_token, flashes, together
from tests.factories import PASSWORD, BuyerFactory, JobFactory, VerifiedVendorFactory

VENDORS = 40
RUSH_SECONDS = 6


def _world():
    job = JobFactory(bidding_mode=BiddingMode.SEALED, bid_deadline=utcnow() + timedelta(hours=1))
    buyer = BuyerFactory(org_id=job.buyer_org_id)
    vendors = [VerifiedVendorFactory() for _ in range(VENDORS)]
    return job.id, buyer.email, [v.id for v in vendors]


def test_forty_vendors_revising_up_to_the_deadline_on_four_workers(race_app, race_database_url, tmp_path):
    job_id, buyer_email, vendor_ids = committed(race_app, _world)
    server = Server(race_database_url, tmp_path, workers=4, secret_key=race_app.config["SECRET_KEY"]).start()
    try:
        # Vendors come signed in (forty password checks would only slow the test); the lab signs in for real.
        browsers = [server.browser_for(race_app, vendor_id) for vendor_id in vendor_ids]
        placed = together([lambda b=b, n=n: _place(server, b, job_id, n) for n, b in enumerate(browsers)])
        deadline = utcnow() + timedelta(seconds=RUSH_SECONDS)
        committed(
            race_app, lambda: db.session.execute(update(Job).where(Job.id == job_id).values(bid_deadline=deadline))
        )
        logs = together(
            [lambda b=b, p=p: _rush(server, b, p, deadline) for b, p in zip(browsers, placed, strict=True)], timeout=120
        )
        award = _award_one(server, buyer_email, job_id)
    finally:
        server.stop()

    assert server.errors() == ""
    problems = [
        entry
        for log in logs
        for entry in (log if isinstance(log, list) else [log])
        if isinstance(entry, Exception) or entry[0] >= 500
    ]
    assert problems == []
    with race_app.app_context():
        bids = db.session.execute(select(Bid).where(Bid.job_id == job_id)).scalars().all()
        assert len(bids) == VENDORS
        for bid in bids:
            revisions = (
                db.session.execute(select(BidRevision).where(BidRevision.bid_id == bid.id).order_by(BidRevision.number))
                .scalars()
                .all()
            )
            assert [r.number for r in revisions] == list(range(1, bid.revision + 1))
            assert all(r.created_at <= deadline for r in revisions), "a revision landed after the deadline"
            assert (bid.total_minor, bid.price_per_unit_minor) == (
                revisions[-1].total_minor,
                revisions[-1].price_per_unit_minor,
            )
        counters = {bid.id: bid.revision for bid in bids}
        for (_, bid_id, _), log in zip(placed, logs, strict=True):
            told = sorted(number for _, saved, _ in log for number in saved)
            assert told == list(range(2, counters[bid_id] + 1))  # acknowledged = committed, under that number
        refused = [r for log in logs for _, _, r in log if r]
        assert refused and all("closed" in r for r in refused), Counter(refused).most_common(5)

        contract = db.session.execute(select(Contract).where(Contract.job_id == job_id)).scalar_one()
        awarded = db.session.get(Bid, contract.bid_id)
        assert awarded.status == BidStatus.AWARDED and contract.total_minor == awarded.total_minor
        assert award == 1


def _place(server: Server, browser, job_id: int, n: int) -> tuple[str, int, int]:
    """One vendor places its bid, all at once: (its CSRF token, the bid's id, the total it offered)."""
    token = csrf_token(browser.get(f"{server.url}/jobs/{job_id}/bid", timeout=30).text)
    total = 5_000 + n
    response = browser.post(
        f"{server.url}/jobs/{job_id}/bid",
        timeout=30,
        data={"csrf_token": token, "price_per_unit": "1.00", "total": f"{total}.00", "turnaround_days": "20"},
    )
    placed = re.search(r"/bids/(\d+)$", response.url)
    assert placed, (response.status_code, flashes(response.text))
    return token, int(placed.group(1)), total


def _rush(server: Server, browser, placed: tuple[str, int, int], deadline) -> list:
    """One vendor revises its bid as fast as the server answers until a second past the deadline.
    Each entry: (status, revision numbers the page said were saved, the refusal it gave)."""
    token, bid_id, total = placed
    log = []
    end = deadline.timestamp() + 1
    while time.time() < end:
        total -= 1
        response = browser.post(
            f"{server.url}/bids/{bid_id}/revise",
            timeout=30,
            data={"csrf_token": token, "price_per_unit": "1.00", "total": f"{total}.00", "turnaround_days": "20"},
        )
        saved = [int(m.split()[1]) for m in flashes(response.text) if m.startswith("Revision ")]
        refusal = ""
        if not saved:
            found = re.search(r"Bidding on this job closed[^<]*", response.text)
            refusal = found.group(0) if found else f"unexpected page ({response.status_code})"
        log.append((response.status_code, saved, refusal))
    return log


def _award_one(server: Server, buyer_email: str, job_id: int) -> int:
    browser = server.sign_in(buyer_email, PASSWORD)
    page = browser.get(f"{server.url}/jobs/{job_id}/bids", timeout=30).text
    award = re.search(rf'href="(/jobs/{job_id}/bids/\d+/award)"', page)
    assert award, "the comparison offers no award after the deadline"
    confirmation = browser.get(server.url + award.group(1), timeout=30).text
    response = browser.post(server.url + award.group(1), timeout=30, data={"csrf_token": csrf_token(confirmation)})
    return sum("Awarded. Contract" in m for m in flashes(response.text))
