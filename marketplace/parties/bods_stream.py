"""Importing a BODS file of any size: read as a stream, staged, then applied in bulk in one transaction.

`import_file` is what `flask bods import` and the admin's upload job call. In two stages:

1. **Staging.** The file is read one statement at a time (a JSON array or {"statements": [...]} with ijson, JSON
   Lines line by line), each statement's id checked and the statement validated against its BODS version's schema
   (0.4 by a compiled validator), and stored as JSON text in `bodsstagedstatement` under a `bodsimportrun`. Every
   batch is committed with the run's cursor (statements staged, and for JSON Lines the byte offset): an
   interrupted import, run again on the same unchanged file, goes on from there.
2. **Applying.** The staged statements are read back in file order, parsed, and applied batch by batch
   (marketplace.parties.bods_bulk) in the caller's transaction, which also deletes the run. Interrupted here, the
   transaction is lost and the next run applies the staged statements again from the start.

On PostgreSQL a file of STAGE_APART_FROM bytes and more is staged by a second process (_Stager, forked) while
this one applies what it has committed, so that both cores work; the apply transaction is still one, and a
reference to an indirect relationship's component not staged yet waits for the end of staging.

A file refused at either stage (not JSON, a statement invalid, a statementId repeated with other content, a
reference to nothing) raises BodsFileError after rolling back and deleting its run: nothing of it stays. Memory
stays the same whatever the file's size: a batch of statements; the share warning's totals are added up at the
end by one query over a temporary table (_ShareTotals).

Small files (below STREAM_FROM bytes) are read whole and imported as before (bods.import_bods), statement by
statement, in the caller's transaction: nothing is staged, and each problem is reported exactly as before.
"""

import contextlib
import ctypes
import gc
import hashlib
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import count
from pathlib import Path
from typing import BinaryIO

import ijson
from sqlalchemy import create_engine, delete, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from sqlmodel import col

from marketplace.db_types import utcnow
from marketplace.parties.bods import (
    COUNTED_SHARES,
    MAX_ID_LENGTH,
    BodsFileError,
    ImportSummary,
    PartyStatement,
    RelationshipStatement,
    Statement,
    _Parser,
    import_bods,
    read_statements,
    record_import,
    statement_digest,
)
from marketplace.parties.bods_bulk import BulkApplier, Staged, copy_rows, decoded_json, party_columns
from marketplace.parties.bods_fast import fast_statement
from marketplace.parties.bods_validation import quick_statement_problem
from marketplace.parties.models import BodsImportRun, BodsStagedStatement

BATCH = 5000  # statements staged per commit, and applied per round of look-ups
STREAM_FROM = 4 * 1024 * 1024  # bytes: smaller files are read whole
# bytes: on PostgreSQL, a larger file is staged by a second process while this one applies what it has staged
STAGE_APART_FROM = 16 * 1024 * 1024
PROGRESS_EVERY = 500  # statements between two progress reports
FINGERPRINT_BYTES = 64 * 1024
# The cyclic collector's first threshold while importing (net allocations between two young collections), in
# this process and the stager: see import_file.
GC_THRESHOLD = 1_000_000


@dataclass(frozen=True)
class ImportProgress:
    """Where an import is: "staging" (reading and validating) or "applying", statements done in that stage (of
    `total` when known), and how many per second the stage has gone since it started (or resumed)."""

    stage: str
    done: int
    total: int | None
    per_second: float


ProgressCallback = Callable[[ImportProgress], None]


