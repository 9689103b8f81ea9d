"""Faults on a real server (gunicorn, 4 workers): the database taken away and brought back while it runs, and the
server killed mid-burst of writes and started again.

Afterwards the data must be consistent (every write the server acknowledged is committed, one contract per job,
revision numbers unique), `flask audit verify` and `flask payments reconcile` must pass (run as an operator runs
them, in their own process), and the app must serve again without any restart but the one the test makes.
While the database is away, users see the branded 503 page, never Werkzeug's bare error.
"""

import itertools
import re
import threading
import time
from dataclasses import dataclass, field

import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.bids.service import award_bid
from marketplace.contracts.models import Contract, Milestone, MilestoneStatus
from marketplace.contracts.service import PlannedMilestone, plan_milestones
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode, Job, JobStatus
from marketplace.payments.models import EntryKind, LedgerEntry
from tests.concurrency.harness import TcpProxy, csrf_token, flashes, together
from tests.factories import PASSWORD, BidFactory, BuyerFactory, JobFactory, VerifiedVendorFactory
from tests.functional.payments.stripe_support import FEE_BPS

# Each POST waits at most this long: a request to a killed server fails at once, one to a live server is quick.
TIMEOUT = 20
NOT_SAVED_TEXT = "Nothing you entered was saved."
MAYBE_SAVED_TEXT = "We cannot tell whether what you sent was saved"


# ---------------------------------------------------------------- what users do, through the real forms


@dataclass
class Browser:
    """One signed-in user's browser on the server: requests.Session with the CSRF token of its session."""

    session: requests.Session
    base: str
    token: str = ""

    @classmethod
    def signed_in(cls, server, email: str) -> "Browser":
        session = server.sign_in(email, PASSWORD)
        browser = cls(session, server.url)
        browser.token = csrf_token(session.get(server.url + "/dashboard", timeout=TIMEOUT).text)
        return browser

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=TIMEOUT)

    def post(self, path: str, data: dict | None = None, follow: bool = False) -> requests.Response:
        return self.session.post(
            self.base + path, data={"csrf_token": self.token, **(data or {})}, timeout=TIMEOUT, allow_redirects=follow
        )


def all_at_once(calls) -> list:
    """harness.together, where a call that raised fails the test with its own error."""
    results = together(calls, timeout=TIMEOUT * 3)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def offer(total_minor: int) -> dict:
    """The bid form's fields for a total (in cents); every total a test sends is unique, so it names the write."""
    return {
        "price_per_unit": "1.00",
        "total": f"{total_minor // 100}.{total_minor % 100:02d}",
        "turnaround_days": "21",
        "quality_guarantee_pct": "98",
        "proposal": "Boxes on every vehicle.",
        "data_handling_response": "",
    }


def assert_branded_unavailable(response: requests.Response, *, maybe_saved_allowed: bool = False) -> str:
    """The 503 page: ours (the brand, the style sheet), naming no account, with Retry-After; its wording."""
    page = response.text
    assert response.status_code == 503, (response.status_code, page[:500])
    assert "Internal Server Error" not in page and "Werkzeug" not in page
    assert "Arm's Length" in page and "/static/css/app.css" in page and "Temporarily unavailable" in page
    assert "Sign out" not in page, "the page must not load the signed-in user (that reads the database)"
    assert int(response.headers["Retry-After"]) > 0 and "Please try again shortly." in page
    if MAYBE_SAVED_TEXT in page:
        assert maybe_saved_allowed, "only a write that had sent its COMMIT may be in doubt"
        return "maybe_saved"
    assert NOT_SAVED_TEXT in page
    return "not_saved"


# ---------------------------------------------------------------- taking the database away


class Outage:
    """Makes the server's database unreachable and brings it back, without touching the server.

    PostgreSQL: the server reaches it through a TCP proxy, which is stopped (every connection through it cut) and
    started again. SQLite: the server's user loses the right to read and write the file (chmod), then gets the
    right to read it only, then both again.
    """

    def __init__(self, bed):
        self.bed = bed
        self.proxy = None
        if not bed.sqlite:
            target = make_url(bed.url)
            self.proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()

    @property
    def server_url(self) -> str:
        return self.proxy.url_for(self.bed.url) if self.proxy else self.bed.url

    def cut(self) -> None:
        if self.proxy:
            self.proxy.stop()
        else:
            self.bed.database_file.chmod(0o000)

    def read_only(self) -> None:
        self.bed.database_file.chmod(0o444)

    def restore(self) -> None:
        if self.proxy:
            self.proxy.start()
        else:
            self.bed.database_file.chmod(0o644)

    def close(self) -> None:
        if self.proxy:
            self.proxy.stop()
        elif self.bed.database_file.exists():
            self.bed.database_file.chmod(0o644)


