"""Where a re-screen after one change goes: bench/run.py's (c), timed per stage, its SQL counted, optionally profiled.

    python bench/rescreen_profile.py postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench_1m
    python bench/rescreen_profile.py URL --vendors 100 --seed 2 --profile /tmp/rescreen.prof --stages
    python bench/rescreen_profile.py URL --vendors 100 --seed 2 --committed

Each vendor as (c) does it: one Interest (a rival's 3% shareholding, admin-verified) added to the vendor's party and
flushed, then `refresh_after_change(session, None, party_ids=[party], vendor_org_ids=[org])` timed, then rolled
back, so the database is left as it was. With --committed, as the task queue meets a change: the tie committed
first, the re-screen timed in a transaction of its own (rolled back), then the tie deleted and committed. With no
--seed the vendors are (c)'s twenty (bench/run.py's random sequence replayed); with --seed S, --vendors N drawn by
random.Random(S). Prints median, p95, max, the load average,
and with --stages, per stage (the functions below, wrapped while the script runs): calls, wall time inclusive,
queries and their round-trip time, median per re-screen. Works on whatever code is on PYTHONPATH (before and after).
"""

import cProfile
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import delete, event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

# (module, attribute) wrapped with --stages, outermost first; a query counts for the innermost stage open.
STAGES = [
    ("marketplace.screening.services.refresh", "affected_vendor_ids"),
    ("marketplace.screening.services.refresh", "refresh_verdicts"),
    ("marketplace.screening.services.refresh", "screen_pairs"),
    ("marketplace.screening.services.refresh", "_act_on_change"),
    ("marketplace.screening.services.screen", "_graph_and_variants"),
    ("marketplace.screening.services.screen", "_own_graphs"),
    ("marketplace.screening.services.screen", "_screen_with_variants"),
    ("marketplace.screening.services.screen", "_would_matter"),
    ("marketplace.screening.services.screen", "waiver_keys"),
    ("marketplace.screening.services.screen", "_rivals_by_buyer"),
    ("marketplace.screening.services.screen", "_policies"),
    ("marketplace.screening.store.loader", "load_aliases"),
    ("marketplace.screening.store.loader", "vendor_facts"),
    ("marketplace.screening.store.loader", "load_graph_around"),
    ("marketplace.screening.store.loader", "load_graph_above"),
    ("marketplace.screening.store.matches", "variants_near"),
]


