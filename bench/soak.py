"""The soak benchmark: mixed traffic at a steady rate for minutes against gunicorn with 4 workers, as the README's
production section serves the app.

    python bench/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_soak \
        --minutes 5 --rate 15 --json bench/results/soak-postgresql.json --svg docs/soak.svg

The database named is emptied (PostgreSQL: dropped and created again; SQLite: the file deleted), built by the
migrations and filled with a marketplace of its own: one lab with eight buyers, --vendors verified vendors (an
approved disclosure and no ties each, so screened clear) with a user each, and open jobs with open bidding (enough
for the awards the run will make). Every user signs in through the real form.

Traffic, one HTTP request per operation, picked at random with these weights:
  browse jobs (a vendor's list of open jobs, half of them with a search word)   25
  a job's page (a vendor)                                                         10
  search vendors (a buyer's /vendors, half with a name fragment)                  15
  place a bid, or revise the vendor's bid on that job (POST, through the form)    30
  read notifications (a buyer or a vendor)                                        12
  compare a job's bids (a buyer)                                                   6
  award a bid (a buyer, through the confirmation form)                             2
Requests are started on a fixed schedule (--rate a second, open loop: a slow answer does not delay the next
request) by a pool of threads; a user's browser sends one request at a time, so a request may wait for a free
browser of its kind: that wait, and any other delay in the client, is reported apart ("late"). Latency is from
sending the request to reading the whole answer. An error is a 5xx, a failed connection, or an answer the
operation never gives (a refused bid, "this job was just awarded", is an answer, and counted apart).

Every minute: requests, p50, p95 and max latency, errors, and each gunicorn worker's resident memory (VmRSS, read
from /proc every 5 s) at the minute's end. --json writes all of it with the command and the machine; --svg draws
latency and memory per minute. A progress bar shows the run on the terminal.
"""

import json
import math
import os
import platform
import queue
import random
import re
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import click
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import _empty_database  # noqa: E402  (the benchmark's own way to start from nothing)
from harness import Gunicorn, csrf_token, rss_mib, sign_in_session  # noqa: E402

PASSWORD = "soak-password-2026"  # noqa: S105  (synthetic benchmark accounts)
WEIGHTS = {
    "browse_jobs": 25,
    "job_page": 10,
    "search_vendors": 15,
    "bid": 30,
    "notifications": 12,
    "compare_bids": 6,
    "award": 2,
}
SAMPLE_EVERY_S = 5.0
TIMEOUT_S = 60
SEARCH_WORDS = ["images", "Label", "boxes", "audio", "thousand"]
BUYERS = 8  # the lab's buyers, each in a browser of their own
WORKER_COLOURS = ["#1f4e79", "#7b3f99", "#2e8b57", "#c0392b", "#555555", "#d4a017"]


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _say(message: str) -> None:
    click.echo(f"[{time.strftime('%H:%M:%S')}] {message}", err=True)


# ---------------------------------------------------------------- the marketplace it runs on


@dataclass
class World:
    buyers: list[str]
    vendors: list[str]
    jobs: list[int]
    vendor_names: list[str]


