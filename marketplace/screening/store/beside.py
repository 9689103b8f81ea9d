"""Reads run beside the work that waits for them: on PostgreSQL, a read can go to a second connection in a thread
while this one goes on (psycopg lets go of the GIL while it waits for the server), so that on two cores the server
works on one query while Python assembles the answer of another.

Only when the second connection reads what this session would: the session's transaction has written nothing (no
transaction id assigned: a write of its own, flushed or not, would be invisible to the other connection) and reads
at READ COMMITTED (each statement sees what is committed when it starts, on either connection). Otherwise, and on
SQLite, the read runs here, in the session, when it is asked for: the same answer, without the overlap.
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")

_READ_ALONE = text(
    "SELECT pg_current_xact_id_if_assigned() IS NULL AND current_setting('transaction_isolation') = 'read committed'"
)


class Later(Generic[T]):
    """A read started beside this one (or, where it cannot be, to run when asked): `result()` gives its answer."""

    def __init__(self, future: Future[T] | None = None, run: Callable[[], T] | None = None):
        self._future, self._run = future, run

    def result(self) -> T:
        if self._future is not None:
            return self._future.result()
        assert self._run is not None
        run, self._run = self._run, None
        value = run()
        self._future = Future()
        self._future.set_result(value)
        return value


def may_read_beside(session: Session) -> bool:
    """Whether a second connection reads what this session reads (the module's docstring says when)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    if session.new or session.dirty or session.deleted:  # changes not flushed yet: a write of its transaction
        return False
    return bool(session.execute(_READ_ALONE).scalar())


def beside(session: Session, read: Callable[[Session], T], *, allowed: bool | None = None) -> Later[T]:
    """`read(a session)` started on a second connection in a thread where that reads what this session reads
    (`allowed`: may_read_beside's answer, if asked already), else run in this session when its result is asked.
    The read must only read, and must not touch ORM objects of this session."""
    if allowed is None:
        allowed = may_read_beside(session)
    if not allowed:
        return Later(run=lambda: read(session))
    engine = session.get_bind().engine
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screening-read")

    def on_its_own() -> T:
        # Closed, not rolled back: what it read (parties, say) stays loaded for the caller, detached.
        with Session(bind=engine, expire_on_commit=False) as own:
            return read(own)

    future = pool.submit(on_its_own)
    pool.shutdown(wait=False)
    return Later(future)
