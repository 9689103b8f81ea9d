"""Answers read once per transaction, and answers shared between transactions for as long as what they were read
from stays the same.

One page asks the same question several times (is this vendor's filing under review? the job filter, the bid
panel and the questions each ask): the first answer is kept in the session until it writes anything (a flush, an
UPDATE or DELETE statement) or the transaction ends, so that no answer outlives the rows it was read from in this
transaction (`cached`). Another transaction's commit in between is seen by the next request, as a page that read
the answer once would see it.

Screening is asked on every page a vendor or a lab opens, and its answer changes only when one of the tables it
reads changes. Every transaction that writes one of those tables (WATCHED_TABLES) bumps a counter in the database,
the screening generation (the row named '' of `table_generation`; its own table `screening_generation` before
migration 0048), as it commits, in the same transaction; any statement counts, whichever code path ran
it (ORM flushes, Core statements, raw SQL, migrations; a raw COPY says so with note_change). `shared` keeps an
answer in this process, for every later transaction, together with the counter it was computed under: the
counter is read once per transaction, so an answer computed before a commit that changed the facts is never
used after it, in this process or in another. A transaction that has itself written a watched table neither
reads nor stores shared answers: its own uncommitted changes may be rolled back.

An answer read from a few tables alone (`shared_unless_written`: a party's row, a vendor's checklist, organisation
names) is kept under those tables' own counters instead, one row each in `table_generation`, bumped by the commits
that wrote the table (and '*', bumped by the commits whose tables are not known, under which every such answer is
kept too): a commit changing a tie, a bid or a payout account leaves a party's row kept.
"""

import dataclasses
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Connection,
    Engine,
    Select,
    String,
    column,
    event,
    inspect,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext
from sqlalchemy.orm import ORMExecuteState, Session

