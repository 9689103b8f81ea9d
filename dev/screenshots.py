#!/usr/bin/env python3
"""Take the README's screenshots of the seeded demo into docs/screenshots/.

    python dev/screenshots.py            # every shot
    python dev/screenshots.py 04 10      # only the shots whose names start with these

It builds a throw-away SQLite database (migrations, then `flask --app marketplace seed`), starts the local Stripe
simulator first as ./run-demo does (the seed moves the demo contracts' money through it), serves the app on a free
local port, signs in as the demo buyer, vendor and admin in Debian's chromium through Playwright, saves full-page
PNGs (cut at MAX_HEIGHT pixels), then stops the server and the simulator and deletes the database.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "demo-password-2026"  # noqa: S105  (the published demo password, see seed_data/README.md)
BUYER = "maya@northwind-ai.example"
VENDOR = "ines@clearlabel.example"
ADMIN = "admin@armslength.example"
VIEWPORT = {"width": 1280, "height": 800}
MAX_HEIGHT = 2000
CHROMIUM = "/usr/bin/chromium"
# The simulator's test key and webhook secret, as ./run-demo sets them (nothing real: test mode, local only).
STRIPE_KEY = "sk_test_local_demo"
STRIPE_WEBHOOK_SECRET = "whsec_local_demo"  # noqa: S105
# Without the background-networking flags chromium floods the closed network (see docs/pitfalls.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Shot:
    name: str
    user: str | None  # None: signed out
    path: Callable[["DemoIds"], str]
    max_height: int = MAX_HEIGHT


@dataclass(frozen=True)
class DemoIds:
    """The seeded rows the shots point at, looked up once after seeding (ids depend on load order)."""

    compared_job: int
    vendor_bid: int
    vendor_disclosure: int
    reviewed_version: int
    screened_vendor: int
    paid_contract: int
    scored_job: int
    scored_bid: int
    wound_down_contract: int


SHOTS = [
    Shot("01-sign-in", None, lambda ids: "/sign-in"),
    Shot("02-buyer-jobs", BUYER, lambda ids: "/jobs/"),
    Shot("03-post-job", BUYER, lambda ids: "/jobs/new", max_height=1400),
    Shot("04-bid-comparison", BUYER, lambda ids: f"/jobs/{ids.compared_job}/bids"),
    Shot("05-rivals", BUYER, lambda ids: "/rivals"),
    Shot("06-vendor-browse", VENDOR, lambda ids: "/jobs/"),
    Shot("07-vendor-bid", VENDOR, lambda ids: f"/bids/{ids.vendor_bid}"),
    Shot("08-disclosure", VENDOR, lambda ids: f"/disclosure/{ids.vendor_disclosure}"),
    Shot("09-admin-queue", ADMIN, lambda ids: "/admin/disclosures"),
    Shot("10-admin-review", ADMIN, lambda ids: f"/admin/disclosures/{ids.reviewed_version}"),
    Shot("11-notifications", BUYER, lambda ids: "/notifications/"),
    Shot("12-vendor-search", BUYER, lambda ids: "/vendors?show_excluded=y"),
    Shot("13-vendor-screening", BUYER, lambda ids: f"/vendors/{ids.screened_vendor}/screening"),
    Shot("14-contract", BUYER, lambda ids: f"/contracts/{ids.paid_contract}"),
    Shot("15-statement", ADMIN, lambda ids: "/payments/statement", max_height=4000),
    Shot("16-proposal", BUYER, lambda ids: f"/jobs/{ids.scored_job}/bids/{ids.scored_bid}"),
    Shot("17-thread", VENDOR, lambda ids: f"/bids/{ids.scored_bid}/messages"),
    Shot("18-nda", BUYER, lambda ids: "/nda"),
    Shot("19-pilots", BUYER, lambda ids: f"/jobs/{ids.scored_job}/bids"),
    Shot("20-pending-deals", BUYER, lambda ids: "/deals"),
    Shot("21-playbook", BUYER, lambda ids: f"/contracts/{ids.wound_down_contract}/playbook"),
]


def flask(*args: str, env: dict, **kwargs) -> subprocess.Popen | subprocess.CompletedProcess:
    """Run `flask --app marketplace ARGS` with this interpreter, in the project folder."""
    command = [sys.executable, "-m", "flask", "--app", "marketplace", *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(command, cwd=ROOT, env=env, **kwargs)  # noqa: S603  (fixed arguments)
    done = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"`flask {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stripe_sim(port: int, app_port: int, log: Path) -> subprocess.Popen:
    """The local Stripe simulator, started as ./run-demo starts it, delivering its webhooks to the app."""
    command = [
        sys.executable,
        str(ROOT / "dev" / "stripe_sim" / "run.py"),
        "--port",
        str(port),
        "--from-scratch",
        "--webhook-url",
        f"http://127.0.0.1:{app_port}/payments/webhook",
        "--webhook-secret",
        STRIPE_WEBHOOK_SECRET,
    ]
    with log.open("w") as out:
        sim = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sim.poll() is not None:
            raise SystemExit(f"The Stripe simulator exited with code {sim.returncode}:\n{log.read_text()[-4000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return sim
        except OSError:
            time.sleep(0.2)
    stop(sim)
    raise SystemExit(f"The Stripe simulator did not listen on port {port} within 30 s.")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The app exited with code {server.returncode} before serving {url}.")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (our own local server)
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise SystemExit(f"The app did not answer at {url} within {seconds:.0f} s.")


def demo_ids(database: Path) -> DemoIds:
    """Pick the pages worth showing from what the seed made."""
    with sqlite3.connect(database) as db:

        def one(sql: str, *params) -> int:
            row = db.execute(sql, params).fetchone()
            if row is None:
                raise SystemExit(f"The seed has nothing for: {sql}")
            return row[0]

        # A Northwind job whose amounts the buyer sees (open bidding, or sealed past its deadline), most live bids.
        compared_job = one(
            """SELECT j.id FROM job j JOIN organization o ON o.id = j.buyer_org_id
               JOIN bid b ON b.job_id = j.id AND b.status = 'active' AND NOT b.conflicted
               WHERE o.name = 'Northwind AI' AND j.status = 'open'
                 AND (j.bidding_mode = 'open' OR j.bid_deadline < datetime('now'))
               GROUP BY j.id ORDER BY count(*) DESC, j.bidding_mode = 'open' DESC, j.id LIMIT 1"""
        )
        # ClearLabel's bid with the most revisions, an active one first.
        vendor_bid = one(
            """SELECT b.id FROM bid b JOIN organization o ON o.id = b.vendor_org_id
               WHERE o.name = 'ClearLabel Studio'
               ORDER BY b.revision DESC, b.status = 'active' DESC, b.id LIMIT 1"""
        )
        # ClearLabel's approved disclosure, the latest.
        vendor_disclosure = one(
            """SELECT v.id FROM disclosureversion v JOIN organization o ON o.id = v.vendor_org_id
               WHERE o.name = 'ClearLabel Studio' ORDER BY v.status = 'approved' DESC, v.number DESC LIMIT 1"""
        )
        # A submitted version with an approved one before it, so the review shows what changed.
        reviewed_version = one(
            """SELECT v.id FROM disclosureversion v
               WHERE v.status = 'submitted' AND EXISTS (
                 SELECT 1 FROM disclosureversion a WHERE a.vendor_org_id = v.vendor_org_id
                   AND a.status = 'approved' AND a.number < v.number)
               ORDER BY v.id LIMIT 1"""
        )
        # The vendor Northwind's screening excludes (or else flags for review) through the most routes from a rival.
        screened_vendor = one(
            """SELECT r.vendor_org_id FROM verdictrecord r JOIN organization o ON o.id = r.buyer_org_id
               WHERE o.name = 'Northwind AI' AND r.verdict IN ('exclude', 'review')
               ORDER BY r.verdict = 'exclude' DESC, json_array_length(r.findings) DESC, r.vendor_org_id LIMIT 1"""
        )
        # Northwind's contract for the product photos: one milestone paid out, one funded and held, one not funded.
        paid_contract = one(
            """SELECT c.id FROM contract c JOIN job j ON j.id = c.job_id
               WHERE j.title = 'Attribute tags for 60k retail product photos'"""
        )
        # ClearLabel's bid on the warehouse boxes: answers, files, colleagues' scores and a thread with the lab.
        scored_job = one("SELECT j.id FROM job j WHERE j.title LIKE '%warehouse%' ORDER BY j.id LIMIT 1")
        scored_bid = one(
            """SELECT b.id FROM bid b JOIN organization o ON o.id = b.vendor_org_id
               WHERE b.job_id = ? AND o.name = 'ClearLabel Studio'""",
            scored_job,
        )
        # Northwind's contract with Scalewise, whose change-of-control playbook ran when Cobalt's 49% was recorded.
        wound_down_contract = one(
            """SELECT c.id FROM contract c JOIN contractplaybook p ON p.contract_id = c.id
               WHERE p.status = 'running' ORDER BY c.id LIMIT 1"""
        )
    return DemoIds(
        compared_job,
        vendor_bid,
        vendor_disclosure,
        reviewed_version,
        screened_vendor,
        paid_contract,
        scored_job,
        scored_bid,
        wound_down_contract,
    )


_last_step: dict[str, int] = {}


def authentication_code(email: str) -> str:
    """The code the demo account's authenticator app shows (its secret is in seed_data/users.json); each time step
    is accepted once, so a second sign-in within a step takes the next one, and a third waits."""
    import pyotp

    users = json.loads((ROOT / "seed_data" / "users.json").read_text())
    totp = pyotp.TOTP(next(u["totp_secret"] for u in users if u["email"] == email))
    while True:
        current = int(time.time() // 30)
        step = max(current, _last_step.get(email, -1) + 1)
        if step <= current + 1:
            _last_step[email] = step
            return totp.at(step * 30)
        time.sleep(1)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if page.url.endswith("/sign-in/code"):
        page.fill("input[name=code]", authentication_code(email))
        with page.expect_navigation():
            page.click("form button[type=submit]")
    if "/sign-in" in page.url:
        raise SystemExit(f"Could not sign in as {email}.")


# Where to cut a page taller than the limit: below the lowest whole card or section that fits, or failing that
# (when the nearest one ends far above the limit) below the lowest whole table row, list item or field.
CUT_HEIGHT_JS = """(limit) => {
  const full = document.documentElement.scrollHeight;
  if (full <= limit) return full;
  const lowest = (selector) => Math.max(0, ...[...document.querySelectorAll(selector)]
      .map((el) => el.getBoundingClientRect().bottom + window.scrollY)
      .filter((bottom) => bottom > 0 && bottom <= limit - 16));
  const block = lowest("main > *, main .card, main section");
  const bottom = block >= limit - 500 ? block : Math.max(block, lowest("main tr, main li, main .field, main p"));
  return Math.ceil(bottom > 0 ? bottom + 16 : limit);
}"""


def take(page: Page, base: str, shot: Shot, ids: DemoIds) -> Path:
    response = page.goto(base + shot.path(ids))
    if response is None or response.status >= 400:
        status = response.status if response else "no response"
        raise SystemExit(f"{shot.name}: {shot.path(ids)} answered {status}.")
    page.wait_for_load_state("networkidle")
    height = page.evaluate(CUT_HEIGHT_JS, shot.max_height)
    target = OUT / f"{shot.name}.png"
    page.screenshot(
        path=str(target), full_page=True, clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
    )
    return target


def take_all(browser: Browser, base: str, ids: DemoIds, shots: list[Shot]) -> list[Path]:
    """One browser context per user, so each signs in once."""
    written = []
    for user in dict.fromkeys(shot.user for shot in shots):
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        page = context.new_page()
        if user:
            sign_in(page, base, user)
        for shot in (s for s in shots if s.user == user):
            written.append(take(page, base, shot, ids))
        context.close()
    return sorted(written)


def main(prefixes: list[str]) -> None:
    shots = [s for s in SHOTS if not prefixes or any(s.name.startswith(p) for p in prefixes)]
    if not shots:
        raise SystemExit(f"No shot starts with {' or '.join(prefixes)}; names: {[s.name for s in SHOTS]}")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="marketplace-shots-") as tmp:
        database = Path(tmp) / "demo.db"
        port, sim_port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{database}",
            "MARKETPLACE_ENV": "development",
            "DEMO_LOGINS": "1",
            "FLASK_DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "STRIPE_API_BASE": f"http://127.0.0.1:{sim_port}",
        }
        flask("db", "upgrade", env=env)
        # Before the seed, as in ./run-demo: the demo contracts' money is moved through the simulator.
        sim = start_stripe_sim(sim_port, port, Path(tmp) / "stripe-sim.log")
        log = (Path(tmp) / "server.log").open("w")
        server = None
        try:
            seeded = flask("seed", env=env).stdout
            if "Contract money moved through the local Stripe simulator" not in seeded:
                raise SystemExit(f"The seed moved no contract money:\n{seeded}")
            ids = demo_ids(database)
            server = flask(
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                env=env,
                background=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            wait_until_up(f"{base}/sign-in", server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    written = take_all(browser, base, ids, shots)
                finally:
                    browser.close()
        except BaseException:
            log.flush()
            sys.stderr.write((Path(tmp) / "server.log").read_text()[-4000:])
            raise
        finally:
            if server is not None:
                stop(server)
            stop(sim)
            log.close()
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(sys.argv[1:])
