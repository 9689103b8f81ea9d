"""Applying parsed BODS statements batch by batch: one query per batch for each thing looked up, rows written in
bulk (PostgreSQL COPY, SQLite executemany), ids allocated ahead.

It gives the same result as marketplace.parties.bods._Importer, statement by statement in file order, which it
calls for what is rare and intricate: a party found by an identifier of another record, a merged party, a closed
record, an unspecified or "no beneficial owners" interested party, an indirect relationship with components, and
every 0.2/0.3 statement. Before such a statement the rows waiting are written; after it, the rest of the batch is
looked up again, so each path sees what the other wrote.
"""

import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, NoReturn

import orjson
from sqlalchemy import Integer, any_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.db_types import utcnow
from marketplace.parties.bods import (
    PARTY_RECORD_TYPES,
    BodsFileError,
    ImportSummary,
    InterestData,
    PartyStatement,
    RelationshipStatement,
    Statement,
    _comparable,
    _Importer,
    _nationalities_text,
    _status,
    statement_digest,
)
from marketplace.parties.matching import match_columns
from marketplace.parties.models import (
    BodsStatement,
    Interest,
    NoOwnersDeclaration,
    Party,
    PartyIdentifier,
    PartyKind,
    TieOrigin,
)
from marketplace.parties.service import normalize_identifier, normalize_name

PARTY = Party.__table__  # type: ignore[attr-defined]
IDENTIFIER = PartyIdentifier.__table__  # type: ignore[attr-defined]
INTEREST = Interest.__table__  # type: ignore[attr-defined]
LOG = BodsStatement.__table__  # type: ignore[attr-defined]
# The party columns a later statement of the party's own record may change (_Importer._update_party).
UPDATED_COLUMNS = (
    "name",
    "name_normalized",
    "kind",
    "party_type",
    "jurisdiction",
    "birth_date",
    "nationalities",
    "entity_subtype",
    "unspecified_reason",
    "description",
)


class Staged:
    """A statement read from the staging table: its number in the file, parsed, and its JSON text; as read (`raw`)
    and its digest are worked out when first asked for. The stager process may have parsed it already, and
    worked out its digest and, for a party, its `columns` (party_columns)."""

    __slots__ = ("number", "statement", "text", "_raw", "_digest", "columns")

    def __init__(
        self,
        number: int,
        statement: Statement,
        text: str,
        raw: dict | None = None,
        digest: str | None = None,
        columns: dict | None = None,
    ):
        self.number, self.statement, self.text = number, statement, text
        self._raw, self._digest, self.columns = raw, digest, columns

    @property
    def raw(self) -> dict:
        if self._raw is None:
            self._raw = decoded_json(self.text)
        return self._raw

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = statement_digest(self.statement)
        return self._digest

    @property
    def is_04(self) -> bool:
        """A BODS 0.4 statement (recordType; 0.2/0.3 statements have no recordId): its text is logged as read."""
        return self.statement.record_id is not None


def decoded_json(text: str):
    """json.loads(text), twice as fast: orjson reads what json reads alike; what it refuses (NaN, integers past 64
    bits, bad JSON) is read by json, which accepts it or raises its usual message."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def party_columns(statement: PartyStatement) -> dict:
    """The columns of a new party worked out from its name and nationalities (the costly part of writing one)."""
    return {
        "name_normalized": normalize_name(statement.name),
        "nationalities": _nationalities_text(statement.nationalities),
        **match_columns(statement.name),
    }


@dataclass
class _Lookups:
    """What the database holds about one batch's statements, read with one query each."""

    logged: dict[str, Any] = field(default_factory=dict)  # statement id -> BodsStatement row
    party_of_record: dict[str, int] = field(default_factory=dict)  # record key -> party id (latest statement)
    party_by_bods_record: dict[str, int] = field(default_factory=dict)  # Party.bods_record_id -> party id
    parties: dict[int, dict] = field(default_factory=dict)  # party id -> its columns (UPDATED_COLUMNS and more)
    identifier_holders: set[str] = field(default_factory=set)  # normalised identifiers some party holds
    held: dict[int, set[tuple[str, str]]] = field(default_factory=dict)  # party id -> (value, scheme) normalised
    previous: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # relationship record -> ids
    interests: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # statement id -> rows
    declarations: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # statement id -> ids


