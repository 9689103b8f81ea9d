"""Row locks for changes that read a row's state and then write on it (docs/concurrency.md).

A service that checks a state and then changes it re-reads the row here, locked until its transaction ends:
a second request changing the same row waits, then sees the first one's result and is refused in words.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session


def lock_row(session: Session, model, row_id: int):
    """The row, read again from the database and locked for this transaction; None when it is gone.

    `populate_existing` matters: the request has usually loaded the row already (a visibility check), and
    without it the locked read would leave that copy's old values in place. The lock is PostgreSQL's
    FOR NO KEY UPDATE: it keeps other lockers and writers of the row out, but not the inserts of rows that refer
    to it (a bid naming its job, a notification naming its organisation), which FOR UPDATE would hold up too.
    SQLite has no row locks: there every write transaction begins with BEGIN IMMEDIATE, one at a time.
    """
    return session.execute(
        select(model)
        .where(model.id == row_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def lock_rows(session: Session, model, row_ids) -> list:
    """Several rows of one table locked as lock_row does, in id order (so that two requests locking the same rows
    never wait for each other in a circle); those that exist, by id."""
    ids = sorted(set(row_ids))
    if not ids:
        return []
    return list(
        session.execute(
            select(model)
            .where(model.id.in_(ids))
            .order_by(model.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).scalars()
    )
