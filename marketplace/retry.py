"""A request that lost a race inside the database is run again, a bounded number of times.

Services lock what they read before they write (docs/concurrency.md), so most races simply wait. What locks
cannot rule out is left to the database to detect, and it answers by refusing one of the transactions:
PostgreSQL with a deadlock or a serialization failure, either database with a unique constraint another
transaction just satisfied first, SQLite with "database is locked" after its busy timeout. Nothing of the refused
transaction was kept, so the whole view runs again from the start; on the second run the service sees the other
transaction's rows and answers as it would have had the requests come one after the other ("This job has already
been awarded."). Only after the last attempt does the error reach the 500 page.
"""

import functools
import logging
import random
import time
from typing import cast

from flask import Flask, request, session
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from marketplace.extensions import db

log = logging.getLogger(__name__)

ATTEMPTS = 4
# SQLSTATE codes: serialization_failure, deadlock_detected, unique_violation.
RETRIED_STATES = {"40001": "serialization failure", "40P01": "deadlock", "23505": "unique violation"}
CHANGING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def lost_race(error: DBAPIError) -> str | None:
    """What kind of lost race the error is ("deadlock", ...), or None when it is something else."""
    state = getattr(error.orig, "sqlstate", None)
    if state in RETRIED_STATES:
        return RETRIED_STATES[state]
    message = str(error.orig)
    if isinstance(error, IntegrityError) and message.startswith("UNIQUE constraint failed"):
        return "unique violation"
    if isinstance(error, OperationalError) and "database is locked" in message:
        return "database locked"
    return None


RETRIES_KEY = "marketplace.retries"


def retrying(view):
    """The view, run again when its transaction lost a race: ATTEMPTS runs in all for the whole request.

    What runs before the view and the view itself share one budget of ATTEMPTS - 1 runs again (counted in the
    request's WSGI environment), so a request on a locked SQLite file waits out the busy timeout at most ATTEMPTS
    times, not ATTEMPTS times for each wrapped step."""

    @functools.wraps(view)
    def run(*args, **kwargs):
        while True:
            flashed = list(session.get("_flashes", []))
            try:
                return view(*args, **kwargs)
            except DBAPIError as error:
                kind = lost_race(error)
                retries = request.environ.get(RETRIES_KEY, 0)
                if kind is None or retries >= ATTEMPTS - 1:
                    raise
                request.environ[RETRIES_KEY] = retries + 1
                db.session.rollback()
                _forget_attempt(flashed)
                log.info(
                    "%s %s lost a race (%s); attempt %d of %d",
                    request.method,
                    request.path,
                    kind,
                    retries + 2,
                    ATTEMPTS,
                )
                time.sleep(random.uniform(0, 0.02 * (retries + 1)))  # noqa: S311 (jitter, not a secret)

    return run


def _forget_attempt(flashed: list) -> None:
    """Undo what the failed attempt left outside the database: its flash messages, uploads read to the end."""
    if flashed:
        session["_flashes"] = flashed
    else:
        session.pop("_flashes", None)
    for upload in request.files.values():
        upload.stream.seek(0)


def retry_lost_races(app: Flask) -> None:
    """Wrap every view that may change state (any that takes POST, PUT, PATCH or DELETE), and what runs before every
    view (loading the signed-in user reads the database: on a busy SQLite it can wait past the busy timeout too)."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if cast(set[str], rule.methods) & CHANGING_METHODS}
    for endpoint in endpoints:
        app.view_functions[endpoint] = retrying(app.view_functions[endpoint])
    app.preprocess_request = retrying(app.preprocess_request)  # type: ignore[method-assign]
