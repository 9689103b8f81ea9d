"""The playbook's tests: a lab whose rival is Cobalt Social, its vendor's contract funded through the local Stripe
simulator, and the lab's storage: a real HTTP server on this machine that records each call it is sent."""

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketplace.accounts.models import Organization
from marketplace.bids.service import award_bid
from marketplace.db_types import utcnow
from marketplace.deals import service as deals
from marketplace.deals.service import DealInput
from marketplace.jobs.models import BiddingMode
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VerifiedVendorFactory,
)
from tests.functional.payments.stripe_support import (  # noqa: F401  (fixtures)
    Deal,
    gateway,
    stripe_config,
    stripe_sim,
    webhook_inbox,
)


@dataclass
class Storage:
    """The lab's storage service: answers each call with the next status of `answers` (then 200), and keeps what
    it was sent."""

    url: str = ""
    calls: list[tuple[dict, bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def events(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.calls]


@pytest.fixture
def storage():
    kept = Storage()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            kept.calls.append((dict(self.headers), body))
            self.send_response(kept.answers.pop(0) if kept.answers else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kept.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/arms-length"
    yield kept
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_hooks(app):
    """Storage on this machine's own network is allowed, as in the demo (http://127.0.0.1)."""
    saved = app.config.get("WEBHOOKS_ALLOW_PRIVATE")
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    yield
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = saved


@pytest.fixture
def world(session, private_hooks):
    """A lab whose rival is Cobalt Social Ltd; its vendor's contract (made by an award); an admin."""
    cobalt = PartyFactory(name="Cobalt Social Ltd")
    lab = BuyerFactory(timezone="UTC")
    RivalFactory(buyer_org_id=lab.org_id, party_id=cobalt.id)
    vendor = VerifiedVendorFactory(timezone="UTC")
    job = JobFactory(buyer_org_id=lab.org_id, bidding_mode=BiddingMode.OPEN, title="Boxes for 120k frames")
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=1_000_000)
    contract = award_bid(session, lab, job.id, bid.id)
    admin = AdminFactory()
    session.commit()
    return Deal(contract, lab, vendor, {"admin": admin})


def cobalt_buys_the_vendor(session, deal: Deal, share: float = 49) -> None:
    """The story: Cobalt Social (the lab's rival) buys into the vendor; an admin records the deal and it closes."""
    admin = deal.extra["admin"]
    vendor = session.get(Organization, deal.vendor.org_id)
    recorded = deals.record_deal(
        session,
        admin,
        DealInput(
            acquirer="Cobalt Social Ltd",
            target=vendor.name,
            share_pct=share,
            announced_on=utcnow().date() - timedelta(days=3),
            expected_close="Q3",
            source_url="https://news.example/cobalt",
            source_description="Press release",
        ),
    )
    deals.close_deal(session, admin, recorded.id)
    session.commit()
