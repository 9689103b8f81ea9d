"""Screen every vendor for the bench buyer as bench/run.py's (a) does, and print the CPU and wall time, the verdicts
and a SHA-256 of one JSON line per vendor (its whole Screening: every finding's rule, verdict, words, stake figures
as the repr of their floats, routes, ids, sources, and every rival result), so that a change to the screening code
can be shown to change nothing, to the last bit of a stake:

    python bench/screen_digest.py postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench_1m \
        [--profile out.prof] [--dump vendors.jsonl]

Run it on the code before and after a change (the before code exported to a directory, with PYTHONPATH set to it),
on the same register; AS_OF in the environment fixes the screening date (today by default).
"""

import dataclasses
import gc
import hashlib
import json
import os
import resource
import sys
import time
from datetime import date
from enum import Enum

from sqlalchemy import select


def plain(value):
    """The screening as JSON-ready data, floats as their repr (every bit)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def main(argv: list[str]) -> None:
    from marketplace import create_app
    from marketplace.accounts.models import Organization, OrgKind
    from marketplace.extensions import db
    from marketplace.screening.services import screen as service

    url = argv[1]
    profile_to = argv[argv.index("--profile") + 1] if "--profile" in argv else None
    dump_to = argv[argv.index("--dump") + 1] if "--dump" in argv else None
    as_of = date.fromisoformat(os.environ.get("AS_OF", date.today().isoformat()))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        buyer_id = db.session.scalar(select(Organization.id).where(Organization.kind == OrgKind.BUYER))
        db.session.remove()
        gc.collect()
        session = db.session
        load_start = os.getloadavg()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        profiler = None
        if profile_to:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        vendors = session.execute(
            select(Organization.id, Organization.party_id, Organization.kind, Organization.name).where(
                Organization.kind == OrgKind.VENDOR
            )
        ).all()
        screenings = service.screenings_for_buyer(session, buyer_id, vendors, as_of)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_to)
        cpu_end, wall_end = time.process_time(), time.perf_counter()
        counts: dict[str, int] = {}
        digest = hashlib.sha256()
        with open(dump_to, "w") if dump_to else open(os.devnull, "w") as out:
            for vendor_id in sorted(screenings):
                screening = screenings[vendor_id]
                counts[str(screening.verdict)] = counts.get(str(screening.verdict), 0) + 1
                line = json.dumps({"vendor": vendor_id, "s": plain(screening)}, sort_keys=True, default=str)
                digest.update(line.encode() + b"\n")
                out.write(line + "\n")
    print(
        json.dumps(
            {
                "as_of": as_of.isoformat(),
                "cpu_s": round(cpu_end - cpu_start, 2),
                "wall_s": round(wall_end - wall_start, 2),
                "loadavg_start": load_start,
                "loadavg_end": os.getloadavg(),
                "verdicts": counts,
                "vendors": len(screenings),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "sha256": digest.hexdigest(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv)