class BulkApplier:
    """Applies one file's statements, batch after batch, in the caller's transaction; counts into `summary`."""

    def __init__(self, session: Session, actor, summary: ImportSummary, in_file):
        self.session = session
        self.actor = actor
        self.summary = summary
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.now = utcnow()
        self.today = self.now.date()
        # Statements logged before this run started are compared as "imported before"; later ones as this file's.
        self.first_run_log_id = (session.execute(select(func.max(col(BodsStatement.id)))).scalar() or 0) + 1
        self.slow = _Importer(session, actor, [], summary, {})
        self.slow.in_file = in_file  # components named anywhere in the file count as given
        self._next_party_id = 0
        self._spare_party_ids: list[int] = []  # allocated, not yet used
        self._writer: threading.Thread | None = None  # the batch's COPY, when written in the background
        self._writer_failure: BaseException | None = None
        self._column_types: dict[str, dict[str, int]] = {}  # table -> column -> type oid, for COPY
        self._reset_pending()

    def fail(self, statement: Statement, problem: str) -> NoReturn:
        raise BodsFileError(self.summary.file_name, f"statement {statement.statement_id}: {problem}")

    # --- the batch ---

    def apply(self, batch: list[Staged], *, write: bool = True) -> None:
        """Apply the batch; its last rows are left waiting when `write` is false (for write(background=True))."""
        start = 0
        while start < len(batch):
            start = self._apply_from(batch, start)
        if write:
            self.write()

    def _apply_from(self, batch: list[Staged], start: int) -> int:
        """Apply batch[start:] until a statement needs the statement-by-statement path; the index to go on from."""
        self.settle()  # the look-ups must see every row written before
        rest = batch[start:]
        found = self._look_up([item.statement for item in rest])
        self._reset_batch_state()
        for offset, item in enumerate(rest):
            statement = item.statement
            verdict = self._already_logged(item, found)
            if verdict == "skip":
                self.summary.skipped += 1
                self._note_logged(statement.statement_id, item)
                continue
            if self._needs_slow_path(statement, found):
                self.write()
                self.slow.raw = {statement.statement_id: item.raw} if item.is_04 else {}
                if isinstance(statement, PartyStatement):
                    self.slow._apply_party(statement)
                else:
                    self.slow._apply_relationship(statement)
                self.session.flush()
                self.session.expire_all()
                self._next_party_id = 0  # SQLite: ids are read again after rows the ORM added
                return start + offset + 1
            if isinstance(statement, PartyStatement):
                self._apply_party(item, found)
            else:
                self._apply_relationship(item, found)
            self._note_logged(statement.statement_id, item)
        return len(batch)

    def _reset_batch_state(self) -> None:
        self.batch_logged: dict[str, Staged] = {}  # statement id -> the first statement with it in this batch
        self.batch_party_of_record: dict[str, int] = {}
        self.batch_identifiers: set[str] = set()
        self.batch_previous: dict[str, list[str]] = defaultdict(list)
        self.batch_interests: dict[str, list[dict]] = defaultdict(list)  # statement id -> rows (waiting or read)
        self.batch_parties: dict[int, dict] = {}  # party id -> columns, as changed in this batch

    def _note_logged(self, statement_id: str, item: Staged) -> None:
        self.batch_logged.setdefault(statement_id, item)

    def _already_logged(self, item: Staged, found: _Lookups) -> str | None:
        """ "skip" for a statement imported before (or earlier in this file) with the same content; refused when the
        content differs; None for a statement not seen yet."""
        statement = item.statement
        statement_id = statement.statement_id
        if statement_id in self.batch_logged:
            first = self.batch_logged[statement_id]
            if first.raw == item.raw:
                return "skip"
            return self._refuse_repeat(item, first.number)
        row = found.logged.get(statement_id)
        if row is None:
            return None
        if row.id >= self.first_run_log_id:
            content = json.loads(row.content) if row.content is not None else None
            if content is None:  # a 0.2/0.3 statement: compared by what it says
                same = row.content_hash in ("", item.digest)
                return "skip" if same else self._refuse_repeat(item, None)
            if content == item.raw:
                return "skip"
            return self._refuse_repeat(item, None)
        if row.content_hash == "":
            return "skip"  # known only as replaced by another statement
        same = row.content_hash == item.digest and (
            not item.is_04 or row.content is None or _comparable(item.raw) == _comparable(json.loads(row.content))
        )
        if not same:
            raise BodsFileError(
                self.summary.file_name,
                f"statement {item.number} ({statement_id}) has the statementId of a statement imported on "
                f"{row.imported_at:%Y-%m-%d} (record {row.record_id}) but other content; a statementId "
                "names one statement, so a change must be a new statement.",
            )
        return "skip"

    def _refuse_repeat(self, item: Staged, first: int | None) -> NoReturn:
        raise BodsFileError(
            self.summary.file_name,
            f"statement {item.number} ({item.statement.statement_id}) has the statementId of "
            f"{'an earlier statement' if first is None else f'statement {first}'} but other content; "
            "a statementId names one statement.",
        )

    def _needs_slow_path(self, statement: Statement, found: _Lookups) -> bool:
        if statement.record_id is None or statement.status == "closed" or statement.replaces:
            return True  # 0.2/0.3 chains, closed records
        if isinstance(statement, PartyStatement):
            party_id = self._party_of_record(statement.record_id, found)
            if party_id is None:
                return statement.kind != PartyKind.UNSPECIFIED and any(
                    (value := normalize_identifier(v))
                    and (value in found.identifier_holders)
                    or value in self.batch_identifiers
                    for _, v in statement.identifiers
                )
            party = self._party(party_id, found)
            # A party found by another record's identifier keeps its own record: _Importer decides whether it
            # takes this one.
            return party["merged_into_id"] is not None or party["bods_record_id"] is None
        if statement.subject is None:
            return False
        if statement.unspecified is not None or statement.components:
            return True
        for reference in (statement.subject, statement.interested):
            party_id = self._resolve(reference, found) if reference else None
            if party_id is not None and self._party(party_id, found)["merged_into_id"] is not None:
                return True
        return False

    # --- looking up a batch ---

    def _look_up(self, statements: list[Statement]) -> _Lookups:
        found = _Lookups()
        ids = {s.statement_id for s in statements}
        references: set[str] = set()
        record_keys: set[str] = set()
        relationship_keys: set[str] = set()
        identifiers: set[str] = set()
        for statement in statements:
            if isinstance(statement, RelationshipStatement):
                references.update(r for r in (statement.subject, statement.interested) if r)
                if statement.record_id:
                    relationship_keys.add(statement.record_id)
            else:
                if statement.record_id:
                    record_keys.add(statement.record_id)
                identifiers.update(v for _, value in statement.identifiers if (v := normalize_identifier(value)))
        log = LOG.c
        for row in self._rows(select(LOG).where(self._among(log.statement_id)), ids | references):
            found.logged[row.statement_id] = row
        party_keys = record_keys | references
        rows = self._rows(
            select(log.record_id, log.party_id)
            .where(
                self._among(log.record_id),
                log.record_type.in_(PARTY_RECORD_TYPES),
                log.party_id.is_not(None),
            )
            .order_by(log.id),
            party_keys,
        )
        for row in rows:  # the latest statement of each record wins
            found.party_of_record[row.record_id] = row.party_id
        rows = self._rows(
            select(PARTY.c.bods_record_id, PARTY.c.id).where(self._among(PARTY.c.bods_record_id)),
            party_keys,
        )
        found.party_by_bods_record = {row.bods_record_id: row.id for row in rows}
        party_ids = set(found.party_of_record.values()) | set(found.party_by_bods_record.values())
        party_ids |= {
            row.party_id
            for ref in references
            if (row := found.logged.get(ref)) is not None and row.party_id is not None
        }
        self._read_parties(party_ids, found)
        for row in self._rows(
            select(IDENTIFIER.c.value_normalized).where(
                self._among(IDENTIFIER.c.value_normalized), IDENTIFIER.c.scheme != "alias"
            ),
            identifiers,
        ):
            found.identifier_holders.add(row.value_normalized)
        for row in self._rows(
            select(log.record_id, log.statement_id).where(
                self._among(log.record_id), log.record_type == "relationship"
            ),
            relationship_keys,
        ):
            found.previous[row.record_id].append(row.statement_id)
        earlier = {statement_id for ids_ in found.previous.values() for statement_id in ids_}
        interest = INTEREST.c
        for row in self._rows(
            select(
                interest.id,
                interest.bods_statement_id,
                interest.interest_type,
                interest.start_date,
                interest.end_date,
                interest.note,
            ).where(self._among(interest.bods_statement_id)),
            earlier,
        ):
            found.interests[row.bods_statement_id].append(dict(row._mapping))
        declaration = NoOwnersDeclaration.__table__.c  # type: ignore[attr-defined]
        for row in self._rows(
            select(declaration.id, declaration.bods_statement_id).where(
                self._among(declaration.bods_statement_id), declaration.end_date.is_(None)
            ),
            earlier,
        ):
            found.declarations[row.bods_statement_id].append(row.id)
        return found

    def _read_parties(self, party_ids: set[int], found: _Lookups) -> None:
        columns = [PARTY.c.id, PARTY.c.merged_into_id, PARTY.c.bods_record_id, *(PARTY.c[c] for c in UPDATED_COLUMNS)]
        for row in self._rows(select(*columns).where(self._among(PARTY.c.id)), party_ids):
            found.parties[row.id] = dict(row._mapping)
        for row in self._rows(
            select(IDENTIFIER.c.party_id, IDENTIFIER.c.value_normalized, IDENTIFIER.c.scheme).where(
                self._among(IDENTIFIER.c.party_id)
            ),
            party_ids,
        ):
            found.held.setdefault(row.party_id, set()).add((row.value_normalized, normalize_identifier(row.scheme)))

    def _among(self, column):
        """`column IN (the keys)`: on PostgreSQL one array parameter (thousands of placeholders make the driver
        slow to send the query), sent as the text of an array (_array_text), elsewhere a parameter per key."""
        if self.postgres:
            spec = "INTEGER[]" if isinstance(column.type, Integer) else "VARCHAR[]"
            return column == any_(bindparam("keys", type_=_ArrayText(spec)))
        return column.in_(bindparam("keys", expanding=True))

    def _rows(self, query, keys: Iterable) -> list:
        keys = list(keys)
        rows: list = []
        for start in range(0, len(keys), 5000):  # SQLite allows 32,766 parameters a statement
            chunk = keys[start : start + 5000]
            rows.extend(self.session.execute(query, {"keys": _array_text(chunk) if self.postgres else chunk}).all())
        return rows

    # --- resolving ---

    def _party_of_record(self, record_key: str, found: _Lookups) -> int | None:
        if record_key in self.batch_party_of_record:
            return self.batch_party_of_record[record_key]
        party_id = found.party_of_record.get(record_key)
        return party_id if party_id is not None else found.party_by_bods_record.get(record_key)

    def _resolve(self, reference: str, found: _Lookups) -> int | None:
        """As _Importer._resolve: by 0.2/0.3 statement id, else by record id."""
        row = found.logged.get(reference)
        if row is not None and row.party_id is not None and row.record_type in PARTY_RECORD_TYPES:
            return row.party_id
        return self._party_of_record(reference, found)

    def _party(self, party_id: int, found: _Lookups) -> dict:
        if party_id in self.batch_parties:
            return self.batch_parties[party_id]
        return found.parties[party_id]

    # --- parties ---

    def _apply_party(self, item: Staged, found: _Lookups) -> None:
        statement = item.statement
        assert isinstance(statement, PartyStatement)
        record_key = statement.record_id or statement.statement_id
        party_id = self._party_of_record(record_key, found)
        if party_id is None:
            party_id = self._new_party(item, record_key)
            added, changed = True, False
        else:
            added, changed = False, self._update_party(party_id, statement, found)
        for scheme, value in statement.identifiers:
            changed = self._add_identifier(party_id, scheme, value, found) or changed
        if changed and not added:
            self.summary.parties_updated += 1
        self.batch_party_of_record[record_key] = party_id
        self._log(item, record_key, party_id)

    def _new_party(self, item: Staged, record_key: str) -> int:
        statement = item.statement
        assert isinstance(statement, PartyStatement)
        party_id = self._allocate_party_id()
        row = {
            "id": party_id,
            "kind": statement.kind.value,
            "party_type": statement.party_type,
            "name": statement.name,
            "jurisdiction": statement.jurisdiction,
            "description": statement.unspecified_description,
            "unspecified_reason": statement.unspecified_reason,
            "bods_record_id": record_key,
            "birth_date": statement.birth_date,
            "entity_subtype": statement.entity_subtype,
            "merged_into_id": None,
            "created_at": self.now,
            **(item.columns or party_columns(statement)),
        }
        self.waiting_parties[party_id] = len(self.party_rows)
        self.party_rows.append(row)
        self.batch_parties[party_id] = row
        self.summary.parties_added += 1
        return party_id

    def _update_party(self, party_id: int, statement: PartyStatement, found: _Lookups) -> bool:
        """A later statement of the party's own record (_Importer._update_party with same_record)."""
        party = self._party(party_id, found)
        wanted = {
            "jurisdiction": statement.jurisdiction or party["jurisdiction"],
            "birth_date": statement.birth_date,
            "entity_subtype": statement.entity_subtype,
            "nationalities": _nationalities_text(statement.nationalities),
            "name": statement.name,
            "name_normalized": normalize_name(statement.name),
            "kind": statement.kind.value,
            "party_type": statement.party_type,
            "unspecified_reason": statement.unspecified_reason,
            "description": statement.unspecified_description or party["description"],
        }
        changes = {key: value for key, value in wanted.items() if party[key] != value}
        if not changes:
            return False
        party = {**party, **changes}
        if "name" in changes or "match_key" not in party:  # the update writes the match columns too
            party.update(match_columns(party["name"]))
        self.batch_parties[party_id] = party
        if party_id in self.waiting_parties:  # added in this batch: written once, as it is now
            self.party_rows[self.waiting_parties[party_id]] = party
        else:
            self.party_updates[party_id] = party
        return True

    def _add_identifier(self, party_id: int, scheme: str, value: str, found: _Lookups) -> bool:
        normalized = normalize_identifier(value)
        if not normalized:
            return False
        held = found.held.setdefault(party_id, set())
        key = (normalized, normalize_identifier(scheme))
        if key in held:
            return False
        held.add(key)
        self.batch_identifiers.add(normalized)
        self.identifier_rows.append(
            {
                "party_id": party_id,
                "scheme": scheme.strip()[:100],
                "value": value.strip()[:200],
                "value_normalized": normalized[:200],
            }
        )
        return True

    def _allocate_party_id(self) -> int:
        if not self._spare_party_ids:
            if self.postgres:
                self._spare_party_ids = list(
                    self.session.execute(
                        select(func.nextval("party_id_seq")).select_from(func.generate_series(1, 5000))
                    ).scalars()
                )
                self._spare_party_ids.reverse()
            else:
                if not self._next_party_id:
                    self._next_party_id = (self.session.execute(select(func.max(PARTY.c.id))).scalar() or 0) + 1
                self._spare_party_ids = [self._next_party_id]
                self._next_party_id += 1
        return self._spare_party_ids.pop()

    # --- relationships ---

    def _apply_relationship(self, item: Staged, found: _Lookups) -> None:
        statement = item.statement
        assert isinstance(statement, RelationshipStatement)
        record_key = statement.record_id or statement.statement_id
        if statement.subject is None:
            self.summary.skipped += 1
            self._log(item, record_key, None)
            return
        previous = list(dict.fromkeys([*found.previous[record_key], *self.batch_previous[record_key]]))
        subject = self._resolve(statement.subject, found)
        if subject is None:
            self.fail(statement, f"its subject “{statement.subject}” is neither in this file nor imported before.")
        holder = self._resolve(statement.interested or "", found)
        if holder is None:
            self.fail(
                statement, f"its interested party “{statement.interested}” is neither in this file nor imported before."
            )
        interests = statement.interests or [InterestData("unknownInterest")]
        date_of = statement.on or self.today
        cutoffs = {i.interest_type: i.start for i in interests if i.start}
        self._supersede(previous, cutoffs, date_of, statement.statement_id, found)
        for statement_id in previous:
            for declaration_id in found.declarations.pop(statement_id, []):
                self.declaration_ends.append({"row_id": declaration_id, "end_date": date_of})
        for interest in interests:
            self._add_interest(statement, interest, holder, subject, record_key)
        self.batch_previous[record_key].append(statement.statement_id)
        self._log(item, record_key, subject)

    def _supersede(self, statement_ids: list[str], cutoffs: dict[str, date], default: date, by: str, found) -> None:
        for statement_id in statement_ids:
            rows = self.batch_interests.get(statement_id)
            if rows is None:
                rows = self.batch_interests[statement_id] = found.interests.get(statement_id, [])
            for row in rows:
                on = cutoffs.get(row["interest_type"]) or default
                if row["end_date"] is not None and row["end_date"] <= on:
                    continue
                row["end_date"] = max(on, row["start_date"]) if row["start_date"] else on
                row["note"] = f"{row['note']} Superseded by BODS statement {by}.".strip()[:2000]
                self.summary.interests_ended += 1
                if "id" in row:  # written before: an update; a row still waiting is written as it is now
                    self.interest_ends[row["id"]] = row

    def _add_interest(
        self, statement: RelationshipStatement, data: InterestData, holder: int, subject: int, record_key: str
    ) -> None:
        note = data.note
        if data.direct_or_indirect == "indirect":
            note = f"{note} Held indirectly; the intermediaries are not in the data.".strip()
        source = statement.source
        row = {
            "origin": TieOrigin.BODS_IMPORT.value,
            "disclosure_id": None,
            "verification_level": source.level.value,
            "source_description": source.description,
            "source_url": source.url,
            "source_date": source.on,
            "recorded_by_id": getattr(self.actor, "id", None),
            "recorded_at": self.now,
            "interested_party_id": holder,
            "subject_party_id": subject,
            "interest_type": data.interest_type,
            "share_exact": data.exact,
            "share_min": data.minimum,
            "share_max": data.maximum,
            "share_min_exclusive": data.minimum_exclusive,
            "share_max_exclusive": data.maximum_exclusive,
            "start_date": data.start,
            "end_date": data.end,
            "role_title": data.details,
            "note": note,
            "bods_statement_id": statement.statement_id[:200],
            "bods_record_id": record_key[:200],
            "direct_or_indirect": data.direct_or_indirect,
            "beneficial_ownership_or_control": data.beneficial,
            "source_types": ",".join(source.types)[:200],
            "bods_end_date": data.given_end,
            "bods_implied": not statement.interests,
        }
        self.interest_rows.append(row)
        self.batch_interests[statement.statement_id].append(row)
        self.summary.interests_added += 1

    # --- the log ---

    def _log(self, item: Staged, record_key: str, party_id: int | None) -> None:
        statement = item.statement
        self.log_rows.append(
            {
                "statement_id": statement.statement_id,
                "record_id": record_key,
                "record_type": statement.record_type,
                "party_id": party_id,
                "statement_date": statement.on,
                "imported_at": self.now,
                "content_hash": item.digest,
                "record_status": _status(statement),
                "content": item.text if item.is_04 else None,
            }
        )

    # --- writing ---

    def _reset_pending(self) -> None:
        self.party_rows: list[dict] = []
        self.waiting_parties: dict[int, int] = {}  # party id -> its index in party_rows
        self.party_updates: dict[int, dict] = {}
        self.identifier_rows: list[dict] = []
        self.interest_rows: list[dict] = []
        self.interest_ends: dict[int, dict] = {}
        self.declaration_ends: list[dict] = []
        self.log_rows: list[dict] = []
        # PostgreSQL: other tables' rows, as (table, columns, row tuples), copied after these (_ShareTotals')
        self.also_copied: list[tuple[str, list[str], list]] = []

    def write(self, *, background: bool = False) -> None:
        """Write every row waiting, in an order the foreign keys accept. With `background` (PostgreSQL), the new rows'
        `COPY` runs in a thread while the caller goes on with work that does not touch the session (parsing the next
        batch): PostgreSQL inserts them, keeps the indexes and checks the foreign keys on the other core meanwhile.
        settle() waits for it and raises what it raised; anything using the session must call it first."""
        self.settle()
        # The updates touch rows written by earlier batches only (a row added in this batch is written as it is
        # now), so they go first, before the new rows.
        if self.party_updates:
            self.session.execute(
                update(PARTY)
                .where(PARTY.c.id == bindparam("row_id"))
                .values(
                    {
                        name: bindparam(name)
                        for name in (*UPDATED_COLUMNS, "match_key", "match_head", "match_tail", "match_telling")
                    }
                ),
                [{**row, "row_id": party_id} for party_id, row in self.party_updates.items()],
            )
        if self.interest_ends:
            self.session.execute(
                update(INTEREST)
                .where(INTEREST.c.id == bindparam("row_id"))
                .values(end_date=bindparam("end_date"), note=bindparam("note")),
                [
                    {"row_id": i, "end_date": row["end_date"], "note": row["note"]}
                    for i, row in self.interest_ends.items()
                ],
            )
        if self.declaration_ends:
            table = NoOwnersDeclaration.__table__  # type: ignore[attr-defined]
            self.session.execute(
                update(table).where(table.c.id == bindparam("row_id")).values(end_date=bindparam("end_date")),
                self.declaration_ends,
            )
        inserts = [
            (table, rows)
            for table, rows in (
                (PARTY, self.party_rows),
                (IDENTIFIER, self.identifier_rows),
                (INTEREST, self.interest_rows),
                (LOG, self.log_rows),
            )
            if rows
        ]
        also_copied = self.also_copied
        self._reset_pending()
        if not self.postgres:
            for table, rows in inserts:
                self.session.execute(insert(table), rows)
            return
        copies = [(table.name, list(rows[0]), rows) for table, rows in inserts] + also_copied
        if not copies:
            return
        connection = self.session.connection()
        transaction_cache.note_change(connection)  # COPY passes no statement event
        driver = connection.connection.driver_connection
        for name, _, _ in copies:
            if name not in self._column_types:
                self._column_types[name] = column_types(driver, name)
        if not background:
            self._copy(driver, copies)
            return
        self._writer = threading.Thread(target=self._copy_apart, args=(driver, copies), name="bods-copy", daemon=True)
        self._writer.start()

    def _copy(self, driver, copies: list[tuple[str, list[str], list]]) -> None:
        for name, columns, rows in copies:
            types = self._column_types[name]
            rows_out = rows if isinstance(rows[0], tuple) else map(itemgetter(*columns), rows)
            copy_rows_on(driver, name, columns, [types[c] for c in columns], rows_out)

    def _copy_apart(self, driver, copies: list[tuple[str, list[str], list]]) -> None:
        """_copy in the writer thread: what it raises is kept for settle() to raise in the applier's."""
        try:
            self._copy(driver, copies)
        except BaseException as failure:  # noqa: BLE001
            self._writer_failure = failure

    def settle(self) -> None:
        """Wait for the rows being written in the background, raising what writing them raised."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        writer.join()
        failure, self._writer_failure = self._writer_failure, None
        if failure is not None:
            raise failure


class _ArrayText(UserDefinedType):
    """A parameter given as _array_text's string and written `$1::VARCHAR[]` (or INTEGER[]): PostgreSQL reads the
    string as the array itself, so the planner sees an array parameter, as it did for a list. (Not
    `CAST(text parameter AS VARCHAR[])`: with it, the 100k benchmark's look-ups inside the import's transaction
    took seconds each, a plan not using the index; not reproduced in a test, see bench/RESULTS.md.)"""

    cache_ok = True
    render_bind_cast = True

    def __init__(self, spec: str):
        self.spec = spec

    def get_col_spec(self, **kw) -> str:
        return self.spec

    def bind_processor(self, dialect):
        return None


def _array_text(keys: Sequence) -> str:
    """PostgreSQL's text form of an array of these keys (strings or integers), each element quoted: the driver
    dumps a Python list item by item (~1.3 us a key), this ~0.2 us; the server reads either alike."""
    elements = (
        "NULL" if key is None else '"' + str(key).replace("\\", "\\\\").replace('"', '\\"') + '"' for key in keys
    )
    return "{" + ",".join(elements) + "}"


def copy_rows(session: Session, table: str, columns: list[str], rows: Iterable[Sequence]) -> None:
    """PostgreSQL: `COPY table (columns)` of the rows, in the binary format (a sixth of the text format's cost to
    encode in Python), each column sent as the type the table gives it."""
    connection = session.connection().connection.driver_connection
    types = column_types(connection, table)
    copy_rows_on(connection, table, columns, [types[column] for column in columns], rows)


def column_types(connection, table: str) -> dict[str, int]:
    """The type (oid) of each of the table's columns, read from the catalogue."""
    return dict(
        connection.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0", [table]
        ).fetchall()
    )


def copy_rows_on(connection, table: str, columns: list[str], types: list[int], rows: Iterable[Sequence]) -> None:
    """copy_rows on a psycopg connection, the columns' types given."""
    with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
