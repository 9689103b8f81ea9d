"""Pages in one process: each page bench/pages.py loads, timed through Flask's test client (median of --repeat
requests after --warmup), beside the one-row Jinja page of bench/baselines.py in the same process. A quick loop for
work on a page's cost before a load run; --profile PAGE prints the cProfile of that page's requests (SORT and N in
the environment: its order, default cumulative, and how many lines, default 60).

    python bench/pages_inprocess.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_inproc

The database named is emptied and filled with the demo marketplace (as bench/pages.py does); the users are signed in
with a session record as the tests' login_as does (no password check, no second factor).
"""

import cProfile
import logging
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import click
from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pages import EMAILS, PAGES, build_demo, demo_rows  # noqa: E402


def signed_in_client(app, email: str):
    """A test client carrying a recorded sign-in of the user with this address."""
    from marketplace.accounts.models import User
    from marketplace.accounts.sessions import start_session
    from marketplace.accounts.web_sessions import SESSION_KEY
    from marketplace.extensions import db

    client = app.test_client()
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        started = start_session(db.session, user, ip_address="127.0.0.1", user_agent="bench")
        db.session.commit()
        user_id, key = user.get_id(), started.key
        db.session.remove()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = user_id
        flask_session["_fresh"] = True
        flask_session[SESSION_KEY] = key
    return client


def timed(get, repeat: int, warmup: int) -> float:
    for _ in range(warmup):
        get()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        get()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@click.command()
@click.option("--database-url", required=True, help="emptied and rebuilt: never point it at data you keep")
@click.option("--repeat", default=30, show_default=True)
@click.option("--warmup", default=3, show_default=True)
@click.option("--only", multiple=True, help="only pages whose 'role: name' contains this (repeatable)")
@click.option("--profile", "profile_page", default=None, help="'role: name' of a page to profile")
@click.option("--reuse", is_flag=True, help="do not rebuild the database (it holds the demo already)")
def main(database_url: str, repeat: int, warmup: int, only, profile_page, reuse: bool) -> None:
    logging.getLogger("marketplace").setLevel(logging.WARNING)
    os.environ["DATABASE_URL"] = database_url
    if reuse:
        from harness import SECRET_KEY

        from marketplace import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "RATELIMIT_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": SECRET_KEY,
            }
        )
    else:
        app = build_demo(database_url)
    rows = demo_rows(app)
    from baselines import one_row_app

    one_row = one_row_app().test_client()
    ms = timed(lambda: one_row.get("/"), repeat, warmup)
    click.echo(f"{'baseline: one-row Jinja':40} {'':>5} {ms:7.2f} ms")
    from marketplace.extensions import db

    seen: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args, **kwargs: seen.append(args[2]))
    for role, pages in PAGES.items():
        client = signed_in_client(app, EMAILS[role])
        for name, path in pages:
            label = f"{role}: {name}"
            if only and not any(word in label for word in only):
                continue
            url = path.format(**rows)

            def get(url=url, label=label, client=client):
                response = client.get(url)
                if response.status_code != 200:
                    raise click.ClickException(f"{label}: {response.status_code}")

            get()
            seen.clear()
            get()
            statements = len(seen)
            if os.environ.get("SQL"):
                for sql in seen:
                    click.echo(f"    {' '.join(sql.split())[:400]}")
            if profile_page == label:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(repeat):
                    get()
                profiler.disable()
                pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
                    int(os.environ.get("N", "60"))
                )
            ms = timed(get, repeat, warmup)
            click.echo(f"{label:40} {statements:5} {ms:7.2f} ms")
    ms = timed(lambda: one_row.get("/"), repeat, warmup)
    click.echo(f"{'baseline: one-row Jinja, again':40} {'':>5} {ms:7.2f} ms")


if __name__ == "__main__":
    main()
