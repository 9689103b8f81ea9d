"""The lab's own confidential job page, which counts the vendors that can see the job, on a bench register: once
with the lab's verdicts current, then while a re-screen of the lab waits on the queue (a rival just named):

    python bench/lab_job_page.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench_1m

Each is the first view after the change (nothing kept): the Flask test client, signed in as the bench buyer. The lab's
verdicts are stored first if they are not (as bench/who_sees.py does, which also gives each vendor a user); the job,
its question and the pending row are removed after.
"""

import json
import re
import sys
import time
from pathlib import Path

import click
from sqlalchemy import delete, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import BUYER_EMAIL, BUYER_PASSWORD  # noqa: E402
from who_sees import _as_in_production, _confidential_job_with_a_question  # noqa: E402


@click.command()
@click.option("--database-url", required=True)
def main(database_url: str) -> None:
    from marketplace import create_app
    from marketplace.accounts.models import Organization, OrgKind, User
    from marketplace.extensions import db
    from marketplace.jobs.models import Job, Question
    from marketplace.screening.models import PendingRescreen

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        buyer = db.session.execute(select(User).where(User.email == BUYER_EMAIL)).scalar_one()
        vendors = db.session.execute(select(Organization).where(Organization.kind == OrgKind.VENDOR)).scalars().all()
        _as_in_production(db.session, buyer, vendors)
        buyer = db.session.execute(select(User).where(User.email == BUYER_EMAIL)).scalar_one()
        buyer_org_id = buyer.org_id
        job, _ = _confidential_job_with_a_question(db.session, buyer)
        job_id = job.id
        db.session.commit()
        db.session.remove()
    out: dict = {}
    try:
        client = app.test_client()
        assert client.post("/sign-in", data={"email": BUYER_EMAIL, "password": BUYER_PASSWORD}).status_code == 303
        for case in ("current", "updating"):
            if case == "updating":
                with app.app_context():
                    db.session.add(PendingRescreen(buyer_org_id=buyer_org_id, reason="bench: rival named"))
                    db.session.commit()
                    db.session.remove()
            started = time.perf_counter()
            response = client.get(f"/jobs/{job_id}")
            took = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code
            html = response.get_data(as_text=True)
            count = re.search(r"([\d,]+) vendors? can see this job", html)
            out[case] = {
                "ms": round(took, 1),
                "count": count.group(1) if count else None,
                "says_updating": 'data-testid="seeing-updating"' in html,
            }
            click.echo(f"{case}: {took:.0f} ms, {count.group(0) if count else '?'}")
    finally:
        with app.app_context():
            db.session.execute(delete(PendingRescreen).where(PendingRescreen.reason == "bench: rival named"))
            db.session.execute(delete(Question).where(Question.job_id == job_id))
            db.session.execute(delete(Job).where(Job.id == job_id))
            db.session.commit()
            db.session.remove()
    click.echo(json.dumps(out))


if __name__ == "__main__":
    main()
