"""A large file on PostgreSQL is staged by a second process while the first applies (bods_stream._Stager): the
same graph as staging first, and a file refused by either process leaves nothing, the stager stopped.

Both processes need committed rows to see each other's: these tests use databases of their own, not the
rolled-back transaction of the `session` fixture."""

import json
import multiprocessing
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from marketplace.parties import bods_bulk, bods_stream
from marketplace.parties.bods import BodsFileError, ImportSummary, read_statements
from marketplace.parties.bods_fast import fast_statement
from marketplace.parties.bods_stream import ImportProgress, import_file
from marketplace.parties.models import BodsImportRun, BodsStagedStatement, BodsStatement, Interest, Party
from tests.bods_graph import graph
from tests.conftest import migrated_database

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench.bods_data import generate  # noqa: E402

OFFICIAL = Path(__file__).resolve().parents[2] / "data" / "bods" / "official"


@pytest.fixture
def small_batches(monkeypatch):
    """Every file is staged apart, in batches of 400: the applier often catches up with the stager and waits."""
    monkeypatch.setattr(bods_stream, "STAGE_APART_FROM", 0)
    monkeypatch.setattr(bods_stream, "STREAM_FROM", 0)
    monkeypatch.setattr(bods_stream, "BATCH", 400)


def database(tmp_path, name: str):
    return create_engine(migrated_database(tmp_path, name, backend="postgresql"))


def register(tmp_path, statements: int = 4000) -> Path:
    """A generated register followed by the official examples with indirect relationships (their components are
    looked up in the whole file)."""
    lines = generate(tmp_path / "g.jsonl", statements).read_text().splitlines()
    for name in ("indirect-ownership.json", "multiple-indirect-ownership.json", "nomination.json"):
        lines += [json.dumps(s) for s in read_statements(OFFICIAL / name)]
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def imported(engine, path: Path, progress=None):
    with Session(engine) as session:
        summary = import_file(session, None, path, progress=progress)
        session.commit()
        return summary, graph(session)


def counts(engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Party, Interest, BodsStatement, BodsImportRun, BodsStagedStatement)
        )


def test_staged_apart_the_graph_is_the_one_staged_first(tmp_path, small_batches, monkeypatch):
    path = register(tmp_path)
    apart, first = database(tmp_path, "bods_apart"), database(tmp_path, "bods_first")
    seen: list[ImportProgress] = []

    summary, made = imported(apart, path, seen.append)
    monkeypatch.setattr(bods_stream, "STAGE_APART_FROM", 10**12)
    summary_first, made_first = imported(first, path)

    assert (summary.line(), summary.warnings) == (summary_first.line(), summary_first.warnings)
    assert made == made_first
    assert counts(apart)[3:] == (0, 0)  # the run and its staged statements deleted
    assert {p.stage for p in seen} == {"staging", "applying"}
    assert seen[-1].stage == "applying" and seen[-1].done == seen[-1].total == summary.statements
    assert not multiprocessing.active_children()
    apart.dispose()
    first.dispose()


def test_a_bad_statement_late_in_the_file_found_by_the_stager_leaves_nothing(tmp_path, small_batches):
    path = register(tmp_path)
    statements = [json.loads(line) for line in path.read_text().splitlines()]
    bad = statements[-50]
    bad["statementDate"] = "not a date"
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    engine = database(tmp_path, "bods_apart_bad")

    with pytest.raises(BodsFileError, match=rf"statement {len(statements) - 49} \({bad['statementId']}\): is not"):
        imported(engine, path)

    assert counts(engine) == (0, 0, 0, 0, 0)
    assert not multiprocessing.active_children()
    engine.dispose()


def test_a_reference_to_nothing_found_while_the_stager_reads_on_leaves_nothing(tmp_path, small_batches):
    path = register(tmp_path)
    statements = [json.loads(line) for line in path.read_text().splitlines()]
    relationship = next(s for s in statements if s.get("recordType") == "relationship")
    relationship["recordDetails"]["interestedParty"] = "ghost"
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    engine = database(tmp_path, "bods_apart_ghost")

    with pytest.raises(BodsFileError, match=r"its interested party “ghost” is neither in this file nor imported"):
        imported(engine, path)

    assert not multiprocessing.active_children()  # stopped before the run was deleted
    assert counts(engine) == (0, 0, 0, 0, 0)
    engine.dispose()


def test_what_the_stager_parsed_warns_as_parsing_while_applying_does(tmp_path, small_batches, monkeypatch):
    """The stager parses what it stages and sends it to the applier: the warnings (a future date, here in the
    middle of a batch) are the same, in the same order, as when the applier parses every statement itself."""
    path = register(tmp_path)
    statements = [json.loads(line) for line in path.read_text().splitlines()]
    for index in (150, 2555):
        statements[index]["statementDate"] = "2999-01-01"
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    apart, first = database(tmp_path, "bods_apart_warned"), database(tmp_path, "bods_first_warned")

    summary, made = imported(apart, path)
    monkeypatch.setattr(bods_stream, "STAGE_APART_FROM", 10**12)
    summary_first, made_first = imported(first, path)

    assert [w for w in summary.warnings if "2999-01-01" in w] == [
        f"statement {index + 1} ({statements[index]['statementId']}): statementDate 2999-01-01 is in the future "
        f"(today is {bods_stream.utcnow().date().isoformat()}); it is not used as the source's date."
        for index in (150, 2555)
    ]
    assert (summary.line(), summary.warnings, made) == (summary_first.line(), summary_first.warnings, made_first)
    apart.dispose()
    first.dispose()


