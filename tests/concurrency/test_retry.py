"""marketplace.retry: a view whose transaction lost a race runs again, a bounded number of times.

The views here race on purpose, without the locks the services take: on PostgreSQL the database refuses one of
them (a unique violation, a deadlock), and the retry must turn that into a second, successful run. SQLite's BEGIN
IMMEDIATE serializes them instead, so there both succeed the first time.
"""

import contextlib
import io
import json
import logging
import sqlite3
import threading
import time

import pytest
from flask import Blueprint, flash
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from marketplace import logs
from marketplace.bids.models import BidRevision
from marketplace.extensions import db
from marketplace.retry import ATTEMPTS, retrying
from tests.concurrency.harness import committed, flashes, signed_in_client, together
from tests.conftest import make_app, migrated_database
from tests.factories import BidFactory, BuyerFactory, JobFactory


@pytest.fixture
def racing_app(race_database_url, tmp_path):
    """An app of its own with views that race without locks, each wrapped as the app wraps its own."""
    app = make_app(
        race_database_url, PROPAGATE_EXCEPTIONS=False, MAIL_SERVER="", UPLOAD_FOLDER=str(tmp_path / "uploads")
    )
    app.calls = []
    meeting = threading.Barrier(2, timeout=1.5)
    bp = Blueprint("racing", __name__)

    @bp.post("/racing/revision/<int:bid_id>")
    def next_revision(bid_id):
        """Read the last number and add the next, unlocked: two at once collide on the unique (bid, number)."""
        app.calls.append(bid_id)
        last = db.session.execute(select(func.max(BidRevision.number)).where(BidRevision.bid_id == bid_id)).scalar()
        # Both have read the same last number (on SQLite the other waits for this transaction instead).
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        template = db.session.execute(select(BidRevision).where(BidRevision.bid_id == bid_id).limit(1)).scalar_one()
        db.session.add(
            BidRevision(
                bid_id=bid_id,
                number=last + 1,
                price_per_unit_minor=1,
                total_minor=1,
                currency=template.currency,
                turnaround_days=1,
            )
        )
        flash(f"number {last + 1}")
        db.session.commit()
        return "saved", 303, {"Location": "/"}

    @bp.post("/racing/crossed/<int:first>/<int:second>")
    def crossed(first, second):
        """Lock two rows in the order given: two requests in opposite orders deadlock on PostgreSQL."""
        app.calls.append((first, second))
        db.session.execute(text("UPDATE job SET updated_at = updated_at WHERE id = :id"), {"id": first})
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        db.session.execute(text("UPDATE job SET updated_at = updated_at WHERE id = :id"), {"id": second})
        db.session.commit()
        return "done"

    @bp.post("/racing/always-duplicate/<int:bid_id>")
    def always_duplicate(bid_id):
        """Not a race: the same duplicate every time. Retried ATTEMPTS times, then the 500 page."""
        app.calls.append(bid_id)
        db.session.add(
            BidRevision(
                bid_id=bid_id, number=1, price_per_unit_minor=1, total_minor=1, currency="USD", turnaround_days=1
            )
        )
        db.session.commit()
        return "never"

    app.locked_before_view = 0

    @bp.before_app_request
    def locked_before_the_view():
        """What runs before a view (loading the user, say) finding the database locked, as often as asked."""
        if app.locked_before_view:
            app.locked_before_view -= 1
            app.calls.append("before")
            raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))

    app.register_blueprint(bp)
    for endpoint in ("racing.next_revision", "racing.crossed", "racing.always_duplicate"):
        app.view_functions[endpoint] = retrying(app.view_functions[endpoint])
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_two_requests_taking_the_same_number_both_succeed_one_after_a_retry(racing_app):
    bid_id = committed(racing_app, lambda: BidFactory().id)
    clients = [racing_app.test_client() for _ in range(2)]
    responses = together([lambda c=c: c.post(f"/racing/revision/{bid_id}") for c in clients])
    assert [r.status_code for r in responses] == [303, 303]
    with racing_app.app_context():
        numbers = (
            db.session.execute(
                select(BidRevision.number).where(BidRevision.bid_id == bid_id).order_by(BidRevision.number)
            )
            .scalars()
            .all()
        )
    assert numbers == [1, 2, 3]
    # Each client was told the number it got, once: the lost attempt's message was taken back.
    told = sorted(m for c in clients for m in flashes(c.get("/sign-in").get_data(as_text=True)))
    assert told == ["number 2", "number 3"]
    if racing_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert len(racing_app.calls) == 3  # the loser ran twice