def import_file(session: Session, actor, path: Path, *, progress: ProgressCallback | None = None) -> ImportSummary:
    """Import one BODS 0.2, 0.3 or 0.4 file (JSON array, {"statements": [...]} or JSON Lines) of any size.

    Statements are staged and committed batch by batch (so call it with nothing else pending in the session);
    the graph's changes, the `bods.imported` audit event and the run's deletion are left in the caller's
    transaction: the caller announces them (changes.ties_changed) and commits. Run again on the same file after an
    interruption, it resumes (see the module's docstring). `progress`, when given, is called every few hundred
    statements and at the end of each stage.

    Raises BodsFileError, naming the file and the statement, for a file that cannot be imported; it has then
    rolled back and deleted the run: nothing of the file stays.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BodsFileError(path.name, f"cannot be read ({error}).") from error
    if size < STREAM_FROM:
        return _import_whole(session, actor, path, progress)
    run = _run_for(session, path, size)
    today = utcnow().date()  # the stager's parser and the applier's judge future dates alike
    thresholds = gc.get_threshold()
    # Millions of short-lived dicts and dataclasses, none in a cycle (a 200k import leaves ~70 objects to the
    # collector): the cyclic collector, run every 700 allocations by default, took a sixth of the time; every
    # 50,000 it still took ~10% of the applier's CPU (0.46-0.57 s of its thread time for 60k statements, each young
    # collection traversing the batch's lists of thousands of rows), every 1,000,000 ~0.005 s. Anything in a cycle
    # is still collected, after at most a million net allocations; whatever has no cycle is freed as before.
    gc.set_threshold(GC_THRESHOLD, 20, 100)
    stager = None
    try:
        if not run.staged and session.get_bind().dialect.name == "postgresql" and size >= STAGE_APART_FROM:
            stager = _Stager(session, run, path, progress, today)
        elif not run.staged:
            _stage(session, run, path, progress, today=today)
        return _apply(session, actor, run, path.name, progress, today, stager)
    except BodsFileError:
        if stager is not None:
            stager.stop()  # before its run is deleted
        session.rollback()
        session.execute(delete(BodsImportRun).where(col(BodsImportRun.id) == run.id))
        session.execute(delete(BodsStagedStatement).where(col(BodsStagedStatement.run_id) == run.id))
        session.commit()
        raise
    finally:
        if stager is not None:
            stager.stop()
        gc.set_threshold(*thresholds)


def _import_whole(session: Session, actor, path: Path, progress: ProgressCallback | None) -> ImportSummary:
    statements = read_statements(path)
    meter = _Meter("applying", len(statements), progress)
    try:
        summary = import_bods(session, actor, statements, path.name, progress=lambda n: meter.add(n))
    except BodsFileError:
        session.rollback()
        raise
    if len(statements) >= PROGRESS_EVERY:  # a few statements need no progress line
        meter.report()
    return summary


class _Meter:
    """Counts statements done in a stage and reports them every PROGRESS_EVERY."""

    def __init__(self, stage: str, total: int | None, progress: ProgressCallback | None, done: int = 0):
        self.stage, self.total, self.progress = stage, total, progress
        self.done = self.started_from = done
        self.started = time.monotonic()

    def add(self, count: int = 1) -> None:
        before = self.done
        self.done += count
        if self.done // PROGRESS_EVERY != before // PROGRESS_EVERY:
            self.report()

    def report(self) -> None:
        if self.progress is not None:
            elapsed = max(time.monotonic() - self.started, 1e-6)
            self.progress(ImportProgress(self.stage, self.done, self.total, (self.done - self.started_from) / elapsed))


# --- the run ---


def _fingerprint(path: Path, size: int) -> str:
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as file:
        digest.update(file.read(FINGERPRINT_BYTES))
        file.seek(max(size - FINGERPRINT_BYTES, 0))
        digest.update(file.read(FINGERPRINT_BYTES))
    return digest.hexdigest()


def _run_for(session: Session, path: Path, size: int) -> BodsImportRun:
    """The unfinished run of this very file (same name, size and fingerprint), else a new one."""
    fingerprint = _fingerprint(path, size)
    run = session.execute(
        select(BodsImportRun)
        .where(
            col(BodsImportRun.fingerprint) == fingerprint,
            col(BodsImportRun.file_name) == path.name[:300],
            col(BodsImportRun.file_size) == size,
        )
        .order_by(col(BodsImportRun.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    if run is None:
        run = BodsImportRun(file_name=path.name[:300], file_size=size, fingerprint=fingerprint)
        session.add(run)
        session.commit()
    return run


# --- stage 1: reading, validating, staging ---


def _stage(
    session: Session,
    run: BodsImportRun,
    path: Path,
    progress: ProgressCallback | None,
    preparer: "_Preparer | None" = None,
    today: date | None = None,
) -> None:
    meter = _Meter("staging", None, progress, done=run.statements_staged)
    run_id, number, offset = run.id, run.statements_staged, run.resume_offset
    batch: list[dict] = []
    for number, raw, content, offset in _read(path, run.statements_staged, run.resume_offset, today):
        if not isinstance(raw, dict):  # read, checked and parsed by the fast path (bods_fast)
            statement_id, record_id = raw.statement_id, raw.record_id
            if preparer is not None:
                preparer.add_parsed(number, raw)
        else:
            statement_id = _checked_statement_id(path.name, raw, number)
            problem = quick_statement_problem(raw)
            if problem:
                raise BodsFileError(path.name, f"statement {number} ({statement_id}): {problem}")
            record_id = raw.get("recordId")
            if preparer is not None:
                preparer.add(number, raw)
        batch.append(
            {
                "run_id": run_id,
                "number": number,
                "statement_id": statement_id,
                "record_id": record_id.strip()[:MAX_ID_LENGTH] if isinstance(record_id, str) else "",
                "content": content,
            }
        )
        meter.add()
        if len(batch) >= BATCH:
            _save_batch(session, run_id, batch, number, offset)
            batch = []
            if preparer is not None:
                preparer.send()  # after the commit: the applier reads them with the rows
    if number == 0:
        raise BodsFileError(path.name, "is empty; expected BODS statements.")
    _save_batch(session, run_id, batch, number, offset, staged=True)
    if preparer is not None:
        preparer.send()
    meter.report()


def _checked_statement_id(file_name: str, raw: dict, number: int) -> str:
    statement_id = raw.get("statementId", raw.get("statementID"))
    if not isinstance(statement_id, str) or not statement_id.strip():
        raise BodsFileError(file_name, f"statement {number}: has no statementId.")
    if len(statement_id.strip()) > MAX_ID_LENGTH:
        raise BodsFileError(
            file_name,
            f"statement {number} ({statement_id}): the statementId is longer than {MAX_ID_LENGTH} characters.",
        )
    return statement_id.strip()


def _save_batch(session: Session, run_id: int, rows: list[dict], number: int, offset: int, staged=False) -> None:
    if rows:
        if session.get_bind().dialect.name == "postgresql":
            columns = list(rows[0])
            copy_rows(session, "bodsstagedstatement", columns, ([row[c] for c in columns] for row in rows))
        else:
            session.execute(insert(BodsStagedStatement), rows)
    run = session.get(BodsImportRun, run_id)
    assert run is not None
    run.statements_staged, run.resume_offset, run.staged = number, offset, staged
    session.commit()


def _read(
    path: Path, skip: int, offset: int, today: date | None = None
) -> Iterator[tuple[int, dict | Statement, str, int]]:
    """(number, statement, its JSON text, the byte offset after it when the file is JSON Lines) for each statement
    after the first `skip`, reading from `offset` when the file is JSON Lines. A JSON Lines statement of a common
    0.4 shape comes parsed (bods_fast: valid, and parsed as _Parser would on `today`), any other as read (a dict)."""
    with path.open("rb") as file:
        head = file.read(4096)
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if first == b"{" and _is_json_lines(file):
            yield from _read_lines(path.name, file, skip, offset, today or utcnow().date())
            return
        if first not in (b"[", b"{"):
            raise BodsFileError(path.name, "is not valid JSON (it starts with neither [ nor {).")
        file.seek(3 if head.startswith(b"\xef\xbb\xbf") else 0)  # ijson reads no byte order mark
        yield from _read_array(path.name, file, "item" if first == b"[" else "statements.item", skip)


def _is_json_lines(file: BinaryIO) -> bool:
    """Whether the file's first line is a whole JSON object (JSON Lines) rather than the start of one document."""
    file.seek(0)
    line = file.readline()
    try:
        return isinstance(json.loads(line.decode("utf-8-sig")), dict)
    except (ValueError, UnicodeDecodeError):
        return False


