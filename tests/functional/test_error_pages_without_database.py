"""Error pages are drawn without the database (issue 11): a database that cannot be reached answers a branded 503
(nothing was saved, try again shortly, Retry-After), any other failure a branded 500, and neither loads the
signed-in user again, which is what turned them into Werkzeug's bare "Internal Server Error". The API and SCIM,
whose clients are programs, answer the same failures in their own error formats, with the same status, Retry-After
and words about what was saved.

Each app here is a real one on a real database (or on an address where none answers); see
tests/concurrency/test_faults.py for the same on a running gunicorn server, and for coming back.
"""

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from marketplace.accounts.web_sessions import SESSION_KEY
from marketplace.api import tokens
from marketplace.api.tokens import SCOPES
from marketplace.bids.models import BidRevision
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode, Job
from tests.concurrency.harness import (
    TcpProxy,
    bound_by_file_permissions_prefix,
    committed,
    free_port,
    signed_in_client,
)
from tests.conftest import database_url_for, fresh_database, make_app, migrated_database
from tests.factories import BidFactory, BuyerFactory, JobFactory, VerifiedVendorFactory

BID_FORM = {
    "price_per_unit": "1.00",
    "total": "7654.32",
    "turnaround_days": "21",
    "quality_guarantee_pct": "98",
    "proposal": "Boxes on every vehicle.",
    "data_handling_response": "",
}


def app_on(url: str, tmp_path):
    """The app as served: an error reaches the error pages instead of the test."""
    return make_app(url, UPLOAD_FOLDER=str(tmp_path / "uploads"), PROPAGATE_EXCEPTIONS=False, MAIL_SERVER="")


def claiming_to_be_signed_in(app):
    """A browser whose session cookie names a user and a sign-in, as any signed-in user's does (no database
    needed to make it)."""
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = "1:1"
        flask_session["_fresh"] = True
        flask_session[SESSION_KEY] = "a-session-key"
    return client


def assert_branded(response, status: int, heading: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:500]
    assert "Internal Server Error" not in page and "Werkzeug" not in page
    assert "Arm's Length" in page and "/static/css/app.css" in page and f"<h1>{heading}</h1>" in page
    assert "Sign out" not in page and "Sign in" not in page, "the page names no account either way"
    return page


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def unreachable_url(tmp_path) -> str:
    """A database URL of the suite's kind where no database can be reached: PostgreSQL on a port nobody listens
    on; an SQLite file in a folder that does not exist."""
    url = database_url_for(tmp_path, "unreachable")
    if url.startswith("postgresql"):
        return make_url(url).set(host="127.0.0.1", port=free_port()).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'no-such-folder' / 'marketplace.db'}"


def test_a_signed_in_user_gets_the_branded_503_when_the_database_cannot_be_reached(unreachable_url, tmp_path):
    app = app_on(unreachable_url, tmp_path)
    client = claiming_to_be_signed_in(app)
    try:
        for response in (client.get("/jobs/"), client.get("/bids/"), client.post("/jobs/1/bid", data=BID_FORM)):
            page = assert_branded(response, 503, "Temporarily unavailable")
            assert "We cannot reach our database right now. Nothing you entered was saved." in page
            assert "Please try again shortly." in page
            assert response.headers["Retry-After"] == "30"
        # Pages that need no database still work: the sign-in form and the style sheet.
        assert app.test_client().get("/sign-in").status_code == 200
        style = client.get("/static/css/app.css")
        style.close()
        assert style.status_code == 200
    finally:
        dispose(app)


def test_any_other_failure_is_the_branded_500_even_when_the_database_is_broken(tmp_path):
    """A database without the app's tables: loading the signed-in user fails (not a disconnect), so the 500 page
    must be drawn without loading that user again."""
    url = database_url_for(tmp_path, "no_tables")
    fresh_database(url)
    app = app_on(url, tmp_path)
    client = claiming_to_be_signed_in(app)
    try:
        for response in (client.get("/jobs/"), client.post("/jobs/1/bid", data=BID_FORM)):
            page = assert_branded(response, 500, "Something went wrong")
            assert "Nothing you entered was saved. Please try again." in page
            assert "Retry-After" not in response.headers
    finally:
        dispose(app)


