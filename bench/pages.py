"""Pages under load: requests/s, p50 and p95 of every signed-in page a buyer, a vendor and an admin use, served by
gunicorn (as the README's production section runs it), beside two bare baselines served the same way in the same run.

    flock /tmp/bench.lock python bench/pages.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_load \
        --json bench/results/pages-postgresql.json --svg docs/pages.svg

The database named is emptied, built by the migrations and filled with the demo marketplace (`flask seed`). Three
gunicorns with --workers each: the marketplace, a bare Flask app returning a string, and a one-row Jinja page (a
minimal Flask app reading one row of the same database and rendering it; bench/baselines.py). The demo's buyer,
vendor and admin sign in through the real form (the admin with the second factor), and each page is then loaded by
locust (bench/pages_locust.py), one page at a time, by --users users sending requests back to back: --warmup
seconds not counted, then --seconds counted. Just before each page the one-row page is measured for half as long,
and the page's throughput is given as a ratio of that (other work on a shared machine makes what it gives drift
within a run); the one-row page is also measured on its own first and last. Each page's SQL statements are counted
too (one request after a first, by the test client with the browsers' cookies).

Anything but a 200 fails the run.
"""

import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import click
from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import _empty_database  # noqa: E402  (the benchmark's own way to start from nothing)
from harness import SECRET_KEY, Gunicorn, free_port, sign_in_session  # noqa: E402

TARGET_RATIO = 0.25
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (published on the demo's sign-in page)
ADMIN_TOTP = "ARMSLENGTHDEMOADMINTOTPSECRET234"  # noqa: S105  (the demo admin's, seed_data/users.json)
EMAILS = {
    "buyer": "maya@northwind-ai.example",
    "vendor": "ines@clearlabel.example",
    "admin": "admin@armslength.example",
}
# Every signed-in page each role works from; {names} are demo rows (see demo_rows).
PAGES = {
    "buyer": [
        ("job list", "/jobs/"),
        ("job page", "/jobs/{job}"),
        ("bids comparison", "/jobs/{job}/bids"),
        ("vendors search", "/vendors"),
        ("vendors search, a word", "/vendors?q=label"),
        ("vendor screening", "/vendors/{vendor}/screening"),
        ("vendor profile", "/vendors/{vendor}"),
        ("rivals and policy", "/rivals"),
        ("contracts", "/contracts"),
        ("contract page", "/contracts/{contract}"),
        ("notifications", "/notifications/"),
        ("payments statement", "/payments/statement"),
        ("team", "/team"),
    ],
    "vendor": [
        ("job list", "/jobs/"),
        ("job page", "/jobs/{job}"),
        ("my bids", "/bids/"),
        ("bid page", "/bids/{bid}"),
        ("notifications", "/notifications/"),
        ("disclosures", "/disclosure/"),
        ("disclosure version", "/disclosure/{version}"),
        ("profile", "/profile"),
        ("contracts", "/contracts"),
    ],
    "admin": [
        ("disclosure queue", "/admin/disclosures"),
        ("disclosure review", "/admin/disclosures/{queued}"),
        ("organisations", "/admin/organizations"),
        ("organisation page", "/admin/organizations/{vendor}"),
        ("registry", "/admin/parties/"),
        ("registry party page", "/admin/parties/{party}"),
        ("audit trail", "/admin/audit"),
    ],
}


def _say(message: str) -> None:
    click.echo(f"[{datetime.now(UTC):%H:%M:%S}] {message}", err=True)


def build_demo(database_url: str):
    """An empty database, migrated and seeded with the demo; the app on it."""
    _empty_database(database_url)
    from flask_migrate import upgrade

    from marketplace import create_app
    from seed_data.seeding import seed_command

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": SECRET_KEY,  # gunicorn's: the test client reads the pages with the browsers' cookies
        }
    )
    with app.app_context():
        upgrade()
    seeded = app.test_cli_runner().invoke(seed_command)
    if seeded.exit_code != 0:
        raise click.ClickException(f"seeding failed: {seeded.output[-2000:]}")
    return app


def demo_rows(app) -> dict[str, int]:
    """The demo rows the pages are about: the buyer's first open job (the vendor sees it), its first contract, the
    vendor's organisation, party, first bid and latest disclosure version, and a version awaiting review."""
    from marketplace.accounts.models import Organization, User
    from marketplace.bids.models import Bid
    from marketplace.contracts.models import Contract
    from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
    from marketplace.extensions import db
    from marketplace.jobs.models import Job, JobStatus

    with app.app_context():
        session = db.session
        buyer, vendor = (
            session.execute(select(User).where(User.email == EMAILS[r])).scalar_one() for r in ("buyer", "vendor")
        )
        vendor_org = session.get(Organization, vendor.org_id)
        first = lambda query: session.execute(query.limit(1)).scalar_one()  # noqa: E731
        rows = {
            "job": first(
                select(Job.id).where(Job.buyer_org_id == buyer.org_id, Job.status == JobStatus.OPEN).order_by(Job.id)
            ),
            "contract": first(select(Contract.id).where(Contract.buyer_org_id == buyer.org_id).order_by(Contract.id)),
            "vendor": vendor_org.id,
            "party": vendor_org.party_id,
            "bid": first(select(Bid.id).where(Bid.vendor_org_id == vendor_org.id).order_by(Bid.id)),
            "version": first(
                select(DisclosureVersion.id)
                .where(DisclosureVersion.vendor_org_id == vendor_org.id)
                .order_by(DisclosureVersion.id.desc())
            ),
            "queued": first(
                select(DisclosureVersion.id)
                .where(DisclosureVersion.status == DisclosureStatus.SUBMITTED)
                .order_by(DisclosureVersion.id)
            ),
        }
        db.session.remove()
    return rows


