"""When the database cannot be reached: which errors say so, and what the connection pool does about them.

Every error that means "the database is not there for us" is made a *disconnect* (SQLAlchemy's `handle_error`
event, `ExceptionContext.is_disconnect`): the pool then drops the connection, and every other one it holds, and
the next request connects afresh. That covers a server that cannot be reached (PostgreSQL stopped, the network
cut: psycopg's own disconnect errors, and any failure to connect at all) and, on SQLite, a file that cannot be
opened or written (docs/pitfalls.md). The error pages (marketplace/__init__.py) answer such an error with 503.

SQLite needs one thing more. A connection keeps the file descriptor it opened, so a change of the file's
permissions does not reach it: a connection opened while the file was read-only stays read-only after the file
is writable again (issue 11), and one opened before the file was made read-only (or unreadable) goes on writing.
On checkout each pooled connection compares the file with what it was when the connection opened it (the same
file, as readable and as writable as then); when it differs the connection is replaced by one that sees the file as
it is now. A file that is gone from its path is not opened again (SQLite would make a new, empty one there). And since
SQLite may hand a new connection a descriptor opened earlier for writing (when another connection of the process holds
a lock on the file), a new connection is refused to a file the process may not read, and opened read-only to one it
may not write.
"""

import logging
import os
import select
import time
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote

from flask import g, has_request_context, request
from sqlalchemy import event, exc

# SQLite's primary result codes that mean the file cannot be used as a database now (https://sqlite.org/rescode.html):
# SQLITE_PERM, SQLITE_READONLY (and its extended codes), SQLITE_IOERR, SQLITE_CANTOPEN.
SQLITE_UNREACHABLE_CODES = {3, 8, 10, 14}
# What the connection found of its SQLite file when it opened it.
SQLITE_FILE = "arms_length_sqlite_file"
SQLITE_FILE_BEFORE = "arms_length_sqlite_file_before_opening"
# Set on flask.g once a request has sent a COMMIT: from then on an error page cannot say that nothing was saved.
COMMIT_SENT = "database_commit_sent"
RETRY_AFTER_SECONDS = 30
# PostgreSQL: a pooled connection idle for longer than this is pinged on checkout (a round trip); one used more
# recently is checked on its socket alone (live_without_a_round_trip).
PING_AFTER_IDLE_SECONDS = 10.0
CHECKED_IN_AT = "arms_length_checked_in_at"


def database_unreachable(error: BaseException | None) -> bool:
    """Whether the error, or one it was raised from or while handling, is the database being unreachable."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
            return True
        error = error.__cause__ or error.__context__
    return False


def commit_sent_in_this_request() -> bool:
    """Whether this request sent a COMMIT: whatever failed after it, something may have been saved."""
    return has_request_context() and bool(g.get(COMMIT_SENT))


@dataclass(frozen=True)
class Failure:
    """What a request that failed with an error no view handled may tell whoever sent it: the same for the pages,
    the API and SCIM, so that no client is told "nothing was saved" when a COMMIT had gone out, and every client
    is told to come back when the database is away."""

    unreachable: bool  # the database cannot be reached: 503, try again shortly; anything else is a 500
    maybe_saved: bool  # a write that had sent a COMMIT: look before sending it again

    @property
    def status(self) -> int:
        return 503 if self.unreachable else 500

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)} if self.unreachable else {}

    @property
    def detail(self) -> str:
        """In words, for a program's client (the pages say it in their templates)."""
        saved = (
            "We cannot tell whether what you sent was saved: read it back before you send it again."
            if self.maybe_saved
            else "Nothing you sent was saved."
        )
        if self.unreachable:
            return f"We cannot reach our database right now. {saved} Please try again shortly."
        return f"Something went wrong on our side. {saved}"


def failure_of(error: BaseException | None, session, logger: logging.Logger) -> Failure:
    """The failure an error handler answers, after rolling the request's transaction back: that may fail too when
    the connection is gone (the pool replaces it), and the answer is given anyway."""
    try:
        session.rollback()
    except Exception:  # noqa: BLE001
        logger.warning("Rolling back after an error failed too", exc_info=True)
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    return Failure(
        database_unreachable(getattr(error, "original_exception", None)),
        write and commit_sent_in_this_request(),
    )


