"""Reads beside the session (marketplace.screening.store.beside): on a second connection only where it reads what
the session reads; otherwise in the session itself."""

from sqlalchemy import func, select, text

from marketplace.parties.models import Party
from marketplace.screening.store.beside import beside, may_read_beside
from tests.factories import PartyFactory


def _backend(session) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_transaction_that_wrote_reads_its_own_rows_in_the_session(session):
    party = PartyFactory(name="Cobalt Social")  # written in the test's transaction, never committed

    assert not may_read_beside(session)
    later = beside(session, lambda own: (own.get(Party, party.id) is not None, _backend(own)))

    # Another connection would not see the party: the read runs in the session.
    assert later.result() == (True, _backend(session))


def test_pending_changes_count_as_a_write(session):
    session.add(Party(name="Argent Holdings", kind="entity"))

    assert not may_read_beside(session)


def test_a_transaction_that_has_written_nothing_reads_on_another_connection_on_postgresql(session):
    postgresql = session.get_bind().dialect.name == "postgresql"

    assert may_read_beside(session) == postgresql
    count, backend = beside(
        session, lambda own: (own.scalar(select(func.count()).select_from(Party)), _backend(own))
    ).result()
    assert count == session.scalar(select(func.count()).select_from(Party))
    assert (backend != _backend(session)) if postgresql else backend is None
    assert not may_read_beside(session) or postgresql