def vendor_with_a_bid():
    vendor = VerifiedVendorFactory()
    job = JobFactory(bidding_mode=BiddingMode.OPEN)
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    return vendor.id, bid.id


@contextlib.contextmanager
def commit_cut_off(tmp_path, name: str):
    """The app on a migrated PostgreSQL database reached through a proxy, and `cut()`: from then on the network
    fails just as the next COMMIT leaves. PostgreSQL in both runs of the suite: an SQLite COMMIT cannot be cut off
    from outside the process."""
    url = migrated_database(tmp_path, name, backend="postgresql")
    target = make_url(url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
    app = app_on(proxy.url_for(url), tmp_path)

    def cut() -> None:
        with app.app_context():
            event.listen(db.engine, "commit", lambda _connection: proxy.stop())

    try:
        yield app, cut
    finally:
        proxy.stop()
        dispose(app)


def test_a_write_whose_commit_was_cut_off_says_it_cannot_tell_whether_it_was_saved(tmp_path):
    with commit_cut_off(tmp_path, "commit_cut") as (app, cut):
        vendor_id, bid_id = committed(app, vendor_with_a_bid)
        client = signed_in_client(app, vendor_id)
        cut()  # as the revision's COMMIT leaves
        response = client.post(f"/bids/{bid_id}/revise", data=BID_FORM)
        page = assert_branded(response, 503, "Temporarily unavailable")
        assert "We cannot tell whether what you sent was saved: please look before you enter it again." in page
        assert "Nothing you entered was saved" not in page


def test_a_read_only_sqlite_database_shows_pages_and_refuses_writes_with_the_503(tmp_path):
    # SQLite in both runs of the suite: a file opened read-only (PostgreSQL has no such state).
    url = migrated_database(tmp_path, "read_only", backend="sqlite")
    writable = app_on(url, tmp_path)
    read_only = app_on(f"sqlite:///file:{make_url(url).database}?mode=ro&uri=true", tmp_path)
    try:
        vendor_id, bid_id = committed(writable, vendor_with_a_bid)
        client = signed_in_client(writable, vendor_id)
        reader = read_only.test_client()
        with client.session_transaction() as signed_in, reader.session_transaction() as same_browser:
            same_browser.update(signed_in)
        assert reader.get(f"/bids/{bid_id}").status_code == 200
        page = assert_branded(reader.post(f"/bids/{bid_id}/revise", data=BID_FORM), 503, "Temporarily unavailable")
        assert "Nothing you entered was saved." in page
        with writable.app_context():
            totals = db.session.execute(select(BidRevision.total_minor).where(BidRevision.bid_id == bid_id)).all()
            assert [total for (total,) in totals] == [600_000]
            db.session.remove()
    finally:
        dispose(read_only)
        dispose(writable)


@pytest.mark.parametrize("in_a_savepoint", [False, True])
def test_a_transaction_whose_connection_was_lost_rolls_back_without_an_error_of_its_own(tmp_path, in_a_savepoint):
    """SQLAlchemy invalidates a connection the database was lost on mid-transaction (outages: every such error is a
    disconnect), and the transaction is then rolled back. That rollback used to fail in transaction_cache's rollback
    listener (PendingRollbackError on reading the dead connection's info): in the error page, and in the request's
    teardown, whose error gunicorn answered with its bare 500 (CI, a read-only SQLite file under load)."""
    url = migrated_database(tmp_path, "lost_mid_transaction")
    app = app_on(url, tmp_path)
    try:
        vendor_id, bid_id = committed(app, vendor_with_a_bid)
        with app.app_context():
            db.session.execute(select(BidRevision.total_minor).where(BidRevision.bid_id == bid_id)).all()
            if in_a_savepoint:
                db.session.begin_nested()
            db.session.connection().invalidate()
            if in_a_savepoint:
                db.session.rollback()  # the savepoint
            db.session.rollback()
            # The session connects afresh and reads again.
            assert db.session.execute(select(BidRevision.total_minor).where(BidRevision.bid_id == bid_id)).all()
            db.session.remove()
    finally:
        dispose(app)


def test_a_session_whose_closing_fails_is_dropped_and_the_answer_still_given(tmp_path):
    """Closing the request's session can fail (here the database driver's rollback, made to fail once). The answer
    already made is given, not the server's bare 500, and the broken session is not kept for a later request."""
    url = migrated_database(tmp_path, "failing_close")
    app = app_on(url, tmp_path)
    try:
        vendor_id, bid_id = committed(app, vendor_with_a_bid)
        client = signed_in_client(app, vendor_id)
        failures = []

        def rollback_fails_once(_connection):
            if not failures:
                failures.append("raised")
                raise RuntimeError("the rollback at the end of the request failed")

        with app.app_context():
            engine = db.engine
        event.listen(engine, "rollback", rollback_fails_once)
        try:
            response = client.get(f"/bids/{bid_id}")
        finally:
            event.remove(engine, "rollback", rollback_fails_once)
        assert failures == ["raised"], "the request's session was closed by a rollback"
        assert response.status_code == 200 and "All your bids" in response.get_data(as_text=True)
        with app.app_context():
            assert not db.session.registry.has(), "the broken session was kept"
        assert client.get(f"/bids/{bid_id}").status_code == 200
    finally:
        dispose(app)


def test_a_database_host_that_never_answers_is_given_up_on_and_answered_with_the_503(tmp_path):
    """A host that accepts the connection and then says nothing (a black hole, a hung server): the app gives up
    after DATABASE_CONNECT_TIMEOUT seconds instead of holding the request until the server's worker timeout."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever answers
    port = silent.getsockname()[1]
    app = make_app(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing",
        DATABASE_CONNECT_TIMEOUT=1,
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        PROPAGATE_EXCEPTIONS=False,
        MAIL_SERVER="",
    )
    try:
        started = time.monotonic()
        response = claiming_to_be_signed_in(app).get("/jobs/")
        waited = time.monotonic() - started
        assert_branded(response, 503, "Temporarily unavailable")
        assert waited < 20, f"the request waited {waited:.0f} s for a database that never answers"
    finally:
        dispose(app)
        silent.close()


# ---------------------------------------------------------------- the API and SCIM: programs get their own formats

PROGRAM_CALLS = [  # (method, path, body, media type of its errors)
    ("GET", "/api/v1/jobs", None, "application/problem+json"),
    ("POST", "/api/v1/jobs/1/cancel", {}, "application/problem+json"),
    ("GET", "/scim/v2/Users", None, "application/scim+json"),
    ("POST", "/scim/v2/Users", {"userName": "new@northwind.example"}, "application/scim+json"),
]


def program_error(response, status: int, media_type: str) -> str:
    """The error document's detail, after checking it is the program's own format with the status given."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == media_type
    body = response.get_json()
    if media_type == "application/scim+json":
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == str(status)
    else:
        assert body["status"] == status and body["instance"] == response.request.path
    return body["detail"]


def test_the_api_and_scim_answer_an_unreachable_database_with_a_503_in_their_own_format(unreachable_url, tmp_path):
    app = app_on(unreachable_url, tmp_path)
    client = app.test_client()
    try:
        for method, path, body, media_type in PROGRAM_CALLS:
            response = client.open(path, method=method, json=body, headers={"Authorization": "Bearer any"})
            detail = program_error(response, 503, media_type)
            assert detail == (
                "We cannot reach our database right now. Nothing you sent was saved. Please try again shortly."
            )
            assert response.headers["Retry-After"] == "30"
    finally:
        dispose(app)


def test_the_api_and_scim_answer_any_other_failure_with_a_500_in_their_own_format(tmp_path):
    """The SCIM handler named its argument after the function that writes SCIM errors, so it called the exception
    instead, and the identity provider got the server's bare error page."""
    url = database_url_for(tmp_path, "no_tables_programs")
    fresh_database(url)
    app = app_on(url, tmp_path)
    client = app.test_client()
    try:
        for method, path, body, media_type in PROGRAM_CALLS:
            response = client.open(path, method=method, json=body, headers={"Authorization": "Bearer any"})
            assert (
                program_error(response, 500, media_type)
                == "Something went wrong on our side. Nothing you sent was saved."
            )
            assert "Retry-After" not in response.headers
    finally:
        dispose(app)


def buyer_with_a_job_and_a_token():
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id)
    return job.id, tokens.create_token(db.session, buyer, "CI", list(SCOPES), 30).secret