_KEY = "marketplace.transaction_cache"
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def cached(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or what it returned earlier in this transaction for the same key (callers name their area first:
    `("parties.awaiting_review", vendor_id)`)."""
    answers: dict[Hashable, Any] = session.info.setdefault(_KEY, {})
    if key not in answers:
        answers[key] = compute()
    result: T = answers[key]
    return result


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args: object) -> None:
    session.info.pop(_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_writes(state: ORMExecuteState) -> None:
    """A write, or a locked read (locking.lock_row): what was read before the lock may have changed by the time it
    was granted (PostgreSQL's READ COMMITTED sees the other request's commit from then on), so a check made again
    under the lock (may this vendor still see the job?) must ask the database, not this transaction's earlier
    answer. A cached check under the lock let a bid be placed on a job made invite-only meanwhile."""
    if not state.is_select or getattr(state.statement, "_for_update_arg", None) is not None:
        state.session.info.pop(_KEY, None)


# The counter: one row, created by migration 0025 at a random value (a database made again at the same address does
# not restart at a value an older process has answers for); from migration 0048 the row named '' of table_generation,
# bumped in the same statement as the tables' own rows (SCREENING_ROW).
GENERATION_TABLE = "screening_generation"
SCREENING_ROW = ""
_BUMP = "UPDATE screening_generation SET generation = generation + 1"
# A select, not text(): a text statement counts as a write for `cached` and would forget every answer.
_READ: Select[int] = select(column("generation", BigInteger)).select_from(table("screening_generation"))
_EXISTS = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
    "('screening_generation', 'table_generation')",
    "postgresql": "SELECT tablename FROM pg_catalog.pg_tables WHERE tablename IN "
    "('screening_generation', 'table_generation')",
}
# Both counters in one statement (a database migrated to 0047 and not 0048): the screening generation named ''.
_READ_BOTH: CompoundSelect[Any] = union_all(
    select(literal_column("''").label("name"), column("generation", BigInteger)).select_from(
        table("screening_generation")
    ),
    select(column("name", String), column("generation", BigInteger)).select_from(table("table_generation")),
)
# Every counter from 0048 on: the screening generation is the row named ''.
_READ_TABLES: Select[str, int] = select(column("name", String), column("generation", BigInteger)).select_from(
    table("table_generation")
)
# Each table a committing transaction wrote (and from 0048 the screening generation, ''): its row made at 1 or bumped,
# in the order of the names, in one statement (two transactions bumping the same rows wait for each other, never
# deadlock; a second statement for the screening generation held its lock a round trip longer).
_BUMP_TABLES = (
    "INSERT INTO table_generation (name, generation) VALUES {rows} "
    "ON CONFLICT (name) DO UPDATE SET generation = table_generation.generation + 1"
)
_BUMP_ROW = {"sqlite": "(?, 1)", "postgresql": "(%s, 1)"}
# Every table screening reads (marketplace.screening.store and services.screen): a change to any of them can change
# a verdict; and the few more that answers kept beside the verdicts read. tests/concurrency/test_verdict_cache.py
# checks the list against what a screening reads.
WATCHED_TABLES = frozenset(
    {
        "organization",  # kinds, the party an organisation is, suspensions
        "party",  # merges, names (likely variants)
        "partydistinction",  # "not the same party" between look-alikes
        "partyidentifier",
        "interest",
        "commercialtie",
        "noownersdeclaration",
        "disclosureversion",  # approvals, filings awaiting review (claims that count for the filer alone)
        "rival",
        "screeningpolicy",
        "waiver",
        # Not read by screening, but by an answer kept beside it (visibility.count_vendors_seeing): the verdicts a
        # re-screen stores after the change that bumped the counter, the re-screens still waiting, the invitations.
        "verdictrecord",
        "pendingrescreen",
        "jobinvitation",
        # Read by the buyer's vendor search, kept whole (vendor_search.search_vendors): the vendors' profiles, whose
        # modalities and certifications it filters and shows.
        "vendorprofile",
    }
)
# Tables answers kept under their own counters may be read from (shared_unless_written), besides the watched ones,
# whose commits bump their own row in `table_generation` and not the screening generation: a vendor's payout
# account, read by its checklist (onboarding.vendor_checklist) and by whether it takes payouts; a job's files, its
# questions with their askers' names, and a lab's NDA, read by the job page (jobs.service, ndas.service); a contract's
# milestones, deliveries and their files, its rating and its job, read by the contract's page (contracts.service).
KEPT_TABLES = WATCHED_TABLES | {
    "payoutaccount",
    "jobattachment",
    "question",
    "user_account",
    "nda",
    "milestone",
    "delivery",
    "deliveryfile",
    "rating",
    "job",
}
TABLE_GENERATIONS = "table_generation"
_NAMES_KEPT = re.compile(r"\b(" + "|".join(sorted(KEPT_TABLES)) + r")\b", re.IGNORECASE)
_WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|TRUNCATE|COPY|ALTER|DROP|CREATE)\b|^\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b",
    re.IGNORECASE | re.DOTALL,
)
_SCHEMA_CHANGES = re.compile(r"^\s*(CREATE|DROP|ALTER)\b", re.IGNORECASE)
# In the DBAPI connection's info: the open transaction wrote a watched table.
_CHANGED = "marketplace.transaction_cache.changed"
_GENERATION = "marketplace.transaction_cache.generation"
# Also there: for each savepoint open, innermost last, whether the transaction had written a watched table before it.
_SAVEPOINTS = "marketplace.transaction_cache.savepoints"
# Also there: which watched tables the open transaction wrote ("*": some, unknown which), and at each savepoint open,
# a copy of that set as it was (shared_unless_written).
_WRITTEN = "marketplace.transaction_cache.written"
_WRITTEN_AT_SAVEPOINTS = "marketplace.transaction_cache.written_at_savepoints"


_counters_of: "weakref.WeakKeyDictionary[Engine, frozenset[str]]" = weakref.WeakKeyDictionary()


def note_change(connection: Connection) -> None:
    """The open transaction on this connection changed a watched table by a way no statement event sees (COPY)."""
    connection.info[_CHANGED] = True
    _note_written(connection, "*")


def _note_written(conn: Connection, name: str) -> None:
    conn.info.setdefault(_WRITTEN, set()).add(name)


def changed_in_transaction(connection: Connection) -> bool:
    return bool(connection.info.get(_CHANGED))


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(
    conn: Connection,
    _cursor: DBAPICursor,
    statement: str,
    _parameters: object,
    context: ExecutionContext | None,
    _executemany: bool,
) -> None:
    if any(getattr(context, kind, False) for kind in ("isinsert", "isupdate", "isdelete")):
        dml = getattr(getattr(context, "compiled", None), "statement", None)
        name = getattr(getattr(dml, "table", None), "name", None)
        if name is None or name in WATCHED_TABLES:
            conn.info[_CHANGED] = True
        if name is None or name in KEPT_TABLES:
            _note_written(conn, name or "*")
        return
    # Text, DDL and driver-level SQL: by its words.
    if _WRITES.match(statement) and _NAMES_KEPT.search(statement):
        conn.info[_CHANGED] = True
        _note_written(conn, "*")
    if _SCHEMA_CHANGES.match(statement):
        _counters_of.pop(conn.engine, None)  # a migration may have made or dropped a counter


def _counters(conn: Connection) -> frozenset[str]:
    """Which of the two counters' tables this database has (one migrated before 0025 has neither, before 0047 only
    the screening generation's, from 0048 only table_generation, which holds it): asked once per engine from 0048,
    again each time until then."""
    engine = conn.engine
    found = _counters_of.get(engine)
    if found is None:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_EXISTS[engine.dialect.name])
            found = frozenset(row[0] for row in cursor.fetchall())
        finally:
            cursor.close()
        if found == {TABLE_GENERATIONS}:
            _counters_of[engine] = found
    return found


def _counter_exists(conn: Connection) -> bool:
    """Whether the database has a screening generation (in its own table, or from 0048 in table_generation)."""
    return bool(_counters(conn))


@event.listens_for(Engine, "commit")
def _bump_as_it_commits(conn: Connection) -> None:
    """Called just before the database commits: the bumps are part of the committing transaction."""
    conn.info.pop(_SAVEPOINTS, None)
    written = conn.info.get(_WRITTEN)
    _forget_written(conn)
    changed = conn.info.pop(_CHANGED, False)
    if not (changed or written):
        return
    counters = _counters(conn)
    dialect = conn.engine.dialect.name
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    names = set(written or ())
    try:
        if changed and GENERATION_TABLE in counters:
            cursor.execute(_BUMP)
        elif changed:
            names.add(SCREENING_ROW)
        if names and TABLE_GENERATIONS in counters:
            rows = ", ".join([_BUMP_ROW[dialect]] * len(names))
            cursor.execute(_BUMP_TABLES.format(rows=rows), sorted(names))
    finally:
        cursor.close()


@event.listens_for(Engine, "rollback")
def _forget_changes(conn: Connection) -> None:
    """A transaction rolled back changed nothing. A connection the database was lost on mid-transaction (SQLAlchemy
    invalidated it) is rolled back too, and reading its `info` would then raise PendingRollbackError: the rollback
    (in an error page, or the request's teardown, whose error reaches the server as its bare 500) would fail. Such a
    connection has nothing to forget: the pool clears its record's info before connecting it again."""
    if conn.invalidated:
        return
    conn.info.pop(_CHANGED, None)
    conn.info.pop(_SAVEPOINTS, None)
    _forget_written(conn)


def _forget_written(conn: Connection) -> None:
    conn.info.pop(_WRITTEN, None)
    conn.info.pop(_WRITTEN_AT_SAVEPOINTS, None)


@event.listens_for(Engine, "savepoint")
def _remember_at_savepoint(conn: Connection, _name: str | None) -> None:
    conn.info.setdefault(_SAVEPOINTS, []).append(conn.info.get(_CHANGED, False))
    conn.info.setdefault(_WRITTEN_AT_SAVEPOINTS, []).append(set(conn.info.get(_WRITTEN, ())))


@event.listens_for(Engine, "release_savepoint")
def _keep_at_release(conn: Connection, _name: str, _context: object) -> None:
    saved = conn.info.get(_SAVEPOINTS)
    if saved:
        saved.pop()
    written = conn.info.get(_WRITTEN_AT_SAVEPOINTS)
    if written:
        written.pop()


@event.listens_for(Engine, "rollback_savepoint")
def _back_to_savepoint(conn: Connection, _name: str, _context: object) -> None:
    """A savepoint rolled back takes its writes with it (an approval tried and undone changes nothing)."""
    if conn.invalidated:
        return  # as in _forget_changes
    saved = conn.info.get(_SAVEPOINTS)
    if saved and not saved.pop():
        conn.info.pop(_CHANGED, None)
    written = conn.info.get(_WRITTEN_AT_SAVEPOINTS)
    if written:
        conn.info[_WRITTEN] = written.pop()


def generation(session: Session) -> int | None:
    """The counter as this transaction sees it, read once per transaction; None when this transaction has written a
    watched table itself or holds changes not yet flushed (a screening would see them), or the database has no
    counter: then nothing may be shared."""
    if session.new or session.deleted or session.dirty:
        return None
    connection = session.connection()
    if changed_in_transaction(connection) or not _counter_exists(connection):
        return None
    return _generations(session).get(SCREENING_ROW)


def _generations(session: Session) -> dict[str, int]:
    """{'': the screening generation, table: its own counter, '*': the unknown tables' one} as this transaction
    sees them, read once per transaction in one statement (the first alone on a database before 0047)."""

    def read() -> dict[str, int]:
        counters = _counters(session.connection())
        if TABLE_GENERATIONS not in counters:
            value = session.execute(_READ).scalar()
            return {} if value is None else {SCREENING_ROW: int(value)}
        both = _READ_BOTH if GENERATION_TABLE in counters else _READ_TABLES
        return {name: int(value) for name, value in session.execute(both).all()}

    return cached(session, (_GENERATION,), read)


# Answers shared between transactions: {(database, key): (generation, answer)}, the least recently used dropped
# beyond SHARED_ANSWERS. Shared answers are read by every request of this process: callers never change them.
SHARED_ANSWERS = 20_000
_shared: "OrderedDict[tuple[str, Hashable], tuple[Hashable, Any]]" = OrderedDict()
_shared_lock = threading.Lock()


def shared_many(session: Session, keys: Iterable[K], compute: Callable[[list[K]], dict[K, T]]) -> dict[K, T]:
    """{key: answer} for these keys: the answers kept under the database's current generation, and compute(the
    others) for the rest (which must answer every key it is given). Without a generation, compute(all)."""
    wanted = list(dict.fromkeys(keys))
    current = generation(session)
    if current is None:
        return compute(wanted)
    # Computed from this transaction's own writes: not for others.
    return _kept_or_computed(
        session, current, wanted, compute, lambda: not changed_in_transaction(session.connection())
    )


def _kept_or_computed(
    session: Session,
    current: Hashable,
    wanted: list[K],
    compute: Callable[[list[K]], dict[K, T]],
    keep: Callable[[], bool],
    store: "OrderedDict[tuple[str, Hashable], tuple[Hashable, Any]] | None" = None,
    limit: int = SHARED_ANSWERS,
) -> dict[K, T]:
    """The answers kept under `current`, compute(the others), and those kept too when keep() says they may be
    (in `store`, by default the pages' store, its least recently used dropped beyond `limit`)."""
    store = _shared if store is None else store
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    found: dict[K, T] = {}
    with _shared_lock:
        for key in wanted:
            kept = store.get((database, key))
            if kept is not None and kept[0] == current:
                store.move_to_end((database, key))
                found[key] = kept[1]
    missing = [key for key in wanted if key not in found]
    if missing:
        computed = compute(missing)
        if not keep():
            return {**found, **computed}
        with _shared_lock:
            for key in missing:
                store[(database, key)] = (current, computed[key])
                store.move_to_end((database, key))
            while len(store) > limit:
                store.popitem(last=False)
        found.update(computed)
    return {key: found[key] for key in wanted}


def shared(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or its answer kept from an earlier transaction under the database's current generation."""
    return shared_many(session, [key], lambda _keys: {key: compute()})[key]


def shared_unless_written(session: Session, key: Hashable, tables: Iterable[str], compute: Callable[[], T]) -> T:
    """shared() for an answer read from these tables alone (KEPT_TABLES), kept under their own counters and '*',
    which a transaction that wrote other tables (not these) may read and keep too: its own writes cannot be in the
    answer (a re-screen after a tie changed reads the buyers, which the change did not touch). Anything written that
    names no table, or pending in the session unflushed, counts as written to these."""
    # Read from tables this transaction did not write: kept for others as it is.
    return shared_many_unless_written(session, [key], tables, lambda _keys: {key: compute()})[key]


def shared_many_unless_written(
    session: Session, keys: Iterable[K], tables: Iterable[str], compute: Callable[[list[K]], dict[K, T]]
) -> dict[K, T]:
    """{key: answer}: shared_unless_written for many keys at once (keys name their area first), kept among the
    pages' answers; compute(the keys not kept) must answer every key it is given."""
    wanted = list(dict.fromkeys(keys))
    current = _generation_unless_written(session, set(tables))
    if current is None:
        return compute(wanted)
    return _kept_or_computed(session, current, wanted, compute, lambda: True)


# One frozen dataclass per mapped class and its fields, made on first use (plain).
_plain_types: dict[type, tuple[type, tuple[str, ...]]] = {}
_plain_lock = threading.Lock()


def plain(row: Any) -> Any:
    """The row's column values as a frozen value read the same way (`party.name`), for an answer kept beyond its
    session: a kept ORM row would still belong to the session that loaded it, load lazily from it and be changed by
    it. Relationships and properties of the model are not carried over; None stays None."""
    if row is None:
        return None
    cls = type(row)
    made = _plain_types.get(cls)
    if made is None:
        names = tuple(attribute.key for attribute in inspect(cls).column_attrs)
        with _plain_lock:
            made = _plain_types.setdefault(
                cls, (dataclasses.make_dataclass(f"Plain{cls.__name__}", names, frozen=True, slots=True), names)
            )
    kind, names = made
    return kind(*(getattr(row, name) for name in names))


def _generation_unless_written(session: Session, tables: set[str]) -> Hashable | None:
    """The key answers read from these tables are kept under: the '*' counter and each table's own, as this
    transaction sees them (the screening generation on a database before 0047); or None when this transaction wrote
    one of them, or something it cannot name, or holds such a change unflushed (or the database has no counter)."""
    assert tables <= KEPT_TABLES, tables - KEPT_TABLES  # another table's change would bump nothing
    pending = [*session.new, *session.dirty, *session.deleted]
    if any(getattr(getattr(type(obj), "__table__", None), "name", "*") in tables for obj in pending):
        return None
    connection = session.connection()
    written = connection.info.get(_WRITTEN, set())
    if "*" in written or written & tables or not _counter_exists(connection):
        return None
    counters = _generations(session)
    if "*" not in counters:
        return counters.get(SCREENING_ROW)
    return (counters["*"], *(counters.get(name, 0) for name in sorted(tables)))


# Answers kept one per party (screening's part of the graph above a vendor: its parties' rows, their likely
# variants), apart from the pages' answers: a vendor under a large group has thousands of parties, which would evict
# every page's answers from SHARED_ANSWERS. A party's entry is a few small tuples.
PARTY_ANSWERS = 300_000
_per_party: "OrderedDict[tuple[str, Hashable], tuple[Hashable, Any]]" = OrderedDict()


def shared_per_party_unless_written(
    session: Session, keys: Iterable[K], tables: Iterable[str], compute: Callable[[list[K]], dict[K, T]]
) -> dict[K, T]:
    """{key: answer}: shared_many_unless_written for answers read from these tables alone, one per party (keys name
    their area first: `("screening.party_row", party_id)`), kept apart from the pages' answers. As with
    shared_unless_written, a transaction that wrote other tables reads and keeps them; one that wrote these
    (or anything unnamed, or holds such a change unflushed) computes them all afresh and keeps nothing."""
    wanted = list(dict.fromkeys(keys))
    current = _generation_unless_written(session, set(tables))
    if current is None:
        return compute(wanted)
    return _kept_or_computed(session, current, wanted, compute, lambda: True, _per_party, PARTY_ANSWERS)


def forget_kept() -> None:
    """Drop every answer this process keeps between transactions. The counters only ever go up on a live database;
    one whose counters went back (restored from a backup, or each test's transaction rolled back) could otherwise be
    answered with what was kept before, under a counter value it reaches again."""
    with _shared_lock:
        _shared.clear()
        _per_party.clear()