def _read_lines(
    name: str, file: BinaryIO, skip: int, offset: int, today: date
) -> Iterator[tuple[int, dict | Statement, str, int]]:
    file.seek(offset)
    number, line_number = skip, 0
    for line in file:
        line_number += 1
        offset += len(line)
        text = line.decode("utf-8-sig" if offset == len(line) else "utf-8", errors="strict").strip()
        if not text:
            continue
        number += 1
        statement = fast_statement(text, today)
        if statement is not None:
            yield number, statement, text, offset
            continue
        try:
            raw = decoded_json(text)
        except ValueError as error:
            where = f"line {line_number}" if skip == 0 else f"statement {number}"
            raise BodsFileError(
                name, f"is neither a JSON document nor JSON Lines: {where} is not valid JSON ({error})."
            ) from error
        if not isinstance(raw, dict):
            raise BodsFileError(name, f"statement {number} is not a JSON object.")
        yield number, raw, text, offset


def _read_array(name: str, file: BinaryIO, prefix: str, skip: int) -> Iterator[tuple[int, dict, str, int]]:
    number = 0
    try:
        for raw in ijson.items(file, prefix, use_float=True):
            number += 1
            if not isinstance(raw, dict):
                raise BodsFileError(name, f"statement {number} is not a JSON object.")
            if number > skip:
                yield number, raw, json.dumps(raw, ensure_ascii=False), 0
    except ijson.JSONError as error:
        raise BodsFileError(name, f"is not valid JSON ({error}).") from error
    if number == 0 and prefix == "statements.item":
        raise BodsFileError(
            name, 'is not a list of BODS statements (expected a JSON array, {"statements": [...]} or JSON Lines).'
        )


