"""Commits per second of small transactions each inserting one tie (a watched and kept table: each commit bumps the
screening generation and, from migration 0047, the `interest` counter; from 0048 both in one statement, the screening
generation being table_generation's row ''), from W processes at once.

    python bench/generate.py --parties 3000 --interests 6000 --vendors 200 --today 2026-12-07 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_contention
    N=1000 python bench/commit_contention.py 4    # DATABASE_URL names another database

Run it on the code before and after a change (PYTHONPATH set to each tree); it adds N ties a worker each run.
"""

import multiprocessing as mp
import os
import sys
import time

URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_contention")
N = int(os.environ.get("N", "400"))


def worker(index, start_evt, out):
    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.parties.models import Interest

    app = create_app({"SQLALCHEMY_DATABASE_URI": URL, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
        start_evt.wait()
        t = time.perf_counter()
        for i in range(N):
            db.session.add(
                Interest(
                    interested_party_id=1 + (i + index) % 1000,
                    subject_party_id=1001 + (i * 7 + index) % 1000,
                    interest_type="shareholding",
                    share_exact=1.0,
                    origin="admin_fact",
                    verification_level="admin-verified",
                )
            )
            db.session.commit()
        out.put(time.perf_counter() - t)


if __name__ == "__main__":
    w = int(sys.argv[1])
    evt, out = mp.Event(), mp.Queue()
    ps = [mp.Process(target=worker, args=(k, evt, out)) for k in range(w)]
    for p in ps:
        p.start()
    time.sleep(6)  # every worker's app made and connected before the first commit
    evt.set()
    times = [out.get() for _ in ps]
    for p in ps:
        p.join()
    print(f"workers {w}: {w * N} commits in {max(times):.2f} s: {w * N / max(times):.0f} commits/s")
