"""The admins' audit trail as it grows: its page and its statements at each size, against the obvious way of paging
it (an exact count, a DISTINCT over the actions, OFFSET to reach a page), in the same run on the same database.

    python bench/audit_trail.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_audit_bench \
        --sizes 10000 100000 1000000 2000000 --json bench/results/audit-trail-postgresql.json

The database named is emptied and filled with the demo marketplace (bench/pages.py's build_demo), then its trail is
topped up to each size with copies of the demo's own records, spread over the actions of audit.wording.ACTIONS (an
INSERT ... SELECT: their hashes are made up, so `flask audit verify` fails on it; the page does not read the chain).
Each figure is the median of --repeat runs after one warm-up: the page through Flask's test client (signed in as the
demo's admin), and each statement alone through psycopg. "Last page" is the oldest fifty records: OFFSET reads every
record before them, the page by id reads fifty.
"""

import json
import sys
from pathlib import Path

import click
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pages import EMAILS, build_demo  # noqa: E402
from pages_inprocess import signed_in_client, timed  # noqa: E402

COUNT_UP_TO = 10_000  # the app's default AUDIT_TRAIL_COUNTS_UP_TO
PER_PAGE = 50

# The statements of the page, both ways; :oldest is the id of the 51st oldest record.
OBVIOUS = {
    "actions (DISTINCT)": "SELECT DISTINCT action FROM auditrecord ORDER BY action",
    "count (exact)": "SELECT count(id) FROM auditrecord",
    "first page (OFFSET 0)": "SELECT * FROM auditrecord ORDER BY id DESC LIMIT 50 OFFSET 0",
    "last page (OFFSET)": "SELECT * FROM auditrecord ORDER BY id DESC LIMIT 50 OFFSET :last_offset",
}
BOUNDED = {
    "actions (index steps)": (
        "WITH RECURSIVE a(action) AS (SELECT min(action) FROM auditrecord UNION ALL "
        "SELECT (SELECT min(action) FROM auditrecord WHERE action > a.action) FROM a WHERE a.action IS NOT NULL) "
        "SELECT action FROM a WHERE action IS NOT NULL"
    ),
    "count (up to 10,000)": "SELECT count(*) FROM (SELECT id FROM auditrecord LIMIT :count_limit) AS first_ones",
    "first page (newest)": "SELECT * FROM auditrecord ORDER BY id DESC LIMIT 51",
    "last page (before an id)": "SELECT * FROM auditrecord WHERE id < :oldest ORDER BY id DESC LIMIT 51",
}


def _median_ms(run, repeat: int) -> float:
    return round(timed(run, repeat, warmup=1), 2)


def _top_up(connection, size: int, demo: int) -> None:
    """Copies of the demo's own records (ids up to `demo`), until the trail holds `size`."""
    from marketplace.audit.wording import ACTIONS

    have = connection.execute(text("SELECT count(*) FROM auditrecord")).scalar_one()
    if have >= size:
        return
    actions = sorted(ACTIONS)
    connection.execute(
        text(
            """
            INSERT INTO auditrecord (at, actor_id, actor_label, action, subject_type, subject_id, buyer_org_id,
                                     vendor_org_id, before, after, prev_hash, hash)
            SELECT d.at, d.actor_id, d.actor_label,
                   (CAST(:actions AS text[]))[1 + g % cardinality(CAST(:actions AS text[]))], d.subject_type,
                   d.subject_id, d.buyer_org_id, d.vendor_org_id, d.before, d.after,
                   md5(g::text || 'p') || md5(g::text || 'q'), md5(g::text || 'h') || md5(g::text || 'i')
            FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS g
            JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, * FROM auditrecord WHERE id <= :demo) AS d
              ON d.n = g % CAST(:demo AS bigint)
            """
        ),
        {"actions": actions, "start": have, "stop": size - 1, "demo": demo},
    )
    connection.execute(text("ANALYZE auditrecord"))


@click.command()
@click.option("--database-url", required=True, help="PostgreSQL; emptied and rebuilt: never point it at data you keep")
@click.option("--sizes", type=int, multiple=True, default=(10_000, 100_000, 1_000_000, 2_000_000), show_default=True)
@click.option("--repeat", default=15, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def main(database_url: str, sizes, repeat: int, json_path: Path | None) -> None:
    import logging

    from marketplace.extensions import db

    logging.getLogger("marketplace").setLevel(logging.WARNING)
    app = build_demo(database_url)
    client = signed_in_client(app, EMAILS["admin"])
    rows = []
    with app.app_context():
        demo = db.session.execute(text("SELECT max(id) FROM auditrecord")).scalar_one()
        db.session.remove()
    with click.progressbar(sorted(sizes), label="trail sizes", file=sys.stderr) as bar:
        for size in bar:
            with app.app_context():
                with db.engine.begin() as connection:
                    _top_up(connection, size, demo)
                with db.engine.connect() as connection:
                    total = connection.execute(text("SELECT count(*) FROM auditrecord")).scalar_one()
                    oldest = connection.execute(
                        text("SELECT id FROM auditrecord ORDER BY id LIMIT 1 OFFSET :n"), {"n": PER_PAGE}
                    ).scalar_one()
                    params = {"last_offset": max(total - PER_PAGE, 0), "oldest": oldest, "count_limit": COUNT_UP_TO + 1}
                    statements = {
                        name: _median_ms(lambda sql=sql, p=params: connection.execute(text(sql), p).all(), repeat)
                        for name, sql in {**OBVIOUS, **BOUNDED}.items()
                    }
                db.session.remove()
            first_page = _median_ms(lambda: _ok(client.get("/admin/audit")), repeat)
            last_page = _median_ms(lambda o=oldest: _ok(client.get(f"/admin/audit?before={o}")), repeat)
            rows.append(
                {"records": total, "page_ms": first_page, "last_page_ms": last_page, "statements_ms": statements}
            )
    for row in rows:
        click.echo(f"\n{row['records']:,} records: the page {row['page_ms']} ms, the last {row['last_page_ms']} ms")
        obvious = sum(row["statements_ms"][name] for name in OBVIOUS if name != "last page (OFFSET)")
        bounded = sum(row["statements_ms"][name] for name in BOUNDED if name != "last page (before an id)")
        for name, ms in row["statements_ms"].items():
            click.echo(f"  {name:28} {ms:9.2f} ms")
        click.echo(f"  first page's three statements: obvious {obvious:.2f} ms, bounded {bounded:.2f} ms")
    if json_path:
        json_path.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=2) + "\n")


def _ok(response) -> None:
    if response.status_code != 200:
        raise click.ClickException(f"/admin/audit: {response.status_code}")


if __name__ == "__main__":
    main()