def build_world(database_url: str, vendors: int, jobs: int) -> World:
    """An empty database, migrated, with one lab, its buyers, verified vendors and open jobs."""
    _empty_database(database_url)
    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.accounts.models import Organization, OrgKind, Role, User, VendorProfile
    from marketplace.accounts.passwords import hash_password
    from marketplace.db_types import utcnow
    from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
    from marketplace.extensions import db
    from marketplace.jobs.models import BiddingMode, Job, JobStatus, Visibility
    from marketplace.parties.matching import match_columns
    from marketplace.parties.models import Party, PartyKind
    from marketplace.parties.service import normalize_name

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        session = db.session
        password_hash, now = hash_password(PASSWORD), utcnow()

        def organization(name: str, kind) -> Organization:
            party = Party(
                kind=PartyKind.ENTITY,
                party_type="registeredEntity",
                name=name,
                name_normalized=normalize_name(name),
                **match_columns(name),
            )
            session.add(party)
            session.flush()
            org = Organization(name=name, kind=kind, party_id=party.id, verified_at=now)
            session.add(org)
            session.flush()
            return org

        def user(email: str, name: str, role, org_id: int) -> None:
            session.add(
                User(
                    email=email,
                    name=name,
                    password_hash=password_hash,
                    role=role,
                    org_id=org_id,
                    timezone="UTC",
                    email_verified_at=now,
                )
            )

        lab = organization("Soak Lab Research", OrgKind.BUYER)
        buyers = [f"buyer{n}@soak.example" for n in range(1, BUYERS + 1)]
        for n, email in enumerate(buyers, start=1):
            user(email, f"Soak Buyer {n}", Role.BUYER, lab.id)
        vendor_emails, vendor_names = [], []
        for n in range(1, vendors + 1):
            name = f"Soak Vendor {n} Labeling"
            org = organization(name, OrgKind.VENDOR)
            session.add(VendorProfile(org_id=org.id, modalities=["image"], task_types=["bounding_boxes"]))
            session.add(
                DisclosureVersion(
                    vendor_org_id=org.id,
                    number=1,
                    status=DisclosureStatus.APPROVED,
                    attester_name="Ana Officer",
                    attester_title="CEO",
                    submitted_at=now,
                    decided_at=now,
                )
            )
            email = f"vendor{n}@soak.example"
            user(email, f"Soak Vendor User {n}", Role.VENDOR, org.id)
            vendor_emails.append(email)
            vendor_names.append(name)
        job_ids = []
        for n in range(1, jobs + 1):
            job = Job(
                buyer_org_id=lab.id,
                title=f"Label {n} thousand images",
                modality="image",
                description="Draw boxes around every vehicle.",
                task_type="bounding_boxes",
                volume=10_000,
                unit="images",
                quality_target_pct=98.0,
                certifications=["soc2_type2"],
                budget_min_minor=500_000,
                budget_max_minor=1_000_000,
                currency="USD",
                bid_deadline=now + timedelta(days=7),
                delivery_date=date.today() + timedelta(days=60),
                visibility=Visibility.PUBLIC,
                bidding_mode=BiddingMode.OPEN,
                status=JobStatus.OPEN,
                codename=f"Project Soak {n}",
                published_at=now,
            )
            session.add(job)
            session.flush()
            job_ids.append(job.id)
        session.commit()
        db.session.remove()
        db.engine.dispose()
    return World(buyers, vendor_emails, job_ids, vendor_names)


# ---------------------------------------------------------------- the server


# ---------------------------------------------------------------- users and what they do


@dataclass
class Browser:
    email: str
    session: requests.Session
    token: str


def sign_in(base: str, email: str) -> Browser:
    browser = sign_in_session(base, email, PASSWORD)
    return Browser(email, browser, csrf_token(browser.get(base + "/dashboard", timeout=TIMEOUT_S).text))


@dataclass
class Sample:
    start: float  # seconds since the traffic started, when the request was sent
    op: str
    latency_ms: float  # from sending the request to reading the whole answer
    status: int
    outcome: str  # ok, refused, error
    late_ms: float  # how long after its scheduled time it was sent (a busy client, or no free browser)