def test_a_deadlock_is_retried_and_both_requests_succeed(racing_app):
    first, second = committed(racing_app, lambda: (JobFactory().id, JobFactory().id))
    clients = [racing_app.test_client() for _ in range(2)]
    responses = together(
        [
            lambda: clients[0].post(f"/racing/crossed/{first}/{second}"),
            lambda: clients[1].post(f"/racing/crossed/{second}/{first}"),
        ]
    )
    assert [r.status_code for r in responses] == [200, 200]
    if racing_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert len(racing_app.calls) == 3  # PostgreSQL broke the deadlock by refusing one; it ran again


def test_an_error_that_is_no_race_is_tried_a_bounded_number_of_times_then_shows_the_500_page(racing_app):
    bid_id = committed(racing_app, lambda: BidFactory().id)
    response = racing_app.test_client().post(f"/racing/always-duplicate/{bid_id}")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert len(racing_app.calls) == ATTEMPTS


def test_the_steps_before_the_view_and_the_view_share_one_budget_of_attempts(racing_app):
    """Each attempt on a locked SQLite file may wait out the busy timeout: a request that lost races before its view
    has that many fewer runs of the view left, so it waits ATTEMPTS timeouts at most, not ATTEMPTS for each step."""
    bid_id = committed(racing_app, lambda: BidFactory().id)
    racing_app.locked_before_view = 2
    response = racing_app.test_client().post(f"/racing/always-duplicate/{bid_id}")
    assert response.status_code == 500
    assert racing_app.calls == ["before", "before", bid_id, bid_id]
    assert len(racing_app.calls) == ATTEMPTS


def test_a_request_whose_signed_in_user_waits_past_sqlites_busy_timeout_runs_again(tmp_path):
    """Loading the signed-in user runs before any view and reads the database; on SQLite that waits for the write
    lock. A writer holding it past the busy timeout must not turn into a 500: what runs before the view is retried
    like the view. (SQLite on purpose, in both runs of the suite: PostgreSQL readers never wait for writers.)"""
    url = migrated_database(tmp_path, "busy", backend="sqlite")
    app = make_app(url, SQLITE_BUSY_TIMEOUT_MS=150, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    user_id = committed(app, lambda: BuyerFactory().id)
    client = signed_in_client(app, user_id)
    writer = create_engine(url, connect_args={"isolation_level": None})
    held = threading.Event()

    def hold_the_write_lock():
        with writer.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            held.set()
            time.sleep(0.35)  # past two busy timeouts, within ATTEMPTS of them
            connection.exec_driver_sql("COMMIT")

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    held.wait(5)
    # The app's own log lines (running the migrations above reset the root logger, so caplog would see nothing).
    handler = next(h for h in logging.getLogger("marketplace").handlers if h.get_name() == logs._HANDLER_NAME)
    lines = io.StringIO()
    previous = handler.setStream(lines)
    try:
        response = client.get("/notifications/")
    finally:
        handler.setStream(previous)
    holder.join()
    writer.dispose()
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 200
    written = [json.loads(line) for line in lines.getvalue().splitlines()]
    retried = [line for line in written if "lost a race (database locked)" in line["message"]]
    assert retried, written
    assert {line["request_id"] for line in retried} == {response.headers["X-Request-ID"]}  # one request throughout
