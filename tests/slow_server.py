"""A loaded server, made deterministic: the server's clock moves on one second with every SQL statement the app
runs (time-machine's traveller, moved from the database's own statement hook). A deadline set a whole number of
statements and a half into a request then falls at a known point of it, whatever the machine's real speed."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from marketplace.extensions import db


@contextmanager
def slow_server(traveller) -> Iterator[None]:
    """Inside, every SQL statement takes the server's clock (frozen by `traveller`) one second further."""

    def tick(*_args) -> None:
        traveller.shift(timedelta(seconds=1))

    event.listen(db.engine, "after_cursor_execute", tick)
    try:
        yield
    finally:
        event.remove(db.engine, "after_cursor_execute", tick)
