"""Importing BODS files of any size (marketplace.parties.bods_stream): streamed, staged, applied in bulk, and the
same graph as the statement-by-statement import."""

import gc
import json
import sys
import tracemalloc
from pathlib import Path

import fastjsonschema
import pytest
from bods_fixtures import list_cases
from bods_fixtures import load as load_fixture
from sqlalchemy import func, select

from marketplace.parties import bods_stream
from marketplace.parties.bods import BodsFileError, import_bods, read_statements
from marketplace.parties.bods_stream import ImportProgress, import_file
from marketplace.parties.bods_validation import (
    _compiled_record_check,
    declared_version,
    quick_statement_problem,
    statement_problem,
)
from marketplace.parties.models import (
    BodsImportRun,
    BodsStagedStatement,
    BodsStatement,
    Interest,
    Party,
    PartyIdentifier,
)
from tests.bods_graph import graph

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench.bods_data import generate  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data" / "bods"
OFFICIAL = DATA / "official"
FILES = sorted(OFFICIAL.glob("*.json")) + [DATA / "legacy-0.2.json", DATA / "legacy-0.3.json"]


@pytest.fixture
def streamed(monkeypatch):
    """Every file, however small, goes through the streamed import."""
    monkeypatch.setattr(bods_stream, "STREAM_FROM", 0)


def write(tmp_path, statements, name="statements.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(statements))
    return path


def fixture_files(tmp_path) -> list[Path]:
    return [write(tmp_path, load_fixture(case).statements, case.replace("/", "-") + ".json") for case in list_cases()]


def moved_company(tmp_path) -> Path:
    """A company and a later statement of its record: same name, another jurisdiction."""
    first = json.loads(generate(tmp_path / "one.jsonl", 1).read_text())
    later = json.loads(json.dumps(first))
    later.update(statementId="f" * 36, recordStatus="updated", statementDate="2024-02-01")
    later["recordDetails"]["jurisdiction"] = {"name": "Germany", "code": "DE"}
    return write(tmp_path, [first, later], "moved.json")


@pytest.mark.parametrize("batch", [5000, 400])
def test_the_streamed_import_makes_the_same_graph_as_the_import_statement_by_statement(
    session, empty_session, streamed, tmp_path, monkeypatch, batch
):
    # Every official example, both legacy files and the 0.4 fixtures, one after the other in one database (later
    # files meet what earlier ones imported), a generated register with updates, in batches of 5,000 or 400.
    monkeypatch.setattr(bods_stream, "BATCH", batch)
    files = [*FILES, *fixture_files(tmp_path), generate(tmp_path / "register.jsonl", 3000), moved_company(tmp_path)]
    old_lines, new_lines = [], []
    for path in files:
        old = import_bods(empty_session, None, read_statements(path), path.name)
        new = import_file(session, None, path)
        old_lines.append((old.line(), old.warnings))
        new_lines.append((new.line(), new.warnings))

    assert new_lines == old_lines
    assert graph(session) == graph(empty_session)
    assert session.execute(select(func.count()).select_from(BodsImportRun)).scalar_one() == 0


def test_importing_the_same_files_again_changes_nothing(session, streamed):
    for path in FILES:
        import_file(session, None, path)
    before = graph(session)

    again = [import_file(session, None, path) for path in FILES]

    assert graph(session) == before
    assert all(not summary.changed and summary.skipped == summary.statements for summary in again)


def counts(session) -> tuple[int, ...]:
    return tuple(
        session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Party, Interest, PartyIdentifier, BodsStatement, BodsImportRun, BodsStagedStatement)
    )


def large_file(tmp_path, statements=12_000) -> tuple[Path, list[dict]]:
    """A generated JSON Lines file above the streaming threshold, and its statements."""
    path = generate(tmp_path / "large.jsonl", statements)
    assert path.stat().st_size > bods_stream.STREAM_FROM
    return path, [json.loads(line) for line in path.read_text().splitlines()]


