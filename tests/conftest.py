"""Fixtures shared by every test: an app on a migrated database, one transaction per test, login_as."""

import io
import json
import logging
import os

import pytest
from flask import g
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from marketplace import create_app, logs, transaction_cache
from marketplace.accounts.models import Organization
from marketplace.accounts.sessions import start_session
from marketplace.accounts.web_sessions import SESSION_KEY
from marketplace.extensions import db
from tests.factories import InterestFactory, RivalFactory
from tests.mailbox import Mailbox

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_test"


def database_url_for(tmp_dir, name: str, backend: str | None = None) -> str:
    """SQLite file by default; TEST_DATABASE_URL=postgresql... (or 'postgres') selects PostgreSQL. A test about one
    database's own behaviour names it (`backend`): it then runs on that database in both runs of the suite."""
    wanted = os.environ.get("TEST_DATABASE_URL", "")
    if wanted == "postgres" or (backend == "postgresql" and not wanted.startswith("postgresql")):
        wanted = PG_DEFAULT
    if backend == "sqlite":
        wanted = ""
    if wanted.startswith("postgresql"):
        url = make_url(wanted)
        return url.set(database=f"{url.database}_{name}" if name != "main" else url.database).render_as_string(
            hide_password=False
        )
    return f"sqlite:///{tmp_dir / (name + '.db')}"


def fresh_database(url: str) -> None:
    """Create the database if needed and empty it, so that migrations build it from nothing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        path = parsed.database
        for suffix in ("", "-wal", "-shm"):
            if path and os.path.exists(path + suffix):
                os.remove(path + suffix)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": True,
    "LOGIN_RATE_LIMIT": "1000 per minute",
    "LOGIN_IP_RATE_LIMIT": "10000 per minute",
    "SIGNUP_RATE_LIMIT": "1000 per minute",
    "MAIL_RATE_LIMIT": "1000 per minute",
    "INVITE_RATE_LIMIT": "1000 per minute",
    "MAIL_SERVER": "127.0.0.1",
    "SECRET_KEY": "test-secret",
    "SERVER_NAME": "localhost",
    "DEMO_LOGINS": True,
    # No task queue by default, whatever the environment says: re-screens run inline, in the request, so a test
    # reads the verdicts a change brings as soon as it returns. tests/queue/ turns the queue on.
    "REDIS_URL": "",
}


def make_app(url: str, **overrides):
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **overrides})


def migrated_database(tmp_dir, name: str, backend: str | None = None) -> str:
    """A database built from nothing by running the migrations; its URL."""
    url = database_url_for(tmp_dir, name, backend)
    fresh_database(url)
    migrating_app = make_app(url)
    with migrating_app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return migrated_database(tmp_path_factory.mktemp("db"), "main")


@pytest.fixture(scope="session")
def mailbox():
    """A real SMTP server on a free port, catching the app's mail for the whole test session."""
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def outbox(mailbox):
    """The mail sent during this test."""
    mailbox.clear()
    return mailbox


@pytest.fixture(scope="session")
def _session_app(database_url, tmp_path_factory, mailbox):
    app = make_app(database_url, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads")), MAIL_PORT=mailbox.port)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_session_app):
    """The app, inside one database transaction rolled back after the test."""
    app = _session_app
    app.config["WTF_CSRF_ENABLED"] = False
    # Every test rolls its transaction back, so the next one meets the same counters: nothing kept by an earlier
    # test may answer it (a page's statement count would depend on which tests ran before).
    transaction_cache.forget_kept()
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # A plain session bound to the connection: Flask-SQLAlchemy's own would pick the engine instead.
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            yield app
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def login_as(client):
    """Sign the test client in as a user without the cost of a password check (or the second factor): a session
    recorded as a real sign-in records it."""

    def _login(user):
        # The test's request context is shared with the client: drop Flask-Login's cached user.
        g.pop("_login_user", None)
        g.pop("account_session", None)
        started = start_session(db.session, user, ip_address="127.0.0.1", user_agent="pytest")
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = user.get_id()
            flask_session["_fresh"] = True
            flask_session[SESSION_KEY] = started.key
        return user

    return _login


@pytest.fixture
def exclude_vendor(session):
    """Make a buyer's rival hold 30% of a vendor (an admin-recorded fact): screening excludes it."""

    def _exclude(buyer_org_id: int, vendor_org_id: int) -> None:
        vendor = session.get(Organization, vendor_org_id)
        rival = RivalFactory(buyer_org_id=buyer_org_id)
        InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor.party_id, share_exact=30.0)

    return _exclude


@pytest.fixture
def log_lines(app):
    """The app's log output during the test, parsed line by line."""
    handler = next(h for h in logging.getLogger("marketplace").handlers if h.get_name() == logs._HANDLER_NAME)
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    handler.setStream(previous)


def pytest_sessionfinish(session, exitstatus):
    """CI skips nothing: a run in which any test was skipped fails (ALLOW_SKIPS=1 lets a developer skip knowingly).
    A test about one database's own behaviour names it (database_url_for's `backend`) and runs in both runs."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == 0 and not os.environ.get("ALLOW_SKIPS"):
        reporter.write_line(f"{len(skipped)} test(s) skipped: CI skips nothing (ALLOW_SKIPS=1 to allow)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