def _vendors_of_run(vendor_rows: list, seed: int) -> list:
    """The twenty vendors bench/run.py's (c) re-screens: its random sequence replayed ((a)'s naive sample of 200,
    (b)'s fifty pages, then (c)'s sample)."""
    rng = random.Random(seed)
    rng.sample(vendor_rows, min(200, len(vendor_rows)))
    for i in range(50):  # the pages' draws, in run.py's order and ranges (a range decides how many bits a draw takes)
        kind = i % 5
        rng.randint(1, 300)
        if kind == 3:
            rng.randint(0, 9)
        if kind:
            rng.randint(1, (60, 40, 30, 100)[kind - 1])
    return rng.sample(vendor_rows, 20)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class _Stages:
    def __init__(self) -> None:
        self.open: list[str] = []
        self.wall: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.queries: dict[str, int] = defaultdict(int)
        self.query_s: dict[str, float] = defaultdict(float)
        self.statements: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self.rows: dict[str, int] = defaultdict(int)

    def wrap(self, module, name: str) -> None:
        inner = getattr(module, name)
        label = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"

        def wrapper(*args, **kwargs):
            self.open.append(label)
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.wall[label] += time.perf_counter() - started
                self.calls[label] += 1
                self.open.pop()

        setattr(module, name, wrapper)

    def listen(self, engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["rescreen_profile.started"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            seconds = time.perf_counter() - conn.info.pop("rescreen_profile.started")
            label = self.open[-1] if self.open else "(outside)"
            self.queries[label] += 1
            self.query_s[label] += seconds
            self.statements[label].append((seconds, " ".join(statement.split())[:160]))
            self.rows[label] += max(0, cursor.rowcount or 0)

    def snapshot(self) -> dict[str, tuple[float, int, float, int]]:
        """{stage: (wall s, queries, query s, rows)} so far: a vendor's own figures are the difference of two."""
        labels = set(self.wall) | set(self.queries)
        return {
            k: (self.wall.get(k, 0.0), self.queries.get(k, 0), self.query_s.get(k, 0.0), self.rows.get(k, 0))
            for k in labels
        }


@click.command()
@click.argument("database_url")
@click.option("--vendors", default=20, show_default=True)
@click.option("--seed", type=int, default=None, help="draw --vendors with random.Random(SEED); none: (c)'s twenty")
@click.option("--profile", "profile_path", default=None, help="write a cProfile of the timed calls here")
@click.option("--stages/--no-stages", default=False, help="time the stages and count their queries")
@click.option("--slowest", default=0, show_default=True, help="with --stages: each stage of the N slowest re-screens")
@click.option("--json", "json_path", default=None)
@click.option(
    "--committed/--uncommitted",
    default=False,
    help="commit the tie before the re-screen, in a transaction of its own, as the task queue meets a change (and "
    "delete it, committed, after); by default (c)'s way: the re-screen in the tie's own transaction, rolled back",
)
def main(database_url, vendors, seed, profile_path, stages, slowest, json_path, committed):
    from marketplace import create_app
    from marketplace.accounts.models import Organization, OrgKind
    from marketplace.extensions import db
    from marketplace.parties.models import Interest
    from marketplace.screening.models import Rival
    from marketplace.screening.services.refresh import refresh_after_change

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    out: dict = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "loadavg_start": os.getloadavg()}
    with app.app_context():
        session = db.session
        buyer_id = session.scalar(select(Organization.id).where(Organization.kind == OrgKind.BUYER))
        rival_ids = sorted(session.scalars(select(Rival.party_id).where(Rival.buyer_org_id == buyer_id)))
        vendor_rows = session.execute(
            select(Organization.id, Organization.party_id)
            .where(Organization.kind == OrgKind.VENDOR)
            .order_by(Organization.id)
        ).all()
        db.session.remove()
        chosen = _vendors_of_run(vendor_rows, 1) if seed is None else random.Random(seed).sample(vendor_rows, vendors)
        tracker = _Stages()
        if stages:
            import importlib

            for module_name, name in STAGES:
                tracker.wrap(importlib.import_module(module_name), name)
            tracker.listen(db.engine)
        profiler = cProfile.Profile() if profile_path else None
        times, changed, per_call, per_vendor = [], 0, [], []
        for index, (org_id, party_id) in enumerate(chosen):
            session = db.session
            tie = Interest(
                interested_party_id=rival_ids[index % len(rival_ids)],
                subject_party_id=party_id,
                interest_type="shareholding",
                share_exact=3.0,
                origin="admin_fact",
                verification_level="admin-verified",
            )
            session.add(tie)
            if committed:
                session.commit()
                tie_id = tie.id
                db.session.remove()
                session = db.session
            else:
                session.flush()
            queries_before = sum(tracker.queries.values())
            stages_before = tracker.snapshot()
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            changed += len(refresh_after_change(session, None, party_ids=[party_id], vendor_org_ids=[org_id]))
            times.append((time.perf_counter() - started) * 1000)
            if profiler:
                profiler.disable()
            per_call.append(sum(tracker.queries.values()) - queries_before)
            after = tracker.snapshot()
            zero = (0.0, 0, 0.0, 0)
            per_vendor.append(
                {
                    label: tuple(b - a for a, b in zip(stages_before.get(label, zero), figures, strict=True))
                    for label, figures in after.items()
                }
            )
            session.rollback()
            db.session.remove()
            if committed:
                db.session.execute(delete(Interest).where(Interest.id == tie_id))
                db.session.commit()
                db.session.remove()
        out.update(
            vendors=len(times),
            seed=seed,
            committed=committed,
            median_ms=statistics.median(times),
            p95_ms=_p(times, 0.95),
            max_ms=max(times),
            times_ms=[round(t, 1) for t in times],
            verdict_changes=changed,
            loadavg_end=os.getloadavg(),
        )
        print(
            f"{len(times)} re-screens: median {out['median_ms']:.1f} ms, p95 {out['p95_ms']:.1f}, max "
            f"{out['max_ms']:.1f}; verdict changes {changed}; load {out['loadavg_start']} -> {out['loadavg_end']}"
        )
        if stages:
            out["queries_per_rescreen_median"] = statistics.median(per_call)
            print(f"queries per re-screen: median {statistics.median(per_call)}, max {max(per_call)}")
            print(f"{'stage':45} {'calls':>6} {'wall ms/rescreen':>17} {'queries':>8} {'query ms/rescreen':>18}")
            n = len(times)
            for label in sorted(set(tracker.wall) | set(tracker.queries), key=lambda k: -tracker.wall.get(k, 0)):
                print(
                    f"{label:45} {tracker.calls.get(label, 0):6} {tracker.wall.get(label, 0) * 1000 / n:17.2f} "
                    f"{tracker.queries.get(label, 0) / n:8.1f} {tracker.query_s.get(label, 0) * 1000 / n:18.2f}"
                )
            ranked = sorted(range(len(times)), key=lambda i: -times[i])[:slowest]
            for i in ranked:
                org_id, party_id = chosen[i]
                print(f"-- vendor org {org_id} (party {party_id}): {times[i]:.1f} ms")
                for label, (wall, queries, query_s, rows) in sorted(per_vendor[i].items(), key=lambda kv: -kv[1][0]):
                    if wall or queries:
                        print(
                            f"   {label:45} wall {wall * 1000:7.1f} ms  {queries:3} queries {query_s * 1000:7.1f} ms"
                            f"  {rows:7} rows"
                        )
            if os.environ.get("RESCREEN_STATEMENTS"):
                for label, rows in tracker.statements.items():
                    print(f"-- {label}")
                    grouped: dict[str, list[float]] = defaultdict(list)
                    for seconds, text in rows:
                        grouped[text].append(seconds)
                    for text, secs in sorted(grouped.items(), key=lambda kv: -sum(kv[1])):
                        print(f"   {len(secs) / n:5.1f}x {sum(secs) * 1000 / n:7.2f} ms  {text}")
        if profiler:
            profiler.dump_stats(profile_path)
        if json_path:
            Path(json_path).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
