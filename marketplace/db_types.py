"""Column types and database conventions shared by every model."""

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from psycopg import adapters as psycopg_adapters
from psycopg.adapt import Dumper
from psycopg.postgres import types as postgres_types
from sqlmodel import SQLModel

# Named constraints make migrations work on SQLite (batch mode) and PostgreSQL alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest row id (PostgreSQL's integer): a larger number in an address, a query or a form names nothing, and
# must be answered as such, not handed to the database (SQLite overflows on it).
MAX_ID = 2**31 - 1


def record_id(text) -> int:
    """A row id or page number from user input: a whole number from 1 to MAX_ID, else ValueError.

    Usable as `request.args.get(name, type=record_id)`, which then gives the default for anything else."""
    value = int(str(text).strip()) if len(str(text).strip()) <= 12 else None
    if value is None or not 1 <= value <= MAX_ID:
        raise ValueError(f"not a record id: {str(text)[:20]!r}")
    return value


def utcnow() -> datetime:
    """The server's clock, timezone-aware UTC; every deadline is judged by it."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(length: int = 32) -> sa.String:
    """A StrEnum stored by its value."""
    return sa.String(length)


class _IdArray(str):
    """Ids as a PostgreSQL array literal, `{1,2,3}`, joined at C speed: psycopg's list dumper converts a list item
    by item in Python (about a second for the million ids one batch screening passes). Sent as a parameter typed
    bigint[] (_IdArrayDumper), so the server parses it once; a text parameter cast in the SQL is evaluated again
    for every row."""

    __slots__ = ()

    def __new__(cls, ids: Iterable[int]) -> "_IdArray":
        return super().__new__(cls, "{" + ",".join(map(str, ids)) + "}")


class _IdArrayDumper(Dumper):
    oid = postgres_types["int8"].array_oid

    def dump(self, obj: str) -> bytes:
        return obj.encode()


psycopg_adapters.register_dumper(_IdArray, _IdArrayDumper)


class _BigIntArray(sa.types.UserDefinedType):
    """bigint[] passed through as given (an _IdArray): SQLAlchemy's ARRAY would copy it into a list."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "BIGINT[]"


_BIGINT_ARRAY = _BigIntArray()


# More ids than this in one `in_ids` are hidden from PostgreSQL's planner (see in_ids).
PLANNED_IDS_UP_TO = 1000


def id_array(ids: Iterable[int]) -> sa.BindParameter:
    """Ids as one PostgreSQL bigint[] parameter (sorted, each once)."""
    return sa.bindparam(None, _IdArray(sorted({int(i) for i in ids})), type_=_BIGINT_ARRAY)


def in_ids(session, column, ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """`column IN ids`, the ids passed as one parameter however many there are (a PostgreSQL array, a JSON list read
    by SQLite's json_each): compiling and binding thousands of parameters costs more than the query, and SQLite
    refuses more than 32,766.

    On PostgreSQL, more than PLANNED_IDS_UP_TO ids are read through a one-row subquery, `ANY((SELECT $1)::bigint[])`:
    the planner then does not estimate the array element by element, which took it 200 ms for the 143,000 ids of a
    1M-party register's rivals' part (0.2 ms so), and still chooses the index scan it chose with the ids in view."""
    ids = sorted({int(i) for i in ids})
    if session.get_bind().dialect.name == "postgresql":
        array = sa.bindparam(None, _IdArray(ids), type_=_BIGINT_ARRAY)
        if len(ids) > PLANNED_IDS_UP_TO:
            return column == sa.any_(sa.cast(sa.select(array).scalar_subquery(), _BIGINT_ARRAY))
        return column == sa.any_(array)
    listed: sa.Select[Any] = sa.select(sa.literal_column("value")).select_from(
        sa.func.json_each(sa.bindparam(None, json.dumps(ids)))
    )
    return column.in_(listed.scalar_subquery())