def watch(engine) -> None:
    """Make every "the database is not there" error a disconnect; on SQLite, follow the file's permissions; note
    each request that sends a COMMIT."""
    dbapi = engine.dialect.loaded_dbapi
    sqlite = engine.dialect.name == "sqlite"

    @event.listens_for(engine, "handle_error")
    def _unreachable_is_a_disconnect(context):
        original = context.original_exception
        if not isinstance(original, dbapi.Error):
            return
        if context.connection is None and isinstance(original, dbapi.OperationalError):
            context.is_disconnect = True  # no connection could be made, or a pooled one failed its pre-ping
        elif sqlite and getattr(original, "sqlite_errorcode", 0) & 0xFF in SQLITE_UNREACHABLE_CODES:
            context.is_disconnect = True

    @event.listens_for(engine, "commit")
    def _commit_sent(_connection):
        # Before the COMMIT goes out: if the answer never comes, the transaction may or may not have been committed.
        if has_request_context():
            setattr(g, COMMIT_SENT, True)

    if sqlite and engine.url.database not in (None, "", ":memory:") and not engine.url.database.startswith("file:"):
        _follow_sqlite_file(engine, engine.url.database)


def live_without_a_round_trip(engine) -> None:
    """PostgreSQL, instead of the pool's pre-ping (a round trip on every checkout, a fifth of a light page's time):
    a pooled connection is checked on its own socket. One whose server end is gone (the server restarted or
    stopped, the network cut, the backend terminated) has the server's goodbye or the end of the stream waiting
    there, which a connection idle between requests never has: it is dropped and a new one made, before the
    request uses it. A connection idle for longer than PING_AFTER_IDLE_SECONDS (a network that went away without
    a word) is pinged as before."""

    @event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_connection, record):
        record.info[CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _live(dbapi_connection, record, _proxy):
        checked_in = record.info.get(CHECKED_IN_AT)
        if checked_in is None:
            return  # opened for this checkout
        if _server_end_gone(dbapi_connection):
            raise exc.DisconnectionError("the database closed this pooled connection")
        if time.monotonic() - checked_in > PING_AFTER_IDLE_SECONDS:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except engine.dialect.loaded_dbapi.Error as error:
                raise exc.DisconnectionError("a pooled connection idle for a while did not answer") from error


def _server_end_gone(dbapi_connection) -> bool:
    if dbapi_connection.closed:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class _FileState(NamedTuple):
    device: int
    inode: int
    readable: bool  # by this process, as its permissions say
    writable: bool


def _sqlite_file_state(path: str) -> _FileState | None:
    """The file's identity and what this process may do with it; None when it is gone."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return _FileState(found.st_dev, found.st_ino, os.access(path, os.R_OK), os.access(path, os.W_OK))


def _follow_sqlite_file(engine, path: str) -> None:
    unreachable = engine.dialect.loaded_dbapi.OperationalError

    # SQLite may not open the file at all: while another connection of this process holds a lock on it, a
    # descriptor that a closed connection had opened is kept (closing it would drop those locks) and handed to the
    # next connection to the same file opened the same way, for writing whatever the file's permissions say now. So
    # they are applied here: no connection to a file this process may not read, and one it may not write is opened
    # read-only (which no kept descriptor open for writing serves).
    @event.listens_for(engine, "do_connect")
    def _look_before_opening(_dialect, record, cargs, cparams):
        before = record.info[SQLITE_FILE_BEFORE] = _sqlite_file_state(path)
        if before is not None and not before.readable:
            raise unreachable("unable to open database file")
        if before is not None and not before.writable:
            cargs[0] = f"file:{quote(path)}?mode=ro"
            cparams["uri"] = True

    # The file is looked at after it is opened as well: one replaced or whose permissions changed between the two is
    # noted as it was before, so that the next checkout (the one this connection was opened for, too) opens it again
    # as it is now. (None before: the opening made the file.)
    @event.listens_for(engine, "connect")
    def _note_the_file(_dbapi_connection, record):
        before, after = record.info.pop(SQLITE_FILE_BEFORE, None), _sqlite_file_state(path)
        record.info[SQLITE_FILE] = after if before is None else before

    @event.listens_for(engine, "checkout")
    def _same_file_as_when_opened(_dbapi_connection, record, _proxy):
        now = _sqlite_file_state(path)
        # A file gone from its path is left alone: opening the path again would make a new, empty database.
        if now is not None and now != record.info.get(SQLITE_FILE):
            # Replaced, moved, or its permissions changed: the pool opens the file again, as it is now.
            raise exc.DisconnectionError(f"the SQLite file {path} changed since this connection opened it")