def count_statements(app, rows: dict[str, int], browsers: dict) -> dict[str, int]:
    """Each page's SQL statements, one request after a first one, by the test client carrying the cookies of the
    browsers signed in to gunicorn (the second factor's code cannot be used twice)."""
    from marketplace.extensions import db

    counted: dict[str, int] = {}
    seen: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args, **kwargs: seen.append(args[2]))
    for role, pages in PAGES.items():
        client = app.test_client()
        for name, value in browsers[role].cookies.items():
            client.set_cookie(name, value)
        for name, path in pages:
            client.get(path.format(**rows))
            seen.clear()
            status = client.get(path.format(**rows)).status_code
            if status != 200:
                raise click.ClickException(f"{role} {path}: {status} under the test client")
            counted[f"{role}: {name}"] = len(seen)
    return counted


def _cookie(browser) -> str:
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def run_load(plan: dict) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        plan_path, results_path = Path(folder) / "plan.json", Path(folder) / "results.json"
        plan_path.write_text(json.dumps(plan))
        subprocess.run(  # noqa: S603 (our own interpreter and script)
            [sys.executable, str(ROOT / "bench" / "pages_locust.py"), str(plan_path), str(results_path)], check=True
        )
        return json.loads(results_path.read_text())


def figures_from(results: list[dict], statements: dict[str, int]) -> list[dict]:
    """Each page's figures with its ratio to the one-row page measured just before it (the baselines themselves: to
    the mean of the one-row page's first and last runs). The machine is shared: what it gives drifts within a run."""
    one_row = [r["requests_per_s"] for r in results if r["name"].startswith("baseline: one-row Jinja")]
    mean = sum(one_row) / len(one_row)
    return [
        {
            **r,
            "statements": statements.get(r["name"]),
            "ratio": round(r["requests_per_s"] / r.get("reference_requests_per_s", mean), 3),
        }
        for r in results
    ]