def test_a_statement_the_stagers_parser_refuses_is_refused_in_file_order_and_leaves_nothing(tmp_path, small_batches):
    """An interest ending before it starts passes the schema but not the parser: the stager leaves it to the
    applier, which refuses the file when it gets there, naming the statement, as without a stager."""
    path = register(tmp_path)
    statements = [json.loads(line) for line in path.read_text().splitlines()]
    index = max(i for i, s in enumerate(statements[:3000]) if s.get("recordType") == "relationship")
    interest = statements[index]["recordDetails"]["interests"][0]
    interest["startDate"], interest["endDate"] = "2020-01-01", "2019-01-01"
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    engine = database(tmp_path, "bods_apart_unparsed")

    with pytest.raises(
        BodsFileError,
        match=rf"statement {index + 1} \({statements[index]['statementId']}\): interest 1 ends \(2019-01-01\) before",
    ):
        imported(engine, path)

    assert counts(engine) == (0, 0, 0, 0, 0)
    assert not multiprocessing.active_children()
    engine.dispose()


def test_the_staging_is_written_without_wal_and_a_run_is_deleted_with_its_statements(tmp_path, small_batches):
    """The runs and staged statements are scratch (UNLOGGED: a crash of PostgreSQL empties both together, so no run
    is left pointing at statements that are gone); nothing else is."""
    engine = database(tmp_path, "unlogged")
    with engine.connect() as connection:
        persistence = dict(
            connection.execute(
                text(
                    "SELECT relname, relpersistence FROM pg_class"
                    " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                )
            ).all()
        )
    assert {name for name, kind in persistence.items() if kind == "u"} == {"bodsimportrun", "bodsstagedstatement"}
    assert persistence["bodsstatement"] == persistence["party"] == "p"

    imported(engine, register(tmp_path, 1000))

    assert counts(engine)[3:] == (0, 0)  # no run, no staged statement left (no foreign key deletes them now)
    engine.dispose()


def test_the_batch_look_ups_keys_reach_postgresql_as_they_are(tmp_path):
    """The look-ups send their keys as the text of an array (bods_bulk._array_text): whatever a key holds, the
    server reads the same keys back."""
    keys = ['a"b', "back\\slash", "x,y", "{braces}", " padded ", "NULL", "", "naïve – ünïcode", '\\"', "gb-coh-1"]
    engine = database(tmp_path, "arrays")
    with engine.connect() as connection:
        read = connection.execute(text("SELECT CAST(:keys AS text[])"), {"keys": bods_bulk._array_text(keys)})
        numbers = connection.execute(text("SELECT CAST(:keys AS integer[])"), {"keys": bods_bulk._array_text([3, 1])})
        assert read.scalar_one() == keys
        assert numbers.scalar_one() == [3, 1]
    engine.dispose()


def test_a_batchs_new_rows_are_copied_in_the_background_until_settled(tmp_path):
    """BulkApplier.write(background=True) returns while PostgreSQL still takes the rows (here held back by a lock
    another transaction has on the party table), so that the importer parses the next batch meanwhile; settle()
    waits for them."""
    engine = database(tmp_path, "bods_background")
    lines = generate(tmp_path / "g.jsonl", 300).read_text().splitlines()
    today = bods_stream.utcnow().date()
    with Session(engine) as session, engine.connect() as other:
        session.execute(text("SET lock_timeout = '5s'"))  # written in the foreground, the write would fail
        summary = ImportSummary("g.jsonl")
        applier = bods_bulk.BulkApplier(session, None, summary, set())
        applier.apply(
            [bods_bulk.Staged(n, fast_statement(line, today), line) for n, line in enumerate(lines)], write=False
        )
        other.execute(text("LOCK TABLE party IN SHARE MODE"))  # no row goes into party until it ends
        started = time.monotonic()

        applier.write(background=True)

        assert time.monotonic() - started < 2
        other.rollback()
        applier.settle()
        assert session.execute(select(func.count()).select_from(Party)).scalar_one() == summary.parties_added > 100
        assert session.execute(select(func.count()).select_from(BodsStatement)).scalar_one() == 300
    engine.dispose()


def test_a_batch_postgresql_refuses_while_the_next_is_parsed_fails_the_import_with_its_error(tmp_path, small_batches):
    """A batch's rows are written while the next batch is parsed: what PostgreSQL says of them (here a check a
    party's name breaks) is what the import raises, not a later statement's "transaction aborted"; nothing of the
    file is kept, and the import run again on the same file (the check gone) imports all of it."""
    path = register(tmp_path)
    statements = [json.loads(line) for line in path.read_text().splitlines()]
    poisoned = next(s for s in statements[1000:] if s.get("recordType") == "entity")["recordDetails"]["name"]
    engine, clean = database(tmp_path, "bods_background_refused"), database(tmp_path, "bods_background_clean")
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE party ADD CONSTRAINT poisoned CHECK (name <> '{poisoned}')"))

    with pytest.raises(psycopg.errors.CheckViolation, match="poisoned"):
        imported(engine, path)

    assert counts(engine)[:3] == (0, 0, 0)
    assert not multiprocessing.active_children()
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE party DROP CONSTRAINT poisoned"))
    summary, made = imported(engine, path)
    summary_clean, made_clean = imported(clean, path)
    assert (summary.line(), made) == (summary_clean.line(), made_clean)
    assert counts(engine)[3:] == (0, 0)
    engine.dispose()
    clean.dispose()