class _Stager:
    """Stage 1 in a second process (forked), so that reading and validating use the other core while this one
    applies: it stages and commits batch by batch as _stage does, and says over a pipe how far it has come, that
    it has finished, or why it refuses the file. The apply stage reads what it has committed, and waits for more.
    It also parses each batch it has committed and sends it over (_Preparer), so that the applier need not.
    It dies with this process (an interrupted import resumes from the cursor it committed)."""

    def __init__(
        self, session: Session, run: BodsImportRun, path: Path, progress: ProgressCallback | None, today: date
    ):
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("fork")
        self.messages, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=_stage_apart, args=(url, run.id, path, sender, today), daemon=True)
        self.process.start()
        sender.close()
        self.progress = progress
        self.finished = False
        self.staged = run.statements_staged
        # Parsed statements (or, read by the fast path, their digests: _Preparer.add_parsed) received,
        # by number, until applied; statements up to `prepared_to` have been sent (or were staged before this stager
        # started). The pipe holds one batch: the stager waits while it is full.
        self.prepared: dict[int, tuple] = {}
        self.prepared_to = run.statements_staged
        self.keep_prepared = True

    def wait(self, timeout: float = 1.0) -> None:
        """Reads what the stager has said, waiting up to `timeout` for a word, until it has committed a batch (so
        that at most one batch's parsed statements wait in memory) or finished; raises its refusal (BodsFileError)
        or its failure."""
        while self.messages.poll(timeout):
            timeout = 0
            if self._receive():
                return

    def wait_until_finished(self) -> None:
        """Waits for the end of staging, dropping the parsed statements sent meanwhile (memory must not grow
        with the file): the applier parses those itself."""
        self.keep_prepared = False
        self.prepared.clear()
        while not self.finished:
            self.wait()

    def prepared_statements(self, first: int, last: int) -> dict[int, tuple]:
        """What the stager parsed of the statements numbered `first` to `last` (committed: its word on them is
        on its way), by number; the others (staged before it started, or not kept) are not in it."""
        while self.prepared_to < last and not self.finished:
            self._receive()
        return {number: entry for number in range(first, last + 1) if (entry := self.prepared.pop(number, None))}

    def _receive(self) -> bool:
        """Reads one message (waiting for it); True when it says a batch is committed (its parsed statements) or
        that staging has finished."""
        try:
            kind, value = self.messages.recv()
        except EOFError:
            self.process.join()
            raise RuntimeError(f"the staging process ended with status {self.process.exitcode}") from None
        if kind == "prepared":
            first, entries = value
            if self.keep_prepared:
                self.prepared.update(zip(count(first), entries, strict=False))
            self.prepared_to = first + len(entries) - 1
            return True
        elif kind == "staged":
            self.staged = value.done
            if self.progress is not None:
                self.progress(value)
        elif kind == "finished":
            self.staged, self.finished = value, True
            return True
        elif kind == "refused":
            raise BodsFileError(*value)
        else:
            raise RuntimeError(f"staging failed: {value}")
        return False

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.messages.close()


