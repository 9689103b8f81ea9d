"""The local Stripe (dev/stripe_sim: localstripe plus Connect and Checkout) for tests, and helpers around it.

One simulator per pytest run, started on a free port of 127.0.0.1 with --from-scratch and killed at the end.
Conftests and test modules import the fixtures they need from here.
"""

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import stripe
from sqlalchemy import select

from marketplace.bids.service import award_bid
from marketplace.contracts import service as contracts
from marketplace.contracts.models import Contract, Milestone
from marketplace.jobs.models import BiddingMode
from marketplace.payments import service as payments
from marketplace.payments.models import LedgerEntry
from tests.factories import BidFactory, BuyerFactory, JobFactory, VendorFactory

ROOT = Path(__file__).resolve().parents[3]
SIM_SCRIPT = ROOT / "dev" / "stripe_sim" / "run.py"
TEST_KEY = "sk_test_marketplace_tests"
WEBHOOK_SECRET = "whsec_marketplace_tests"
FEE_BPS = 1000
_STASH = pytest.StashKey["StripeSim"]()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StripeSim:
    url: str
    process: subprocess.Popen
    log_path: Path
    log: object

    def client(self) -> stripe.StripeClient:
        """A StripeClient of our own, to look at what the simulator holds."""
        return stripe.StripeClient(TEST_KEY, base_addresses={"api": self.url, "connect": self.url})

    def register_webhook(self, name: str, url: str, secret: str = WEBHOOK_SECRET) -> None:
        response = requests.post(f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=10)
        response.raise_for_status()

    def pay(self, checkout_url: str, card: str = "4242 4242 4242 4242") -> requests.Response:
        """Pay on the simulator's Checkout page, as a buyer's browser would."""
        return requests.post(
            checkout_url, data={"number": card, "exp": "12/34", "cvc": "123"}, allow_redirects=False, timeout=10
        )

    def complete_onboarding(self, link: str) -> requests.Response:
        return requests.post(link, allow_redirects=False, timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def start_sim(log_path: Path) -> StripeSim:
    port = free_port()
    log = log_path.open("w")
    command = [sys.executable, str(SIM_SCRIPT), "--port", str(port), "--from-scratch"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603  (our own script)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Stripe simulator exited: {log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return StripeSim(url, process, log_path, log)
        except OSError:
            time.sleep(0.1)
    process.kill()
    log.close()
    raise RuntimeError(f"the Stripe simulator did not start: {log_path.read_text()}")


@pytest.fixture(scope="session")
def stripe_sim(request, tmp_path_factory) -> StripeSim:
    """The one simulator of this pytest run, shared by every folder that asks for it."""
    sim = request.config.stash.get(_STASH, None)
    if sim is None:
        sim = start_sim(tmp_path_factory.mktemp("stripe-sim") / "sim.log")
        request.config.stash[_STASH] = sim
        request.config.add_cleanup(sim.stop)
    return sim


def simulator_config(stripe_sim) -> dict:
    """The app's settings for the simulator, as run-demo configures it."""
    return {
        "STRIPE_SECRET_KEY": TEST_KEY,
        "STRIPE_API_BASE": stripe_sim.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PLATFORM_FEE_BPS": FEE_BPS,
    }


@pytest.fixture
def stripe_config(app, stripe_sim):
    """The app configured for the simulator; put back after the test."""
    wanted = simulator_config(stripe_sim)
    saved = {name: app.config.get(name) for name in wanted}
    app.config.update(wanted)
    yield app.config
    app.config.update(saved)


@pytest.fixture
def gateway(stripe_config):
    from marketplace.payments.gateway import from_config

    return from_config(stripe_config)


# ------------------------------------------------------------------------------------------------ contracts


@dataclass
class Deal:
    contract: Contract
    buyer: object
    vendor: object
    extra: dict = field(default_factory=dict)


def make_deal(session, total_minor: int = 1_000_000, currency: str = "USD") -> Deal:
    """A job awarded through the bids service, so the contract is made as in production."""
    buyer = BuyerFactory()
    vendor = VendorFactory()
    job = JobFactory(
        buyer_org_id=buyer.org_id,
        bidding_mode=BiddingMode.OPEN,
        currency=currency,
        budget_min_minor=1,
        budget_max_minor=total_minor * 2,
    )
    bid = BidFactory(
        job_id=job.id,
        vendor_org_id=vendor.org_id,
        total_minor=total_minor,
        price_per_unit_minor=max(1, total_minor // 10_000),
        currency=currency,
    )
    contract = award_bid(session, buyer, job.id, bid.id)
    # Committed (to the test's savepoint) like real data: a view that rolls back a refusal keeps it.
    session.commit()
    return Deal(contract, buyer, vendor)


# ------------------------------------------------------------------------------------------------ the money flow

URLS = {"success_url": "http://localhost/contracts/done", "cancel_url": "http://localhost/contracts/back"}


def only_milestone(session, deal) -> Milestone:
    return session.execute(select(Milestone).where(Milestone.contract_id == deal.contract.id)).scalar_one()


def ledger(session, deal) -> list[tuple[str, int]]:
    rows = session.execute(
        select(LedgerEntry).where(LedgerEntry.contract_id == deal.contract.id).order_by(LedgerEntry.id)
    ).scalars()
    return [(str(e.kind), e.amount_minor) for e in rows]


def fund(session, deal, gateway, stripe_sim, milestone, card="4242 4242 4242 4242"):
    url = contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)
    paid = stripe_sim.pay(url, card)
    checkout = gateway.retrieve_checkout_session(milestone.checkout_session_id)
    if checkout.payment_intent_id:
        payments.record_payment(session, gateway, payments.STRIPE, checkout.payment_intent_id, FEE_BPS)
    session.commit()
    return paid, checkout


def connect_vendor(session, deal, gateway, stripe_sim):
    link = payments.start_onboarding(
        session, gateway, deal.vendor, refresh_url="http://localhost/r", return_url="http://localhost/back"
    )
    assert stripe_sim.complete_onboarding(link).status_code == 303
    account = payments.payout_account_of(session, deal.vendor.org_id)
    payments.refresh_payout_account(session, gateway, payments.STRIPE, account.stripe_account_id)
    session.commit()
    return account


def transfers_for(stripe_sim, milestone) -> list:
    """The simulator's transfers for one milestone (contract ids repeat across rolled-back tests; keys do not)."""
    listing = stripe_sim.client().v1.transfers.list({"limit": 100}).auto_paging_iter()
    return [t for t in listing if t.metadata["milestone_key"] == milestone.key]


def deliver(session, deal, milestone, note="All 10,000 images boxed."):
    delivery = contracts.deliver(session, deal.vendor, deal.contract.id, milestone.id, note, [], folder=None)
    session.commit()
    return delivery


# ------------------------------------------------------------------------------------------------ webhooks


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict:
    """The Stripe-Signature header Stripe sends: HMAC-SHA256 of "timestamp.payload" with the signing secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def event_payload(event_id: str, event_type: str, obj: dict) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "api_version": "2025-01-27",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    ).encode()


class WebhookInbox:
    """A tiny HTTP server that keeps what the simulator delivers (raw body and headers), to pass on as-is."""

    def __init__(self):
        self.received: list[tuple[bytes, dict]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                inbox.received.append((body, dict(self.headers)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, event_type: str, where=lambda obj: True, timeout: float = 15) -> tuple[bytes, dict]:
        """The first delivery of that type whose object matches `where`, waiting until it comes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body, headers in list(self.received):
                event = json.loads(body)
                if event["type"] == event_type and where(event["data"]["object"]):
                    return body, headers
            time.sleep(0.1)
        raise AssertionError(f"no matching {event_type} was delivered")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def webhook_inbox(stripe_sim):
    """Receives every event the simulator sends, signed with the tests' webhook secret."""
    inbox = WebhookInbox()
    stripe_sim.register_webhook(f"inbox-{id(inbox)}", inbox.url)
    yield inbox
    inbox.close()