@dataclass
class Traffic:
    """The marketplace's state as the load sees it: who bid where, which jobs are still open."""

    base: str
    world: World
    rng: random.Random
    buyers: "queue.Queue[Browser]" = field(default_factory=queue.Queue)
    vendors: "queue.Queue[Browser]" = field(default_factory=queue.Queue)
    open_jobs: list[int] = field(default_factory=list)
    bids: dict = field(default_factory=dict)  # (vendor email, job id) -> bid id
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, ops: list[str], weights: list[int]) -> str:
        with self.lock:
            return self.rng.choices(ops, weights)[0]

    def _job(self, with_bids: bool = False) -> int | None:
        with self.lock:
            jobs = [j for j in self.open_jobs if not with_bids or any(k[1] == j for k in self.bids)]
            return self.rng.choice(jobs) if jobs else None

    def _offer(self) -> dict:
        with self.lock:
            total = self.rng.randint(500_000, 990_000)
        return {
            "price_per_unit": "50.00",
            "total": f"{total // 100}.{total % 100:02d}",
            "turnaround_days": "21",
            "quality_guarantee_pct": "98",
            "proposal": "Boxes on every vehicle, checked twice.",
            "data_handling_response": "",
        }

    def run(self, op: str) -> tuple[int, str, float, float]:
        """One operation, one request, by a free browser of the right kind: (status, outcome, the moment it was
        sent, its latency in ms)."""
        pool = self.vendors if op in ("browse_jobs", "job_page", "bid") else self.buyers
        if op == "notifications":
            with self.lock:
                pool = self.vendors if self.rng.random() < 0.7 else self.buyers
        browser = pool.get()
        sent = time.monotonic()
        try:
            status, outcome = getattr(self, op)(browser)
        except requests.RequestException:
            status, outcome = 0, "error"
        finally:
            pool.put(browser)
        return status, outcome, sent, (time.monotonic() - sent) * 1000

    def _get(self, browser: Browser, path: str) -> tuple[int, str]:
        answer = browser.session.get(self.base + path, timeout=TIMEOUT_S)
        return answer.status_code, "ok" if answer.status_code == 200 else "error"

    def browse_jobs(self, browser: Browser) -> tuple[int, str]:
        query = f"?q={self.rng.choice(SEARCH_WORDS)}" if self.rng.random() < 0.5 else ""
        return self._get(browser, "/jobs/" + query)

    def job_page(self, browser: Browser) -> tuple[int, str]:
        return self._get(browser, f"/jobs/{self.rng.choice(self.world.jobs)}")

    def search_vendors(self, browser: Browser) -> tuple[int, str]:
        query = f"?q={self.rng.choice(self.world.vendor_names).split()[2]}" if self.rng.random() < 0.5 else ""
        return self._get(browser, "/vendors" + query)

    def notifications(self, browser: Browser) -> tuple[int, str]:
        return self._get(browser, "/notifications")

    def compare_bids(self, browser: Browser) -> tuple[int, str]:
        return self._get(browser, f"/jobs/{self.rng.choice(self.world.jobs)}/bids")

    def bid(self, browser: Browser) -> tuple[int, str]:
        job_id = self._job()
        if job_id is None:
            return self.browse_jobs(browser)
        bid_id = self.bids.get((browser.email, job_id))
        path = f"/bids/{bid_id}/revise" if bid_id else f"/jobs/{job_id}/bid"
        answer = browser.session.post(
            self.base + path,
            data={"csrf_token": browser.token, **self._offer()},
            timeout=TIMEOUT_S,
            allow_redirects=False,
        )
        placed = re.search(r"/bids/(\d+)$", answer.headers.get("Location", ""))
        if answer.status_code == 303 and placed:
            with self.lock:
                self.bids[(browser.email, job_id)] = int(placed.group(1))
            return answer.status_code, "ok"
        if answer.status_code == 400 and job_id not in self.open_jobs:
            return answer.status_code, "refused"  # awarded meanwhile: the form says so
        return answer.status_code, "error"

    def award(self, browser: Browser) -> tuple[int, str]:
        job_id = self._job(with_bids=True)
        if job_id is None:
            return self.compare_bids(browser)
        with self.lock:
            self.open_jobs.remove(job_id)
            bid_id = self.rng.choice([b for (_, j), b in self.bids.items() if j == job_id])
        answer = browser.session.post(
            f"{self.base}/jobs/{job_id}/bids/{bid_id}/award",
            timeout=TIMEOUT_S,
            data={"csrf_token": browser.token},
            allow_redirects=False,
        )
        return answer.status_code, "ok" if answer.status_code == 303 else "error"


def jobs_needed(rate: float, seconds: float) -> int:
    """Enough open jobs that awards never run out: twice the awards expected, at least 40."""
    awards = rate * seconds * WEIGHTS["award"] / sum(WEIGHTS.values())
    return max(40, math.ceil(2 * awards))


# ---------------------------------------------------------------- figures