def _stage_apart(url: str, run_id: int, path: Path, sender, today: date) -> None:
    """The stager's process: its own connection (none of the parent's is touched), kept from one batch's commit to
    the next (a new one a batch started a PostgreSQL backend a batch); ends when its parent does."""
    _end_with_parent()
    engine = create_engine(url, poolclass=StaticPool)
    try:
        with Session(engine) as session:
            run = session.get(BodsImportRun, run_id)
            assert run is not None
            preparer = _Preparer(path.name, today, sender)
            _stage(session, run, path, lambda progress: sender.send(("staged", progress)), preparer, today)
            sender.send(("finished", run.statements_staged))
    except BodsFileError as error:
        sender.send(("refused", (path.name, str(error).removeprefix(f"{path.name}: "))))
    except Exception as error:  # noqa: BLE001 (said to the parent, which raises it)
        sender.send(("failed", repr(error)))
    finally:
        engine.dispose()


class _Preparer:
    """In the stager: parses each statement staged as the applier would (same parser, same date), with its digest,
    and sends each committed batch's to the applier as (number of the first, entries). A
    statement the parser refuses is sent as None: the applier parses it again, and refuses it in file order."""

    def __init__(self, file_name: str, today: date, sender):
        self.parser = _Parser(file_name, today=today, validate=False)
        self.sender = sender
        self.first: int | None = None
        self.entries: list[tuple | None] = []

    def add(self, number: int, raw: dict) -> None:
        if self.first is None:
            self.first = number
        parser = self.parser
        try:
            statement = parser.parse(raw, number)
        except BodsFileError:
            self.entries.append(None)
            return
        parser.raw.clear()
        warnings = parser.warnings[:]
        parser.warnings.clear()
        # A party's columns (match keys) are left to the applier: the stager, which also checks the schema, is
        # the busier of the two.
        self.entries.append((statement, statement_digest(statement), None, warnings))

    def add_parsed(self, number: int, statement: Statement) -> None:
        """A statement the fast path has parsed (it parses only what the parser parses without warnings): sent as
        its digest alone, in a 1-tuple. The applier parses it again by the fast path, which costs it less than
        unpickling the parsed statement did (CPU a statement, 100k: the applier's 56 → 47 us, the stager's 38 → 25).
        (The party's match keys worked out here too made the import slower, 100k, one run each.)"""
        if self.first is None:
            self.first = number
        self.entries.append((statement_digest(statement),))

    def send(self) -> None:
        if self.first is not None:
            self.sender.send(("prepared", (self.first, self.entries)))
        self.first, self.entries = None, []


def _end_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent ends, however it ends (a stager left behind would stage
    beside the import run again)."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the call
        os._exit(1)


# --- stage 2: applying ---