def operator_checks_pass(bed) -> None:
    """`flask audit verify` and `flask payments reconcile`, each in its own process, as an operator runs them."""
    for command in (("audit", "verify"), ("payments", "reconcile")):
        # One after the other, with no deadline of the test's own: two interpreters loading the app at once took
        # longer than the racers' deadline on a loaded machine, and they are not racing anything.
        done = bed.flask(*command)
        assert done.returncode == 0, f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


def revision_totals(bed, bid_id: int) -> set[int]:
    with bed.app.app_context():
        found = set(db.session.execute(select(BidRevision.total_minor).where(BidRevision.bid_id == bid_id)).scalars())
        db.session.remove()
    return found


# ---------------------------------------------------------------- the database taken away while the server runs


def test_the_database_goes_away_and_comes_back_while_the_server_runs(fault_bed):
    bed = fault_bed

    def marketplace():
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
        vendors = [VerifiedVendorFactory() for _ in range(4)]
        bids = [
            BidFactory(job_id=job.id, vendor_org_id=v.org_id, total_minor=700_000 + i) for i, v in enumerate(vendors)
        ]
        return buyer.email, job.id, [(v.email, b.id) for v, b in zip(vendors, bids, strict=True)]

    buyer_email, job_id, vendor_bids = bed.build(marketplace)
    outage = Outage(bed)
    try:
        server = bed.server(outage.server_url)
        buyer = Browser.signed_in(server, buyer_email)
        vendors = [(Browser.signed_in(server, email), bid_id) for email, bid_id in vendor_bids]
        totals = itertools.count(800_000)
        vendor, bid_id = vendors[0]
        assert vendor.post(f"/bids/{bid_id}/revise", offer(next(totals))).status_code == 303

        def reads():
            """Each vendor's bid and the lab's comparison, twice over: a dozen requests at once, on every worker."""
            return [
                call
                for v, b in vendors * 2
                for call in (lambda v=v, b=b: v.get(f"/bids/{b}"), lambda: buyer.get(f"/jobs/{job_id}/bids"))
            ]

        def writes(sent: list[int], follow: bool = False):
            """Each vendor revising its bid, to a new total noted in `sent`."""
            calls = []
            for v, b in vendors:
                sent.append(next(totals))
                calls.append(lambda v=v, b=b, t=sent[-1]: v.post(f"/bids/{b}/revise", offer(t), follow=follow))
            return calls

        # Away: every page that needs the database is the branded 503, for reading and for writing.
        outage.cut()
        refused: list[int] = []
        for answer in all_at_once(reads() + writes(refused) + writes(refused)):
            assert_branded_unavailable(answer)
        # The page's style sheet needs no database.
        assert requests.get(server.url + "/static/css/app.css", timeout=TIMEOUT).status_code == 200

        if bed.sqlite:
            # Readable again but not writable: pages show, and every write is refused with the same 503.
            outage.read_only()
            answers = all_at_once(reads() + writes(refused) + writes(refused))
            assert [page.status_code for page in answers[: len(reads())]] == [200] * len(reads())
            for answer in answers[len(reads()) :]:
                assert_branded_unavailable(answer)

        # Back, with no restart: every worker reads and writes again at once.
        outage.restore()
        assert [page.status_code for page in all_at_once(reads())] == [200] * len(reads())
        accepted: list[int] = []
        for _ in range(2):  # one write per browser at a time: a page read meanwhile would take its message
            for saved in all_at_once(writes(accepted, follow=True)):
                assert saved.status_code == 200
                assert any(message.startswith("Revision ") for message in flashes(saved.text))
        stored = set().union(*(revision_totals(bed, bid) for _, bid in vendors))
        assert not stored & set(refused), "a write the 503 page said was not saved is in the database"
        assert set(accepted) <= stored

        # Away and back again while every vendor keeps revising: each answer is an acknowledgement (committed)
        # or the branded 503 (not saved, or, when the COMMIT itself was cut, "cannot tell").
        answers = hammer_through_an_outage(vendors, outage, totals)
        assert {"acknowledged", "not_saved"} <= {kind for kind, _, _ in answers}
        for kind, bid, total in answers:
            stored = revision_totals(bed, bid)
            if kind == "acknowledged":
                assert total in stored, f"acknowledged revision {total} of bid {bid} is not in the database"
            elif kind == "not_saved":
                assert total not in stored, f"revision {total} of bid {bid} was saved, but the page said not"
        # The server was never restarted, and serves.
        assert vendor.get(f"/bids/{bid_id}").status_code == 200
    finally:
        outage.close()
    operator_checks_pass(bed)