def test_a_bad_statement_late_in_a_large_file_leaves_nothing(session, tmp_path):
    path, statements = large_file(tmp_path)
    relationship = next(s for s in reversed(statements) if s["recordType"] == "relationship")
    relationship["recordDetails"]["interests"][0]["share"] = {"exact": 250}
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    number = statements.index(relationship) + 1
    before = counts(session)

    with pytest.raises(BodsFileError) as refused:
        import_file(session, None, path)

    assert str(refused.value) == (
        f"large.jsonl: statement {number} ({relationship['statementId']}): is not valid BODS 0.4: "
        "recordDetails/interests/0/share/exact: 250 is greater than the maximum of 100."
    )
    assert number > 11_000
    assert counts(session) == before  # nor any staged statement or run


def test_a_reference_to_nothing_found_while_applying_leaves_nothing(session, tmp_path):
    path, statements = large_file(tmp_path)
    relationship = next(s for s in reversed(statements) if s["recordType"] == "relationship")
    relationship["recordDetails"]["interestedParty"] = "ghost"
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    before = counts(session)

    with pytest.raises(
        BodsFileError, match=r"its interested party “ghost” is neither in this file nor imported before"
    ):
        import_file(session, None, path)

    assert counts(session) == before


def test_a_statement_id_repeated_with_other_content_across_batches_is_refused(session, tmp_path, monkeypatch):
    monkeypatch.setattr(bods_stream, "BATCH", 1000)
    path, statements = large_file(tmp_path)
    changed = {**statements[10], "statementDate": "2024-01-16"}
    path.write_text("\n".join(json.dumps(s) for s in [*statements, statements[10], changed]) + "\n")
    before = counts(session)

    with pytest.raises(BodsFileError, match=rf"statement {len(statements) + 2} \({changed['statementId']}\) has the "):
        import_file(session, None, path)

    assert counts(session) == before


def test_an_exact_repeat_far_apart_is_read_once(session, tmp_path, monkeypatch):
    monkeypatch.setattr(bods_stream, "BATCH", 1000)
    path, statements = large_file(tmp_path)
    path.write_text("\n".join(json.dumps(s) for s in [*statements, statements[10]]) + "\n")

    summary = import_file(session, None, path)

    assert summary.statements == len(statements) + 1
    assert summary.skipped == 1


def test_shares_past_100_percent_are_warned_about_as_the_statement_by_statement_import_does(
    session, empty_session, streamed, tmp_path, monkeypatch
):
    # The totals are added up in SQL at the end (memory stays flat): the same warnings, in the same order, for
    # holdings raised to 70% each (subjects with two holders and more), records updated later (their latest
    # version counts), one closed, and a 0.2 chain whose later statement replaces the earlier one.
    monkeypatch.setattr(bods_stream, "BATCH", 700)
    statements = [json.loads(line) for line in generate(tmp_path / "g.jsonl", 3000).read_text().splitlines()]
    for statement in statements:
        for interest in statement.get("recordDetails", {}).get("interests", []):
            if "share" in interest:
                interest["share"] = {"exact": 70.0}
    relationships = [s for s in statements if s["recordType"] == "relationship"]
    closed = {**relationships[5], "statementId": "c" * 36, "recordStatus": "closed", "statementDate": "2024-03-01"}
    path = write(tmp_path, [*statements, closed], "raised.json")
    legacy = DATA / "legacy-0.2.json"
    files = [path, legacy]

    new = [import_file(session, None, f).warnings for f in files]
    old = [import_bods(empty_session, None, read_statements(f), f.name).warnings for f in files]

    assert new == old
    assert len(new[0]) > 20