def _apply(
    session: Session,
    actor,
    run: BodsImportRun,
    file_name: str,
    progress,
    today: date | None = None,
    stager: "_Stager | None" = None,
) -> ImportSummary:
    total = None if stager is not None else run.statements_staged
    summary = ImportSummary(file_name, statements=total or 0)
    meter = _Meter("applying", total, progress)
    parser = _Parser(file_name, today=today, validate=False)
    shares = _ShareTotals(session)
    applier = BulkApplier(session, actor, summary, _StagedIds(session, run.id, stager))
    postgres = session.get_bind().dialect.name == "postgresql"

    def staged_after(after: int) -> list:
        return list(
            session.execute(
                select(col(BodsStagedStatement.number), col(BodsStagedStatement.content))
                .where(col(BodsStagedStatement.run_id) == run.id, col(BodsStagedStatement.number) > after)
                .order_by(col(BodsStagedStatement.number))
                .limit(BATCH)
            ).all()
        )

    # Each batch's new rows are written (COPY) in the background while the next batch is parsed: its rows are read
    # before that write starts, and applying it waits for the write (BulkApplier.settle) before its look-ups.
    try:
        after = 0
        rows = staged_after(after)
        while True:
            if not rows and stager is not None and not stager.finished:
                stager.wait()  # for its next batch (committed: this transaction sees it), its end, or its refusal
                applier.settle()
                rows = staged_after(after)
                continue
            if stager is not None and stager.finished and meter.total is None:
                meter.total = summary.statements = stager.staged
            if not rows:
                break
            batch = _parsed(rows, parser, stager, shares)
            applier.apply(batch, write=False)
            after = rows[-1][0]
            if postgres:
                if events := shares.taken():
                    applier.also_copied.append((shares.TABLE, list(shares.COLUMNS), events))
            else:
                applier.write()
                shares.write()
            rows = staged_after(after)
            applier.write(background=True)
            meter.add(len(batch))
        applier.settle()
    except BaseException:
        with contextlib.suppress(Exception):  # the first failure is the one raised
            applier.settle()  # before the caller rolls back: the connection is used by one thread at a time
        raise
    summary.warnings.extend(parser.warnings)
    summary.warnings.extend(shares.warnings())
    session.execute(delete(BodsStagedStatement).where(col(BodsStagedStatement.run_id) == run.id))
    session.execute(delete(BodsImportRun).where(col(BodsImportRun.id) == run.id))
    record_import(session, actor, summary)
    meter.report()
    return summary


def _parsed(rows: list, parser: _Parser, stager: "_Stager | None", shares: "_ShareTotals") -> list[Staged]:
    """The staged rows (number, JSON text) as statements: by the fast path (with the stager's digest when it sent
    one), else as the stager parsed them, else parsed here; each relationship's share events noted."""
    prepared = stager.prepared_statements(rows[0][0], rows[-1][0]) if stager is not None else {}
    batch = []
    for number, content in rows:
        entry = prepared.get(number)
        if entry is not None and len(entry) == 1:  # the digest of a statement the stager read by the fast path
            statement = fast_statement(content, parser.today)
            assert statement is not None  # the same function, text and day
            item = Staged(number, statement, content, digest=entry[0])
        elif entry is None:
            statement = fast_statement(content, parser.today)
            if statement is not None:
                item = Staged(number, statement, content)
            else:
                raw = decoded_json(content)
                item = Staged(number, parser.parse(raw, number), content, raw)
        else:
            statement, digest, columns, warnings = entry
            parser.warnings.extend(warnings)
            item = Staged(number, statement, content, digest=digest, columns=columns)
        if item.columns is None and isinstance(item.statement, PartyStatement):
            # A new party's match keys, worked out here, while the previous batch is written (most party
            # statements add a party; the others' keys are not used).
            item.columns = party_columns(item.statement)
        shares.add(number, item.statement)
        batch.append(item)
    parser.raw.clear()
    return batch


class _StagedIds:
    """`reference in this` says whether a statement or record of the file has that id (for indirect
    relationships' components): looked up in the staged statements (all of them: a reference not staged yet is
    looked up again once the stager has finished)."""

    def __init__(self, session: Session, run_id: int, stager: "_Stager | None" = None):
        self.session, self.run_id, self.stager = session, run_id, stager

    def __contains__(self, reference: object) -> bool:
        if self._staged(reference):
            return True
        if self.stager is None or self.stager.finished:
            return False
        self.stager.wait_until_finished()
        return self._staged(reference)

    def _staged(self, reference: object) -> bool:
        staged = BodsStagedStatement
        return (
            self.session.execute(
                select(col(staged.number))
                .where(
                    col(staged.run_id) == self.run_id,
                    (col(staged.statement_id) == reference) | (col(staged.record_id) == reference),
                )
                .limit(1)
            ).first()
            is not None
        )