def test_an_api_write_whose_commit_was_cut_off_says_it_cannot_tell_whether_it_was_saved(tmp_path):
    with commit_cut_off(tmp_path, "api_commit_cut") as (app, cut):
        job_id, secret = committed(app, buyer_with_a_job_and_a_token)
        cut()
        response = app.test_client().post(
            f"/api/v1/jobs/{job_id}/cancel", json={}, headers={"Authorization": f"Bearer {secret}"}
        )
        detail = program_error(response, 503, "application/problem+json")
        assert "We cannot tell whether what you sent was saved" in detail and "Nothing you sent" not in detail


def _job_title(app, job_id: int) -> str:
    with app.app_context():
        title = db.session.execute(select(Job.title).where(Job.id == job_id)).scalar_one()
        db.session.remove()
    return title


def test_an_sqlite_file_replaced_just_as_a_connection_opens_it_is_opened_again(tmp_path):
    """An operator puts a restored copy in place of the file at the very moment a connection has opened the old one:
    the connection holds the old file, so the pool must not note the file as it is a moment later (the copy) and
    keep that connection, serving the old file's content for as long as it lives. SQLite in both runs of the suite."""
    url = migrated_database(tmp_path, "replaced", backend="sqlite")
    path = make_url(url).database
    app = app_on(url, tmp_path)
    try:
        job_id = committed(app, lambda: JobFactory(title="Before the restore").id)
        restored = f"{path}.restored"
        with app.app_context():
            db.engine.dispose()  # no connection left open: the next statement opens one
        source, copy = sqlite3.connect(path), sqlite3.connect(restored)
        source.backup(copy)
        copy.execute("UPDATE job SET title = 'As restored' WHERE id = ?", (job_id,))
        copy.commit()
        source.close()
        copy.close()
        with app.app_context():
            replaced: list[str] = []

            def restore_as_it_opens(_dbapi_connection, _record):
                if not replaced:  # once: the operator's single move, between the open and anything after it
                    os.replace(restored, path)
                    replaced.append(path)

            event.listen(db.engine, "connect", restore_as_it_opens, insert=True)
        assert _job_title(app, job_id) == "As restored"
        assert replaced and _job_title(app, job_id) == "As restored"
    finally:
        dispose(app)