def hammer_through_an_outage(vendors, outage, totals) -> list[tuple[str, int, int]]:
    """Every vendor revises its bid over and over; meanwhile the database goes away until a round of revisions
    has been refused, and comes back until a round has been saved again. (answer, bid id, total) for each."""
    stop = threading.Event()
    answers: list[tuple[str, int, int]] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def revise_until_stopped(vendor, bid_id):
        try:
            while not stop.is_set():
                with lock:
                    total = next(totals)
                response = vendor.post(f"/bids/{bid_id}/revise", offer(total))
                if response.status_code == 303:
                    kind = "acknowledged"
                else:
                    kind = assert_branded_unavailable(response, maybe_saved_allowed=True)
                with lock:
                    answers.append((kind, bid_id, total))
        except BaseException as error:  # noqa: BLE001 (the test asserts on it below)
            failures.append(error)
            stop.set()

    def wait_for(kinds: tuple[str, ...], since: int) -> int:
        """Until as many such answers as vendors came after the first `since` (or 90 s: longer than one request may
        wait on a cut SQLite file, its busy timeout on each of its attempts; 30 s was not, under load); the count of
        answers now."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not stop.is_set():
            with lock:
                seen = sum(1 for kind, _, _ in answers[since:] if kind in kinds)
            if seen >= len(vendors):
                break
            time.sleep(0.02)
        with lock:
            return len(answers)

    threads = [threading.Thread(target=revise_until_stopped, args=pair, daemon=True) for pair in vendors]
    for thread in threads:
        thread.start()
    try:
        count = wait_for(("acknowledged",), 0)
        outage.cut()
        count = wait_for(("not_saved", "maybe_saved"), count)
        outage.restore()
        wait_for(("acknowledged",), count)
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads)
    if failures:
        raise failures[0]
    return answers


# ---------------------------------------------------------------- the server killed mid-burst


@dataclass
class Ledger:
    """What the server acknowledged during the burst, each write named so that it can be found afterwards."""

    placed: list[tuple[int, int]] = field(default_factory=list)  # (bid id, its vendor organisation)
    revised: list[tuple[int, int]] = field(default_factory=list)  # (bid id, total)
    awarded: list[tuple[int, int]] = field(default_factory=list)  # (job id, contract id)
    checkouts: list[int] = field(default_factory=list)  # milestone ids whose Checkout the buyer was sent to
    paid: list[int] = field(default_factory=list)  # milestone ids the buyer paid at Stripe
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, name: str, value) -> None:
        with self.lock:
            getattr(self, name).append(value)

    @property
    def writes(self) -> int:
        return len(self.placed) + len(self.revised) + len(self.awarded) + len(self.checkouts)


def burst_marketplace(vendor_count: int = 6):
    """A lab with five open jobs every vendor has bid on (to be awarded), one without bids yet, and three
    contracts of four milestones each (to be funded); the vendors, verified, with their bids."""
    buyer = BuyerFactory()
    funder = BuyerFactory(org_id=buyer.org_id)
    vendors = [VerifiedVendorFactory() for _ in range(vendor_count)]
    totals = itertools.count(600_000, 100)
    to_award = []
    for _ in range(5):
        job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
        bids = [BidFactory(job_id=job.id, vendor_org_id=v.org_id, total_minor=next(totals)) for v in vendors]
        to_award.append((job.id, bids[0].id))
    fresh_job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
    milestones = []
    for vendor in vendors[:3]:
        job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
        bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id, total_minor=400_000)
        contract = award_bid(db.session, buyer, job.id, bid.id)
        plan = [PlannedMilestone(f"Batch {n}", 100_000) for n in range(1, 5)]
        planned = plan_milestones(db.session, buyer, None, contract.id, plan, fee_bps=FEE_BPS)
        milestones += [(contract.id, m.id) for m in planned]
    own_bids = {
        v.email: [
            bid_id
            for (bid_id,) in db.session.execute(
                select(Bid.id).where(Bid.vendor_org_id == v.org_id, Bid.job_id.in_([j for j, _ in to_award]))
            )
        ]
        for v in vendors
    }
    return {
        "buyer": buyer.email,
        "funder": funder.email,
        "vendors": own_bids,
        "to_award": to_award,
        "fresh_job": fresh_job.id,
        "milestones": milestones,
        "vendor_orgs": {v.email: v.org_id for v in vendors},
    }


def test_the_server_killed_mid_burst_and_started_again(fault_bed, webhook_inbox, stripe_sim):
    bed = fault_bed
    data = bed.build(burst_marketplace)
    server = bed.server()
    acknowledged = Ledger()
    stop = threading.Event()
    failures: list[BaseException] = []
    events_before = len(webhook_inbox.received)

    # The lab's two buyers, and two colleagues per vendor, each in their own browser.
    emails = [data["buyer"], data["funder"], *(email for email in data["vendors"] for _ in range(2))]
    buyer, funder, *browsers = all_at_once([lambda e=email: Browser.signed_in(server, e) for email in emails])
    colleagues = list(zip(emails[2:], browsers, strict=True))
    totals = itertools.count(900_000, 7)
    totals_lock = threading.Lock()

    def next_total() -> int:
        with totals_lock:
            return next(totals)

    def guarded(work):
        """Run until stopped; a request the dead server never answers is no answer, anything else is checked."""

        def run():
            try:
                while not stop.is_set():
                    try:
                        work()
                    except requests.ConnectionError:
                        time.sleep(0.05)  # the server is down: nothing was acknowledged
            except BaseException as error:  # noqa: BLE001 (the test asserts on it)
                failures.append(error)

        return run

    def vendor_work(email, browser):
        own = list(data["vendors"][email])
        state = {"placed": False, "turn": 0}

        def work():
            if not state["placed"]:
                answer = browser.post(f"/jobs/{data['fresh_job']}/bid", offer(next_total()))
                assert answer.status_code in (303, 400), (answer.status_code, answer.text[:300])
                placed = re.search(r"/bids/(\d+)(/revise)?$", answer.headers.get("Location", ""))
                if placed:  # ours, or (to be revised) the one a colleague placed first
                    if not placed.group(2):
                        acknowledged.note("placed", (int(placed.group(1)), data["vendor_orgs"][email]))
                    own.append(int(placed.group(1)))
                    state["placed"] = True
                return
            bid_id = own[state["turn"] % len(own)]
            state["turn"] += 1
            total = next_total()
            answer = browser.post(f"/bids/{bid_id}/revise", offer(total))
            if answer.status_code == 303:
                acknowledged.note("revised", (bid_id, total))
            else:  # the job was just awarded: the form says why, never an error page
                assert answer.status_code == 400, (answer.status_code, answer.text[:300])

        return work

    awards = iter(data["to_award"])

    def award_work():
        found = next(awards, None)
        if found is None:
            time.sleep(0.05)
            return
        job_id, bid_id = found
        answer = buyer.post(f"/jobs/{job_id}/bids/{bid_id}/award")
        assert answer.status_code == 303, (answer.status_code, answer.text[:300])
        said = " ".join(flashes(buyer.get(f"/jobs/{job_id}/bids").text))
        if made := re.search(r"Awarded\. Contract #(\d+)", said):
            acknowledged.note("awarded", (job_id, int(made.group(1))))
        time.sleep(0.2)

    milestones = iter(data["milestones"])

    def fund_work():
        found = next(milestones, None)
        if found is None:
            time.sleep(0.05)
            return
        contract_id, milestone_id = found
        answer = funder.post(f"/contracts/{contract_id}/milestones/{milestone_id}/fund")
        location = answer.headers.get("Location", "")
        assert answer.status_code == 303 and location.startswith(stripe_sim.url), (answer.status_code, location)
        acknowledged.note("checkouts", milestone_id)
        if stripe_sim.pay(location).status_code == 303:
            acknowledged.note("paid", milestone_id)

    workers = [guarded(vendor_work(email, browser)) for email, browser in colleagues]
    workers += [guarded(award_work), guarded(fund_work)]
    threads = [threading.Thread(target=run, daemon=True) for run in workers]
    for thread in threads:
        thread.start()
    # Killed once the burst is well under way (every kind of write acknowledged), or after 30 s.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
        acknowledged.placed and acknowledged.awarded and acknowledged.paid and len(acknowledged.revised) >= 10
    ):
        time.sleep(0.02)
    server.kill()
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads)
    if failures:
        raise failures[0]
    assert acknowledged.revised and acknowledged.awarded and acknowledged.paid, "the burst never got going"

    # Started again on the same database. Stripe retries every event until it is answered with a 2xx: the
    # events sent while the server was down (or cut off mid-request) are delivered again, in the order sent.
    server.start()
    time.sleep(1.5)  # the simulator sends an event a second after the payment
    for body, headers in webhook_inbox.received[events_before:]:
        answer = requests.post(
            server.url + "/payments/webhook",
            data=body,
            timeout=TIMEOUT,
            headers={"Stripe-Signature": headers["Stripe-Signature"], "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, (answer.status_code, answer.text)

    check_consistent_after_the_kill(bed, data, acknowledged)
    operator_checks_pass(bed)
    # The app serves again: the same signed-in users read and write.
    email, browser = colleagues[0]
    bid_id = data["vendors"][email][-1]
    assert browser.get("/bids/").status_code == 200
    assert buyer.get(f"/jobs/{data['to_award'][0][0]}/bids").status_code == 200
    assert funder.get(f"/contracts/{data['milestones'][0][0]}").status_code == 200
    assert browser.post(f"/bids/{bid_id}/revise", offer(next_total())).status_code in (303, 400)


def check_consistent_after_the_kill(bed, data, acknowledged: Ledger) -> None:
    with bed.app.app_context():
        session = db.session
        # Every acknowledged write is committed.
        for bid_id, vendor_org_id in acknowledged.placed:
            bid = session.get(Bid, bid_id)
            assert bid is not None and bid.vendor_org_id == vendor_org_id and bid.job_id == data["fresh_job"]
        stored = {tuple(row) for row in session.execute(select(BidRevision.bid_id, BidRevision.total_minor))}
        missing = [pair for pair in acknowledged.revised if pair not in stored]
        assert not missing, f"acknowledged revisions not in the database: {missing}"
        for job_id, contract_id in acknowledged.awarded:
            contract = session.get(Contract, contract_id)
            assert contract is not None and contract.job_id == job_id
        for milestone_id in acknowledged.checkouts:
            assert session.get(Milestone, milestone_id).checkout_session_id
        # Every milestone paid at Stripe is funded once, its charge in the ledger once.
        for milestone_id in acknowledged.paid:
            milestone = session.get(Milestone, milestone_id)
            charges = session.execute(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.milestone_id == milestone_id, LedgerEntry.kind == EntryKind.CHARGE)
            ).scalar()
            assert (milestone.status, charges) == (MilestoneStatus.FUNDED, 1), (milestone_id, milestone.status)

        # One contract per job, made from the job's one awarded bid, for that bid's total.
        for job_id, _ in data["to_award"]:
            job = session.get(Job, job_id)
            contracts = session.execute(select(Contract).where(Contract.job_id == job_id)).scalars().all()
            awarded = (
                session.execute(select(Bid).where(Bid.job_id == job_id, Bid.status == BidStatus.AWARDED))
                .scalars()
                .all()
            )
            assert len(contracts) <= 1 and len(awarded) == len(contracts)
            assert (job.status == JobStatus.AWARDED) == bool(contracts)
            if contracts:
                assert contracts[0].bid_id == awarded[0].id
                assert contracts[0].total_minor == awarded[0].total_minor, (
                    f"job {job_id}: contract total {contracts[0].total_minor}, awarded bid's {awarded[0].total_minor}"
                )

        # Revision numbers: unique per bid, gapless, the bid's counter and terms those of its latest revision.
        for bid in session.execute(select(Bid)).scalars():
            revisions = (
                session.execute(
                    select(BidRevision).where(BidRevision.bid_id == bid.id).order_by(BidRevision.number, BidRevision.id)
                )
                .scalars()
                .all()
            )
            numbers = [r.number for r in revisions]
            assert numbers == list(range(1, len(numbers) + 1)), f"bid {bid.id}: revision numbers {numbers}"
            assert bid.revision == numbers[-1] and bid.total_minor == revisions[-1].total_minor, (
                f"bid {bid.id}: counter {bid.revision}, total {bid.total_minor}; latest revision {revisions[-1]}"
            )
        db.session.remove()