class _ShareTotals:
    """bods.share_warnings over the whole file, kept in a temporary table rather than in memory (which grew with
    the file's relationship records): per relationship statement, the records it replaces, set aside, then what
    its own record holds of the counted shares (subject, kind, low end), or that it holds none. The latest
    version of each record is found, and the totals added up, by one query at the end."""

    TABLE = "bods_share_event"
    COLUMNS = ("at", "record_key", "subject", "kind", "low", "ordinal")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.rows: list[tuple] = []
        session.execute(text("DROP TABLE IF EXISTS bods_share_event"))
        session.execute(
            text(
                "CREATE TEMPORARY TABLE bods_share_event (at BIGINT NOT NULL, record_key VARCHAR NOT NULL, "
                "subject VARCHAR, kind VARCHAR, low FLOAT, ordinal INTEGER NOT NULL)"
            )
        )

    def add(self, number: int, statement: Statement) -> None:
        if not isinstance(statement, RelationshipStatement):
            return
        key = statement.record_id or statement.statement_id
        # `at` orders the events: a statement's replaced records (2n) are set aside before its own is set (2n + 1).
        self.rows.extend((2 * number, replaced, None, None, None, 0) for replaced in statement.replaces)
        counted = [
            (interest.interest_type, low)
            for interest in statement.interests
            if interest.interest_type in COUNTED_SHARES
            and (low := interest.exact if interest.exact is not None else interest.minimum) is not None
            and interest.end is None
            and interest.direct_or_indirect != "indirect"
        ]
        if statement.status == "closed" or statement.subject is None or not counted:
            self.rows.append((2 * number + 1, key, None, None, None, 0))
        else:
            self.rows.extend(
                (2 * number + 1, key, statement.subject, kind, low, ordinal)
                for ordinal, (kind, low) in enumerate(counted)
            )

    def taken(self) -> list[tuple]:
        """The events noted since, for the caller to write (PostgreSQL: the applier's COPY, with its rows)."""
        rows, self.rows = self.rows, []
        return rows

    def write(self) -> None:
        if not self.rows:
            return
        if self.postgres:
            copy_rows(self.session, "bods_share_event", list(self.COLUMNS), self.rows)
        else:
            self.session.execute(
                text(
                    "INSERT INTO bods_share_event (at, record_key, subject, kind, low, ordinal) "
                    "VALUES (:at, :record_key, :subject, :kind, :low, :ordinal)"
                ),
                [dict(zip(self.COLUMNS, row, strict=True)) for row in self.rows],
            )
        self.rows = []

    def warnings(self) -> list[str]:
        """The subjects' totals past 100%, in the order the in-memory totals listed them (by where each record
        took its place among the latest versions, then the interest's place in its statement)."""
        self.write()
        rows = self.session.execute(text(SHARE_TOTALS)).all()
        self.session.execute(text("DROP TABLE bods_share_event"))
        return [
            f"the {kind} shares held in “{subject}” add up to {total:g}% (more than 100%)."
            for subject, kind, total in rows
        ]


# A record's latest version is its last event; it counts when that event sets shares. It took its place among the
# latest versions at the first event setting shares after it was last set aside.
SHARE_TOTALS = """
WITH last AS (SELECT record_key, MAX(at) AS at FROM bods_share_event GROUP BY record_key),
set_aside AS (SELECT record_key, MAX(at) AS at FROM bods_share_event WHERE kind IS NULL GROUP BY record_key),
placed AS (
    SELECT e.record_key, MIN(e.at) AS at FROM bods_share_event e LEFT JOIN set_aside s ON s.record_key = e.record_key
    WHERE e.kind IS NOT NULL AND e.at > COALESCE(s.at, -1) GROUP BY e.record_key
)
SELECT e.subject, e.kind, SUM(e.low) AS total FROM bods_share_event e
JOIN last ON last.record_key = e.record_key AND last.at = e.at
JOIN placed ON placed.record_key = e.record_key
WHERE e.kind IS NOT NULL
GROUP BY e.subject, e.kind
HAVING SUM(e.low) > 100 + 1e-9
ORDER BY MIN(placed.at * 100000 + e.ordinal)
"""