# Run bound by file permissions (root's overrides dropped, as the fault tests' servers are): a connection is opened to
# the file while another connection of the same process holds a lock on it, as a worker's pool can, after the file's
# permissions changed. SQLite then hands the new connection the descriptor a closed one had opened for writing.
_PERMISSIONS_CHANGED_UNDER_A_LOCK = """
import json, os, sqlite3, sys
from sqlalchemy import text
from marketplace import create_app
from marketplace.extensions import db

path, mode = sys.argv[1], int(sys.argv[2], 8)
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + path, "TESTING": True, "RATELIMIT_ENABLED": False})
with app.app_context():
    engine = db.engine
    with engine.connect() as pooled:  # opened, then checked in
        pooled.execute(text("SELECT count(*) FROM job")).all()
    holder = sqlite3.connect(path, isolation_level=None)  # another connection of this process, in a read
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM job").fetchall()
    os.chmod(path, mode)
    try:
        with engine.begin() as connection:  # the pooled one, opened again as the file is now
            connection.execute(text("UPDATE job SET title = 'Written anyway'"))
        print(json.dumps({"answer": "written"}))
    except Exception as error:
        print(json.dumps({"answer": type(error).__name__, "words": str(error.orig)}))
    finally:
        os.chmod(path, 0o644)
        holder.close()
"""


@pytest.mark.parametrize(
    "mode, words", [(0o000, "unable to open database file"), (0o444, "attempt to write a readonly database")]
)
def test_a_connection_to_an_sqlite_file_follows_its_permissions_even_on_a_kept_descriptor(tmp_path, mode, words):
    url = migrated_database(tmp_path, f"kept_descriptor_{mode:o}", backend="sqlite")
    app = app_on(url, tmp_path)
    job_id = committed(app, lambda: JobFactory(title="Before").id)
    dispose(app)
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [*bound_by_file_permissions_prefix(), sys.executable, "-c", _PERMISSIONS_CHANGED_UNDER_A_LOCK]
        + [make_url(url).database, f"{mode:o}"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"answer": "OperationalError", "words": words}
    assert _job_title(app, job_id) == "Before"
    dispose(app)