@pytest.mark.parametrize("shape", ["array", "wrapped", "lines"])
def test_the_reader_holds_one_statement_at_a_time(tmp_path, shape):
    path, statements = large_file(tmp_path, 6000)
    if shape == "array":
        path.write_text(json.dumps(statements, indent=1))
    elif shape == "wrapped":
        path.write_text(json.dumps({"statements": statements}, indent=1))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        read = sum(1 for _ in bods_stream._read(path, 0, 0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert read == len(statements)
    assert size > 4 * 1024 * 1024
    assert peak < 1024 * 1024  # a few statements and the reader's buffers, not the 4-6 MiB file


def test_progress_is_reported_by_stage_with_statements_per_second(session, tmp_path):
    path, statements = large_file(tmp_path)
    seen: list[ImportProgress] = []

    import_file(session, None, path, progress=seen.append)

    stages = [p.stage for p in seen]
    assert stages.index("applying") > stages.index("staging")
    assert [p.done for p in seen if p.stage == "staging"][-1] == len(statements)
    assert seen[-1] == ImportProgress("applying", len(statements), len(statements), seen[-1].per_second)
    assert all(p.per_second > 0 for p in seen)


def test_the_cyclic_collector_runs_seldom_while_importing_and_as_before_after(session, streamed, tmp_path):
    """The import's millions of short-lived objects hold no cycles: the collector's first threshold is raised to
    bods_stream.GC_THRESHOLD (a million net allocations; at 50,000 it took ~10% of the applier's CPU) while the
    import runs, and set back after it, refused or not."""
    path, _ = large_file(tmp_path)
    before = gc.get_threshold()
    during: set[int] = set()

    import_file(session, None, path, progress=lambda _: during.add(gc.get_threshold()[0]))

    assert during == {bods_stream.GC_THRESHOLD}
    assert bods_stream.GC_THRESHOLD >= 1_000_000
    assert gc.get_threshold() == before
    with pytest.raises(BodsFileError):
        import_file(session, None, write(tmp_path, [{"statementId": "x"}] * 2, "bad.json"))
    assert gc.get_threshold() == before


def test_the_compiled_validator_agrees_with_the_schema(tmp_path):
    statements = [s for path in OFFICIAL.glob("*.json") for s in read_statements(path)]
    statements += [s for case in list_cases() for s in load_fixture(case).statements]
    statements += [json.loads(line) for line in generate(tmp_path / "g.jsonl", 500).read_text().splitlines()]
    broken = []
    for statement in statements[:60]:
        for change in (
            lambda s: s.update(statementDate="2024-13-45"),
            lambda s: s.update(recordStatus="gone"),
            lambda s: s["recordDetails"].update(isComponent="no"),
            lambda s: s.update(source={"type": ["rumour"]}),
            lambda s: s["publicationDetails"].update(publisher={"url": "not a uri"}),
            # The compiled check picks the schema of the statement's record type, and reads a subject or an
            # interested party as a string or an Unspecified Record: other types and shapes go by the same rule.
            lambda s: s.update(recordType="person" if s.get("recordType") == "entity" else "entity"),
            lambda s: s.update(recordType="relationship"),
            lambda s: s.update(recordType=7),
            lambda s: s.update(recordType="Entity"),
            lambda s: s.pop("recordType", None),
            lambda s: s["recordDetails"].update(subject={"reason": "noBeneficialOwners"}),
            lambda s: s["recordDetails"].update(interestedParty={"reason": "noBeneficialOwners", "description": "x"}),
            lambda s: s["recordDetails"].update(subject={"reason": "unheard of"}),
            lambda s: s["recordDetails"].update(interestedParty=["a list"]),
            lambda s: s["recordDetails"].update(subject=7),
        ):
            copy = json.loads(json.dumps(statement))
            change(copy)
            broken.append(copy)

    check = _compiled_record_check()
    for statement in statements + broken:
        assert quick_statement_problem(statement) == statement_problem(statement)
        if declared_version(statement) == "0.4":  # neither more lenient nor stricter than the schema
            try:
                check(statement)
            except fastjsonschema.JsonSchemaException:
                assert statement_problem(statement) is not None
            else:
                assert statement_problem(statement) is None
    assert all(quick_statement_problem(s) for s in broken[:5])


def test_a_streamed_array_may_start_with_a_byte_order_mark(session, empty_session, streamed, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + (OFFICIAL / "tecido.json").read_bytes())

    summary = import_file(session, None, path)

    assert summary.line() == import_bods(empty_session, None, read_statements(path), "bom.json").line()
