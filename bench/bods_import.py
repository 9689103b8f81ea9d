"""BODS import benchmark: statements per second and peak memory, the product's path beside the old way.

    python bench/bods_import.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench_import \
        --statements 1000000 --old-statements 50000 --json bench/results/bods-import-postgresql-1m.json

For each size it writes a BODS 0.4 JSON Lines file (bench/bods_data.py, deterministic), empties the database and
migrates it, then runs `flask --app marketplace bods import FILE` (the product's path: streamed, staged, applied in
bulk, screening told) in a child process, timing it from start to exit and reading the child's peak resident
memory (ru_maxrss from wait4). The old way (`import_bods` on the whole list, as the command did before issue 13)
runs the same way on a smaller file, and so does a child that only starts the app (the memory any command has).
`peak_tree_rss_mib` samples the child and its own children (the stager process) every 0.2 s and sums them.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bods_data import generate  # noqa: E402

OLD_WAY = """
import sys
from pathlib import Path
from marketplace import changes, create_app
from marketplace.extensions import db
from marketplace.parties.bods import import_bods, read_statements
app = create_app()
with app.app_context():
    path = Path(sys.argv[1])
    summary = import_bods(db.session, None, read_statements(path), path.name)
    changes.ties_changed(db.session, None, party_ids=None)
    db.session.commit()
    print(summary.line())
"""
APP_ONLY = """
from marketplace import create_app
from marketplace.extensions import db
app = create_app()
with app.app_context():
    db.session.execute(db.text("select 1"))
"""


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
    subprocess.run(  # noqa: S603 (our own command and arguments)
        ["flask", "--app", "marketplace", "db", "upgrade"],  # noqa: S607
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


def run_child(command: list[str], url: str) -> dict:
    """Run a child to its end: seconds, peak resident memory (MiB), and its last line of standard output."""
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command,
        env={**os.environ, "DATABASE_URL": url, "REDIS_URL": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    tree_peak, ended = [0], threading.Event()
    sampler = threading.Thread(target=sample_tree, args=(child.pid, tree_peak, ended), daemon=True)
    sampler.start()
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    ended.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}): {output[-2000:]}")
    lines = [line for line in output.splitlines() if line.strip()]
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mib": round(tree_peak[0] / 1024, 1),
        "output": lines[:1],
    }


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (the import's stager), summed (pages they share counted
    twice: an upper bound)."""
    total = 0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0
    for one in pids:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


def sample_tree(pid: int, peak: list[int], ended: threading.Event) -> None:
    """Every 0.2 s until the child has ended: the largest resident memory its process tree had at once (never
    reaping it: wait4 must, for ru_maxrss)."""
    while not ended.wait(0.2):
        peak[0] = max(peak[0], tree_rss_kib(pid))


def measure(url: str, path: Path, statements: int, way: str) -> dict:
    fresh_database(url)
    if way == "product":
        command = ["flask", "--app", "marketplace", "bods", "import", str(path)]
    else:
        command = [sys.executable, "-c", OLD_WAY, str(path)]
    result = run_child(command, url)
    result.update(way=way, statements=statements, per_second=round(statements / result["seconds"], 1))
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--statements", type=int, nargs="+", default=[100_000])
    parser.add_argument("--old-statements", type=int, default=50_000, help="0: do not run the old way")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bods-bench"))  # noqa: S108
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    def data(count: int) -> Path:
        path = args.workdir / f"bods-{count}-seed{args.seed}.jsonl"
        if not path.exists():
            generate(path, count, args.seed)
        return path

    report: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "database": make_url(args.database_url).get_backend_name(),
        "loadavg_start": os.getloadavg(),
        "runs": [],
    }
    fresh_database(args.database_url)  # the app-only child connects: the database must exist
    report["app_only"] = run_child([sys.executable, "-c", APP_ONLY], args.database_url)
    if args.old_statements:
        path = data(args.old_statements)
        report["runs"].append(measure(args.database_url, path, args.old_statements, "product"))
        report["runs"].append(measure(args.database_url, path, args.old_statements, "old"))
    for count in args.statements:
        report["runs"].append(measure(args.database_url, data(count), count, "product"))
    report["loadavg_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