def per_minute(
    samples: list[Sample], memory: list[tuple[float, int, float]], load: list[tuple[float, float]], seconds: float
) -> list[dict]:
    minutes = []
    for index in range(math.ceil(seconds / 60)):
        start, end = index * 60, min((index + 1) * 60, seconds)
        rows = [s for s in samples if start <= s.start < end]
        latencies = [s.latency_ms for s in rows]
        rss: dict[int, float] = {}
        for at, pid, mib in memory:
            if at <= end:
                rss[pid] = mib  # the last reading by the minute's end
        load_now = [value for at, value in load if at <= end]
        minutes.append(
            {
                "minute": index + 1,
                "seconds": end - start,
                "requests": len(rows),
                "p50_ms": round(_p(latencies, 0.5), 1) if rows else None,
                "p95_ms": round(_p(latencies, 0.95), 1) if rows else None,
                "max_ms": round(max(latencies), 1) if rows else None,
                "errors": sum(s.outcome == "error" for s in rows),
                "refused": sum(s.outcome == "refused" for s in rows),
                "late_p95_ms": round(_p([s.late_ms for s in rows], 0.95), 1) if rows else None,
                "worker_rss_mib": {str(pid): round(mib, 1) for pid, mib in sorted(rss.items())},
                "loadavg_1m": round(load_now[-1], 2) if load_now else None,
            }
        )
    return minutes


def per_operation(samples: list[Sample]) -> dict:
    by_op: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_op[sample.op].append(sample)
    return {
        op: {
            "requests": len(rows),
            "p50_ms": round(_p([s.latency_ms for s in rows], 0.5), 1),
            "p95_ms": round(_p([s.latency_ms for s in rows], 0.95), 1),
            "errors": sum(s.outcome == "error" for s in rows),
            "refused": sum(s.outcome == "refused" for s in rows),
        }
        for op, rows in sorted(by_op.items())
    }


def markdown(figures: dict) -> str:
    pids = sorted({pid for m in figures["minutes"] for pid in m["worker_rss_mib"]}, key=int)
    workers = " | ".join(f"worker {n} RSS MiB" for n in range(1, len(pids) + 1))
    lines = [
        f"| minute | requests | p50 ms | p95 ms | max ms | errors | {workers} | sent late, p95 ms | load |",
        "|---" * (8 + len(pids)) + "|",
    ]
    for m in figures["minutes"]:
        rss = [f"{m['worker_rss_mib'].get(pid, float('nan')):.1f}" for pid in pids]
        lines.append(
            f"| {m['minute']} | {m['requests']} | {m['p50_ms']} | {m['p95_ms']} | {m['max_ms']} | "
            f"{m['errors']} | " + " | ".join(rss) + f" | {m['late_p95_ms']} | {m['loadavg_1m']} |"
        )
    return "\n".join(lines)