def markdown(rows: list[dict]) -> str:
    lines = [
        "| page | SQL statements | requests/s | p50 ms | p95 ms | one-row Jinja just before, requests/s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        statements = "" if r["statements"] is None else str(r["statements"])
        lines.append(
            f"| {r['name']} | {statements} | {r['requests_per_s']:.1f} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r.get('reference_requests_per_s', '')} | {r['ratio'] * 100:.1f}% |"
        )
    return "\n".join(lines)


def svg(figures: dict) -> str:
    """A bar per page: its throughput as a share of the one-row Jinja page's, with the target's line."""
    rows = figures["pages"]
    bar, gap, left, top, width = 14, 4, 300, 56, 820
    plot = width - left - 60
    high = max(1.0, max(r["ratio"] for r in rows))
    x_of = lambda ratio: left + ratio / high * plot  # noqa: E731
    height = top + len(rows) * (bar + gap) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(figures["title"])}</text>',
        f'<text x="10" y="38">{escape(figures["subtitle"])}</text>',
    ]
    for index, r in enumerate(rows):
        y = top + index * (bar + gap)
        colour = (
            "#888888" if r["name"].startswith("baseline") else ("#2e8b57" if r["ratio"] >= TARGET_RATIO else "#c0392b")
        )
        out.append(f'<text x="{left - 6}" y="{y + bar - 3}" text-anchor="end">{escape(r["name"])}</text>')
        out.append(
            f'<rect x="{left}" y="{y}" width="{max(1.0, x_of(r["ratio"]) - left):.1f}" height="{bar}" fill="{colour}">'
            f"<title>{escape(r['name'])}: {r['requests_per_s']:.1f} requests/s</title></rect>"
        )
        out.append(f'<text x="{x_of(r["ratio"]) + 4:.1f}" y="{y + bar - 3}">{r["ratio"] * 100:.0f}%</text>')
    bottom = top + len(rows) * (bar + gap)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        if tick <= high:
            out.append(f'<text x="{x_of(tick):.1f}" y="{bottom + 14}" text-anchor="middle">{tick * 100:.0f}%</text>')
    line = x_of(TARGET_RATIO)
    out.append(
        f'<line x1="{line:.1f}" y1="{top - 6}" x2="{line:.1f}" y2="{bottom}" stroke="#1f4e79" stroke-dasharray="4 3"/>'
    )
    out.append(f'<text x="{line + 4:.1f}" y="{top - 8}" fill="#1f4e79">target: 25% of the one-row page</text>')
    out.append(
        f'<text x="{left}" y="{bottom + 30}">requests/s as a share of the one-row Jinja page\'s, same run</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


@click.command()
@click.option("--database-url", required=True, help="emptied and rebuilt: never point it at data you keep")
@click.option("--seconds", default=8.0, show_default=True, help="counted seconds per page")
@click.option("--warmup", default=2.0, show_default=True, help="seconds per page first, not counted")
@click.option("--users", default=8, show_default=True, help="locust users per page, each sending back to back")
@click.option("--workers", default=4, show_default=True, help="gunicorn workers, for the app and each baseline")
@click.option("--port", default=0, help="the first of three ports for the servers (0: free ones)")
@click.option("--only", multiple=True, help="only pages whose 'role: name' contains this (repeatable)")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False), default=None)
@click.option("--log", "log_path", type=click.Path(dir_okay=False), default="/tmp/pages-gunicorn.log")  # noqa: S108
def main(
    database_url: str,
    seconds: float,
    warmup: float,
    users: int,
    workers: int,
    port: int,
    only: tuple[str, ...],
    json_path: str | None,
    svg_path: str | None,
    log_path: str,
) -> None:
    figures: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database_url.split("@")[-1],
        "command": " ".join(["python", *sys.argv]),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
        "workers": workers,
        "users": users,
        "seconds": seconds,
        "warmup_seconds": warmup,
    }
    logging.getLogger("marketplace").setLevel(logging.WARNING)  # the test client's requests, counted, not logged
    _say("building the demo marketplace")
    app = build_demo(database_url)
    rows = demo_rows(app)
    ports = [port, port + 1, port + 2] if port else [free_port(), free_port(), free_port()]
    log = Path(log_path)
    servers = {
        "app": Gunicorn(database_url, workers, log, port=ports[0]),
        "bare": Gunicorn(database_url, workers, log, "baselines:bare_app()", ports[1], "/", ROOT / "bench"),
        "one_row": Gunicorn(database_url, workers, log, "baselines:one_row_app()", ports[2], "/", ROOT / "bench"),
    }
    try:
        for name, server in servers.items():
            _say(f"starting gunicorn with {workers} workers for {name} on {server.url}")
            server.start()
        browsers = {
            role: sign_in_session(servers["app"].url, email, DEMO_PASSWORD, ADMIN_TOTP)
            for role, email in EMAILS.items()
        }
        statements = count_statements(app, rows, browsers)
        one_row = {"url": servers["one_row"].url, "path": "/", "cookie": ""}
        targets = [
            {"name": "baseline: bare Flask", "url": servers["bare"].url, "path": "/", "cookie": ""},
            {"name": "baseline: one-row Jinja", **one_row},
        ]
        for role, pages in PAGES.items():
            for name, path in pages:
                if not only or any(word in f"{role}: {name}" for word in only):
                    url, cookie = servers["app"].url, _cookie(browsers[role])
                    targets.append(
                        {
                            "name": f"{role}: {name}",
                            "url": url,
                            "path": path.format(**rows),
                            "cookie": cookie,
                            "paired": 1,
                        }
                    )
        targets.append({"name": "baseline: one-row Jinja, again", **one_row})
        _say(f"loading {len(targets)} pages, {warmup:g} + {seconds:g} s each, {users} users")
        results = run_load(
            {
                "users": users,
                "warmup": warmup,
                "seconds": seconds,
                "targets": targets,
                "reference": {"name": "baseline: one-row Jinja", **one_row},
                "reference_warmup": min(warmup, 1.0),
                "reference_seconds": seconds / 2,
            }
        )
    finally:
        for server in servers.values():
            server.stop()
    pages = figures_from(results, statements)
    app_pages = [p for p in pages if not p["name"].startswith("baseline")]
    slowest = min(app_pages, key=lambda p: p["ratio"])
    figures.update(
        {
            "loadavg_end": os.getloadavg(),
            "pages": pages,
            "slowest": slowest["name"],
            "slowest_ratio": slowest["ratio"],
            "target_ratio": TARGET_RATIO,
            "title": f"Pages under load: gunicorn, {workers} workers, PostgreSQL, {users} locust users per page",
            "subtitle": f"{figures['started_at']}; load average {figures['loadavg_start'][0]:.2f} at the start; "
            f"slowest page: {slowest['name']} at {slowest['ratio'] * 100:.0f}%",
        }
    )
    click.echo(markdown(pages))
    click.echo(
        f"\nslowest page: {slowest['name']}, {slowest['ratio'] * 100:.1f}% of the one-row Jinja page's requests/s"
    )
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(figures, indent=2) + "\n")
    if svg_path:
        Path(svg_path).parent.mkdir(parents=True, exist_ok=True)
        Path(svg_path).write_text(svg(figures))
    if any(p["failures"] or p.get("reference_failures") for p in pages):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
