"""Where the BODS import's CPU goes: one import of FILE on a fresh PostgreSQL database, in this process, with the
CPU seconds per statement of the applying process, its stager and the PostgreSQL backends serving the database.

    python bench/bods_import_cpu.py /tmp/bods-bench/bods-100000-seed1.jsonl \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench_import_cpu

On a shared machine the wall time follows the load; the CPU per statement hardly does, so it compares two versions
of the code run minutes apart. The backends are sampled from /proc every 0.1 s (a backend that ends between two
samples loses its last 0.1 s); the stager is this process's child, counted by getrusage once it has ended. The
time excludes the app's start-up and the screening told afterwards (bench/bods_import.py times the whole command).
"""

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bods_import import fresh_database  # noqa: E402


def backend_cpu(database: str, seen: dict[str, float], ended: threading.Event) -> None:
    """Every 0.1 s until `ended`: the CPU seconds of each PostgreSQL backend connected to `database`."""
    tick = os.sysconf("SC_CLK_TCK")
    while not ended.wait(0.1):
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                if not command.startswith(b"postgres: ") or f" {database} ".encode() not in command.replace(
                    b"\0", b" "
                ):
                    continue
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seen[pid] = (int(fields[11]) + int(fields[12])) / tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    fresh_database(args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL="")
    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.parties.bods_stream import import_file

    app = create_app()
    seen: dict[str, float] = {}
    ended = threading.Event()
    database = make_url(args.database_url).database or ""
    with app.app_context():
        db.session.execute(text("select 1"))  # connected before the clock starts
        threading.Thread(target=backend_cpu, args=(database, seen, ended), daemon=True).start()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        load, started, cpu = os.getloadavg(), time.perf_counter(), time.process_time()
        summary = import_file(db.session, None, args.file)
        db.session.commit()
        seconds, applier = time.perf_counter() - started, time.process_time() - cpu
        ended.set()
        time.sleep(0.2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stager = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    postgres, count = sum(seen.values()), summary.statements
    print(
        f"{count} statements in {seconds:.1f} s, {count / seconds:,.0f}/s | CPU us a statement: applier "
        f"{applier / count * 1e6:.0f}, stager {stager / count * 1e6:.0f}, PostgreSQL {postgres / count * 1e6:.0f}, "
        f"total {(applier + stager + postgres) / count * 1e6:.0f} | load {load[0]:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    print(summary.line())


if __name__ == "__main__":
    main()
