"""PostgreSQL: a pooled connection the database closed while it sat in the pool is replaced before a request uses it,
without the pool's pre-ping round trip on every checkout (marketplace.outages.live_without_a_round_trip).

PostgreSQL in both runs of the suite: SQLite keeps the pool's pre-ping, which reads a file (no round trip to save).
"""

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from marketplace import outages
from marketplace.extensions import db
from tests.conftest import database_url_for, fresh_database, make_app


@pytest.fixture
def pg_app(tmp_path):
    """The app on an (empty) PostgreSQL database of its own, whichever database the suite runs on."""
    url = database_url_for(tmp_path, "pooled", backend="postgresql")
    fresh_database(url)
    app = make_app(url)
    yield app, url
    with app.app_context():
        db.engine.dispose()


def _terminate(database_url: str, pid: int) -> None:
    """End that backend from outside the pool, as a restarted server or an operator would, and wait until it is gone."""
    outside = create_engine(database_url, poolclass=NullPool)
    try:
        with outside.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):
                gone = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
                if gone.scalar() == 0:
                    break
                time.sleep(0.02)
    finally:
        outside.dispose()
    time.sleep(0.05)  # the end of the stream reaches the pooled socket


def test_a_pooled_connection_the_database_ended_is_replaced_without_a_failed_request(pg_app):
    app, database_url = pg_app
    with app.app_context():
        engine = db.engine
        assert engine.pool._pre_ping is False  # no round trip on checkout
        engine.dispose()
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        _terminate(database_url, pid)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        # ... and a connection used a moment ago is given out as it is.
        with engine.connect() as conn:
            again = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == again


def _last_statement(database_url: str, pid: int) -> str:
    """What that backend ran last, seen from outside the pool."""
    outside = create_engine(database_url, poolclass=NullPool)
    try:
        with outside.connect() as conn:
            return conn.execute(text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar()
    finally:
        outside.dispose()


def test_only_a_pooled_connection_idle_for_long_is_pinged_on_checkout(pg_app, monkeypatch):
    """A network gone without a word leaves nothing on the socket: a connection idle for longer than
    PING_AFTER_IDLE_SECONDS is pinged (one round trip) before it is given out; one used a moment ago is not."""
    app, database_url = pg_app
    with app.app_context():
        engine = db.engine
        engine.dispose()
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        # The pool rolled the connection back as it took it in: the last thing it ran, until a ping.
        with engine.connect() as conn:
            assert _last_statement(database_url, pid) == "ROLLBACK"
        monkeypatch.setattr(outages, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            assert _last_statement(database_url, pid) != "ROLLBACK"  # the ping came in between
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid
