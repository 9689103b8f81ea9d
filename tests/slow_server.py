"""A loaded server, made deterministic: the server's clock moves on one second with every SQL statement the app
runs (time-machine's traveller, moved from the database's own statement hook). A deadline set a whole number of
statements and a half into a request then falls at a known point of it, whatever the machine's real speed."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from marketplace.db_types import utcnow
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


def sweep_deadline(traveller, session, steps: int, *, arrange, act, refusal: type[Exception], dates) -> set[str]:
    """Sweep a deadline through a request, one statement (one second) at a time: for each step, arrange(deadline)
    sets a deadline that many seconds and a half ahead on fresh or reset rows and returns what act needs; act(it)
    runs the change on the slow server. A refusal (an exception of type `refusal`) must say the window closed; a
    change let in must be dated before the deadline (dates(it, what act returned)). Returns the outcomes seen: both,
    when the sweep crossed the request."""
    outcomes: set[str] = set()
    for step in range(steps):
        deadline = utcnow() + timedelta(seconds=step, milliseconds=500)
        arranged = arrange(deadline)
        session.commit()
        try:
            with slow_server(traveller):
                made = act(arranged)
                session.commit()
        except refusal as error:
            session.rollback()
            assert "closed" in str(error), (step, str(error))
            outcomes.add("refused")
            continue
        late = [d for d in dates(arranged, made) if d is not None and d >= deadline]
        assert late == [], f"deadline {step}.5 s into the request: dated {late}, after {deadline}"
        outcomes.add("let in")
    return outcomes