def svg(figures: dict) -> str:
    """Latency (p50, p95) and each worker's memory per minute, two panels, drawn without a plotting library."""
    minutes = figures["minutes"]
    width, height, left, top, panel = 760, 470, 70, 50, 160
    xs = [m["minute"] for m in minutes]
    x_of = lambda x: left + (x - 1) / max(1, len(xs) - 1) * (width - left - 150)  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(figures["title"])}</text>',
    ]
    pids = sorted({pid for m in minutes for pid in m["worker_rss_mib"]}, key=int)
    workers = [
        (f"worker {n}", WORKER_COLOURS[(n - 1) % len(WORKER_COLOURS)], [m["worker_rss_mib"].get(pid) for m in minutes])
        for n, pid in enumerate(pids, start=1)
    ]
    panels = [
        (
            "Latency per minute (ms)",
            [("p50", "#2f6f4f", [m["p50_ms"] for m in minutes]), ("p95", "#b5651d", [m["p95_ms"] for m in minutes])],
        ),
        ("Each worker's memory at the minute's end, RSS (MiB)", workers),
    ]
    for index, (title, series) in enumerate(panels):
        y0 = top + index * (panel + 60)
        values = [v for _, _, vs in series for v in vs if v is not None] or [1.0]
        high = max(values) * 1.15 or 1.0
        y_of = lambda v, y0=y0, high=high: y0 + panel - v / high * panel  # noqa: E731
        out.append(f'<text x="{left}" y="{y0 - 8}" font-weight="bold">{escape(title)}</text>')
        out.append(f'<line x1="{left}" y1="{y0 + panel}" x2="{width - 150}" y2="{y0 + panel}" stroke="#999"/>')
        out.append(f'<line x1="{left}" y1="{y0}" x2="{left}" y2="{y0 + panel}" stroke="#999"/>')
        for tick in (0, high / 2, high):
            out.append(f'<text x="{left - 6}" y="{y_of(tick) + 4:.1f}" text-anchor="end">{tick:,.0f}</text>')
        for x in xs:
            out.append(f'<text x="{x_of(x):.1f}" y="{y0 + panel + 16}" text-anchor="middle">{x}</text>')
        for row, (name, colour, vs) in enumerate(series):
            points = " ".join(f"{x_of(x):.1f},{y_of(v):.1f}" for x, v in zip(xs, vs, strict=True) if v is not None)
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for x, v in zip(xs, vs, strict=True):
                if v is not None:
                    out.append(
                        f'<circle cx="{x_of(x):.1f}" cy="{y_of(v):.1f}" r="3" fill="{colour}">'
                        f"<title>{escape(name)}, minute {x}: {v:,.1f}</title></circle>"
                    )
            out.append(f'<rect x="{width - 140}" y="{y0 + row * 18}" width="12" height="12" fill="{colour}"/>')
            out.append(f'<text x="{width - 123}" y="{y0 + row * 18 + 11}">{escape(name)}</text>')
    out.append(f'<text x="{left}" y="{height - 8}">minute of the run</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- the run


@click.command()
@click.option("--database-url", required=True, help="emptied and rebuilt: never point it at data you keep")
@click.option("--minutes", default=5.0, show_default=True, help="how long the traffic runs")
@click.option("--seconds", default=None, type=float, help="instead of --minutes (short runs)")
@click.option("--rate", default=15.0, show_default=True, help="requests started per second")
@click.option(
    "--warmup",
    default=15.0,
    show_default=True,
    help="seconds of the same traffic first, not counted (each worker's first requests load templates)",
)
@click.option("--vendors", default=40, show_default=True)
@click.option("--workers", default=4, show_default=True, help="gunicorn workers")
@click.option("--threads", default=32, show_default=True, help="client threads sending the requests")
@click.option("--seed", default=1, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False), default=None)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    default="/tmp/soak-gunicorn.log",  # noqa: S108
    show_default=True,
    help="gunicorn's own log",
)
def main(
    database_url: str,
    minutes: float,
    seconds: float | None,
    rate: float,
    warmup: float,
    vendors: int,
    workers: int,
    threads: int,
    seed: int,
    json_path: str | None,
    svg_path: str | None,
    log_path: str,
) -> None:
    duration = seconds if seconds is not None else minutes * 60
    figures: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database_url.split("@")[-1],
        "dialect": database_url.split(":")[0].split("+")[0],
        "command": " ".join(["python", *sys.argv]),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
        "rate": rate,
        "seconds": duration,
        "vendors": vendors,
        "warmup_seconds": warmup,
        "workers": workers,
        "weights": WEIGHTS,
    }
    jobs = jobs_needed(rate, duration + warmup)
    _say(f"building the marketplace: {vendors} vendors, {jobs} open jobs")
    world = build_world(database_url, vendors, jobs)
    server = Gunicorn(database_url, workers, Path(log_path))
    _say(f"starting gunicorn with {workers} workers on {server.url}")
    server.start()
    try:
        samples, memory, load, lag = _soak(server, world, rate, duration, warmup, threads, seed)
    finally:
        server.stop()
    figures.update(
        {
            "loadavg_end": os.getloadavg(),
            "requests": len(samples),
            "achieved_rate": round(len(samples) / duration, 2),
            "p50_ms": round(_p([s.latency_ms for s in samples], 0.5), 1),
            "p95_ms": round(_p([s.latency_ms for s in samples], 0.95), 1),
            "errors": sum(s.outcome == "error" for s in samples),
            "error_statuses": _count_errors(samples),
            "refused": sum(s.outcome == "refused" for s in samples),
            "max_start_lag_ms": round(lag * 1000, 1),
            "operations": per_operation(samples),
            "minutes": per_minute(samples, memory, load, duration),
            "title": f"Soak: {rate:g} requests/s of mixed traffic for {duration / 60:g} min, gunicorn with {workers} "
            f"workers, {'PostgreSQL' if database_url.startswith('postgresql') else 'SQLite'}",
        }
    )
    click.echo(markdown(figures))
    click.echo(
        f"\n{figures['requests']} requests ({figures['achieved_rate']}/s), p50 {figures['p50_ms']} ms, "
        f"p95 {figures['p95_ms']} ms, {figures['errors']} errors, {figures['refused']} refused; the client "
        f"started requests at most {figures['max_start_lag_ms']} ms late."
    )
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(figures, indent=2) + "\n")
    if svg_path:
        Path(svg_path).parent.mkdir(parents=True, exist_ok=True)
        Path(svg_path).write_text(svg(figures))
    if figures["errors"]:
        raise SystemExit(1)


