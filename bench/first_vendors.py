"""A lab's first vendor list before its verdicts are stored, with and without a task queue, on a bench register:

    python bench/first_vendors.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench_1m \
        [--redis-url redis://127.0.0.1:6379/14] [--restore] [--json out.json]

The bench buyer's stored verdicts are deleted, as for a lab that has just joined. With a queue, its first screening
is asked for as sign-up asks for it (screening.services.queued.lab_joined, which queues it: no worker runs here), and
/vendors and /rivals are timed: they leave out the vendors they would have had to screen in the request. Then, on
an app without a queue (every unstored vendor screened in the page, as before), /vendors is timed once.
The pending re-screen and the queue's keys are removed after; --restore stores every verdict again (as
`flask rescreen` would), leaving the register as bench/run.py expects it (its (b) deletes and stores them too).
"""

import json
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import delete, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import BUYER_EMAIL, BUYER_PASSWORD  # noqa: E402


def _timed_get(client, path: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = client.get(path)
    took = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return took, response.get_data(as_text=True)


def _left_out(page: str) -> int:
    """How many vendors the list says it left out, not yet screened for the lab (0 when it says nothing)."""
    found = re.search(r"([\d,]+) vendors? not yet screened for your lab", page)
    return int(found.group(1).replace(",", "")) if found else 0


def _signed_in(app):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": BUYER_EMAIL, "password": BUYER_PASSWORD})
    assert response.status_code == 303, response.status_code
    return client


@click.command()
@click.option("--database-url", required=True)
@click.option("--redis-url", default="redis://127.0.0.1:6379/14", show_default=True)
@click.option("--restore", is_flag=True, help="store every verdict of the bench buyer again at the end")
@click.option("--json", "json_path", default=None)
def main(database_url: str, redis_url: str, restore: bool, json_path: str | None) -> None:
    from marketplace import create_app, tasks
    from marketplace.accounts.models import Organization, OrgKind, User
    from marketplace.extensions import db
    from marketplace.screening.models import PendingRescreen, VerdictRecord
    from marketplace.screening.services import queued
    from marketplace.screening.services.refresh import refresh_verdicts

    base = {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}
    queue_name = f"bench-first-vendors-{os.getpid()}"
    with_queue = create_app({**base, "REDIS_URL": redis_url, "TASK_QUEUE": queue_name})
    without_queue = create_app(base)
    out: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "loadavg_start": os.getloadavg(),
    }
    with with_queue.app_context():
        session = db.session
        buyer_id = session.scalar(select(User.org_id).where(User.email == BUYER_EMAIL))
        out["vendors"] = session.scalar(
            select(func.count()).select_from(Organization).where(Organization.kind == OrgKind.VENDOR)
        )
        session.execute(delete(VerdictRecord).where(VerdictRecord.buyer_org_id == buyer_id))
        queued.lab_joined(session, None, buyer_org_id=buyer_id)
        session.commit()
        session.remove()
    try:
        client = _signed_in(with_queue)
        first, page = _timed_get(client, "/vendors")
        again, _ = _timed_get(client, "/vendors?page=2")
        rivals, _ = _timed_get(client, "/rivals")
        out["with_queue"] = {
            "first_vendors_ms": first,
            "second_vendors_ms": again,
            "rivals_ms": rivals,
            "vendors_left_out": _left_out(page),
            "says_updating": "Updating verdicts" in page,
        }
        click.echo(f"with a queue: first /vendors {first:.0f} ms, page 2 {again:.0f} ms, /rivals {rivals:.0f} ms")
        with without_queue.app_context():  # the pending re-screen would only change the banner
            db.session.execute(delete(PendingRescreen).where(PendingRescreen.buyer_org_id == buyer_id))
            db.session.commit()
            db.session.remove()
        took, page = _timed_get(_signed_in(without_queue), "/vendors")
        out["without_queue"] = {
            "first_vendors_ms": took,
            "vendors_left_out": _left_out(page),
        }
        click.echo(f"without a queue: first /vendors {took:.0f} ms (every vendor screened in the request)")
    finally:
        with with_queue.app_context():
            db.session.execute(delete(PendingRescreen).where(PendingRescreen.buyer_org_id == buyer_id))
            db.session.commit()
            redis = tasks.connection(with_queue)
            for key in redis.scan_iter(match=f"*{queue_name}*", count=1000):
                redis.delete(key)
            redis.srem("rq:queues", f"rq:queue:{queue_name}")
            if restore:
                started = time.perf_counter()
                refresh_verdicts(db.session, None, buyer_org_ids=[buyer_id])
                db.session.commit()
                out["restored_in_s"] = time.perf_counter() - started
            db.session.remove()
    out["loadavg_end"] = os.getloadavg()
    if json_path:
        Path(json_path).write_text(json.dumps(out, indent=2) + "\n")
    click.echo(json.dumps(out))


if __name__ == "__main__":
    main()