def _count_errors(samples: list[Sample]) -> dict[str, int]:
    """Errors by HTTP status ("no answer" for a failed connection)."""
    counted: dict[str, int] = defaultdict(int)
    for sample in samples:
        if sample.outcome == "error":
            counted[str(sample.status or "no answer")] += 1
    return dict(sorted(counted.items()))


def _soak(server: Gunicorn, world: World, rate: float, duration: float, warmup: float, threads: int, seed: int):
    traffic = Traffic(server.url, world, random.Random(seed), open_jobs=list(world.jobs))
    _say(f"signing in {len(world.buyers)} buyers and {len(world.vendors)} vendors")
    with ThreadPoolExecutor(8) as pool:
        for browser in pool.map(lambda email: sign_in(server.url, email), world.buyers):
            traffic.buyers.put(browser)
        for browser in pool.map(lambda email: sign_in(server.url, email), world.vendors):
            traffic.vendors.put(browser)
    if warmup > 0:
        _say(f"warming up for {warmup:g} s (not counted)")
        _run_traffic(server, traffic, rate, warmup, threads, "warm-up")
    _say(f"soaking for {duration:g} s at {rate:g} requests/s")
    return _run_traffic(server, traffic, rate, duration, threads, "soak")


def _run_traffic(server: Gunicorn, traffic: Traffic, rate: float, duration: float, threads: int, label: str):
    """Requests started on schedule for `duration` seconds: the samples, the memory readings (seconds since
    the start, worker pid, MiB), the machine's load average (seconds, 1-minute average) and how late the latest
    request started."""
    samples: list[Sample] = []
    memory: list[tuple[float, int, float]] = []
    load: list[tuple[float, float]] = []
    done = threading.Event()
    ops, weights = list(WEIGHTS), list(WEIGHTS.values())
    started = time.monotonic()
    lag = [0.0]

    def one(op: str, scheduled: float) -> None:
        status, outcome, sent, latency_ms = traffic.run(op)
        lag[0] = max(lag[0], sent - scheduled)
        samples.append(Sample(sent - started, op, latency_ms, status, outcome, (sent - scheduled) * 1000))

    def watch_memory() -> None:
        while not done.is_set():
            at = time.monotonic() - started
            for pid in server.worker_pids():
                if (mib := rss_mib(pid)) is not None:
                    memory.append((at, pid, mib))
            load.append((at, os.getloadavg()[0]))
            done.wait(SAMPLE_EVERY_S)

    watcher = threading.Thread(target=watch_memory, daemon=True)
    watcher.start()
    with (
        ThreadPoolExecutor(threads) as pool,
        click.progressbar(
            length=int(duration), label=label, show_eta=True, file=sys.stderr, item_show_func=lambda _: _status(samples)
        ) as bar,
    ):
        shown = 0
        for index in range(int(duration * rate)):
            scheduled = started + index / rate
            while (now := time.monotonic()) < scheduled:
                time.sleep(min(0.05, scheduled - now))
            pool.submit(one, traffic.pick(ops, weights), scheduled)
            if int(now - started) > shown:
                bar.update(int(now - started) - shown, current_item=True)
                shown = int(now - started)
        while time.monotonic() < started + duration:
            time.sleep(0.05)
        bar.update(int(duration) - shown, current_item=True)
    done.set()
    watcher.join()
    for pid in server.worker_pids():  # a last reading, after the final requests
        if (mib := rss_mib(pid)) is not None:
            memory.append((duration, pid, mib))
    load.append((duration, os.getloadavg()[0]))
    return sorted(samples, key=lambda s: s.start), memory, load, lag[0]


def _status(samples: list[Sample]) -> str:
    recent = [s.latency_ms for s in samples[-200:]]
    errors = sum(s.outcome == "error" for s in samples)
    return f"{len(samples)} requests, p95 {_p(recent, 0.95):.0f} ms (last 200), {errors} errors" if recent else ""


if __name__ == "__main__":
    main()
