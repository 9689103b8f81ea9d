"""Importing BODS 0.2, 0.3 and 0.4 statements into the ownership graph.

A file is read whole (a JSON array of statements, a {"statements": [...]} wrapper, or JSON Lines) and every
statement validated against the official schema of the BODS version it declares (bods_validation.py) and parsed
into a version-neutral form before anything is written, so a malformed file writes nothing. The statements are
then applied in file order, in the caller's transaction (the command commits per file). What is odd but not wrong
is reported in ImportSummary.warnings: a future statementDate, publicationDate or source.retrievedAt (not used as
a date: a source dated after today is never cited), a future birthDate (not kept), one subject's shares adding up
past 100%.

How BODS maps onto our rows:

- An entity or person record is a Party. It is found by its record (an earlier statement of the same record, or
  Party.bods_record_id), then by a normalised identifier of the same scheme and kind, else created. A party found
  by identifier only keeps its name (it may be a vendor's own node); identifiers are added, never removed.
- Each interest of a relationship statement is an Interest row (origin bods_import). A later statement of the same
  record (0.4 recordStatus updated/closed, or 0.2/0.3 replacesStatements) supersedes the earlier ones: their
  interests still open get an end date (the start date of the new interest of the same type, else the new
  statement's date; for a closed record, the closing end date or statement date). So at any date one version
  counts, and the history stays for screening "as of" a past date.
- A closed entity or person record ends the imported interests it holds or is the subject of.
- Indirect relationships (0.4 componentRecords, 0.3 componentStatementIDs). When every component is in the file or
  already imported, the primary relationship's interests not marked "direct" are left out: the chain of
  component relationships carries the same stake, screening walks chains, and storing both would count one stake
  twice as if there were a second, direct holding. The primary's "direct" interests are kept (a party can hold some
  shares directly and more through an intermediary). When a component is missing, the indirect interest is the
  only trace of the stake: it is kept, with a note that it is held indirectly.
- An unspecified interested party ({"reason": ...}, or 0.2/0.3 {"unspecified": {...}}) becomes a Party of kind
  unspecified, one per relationship record (bods_record_id "<record>#interestedParty"; the export writes it back
  inline): party_type anonymousEntity when it is exempt from disclosure (someone knows who it is), unknownEntity
  otherwise. "noBeneficialOwners" asserts that there is nobody: no tie, a NoOwnersDeclaration (ended by a later
  version of its record). Anonymous or unknown entity and person records are parties of kind unspecified as well.
- A relationship with no interest listed is an Interest of type unknownInterest (bods_implied): BODS says a tie
  exists.
- Each interest keeps what the export needs to say it again: its relationship's recordId (bods_record_id),
  directOrIndirect, beneficialOwnershipOrControl, the source's type codes and the end date as given; a person
  keeps birthDate and nationalities, an entity entityType.subtype; every 0.4 statement is kept as read.
- Statements already imported are skipped (BodsStatement remembers every statement id and what it says), so
  importing a file twice changes nothing. A statementId seen again with other content, in the file or imported
  before, is refused: a statementId names one statement.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NoReturn, cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.parties.bods_validation import statement_problem
from marketplace.parties.models import (
    INTEREST_TYPES,
    UNKNOWN_PARTY_TYPES,
    BodsStatement,
    Interest,
    NoOwnersDeclaration,
    Party,
    PartyKind,
    TieOrigin,
    VerificationLevel,
)
from marketplace.parties.service import add_identifier, canonical_party, find_party_by_identifier, normalize_name

# BODS 0.2 hyphenated interest codes (and 0.1's influence-or-control) in the 0.3/0.4 codelist.
LEGACY_INTEREST_TYPES = {
    "shareholding": "shareholding",
    "voting-rights": "votingRights",
    "appointment-of-board": "appointmentOfBoard",
    "other-influence-or-control": "otherInfluenceOrControl",
    "influence-or-control": "otherInfluenceOrControl",
    "significant-influence-or-control": "otherInfluenceOrControl",
    "senior-managing-official": "seniorManagingOfficial",
    "settlor-of-trust": "settlor",
    "trustee-of-trust": "trustee",
    "protector-of-trust": "protector",
    "beneficiary-of-trust": "beneficiaryOfLegalArrangement",
    "other-influence-or-control-of-trust": "otherInfluenceOrControl",
    "rights-to-surplus-assets": "rightsToSurplusAssetsOnDissolution",
    "rights-to-surplus-assets-on-dissolution": "rightsToSurplusAssetsOnDissolution",
    "rights-to-profit-or-income": "rightsToProfitOrIncome",
    "rights-granted-by-contract": "rightsGrantedByContract",
    "conditional-rights-granted-by-contract": "conditionalRightsGrantedByContract",
}
# Strongest first: a statement checked by a verifier counts as verified whatever else it says.
SOURCE_LEVELS = (
    ("verified", VerificationLevel.ADMIN_VERIFIED),
    ("officialRegister", VerificationLevel.OFFICIAL_REGISTER),
    ("thirdParty", VerificationLevel.THIRD_PARTY),
    ("primaryResearch", VerificationLevel.THIRD_PARTY),
    ("selfDeclaration", VerificationLevel.SELF_DECLARED),
)
# A statement that does not say where it comes from is the publisher's claim: a third party's, to us.
NO_SOURCE_LEVEL = VerificationLevel.THIRD_PARTY
# Reasons meaning that someone knows the party but it is withheld; the others mean nobody identified it.
WITHHELD_REASONS = {"subjectExemptFromDisclosure", "interestedPartyExemptFromDisclosure"}
NO_OWNERS_REASON = "noBeneficialOwners"
PARTY_RECORD_TYPES = ("entity", "person")
MAX_ID_LENGTH = 200  # BodsStatement.statement_id, Party.bods_record_id
COUNTED_SHARES = ("shareholding", "votingRights")  # warned about when one subject's add up past 100%


class BodsFileError(ValueError):
    """A file that cannot be imported; the message names the file and the problem."""

    def __init__(self, file_name: str, problem: str):
        super().__init__(f"{file_name}: {problem}")


@dataclass(frozen=True)
class SourceData:
    level: VerificationLevel
    description: str = ""
    url: str = ""
    on: date | None = None
    types: tuple[str, ...] = ()  # the BODS source type codes, as given


@dataclass
class InterestData:
    interest_type: str
    exact: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    minimum_exclusive: bool = False
    maximum_exclusive: bool = False
    start: date | None = None
    end: date | None = None
    direct_or_indirect: str = ""  # as given: direct, indirect, unknown, or "" when not said
    details: str = ""
    note: str = ""
    beneficial: bool | None = None  # beneficialOwnershipOrControl, None when not said
    given_end: date | None = None  # the end date as the statement gave it


@dataclass
class PartyStatement:
    statement_id: str
    record_id: str | None  # None for 0.2/0.3: the record is the chain of replaced statements
    record_type: str  # "entity" or "person"
    kind: PartyKind
    party_type: str
    name: str
    status: str = "new"
    on: date | None = None
    replaces: list[str] = field(default_factory=list)
    jurisdiction: str = ""
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    unspecified_reason: str = ""
    unspecified_description: str = ""
    birth_date: str = ""
    nationalities: list[dict] = field(default_factory=list)
    entity_subtype: str = ""


@dataclass
class RelationshipStatement:
    statement_id: str
    record_id: str | None
    subject: str | None  # a record (0.4) or statement (0.2/0.3) reference; None when unspecified
    interested: str | None
    source: SourceData
    unspecified: tuple[str, str] | None = None  # (reason, description) of an unspecified interested party
    interests: list[InterestData] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    status: str = "new"
    on: date | None = None
    replaces: list[str] = field(default_factory=list)
    record_type: str = "relationship"


Statement = PartyStatement | RelationshipStatement


@dataclass
class ImportSummary:
    file_name: str
    statements: int = 0
    parties_added: int = 0
    parties_updated: int = 0
    interests_added: int = 0
    interests_ended: int = 0
    # Statements already imported or with nothing to attach to, and indirect interests left to their components.
    skipped: int = 0
    declarations_added: int = 0  # "no beneficial owners" declarations
    # Imported, but worth a look: future dates, shares of one subject adding up past 100%.
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.parties_added
            or self.parties_updated
            or self.interests_added
            or self.interests_ended
            or self.declarations_added
        )

    def line(self) -> str:
        declared = (
            f"; {self.declarations_added} “no beneficial owners” declarations added" if self.declarations_added else ""
        )
        warned = f"; {len(self.warnings)} warnings" if self.warnings else ""
        return (
            f"{self.file_name}: {self.statements} statements; parties {self.parties_added} added, "
            f"{self.parties_updated} updated; interests {self.interests_added} added, "
            f"{self.interests_ended} ended{declared}; {self.skipped} skipped{warned}."
        )

    def warning_lines(self) -> list[str]:
        return [f"{self.file_name}: warning: {warning}" for warning in self.warnings]


# --- reading ------------------------------------------------------------------------------------------------


def read_statements(path: Path) -> list[dict]:
    """The raw statements of a file: a JSON array, a {"statements": [...]} object, or JSON Lines."""
    name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise BodsFileError(name, f"cannot be read ({error}).") from error
    if not text.strip():
        raise BodsFileError(name, "is empty; expected BODS statements.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        data = _json_lines(name, text, error)
    if isinstance(data, dict) and isinstance(data.get("statements"), list):
        data = data["statements"]
    elif isinstance(data, dict) and ("statementId" in data or "statementID" in data):
        data = [data]
    if not isinstance(data, list):
        raise BodsFileError(
            name, 'is not a list of BODS statements (expected a JSON array, {"statements": [...]} or JSON Lines).'
        )
    for number, statement in enumerate(data, 1):
        if not isinstance(statement, dict):
            raise BodsFileError(name, f"statement {number} is not a JSON object.")
    return data


def _json_lines(name: str, text: str, first_error: json.JSONDecodeError) -> list:
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) < 2:
        raise BodsFileError(
            name, f"is not valid JSON ({first_error.msg} at line {first_error.lineno}, column {first_error.colno})."
        )
    statements = []
    for number, line in lines:
        try:
            statements.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise BodsFileError(
                name, f"is neither a JSON document nor JSON Lines: line {number} is not valid JSON ({error.msg})."
            ) from error
    return statements


# --- parsing into one form for every version -----------------------------------------------------------------


def _items(value) -> list:
    """A descriptive list field, or nothing when it is missing or not a list."""
    return value if isinstance(value, list) else []


class _Parser:
    """Turns raw 0.2, 0.3 and 0.4 statements into PartyStatement / RelationshipStatement, or says what is wrong."""

    def __init__(self, file_name: str, today: date | None = None, validate: bool = True):
        self.file_name = file_name
        self.where = ""
        self.today = today or utcnow().date()
        self.validate = validate
        self.warnings: list[str] = []
        self.raw: dict[str, dict] = {}

    def fail(self, problem: str) -> NoReturn:
        raise BodsFileError(self.file_name, f"{self.where}: {problem}")

    def warn(self, problem: str) -> None:
        self.warnings.append(f"{self.where}: {problem}")

    def parse(self, raw: dict, number: int) -> Statement:
        statement = self._parse(raw, number)
        if "recordType" in raw:  # 0.4: kept as read, so that an export can write it back unchanged
            self.raw[statement.statement_id] = raw
        return statement

    def _parse(self, raw: dict, number: int) -> Statement:
        statement_id = raw.get("statementId", raw.get("statementID"))
        self.where = f"statement {number}"
        if not isinstance(statement_id, str) or not statement_id.strip():
            self.fail("has no statementId.")
        self.where = f"statement {number} ({statement_id})"
        if len(statement_id.strip()) > MAX_ID_LENGTH:
            self.fail(f"the statementId is longer than {MAX_ID_LENGTH} characters.")
        problem = statement_problem(raw) if self.validate else None
        if problem:
            self.fail(problem)
        if "recordType" in raw:
            return self._parse_04(raw, statement_id.strip())
        if "statementType" in raw:
            return self._parse_legacy(raw, statement_id.strip())
        return self.fail("is neither a BODS 0.4 statement (recordType) nor a 0.2/0.3 one (statementType).")

    # 0.4: recordId, recordType, recordStatus, recordDetails.
    def _parse_04(self, raw: dict, statement_id: str) -> Statement:
        record_id = raw.get("recordId")
        if not isinstance(record_id, str) or not record_id.strip():
            self.fail("has no recordId.")
        if len(record_id.strip()) > MAX_ID_LENGTH - len("#interestedParty"):
            self.fail("the recordId is too long.")
        details = raw.get("recordDetails")
        if not isinstance(details, dict):
            self.fail("has no recordDetails object.")
        status = raw.get("recordStatus") or "new"
        if status not in ("new", "updated", "closed"):
            self.fail(f"recordStatus “{status}” is not new, updated or closed.")
        common = {
            "statement_id": statement_id,
            "record_id": record_id.strip(),
            "status": status,
            "on": self._statement_date(raw),
        }
        record_type = raw["recordType"]
        if record_type == "entity":
            entity_type = details.get("entityType")
            subtype = entity_type.get("subtype") if isinstance(entity_type, dict) else None
            entity_type = entity_type.get("type") if isinstance(entity_type, dict) else entity_type
            statement = self._party("entity", entity_type, details, details.get("unspecifiedEntityDetails"), common)
            statement.entity_subtype = str(subtype or "")[:40]
            return statement
        if record_type == "person":
            return self._party(
                "person", details.get("personType"), details, details.get("unspecifiedPersonDetails"), common
            )
        if record_type == "relationship":
            subject = details.get("subject")
            if not subject or not isinstance(subject, str | dict):
                self.fail("has no subject.")
            # An unspecified subject ({"reason": ...}) is None: nothing of ours to attach the interests to.
            return self._relationship(
                raw,
                details.get("interestedParty"),
                subject if isinstance(subject, str) else None,
                self._list(details.get("componentRecords")),
                common,
            )
        return self.fail(f"recordType “{record_type}” is not entity, person or relationship.")

    # 0.2 and 0.3: statementID, statementType, replacesStatements; interests refer to statements.
    def _parse_legacy(self, raw: dict, statement_id: str) -> Statement:
        common = {
            "statement_id": statement_id,
            "record_id": None,
            "on": self._statement_date(raw),
            "replaces": self._list(raw.get("replacesStatements")),
        }
        statement_type = raw["statementType"]
        if statement_type == "entityStatement":
            return self._party("entity", raw.get("entityType"), raw, raw.get("unspecifiedEntityDetails"), common)
        if statement_type == "personStatement":
            return self._party("person", raw.get("personType"), raw, raw.get("unspecifiedPersonDetails"), common)
        if statement_type == "ownershipOrControlStatement":
            subject = raw.get("subject")
            if not isinstance(subject, dict) or not isinstance(subject.get("describedByEntityStatement"), str):
                self.fail("has no subject.describedByEntityStatement.")
            party = raw.get("interestedParty")
            if isinstance(party, dict) and not isinstance(party.get("unspecified"), dict):
                party = party.get("describedByEntityStatement") or party.get("describedByPersonStatement")
            return self._relationship(
                raw, party, subject["describedByEntityStatement"], self._list(raw.get("componentStatementIDs")), common
            )
        return self.fail(
            f"statementType “{statement_type}” is not entityStatement, personStatement or ownershipOrControlStatement."
        )

    def _party(self, record_type: str, party_type, details: dict, unspecified, common: dict) -> PartyStatement:
        default_type = "registeredEntity" if record_type == "entity" else "knownPerson"
        party_type = party_type if isinstance(party_type, str) and party_type else default_type
        anonymous = party_type in UNKNOWN_PARTY_TYPES
        unspecified = unspecified if isinstance(unspecified, dict) else {}
        name = self._entity_name(details) if record_type == "entity" else self._person_name(details)
        if not name:
            name = f"{'Undisclosed' if anonymous else 'Unnamed'} {record_type}"
        jurisdiction = details.get("jurisdiction") or details.get("incorporatedInJurisdiction") or {}
        if not isinstance(jurisdiction, dict):
            jurisdiction = {}
        nationalities = [
            {key: str(item[key]) for key in ("code", "name") if item.get(key)}
            for item in _items(details.get("nationalities"))
            if isinstance(item, dict)
        ]
        return PartyStatement(
            birth_date=self._birth_date(details.get("birthDate")) if record_type == "person" else "",
            nationalities=[item for item in nationalities if item],
            record_type=record_type,
            kind=PartyKind.UNSPECIFIED if anonymous else PartyKind(record_type),
            party_type=party_type[:40],
            name=name[:300],
            jurisdiction=str(jurisdiction.get("code") or jurisdiction.get("name") or "")[:80],
            identifiers=self._identifiers(details.get("identifiers")),
            unspecified_reason=str(unspecified.get("reason") or "")[:60],
            unspecified_description=str(unspecified.get("description") or "")[:2000],
            **common,
        )

    def _relationship(
        self, raw: dict, party, subject: str | None, components: list[str], common: dict
    ) -> RelationshipStatement:
        unspecified = None
        if isinstance(party, dict):
            reason = party.get("unspecified", party)
            if not isinstance(reason, dict) or not isinstance(reason.get("reason"), str):
                self.fail("interestedParty is neither a reference nor an unspecified party with a reason.")
            unspecified, party = (reason["reason"], str(reason.get("description") or "")), None
        elif not isinstance(party, str) or not party:
            self.fail("has no interestedParty.")
        interests = raw.get("recordDetails", raw).get("interests") or []
        if not isinstance(interests, list):
            self.fail("interests is not a list.")
        if unspecified is not None and unspecified[0] == NO_OWNERS_REASON and interests:
            self.fail("declares no beneficial owners (noBeneficialOwners) but lists interests.")
        return RelationshipStatement(
            subject=subject,
            interested=party,
            unspecified=unspecified,
            components=components,
            interests=[self._interest(item, number) for number, item in enumerate(interests, 1)],
            source=self._source(raw.get("source"), common["on"]),
            **common,
        )

    def _interest(self, raw, number: int) -> InterestData:
        if not isinstance(raw, dict):
            self.fail(f"interest {number} is not an object.")
        code = raw.get("type") or "unknownInterest"
        note = ""
        if code in LEGACY_INTEREST_TYPES:
            code = LEGACY_INTEREST_TYPES[code]
        elif code not in INTEREST_TYPES:
            code, note = "unknownInterest", f"BODS interest type “{code}”."
        exact, minimum, maximum, min_exclusive, max_exclusive = self._share(raw.get("share"), number)
        start, end = self._date(raw.get("startDate"), "startDate"), self._date(raw.get("endDate"), "endDate")
        if start and end and end < start:
            self.fail(f"interest {number} ends ({end}) before it starts ({start}).")
        beneficial = raw.get("beneficialOwnershipOrControl")
        return InterestData(
            interest_type=code,
            exact=exact,
            minimum=minimum,
            maximum=maximum,
            minimum_exclusive=min_exclusive,
            maximum_exclusive=max_exclusive,
            start=start,
            end=end,
            given_end=end,
            direct_or_indirect=str(raw.get("directOrIndirect") or raw.get("interestLevel") or "")[:20],
            details=str(raw.get("details") or "")[:200],
            note=note,
            beneficial=beneficial if isinstance(beneficial, bool) else None,
        )

    def _share(self, raw, number: int):
        """(exact, minimum, maximum, minimum exclusive, maximum exclusive) from a 0.4 or a flag-style share."""
        if raw is None:
            return None, None, None, False, False
        if not isinstance(raw, dict):
            self.fail(f"interest {number}: share is not an object.")
        exact, minimum, maximum = (self._percent(raw.get(key), number, key) for key in ("exact", "minimum", "maximum"))
        bounds = {"exclusiveMinimum": [minimum, False], "exclusiveMaximum": [maximum, False]}
        for key, bound in bounds.items():
            value = raw.get(key)
            if isinstance(value, bool):  # 0.2/0.3: a flag saying the minimum/maximum itself is excluded
                bound[1] = value and bound[0] is not None
            elif value is not None:  # 0.4: the exclusive bound is the figure
                bound[0], bound[1] = self._percent(value, number, key), True
        (minimum, min_exclusive), (maximum, max_exclusive) = bounds.values()
        if exact is not None:
            return exact, None, None, False, False
        if minimum is not None and maximum is not None and minimum > maximum:
            self.fail(f"interest {number}: share minimum {minimum:g} is above maximum {maximum:g}.")
        return None, minimum, maximum, min_exclusive, max_exclusive

    def _percent(self, value, number: int, key: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"interest {number}: share {key} is not a number.")
        if not 0 <= value <= 100:  # the figure as given: 100.0001, not a rounded "100"
            self.fail(f"interest {number}: share {key} {json.dumps(value)} is not a percentage between 0 and 100.")
        return float(value)

    def _source(self, raw, statement_date: date | None) -> SourceData:
        if not isinstance(raw, dict):
            return SourceData(NO_SOURCE_LEVEL, on=statement_date)
        types = raw.get("type")
        types = [str(t) for t in ([types] if isinstance(types, str) else _items(types)) if isinstance(t, str)]
        level = next((level for code, level in SOURCE_LEVELS if code in types), NO_SOURCE_LEVEL)
        description = str(raw.get("description") or "")
        asserted = [str(a.get("name")) for a in _items(raw.get("assertedBy")) if isinstance(a, dict) and a.get("name")]
        if not description and asserted:
            description = "Asserted by " + ", ".join(asserted)
        retrieved = self._not_future(self._date(raw.get("retrievedAt"), "source.retrievedAt"), "source.retrievedAt")
        return SourceData(
            level, description[:1000], str(raw.get("url") or "")[:1000], retrieved or statement_date, tuple(types)
        )

    def _statement_date(self, raw: dict) -> date | None:
        """The statement's date (else its publication date); a future one is warned about and not used: a source
        dated after today must not be cited, nor end an earlier version of a relationship in the future."""
        published = raw.get("publicationDetails")
        published = published.get("publicationDate") if isinstance(published, dict) else None
        stated = self._not_future(self._date(raw.get("statementDate"), "statementDate"), "statementDate")
        published = self._not_future(self._date(published, "publicationDate"), "publicationDate")
        return stated or published

    def _not_future(self, value: date | None, what: str) -> date | None:
        if value is not None and value > self.today:
            self.warn(
                f"{what} {value.isoformat()} is in the future (today is {self.today.isoformat()}); "
                "it is not used as the source's date."
            )
            return None
        return value

    def _birth_date(self, value) -> str:
        """A person's birthDate as given (YYYY, YYYY-MM or YYYY-MM-DD); a future one is warned about, not kept."""
        if not isinstance(value, str) or not value.strip():
            return ""
        value = value.strip()[:10]
        if value[:4].isdigit() and value > self.today.isoformat()[: len(value)]:
            self.warn(f"birthDate {value} is in the future (today is {self.today.isoformat()}); it is not kept.")
            return ""
        return value

    def _date(self, value, what: str) -> date | None:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return self.fail(f"{what} “{value}” is not a date (YYYY-MM-DD).")

    def _list(self, value) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail("a list of statement or record ids holds something else.")
        return value

    @staticmethod
    def _entity_name(details: dict) -> str:
        return str(details.get("name") or "").strip()

    @staticmethod
    def _person_name(details: dict) -> str:
        names = [n for n in _items(details.get("names")) if isinstance(n, dict) and n.get("fullName")]
        legal = [n for n in names if n.get("type") in ("legal", "individual")]
        return str((legal or names or [{"fullName": ""}])[0]["fullName"]).strip()

    def _identifiers(self, raw) -> list[tuple[str, str]]:
        found = []
        for item in _items(raw):
            if isinstance(item, dict) and item.get("id") not in (None, ""):
                found.append((str(item.get("scheme") or item.get("schemeName") or ""), str(item["id"])))
        return found


def parse_statements(
    raw_statements: list[dict],
    file_name: str,
    warnings: list[str] | None = None,
    validate: bool = True,
    raw: dict[str, dict] | None = None,
) -> list[Statement]:
    """Every statement in one form, or BodsFileError naming the first statement that makes no sense or is not
    valid against the schema of its BODS version. Warnings (future dates) are added to `warnings` when given, and
    0.4 statements as read to `raw` (by statementId)."""
    parser = _Parser(file_name, validate=validate)
    statements = [parser.parse(statement, number) for number, statement in enumerate(raw_statements, 1)]
    if warnings is not None:
        warnings.extend(parser.warnings)
    if raw is not None:
        raw.update(parser.raw)
    return statements


def statement_digest(statement: Statement) -> str:
    """What a statement says, in the version-neutral form, hashed: the same statement re-published (by another
    publisher, or in our own export) has the same digest; one whose content changed has another."""
    # dataclasses.asdict, without its deep copies (a tenth of an import's time): the same JSON, so the same digest
    # as for statements logged before.
    content = {key: value for key, value in vars(statement).items() if key not in _UNHASHED}
    if isinstance(statement, RelationshipStatement):
        content["source"] = vars(statement.source)
        content["interests"] = [vars(interest) for interest in statement.interests]
    return hashlib.sha256(_DIGEST_JSON.encode(content).encode()).hexdigest()


_UNHASHED = ("statement_id", "record_id", "replaces")
_DIGEST_JSON = json.JSONEncoder(sort_keys=True, default=str)  # json.dumps(sort_keys=True, default=str), made once


def _comparable(raw: dict) -> dict:
    """A 0.4 statement less what a republication may change (publicationDetails, declarationSubject, isComponent:
    see marketplace.parties.bods_export): the same statement published again compares equal."""
    statement = {key: value for key, value in raw.items() if key not in ("publicationDetails", "declarationSubject")}
    details = statement.get("recordDetails")
    if isinstance(details, dict):
        statement["recordDetails"] = {key: value for key, value in details.items() if key != "isComponent"}
    return statement


def _raw_digest(raw: dict) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def _statement_id_of(raw: dict) -> str:
    value = raw.get("statementId", raw.get("statementID"))
    return value.strip() if isinstance(value, str) else ""


def drop_repeated_statements(raw_statements: list[dict], file_name: str) -> list[dict]:
    """The statements without exact repeats of an earlier one in the file; a statementId repeated with other
    content is refused (BodsFileError naming both statements)."""
    seen: dict[str, tuple[int, str]] = {}
    kept = []
    for number, raw in enumerate(raw_statements, 1):
        statement_id, digest = _statement_id_of(raw), _raw_digest(raw)
        if statement_id and statement_id in seen:
            first, first_digest = seen[statement_id]
            if first_digest != digest:
                raise BodsFileError(
                    file_name,
                    f"statement {number} ({statement_id}) has the statementId of statement "
                    f"{first} but other content; a statementId names one statement.",
                )
            continue
        if statement_id:
            seen[statement_id] = (number, digest)
        kept.append(raw)
    return kept


def share_warnings(statements: list[Statement]) -> list[str]:
    """Subjects whose current shares (the latest version of each relationship in the file, not ended, not held
    indirectly) of one kind add up past 100%, counting the low end of each."""
    latest: dict[str, RelationshipStatement] = {}
    for statement in statements:
        if isinstance(statement, RelationshipStatement):
            latest[statement.record_id or statement.statement_id] = statement
            for replaced in statement.replaces:
                latest.pop(replaced, None)
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for statement in latest.values():
        if statement.status == "closed" or statement.subject is None:
            continue
        for interest in statement.interests:
            low = interest.exact if interest.exact is not None else interest.minimum
            # An indirect interest repeats what the chain of direct ones holds: only direct holdings add up.
            if (
                interest.interest_type in COUNTED_SHARES
                and low is not None
                and interest.end is None
                and interest.direct_or_indirect != "indirect"
            ):
                totals[(statement.subject, interest.interest_type)] += low
    return [
        f"the {kind} shares held in “{subject}” add up to {total:g}% (more than 100%)."
        for (subject, kind), total in totals.items()
        if total > 100 + 1e-9
    ]


def _status(statement: Statement) -> str:
    """The 0.4 recordStatus; a 0.2/0.3 statement replacing others is an update of their record."""
    return "updated" if statement.record_id is None and statement.replaces else statement.status


def _nationalities_text(nationalities: list[dict]) -> str:
    text = json.dumps(nationalities, ensure_ascii=False) if nationalities else ""
    return text if len(text) <= 1000 else ""


# --- applying the statements ---------------------------------------------------------------------------------


class _Importer:
    """Applies parsed statements in file order; every write goes through the caller's session."""

    def __init__(
        self,
        session: Session,
        actor,
        statements: list[Statement],
        summary: ImportSummary,
        raw: dict[str, dict] | None = None,
    ):
        self.raw = raw or {}
        self.session = session
        self.actor = actor
        self.statements = statements
        self.summary = summary
        # Everything the file itself describes: components given here count as given.
        self.in_file = {s.statement_id for s in statements} | {s.record_id for s in statements if s.record_id}
        self.today = utcnow().date()

    def fail(self, statement: Statement, problem: str) -> NoReturn:
        raise BodsFileError(self.summary.file_name, f"statement {statement.statement_id}: {problem}")

    def run(self, progress: Callable[[int], None] | None) -> None:
        self._refuse_changed_statements()
        for statement in self.statements:
            if self._logged(statement.statement_id) is not None:
                self.summary.skipped += 1
            elif isinstance(statement, PartyStatement):
                self._apply_party(statement)
            else:
                self._apply_relationship(statement)
            if progress is not None:
                progress(1)

    def _refuse_changed_statements(self) -> None:
        """A statementId imported before with other content: refused before anything is written. Content is what
        the statement says (statement_digest) and, for 0.4, the statement as read, less what a republication
        may change (_comparable)."""
        digests = {s.statement_id: statement_digest(s) for s in self.statements}
        ids = list(digests)
        for start in range(0, len(ids), 500):
            rows = self.session.execute(
                select(BodsStatement).where(
                    col(BodsStatement.statement_id).in_(ids[start : start + 500]), col(BodsStatement.content_hash) != ""
                )
            ).scalars()
            for row in rows:
                raw = self.raw.get(row.statement_id)
                same = row.content_hash == digests[row.statement_id] and (
                    raw is None or row.content is None or _comparable(raw) == _comparable(json.loads(row.content))
                )
                if not same:
                    number = ids.index(row.statement_id) + 1
                    raise BodsFileError(
                        self.summary.file_name,
                        f"statement {number} ({row.statement_id}) has the statementId of a statement imported on "
                        f"{row.imported_at:%Y-%m-%d} (record {row.record_id}) but other content; a statementId "
                        "names one statement, so a change must be a new statement.",
                    )

    # --- the statement log ---

    def _logged(self, statement_id: str) -> BodsStatement | None:
        return self.session.execute(
            select(BodsStatement).where(col(BodsStatement.statement_id) == statement_id)
        ).scalar_one_or_none()

    def _record_key(self, statement: Statement) -> str:
        """The record a statement belongs to: its 0.4 recordId, or the start of its 0.2/0.3 replacement chain."""
        if statement.record_id:
            return statement.record_id
        for replaced in statement.replaces:
            row = self._logged(replaced)
            if row is not None:
                return row.record_id
        return statement.statement_id

    def _log(self, statement: Statement, record_key: str, party: Party | None) -> None:
        party_id = party.id if party is not None else None
        self.session.add(
            BodsStatement(
                statement_id=statement.statement_id,
                record_id=record_key,
                record_type=statement.record_type,
                party_id=party_id,
                statement_date=statement.on,
                content_hash=statement_digest(statement),
                record_status=_status(statement),
                content=self._content(statement),
            )
        )
        # A replaced statement not seen yet is superseded already: if it comes later, it is skipped.
        for replaced in statement.replaces:
            if replaced != statement.statement_id and self._logged(replaced) is None:
                self.session.add(
                    BodsStatement(
                        statement_id=replaced,
                        record_id=record_key,
                        record_type=statement.record_type,
                        party_id=party_id,
                    )
                )
                self.session.flush()
        self.session.flush()

    def _content(self, statement: Statement) -> str | None:
        raw = self.raw.get(statement.statement_id)
        return json.dumps(raw, ensure_ascii=False) if raw is not None else None

    # --- parties ---

    def _party_of_record(self, record_key: str) -> Party | None:
        party_id = self.session.execute(
            select(col(BodsStatement.party_id))
            .where(
                col(BodsStatement.record_id) == record_key,
                col(BodsStatement.record_type).in_(PARTY_RECORD_TYPES),
                col(BodsStatement.party_id).is_not(None),
            )
            .order_by(col(BodsStatement.id).desc())
            .limit(1)
        ).scalar_one_or_none()
        if party_id is not None:
            return canonical_party(self.session, self.session.get(Party, party_id))
        party = self.session.execute(select(Party).where(col(Party.bods_record_id) == record_key)).scalar_one_or_none()
        return canonical_party(self.session, party)

    def _resolve(self, reference: str) -> Party | None:
        """The party a relationship refers to: by 0.2/0.3 statement id, else by record id."""
        row = self._logged(reference)
        if row is not None and row.party_id is not None and row.record_type in PARTY_RECORD_TYPES:
            return canonical_party(self.session, self.session.get(Party, row.party_id))
        return self._party_of_record(reference)

    def _party_by_identifiers(self, statement: PartyStatement) -> Party | None:
        if statement.kind == PartyKind.UNSPECIFIED:
            return None
        for scheme, value in statement.identifiers:
            party = find_party_by_identifier(self.session, scheme, value, kinds={statement.kind})
            if party is not None:
                return party
        return None

    def _apply_party(self, statement: PartyStatement) -> None:
        record_key = self._record_key(statement)
        party = self._party_of_record(record_key)
        same_record = party is not None
        if party is None:
            party = self._party_by_identifiers(statement)
        if party is None:
            party = Party(
                kind=statement.kind,
                party_type=statement.party_type,
                name=statement.name,
                name_normalized=normalize_name(statement.name),
                jurisdiction=statement.jurisdiction,
                description=statement.unspecified_description,
                unspecified_reason=statement.unspecified_reason,
                birth_date=statement.birth_date,
                nationalities=_nationalities_text(statement.nationalities),
                entity_subtype=statement.entity_subtype,
            )
            self.session.add(party)
            self.session.flush()
            self.summary.parties_added += 1
            added, changed = True, False
        else:
            added, changed = False, self._update_party(party, statement, same_record)
        if party.bods_record_id is None and not self._record_taken(record_key):
            party.bods_record_id = record_key
        for scheme, value in statement.identifiers:
            changed = add_identifier(self.session, party, scheme, value) is not None or changed
        if changed and not added:
            self.summary.parties_updated += 1
        self._log(statement, record_key, party)
        if statement.status == "closed":
            self._end_interests_of(party, statement.on or self.today, statement.statement_id)

    def _record_taken(self, record_key: str) -> bool:
        return (
            self.session.execute(select(col(Party.id)).where(col(Party.bods_record_id) == record_key)).first()
            is not None
        )

    def _update_party(self, party: Party, statement: PartyStatement, same_record: bool) -> bool:
        """A later statement of the party's own record updates it; a party matched by identifier only gains blanks."""
        wanted = {
            "jurisdiction": statement.jurisdiction or party.jurisdiction,
            "birth_date": party.birth_date or statement.birth_date,
            "nationalities": party.nationalities or _nationalities_text(statement.nationalities),
            "entity_subtype": party.entity_subtype or statement.entity_subtype,
        }
        if same_record:
            wanted.update(
                birth_date=statement.birth_date,
                entity_subtype=statement.entity_subtype,
                nationalities=_nationalities_text(statement.nationalities),
            )
            wanted.update(
                name=statement.name,
                name_normalized=normalize_name(statement.name),
                kind=statement.kind,
                party_type=statement.party_type,
                unspecified_reason=statement.unspecified_reason,
                description=statement.unspecified_description or party.description,
            )
        changed = False
        for attribute, value in wanted.items():
            if getattr(party, attribute) != value:
                setattr(party, attribute, value)
                changed = True
        self.session.flush()
        return changed

    def _unspecified_party(self, record_key: str, subject: Party, reason: str, description: str) -> Party:
        record = f"{record_key}#interestedParty"[:200]
        party = self.session.execute(select(Party).where(col(Party.bods_record_id) == record)).scalar_one_or_none()
        if party is None:
            name = f"Undisclosed owner of {subject.name}"[:300]
            party = Party(
                kind=PartyKind.UNSPECIFIED,
                party_type="anonymousEntity" if reason in WITHHELD_REASONS else "unknownEntity",
                name=name,
                name_normalized=normalize_name(name),
                description=description[:2000],
                unspecified_reason=reason[:60],
                bods_record_id=record,
            )
            self.session.add(party)
            self.session.flush()
            self.summary.parties_added += 1
        return cast(Party, canonical_party(self.session, party))

    # --- relationships ---

    def _apply_relationship(self, statement: RelationshipStatement) -> None:
        record_key = self._record_key(statement)
        previous = self._previous_statement_ids(record_key, statement.replaces)
        if statement.subject is None:
            # An unspecified subject: there is nothing of ours to attach the interests to.
            self.summary.skipped += 1
            self._log(statement, record_key, None)
            return
        subject = self._resolve(statement.subject)
        if subject is None:
            self.fail(statement, f"its subject “{statement.subject}” is neither in this file nor imported before.")
        holder = self._holder(statement, record_key, subject)
        interests = statement.interests or [InterestData("unknownInterest")]
        if holder is None:
            interests = []
        if statement.components and all(self._known(c) for c in statement.components):
            kept = [i for i in interests if i.direct_or_indirect == "direct"]
            self.summary.skipped += len(interests) - len(kept)
            interests = kept
        date_of = statement.on or self.today
        if statement.status == "closed":
            cutoffs = {i.interest_type: i.end for i in interests if i.end}
            self._supersede(previous, cutoffs, date_of, statement.statement_id)
            self._end_declarations(previous, date_of)
            if not previous:  # closing a record never seen: keep what it says, ended
                for interest in interests:
                    interest.end = interest.end or max(date_of, interest.start or date_of)
                    self._add_interest(statement, interest, cast(Party, holder), subject, record_key)
        else:
            cutoffs = {i.interest_type: i.start for i in interests if i.start}
            self._supersede(previous, cutoffs, date_of, statement.statement_id)
            self._end_declarations(previous, date_of)
            for interest in interests:
                self._add_interest(statement, interest, cast(Party, holder), subject, record_key)
            if statement.unspecified is not None and statement.unspecified[0] == NO_OWNERS_REASON:
                self._declare_no_owners(statement, record_key, subject)
        self._log(statement, record_key, subject)

    def _declare_no_owners(self, statement: RelationshipStatement, record_key: str, subject: Party) -> None:
        source = statement.source
        self.session.add(
            NoOwnersDeclaration(
                subject_party_id=subject.id,
                description=cast(tuple[str, str], statement.unspecified)[1][:2000],
                bods_statement_id=statement.statement_id,
                bods_record_id=record_key,
                statement_date=statement.on,
                source_types=",".join(source.types)[:200],
                source_description=source.description,
                source_url=source.url,
                source_date=source.on,
            )
        )
        self.session.flush()
        self.summary.declarations_added += 1

    def _end_declarations(self, statement_ids: list[str], on: date) -> None:
        if not statement_ids:
            return
        for declaration in self.session.execute(
            select(NoOwnersDeclaration).where(
                col(NoOwnersDeclaration.bods_statement_id).in_(statement_ids),
                col(NoOwnersDeclaration.end_date).is_(None),
            )
        ).scalars():
            declaration.end_date = on
        self.session.flush()

    def _holder(self, statement: RelationshipStatement, record_key: str, subject: Party) -> Party | None:
        if statement.unspecified is not None:
            reason, description = statement.unspecified
            if reason == NO_OWNERS_REASON:
                return None
            return self._unspecified_party(record_key, subject, reason, description)
        holder = self._resolve(cast(str, statement.interested))
        if holder is None:
            self.fail(
                statement, f"its interested party “{statement.interested}” is neither in this file nor imported before."
            )
        return holder

    def _known(self, reference: str) -> bool:
        if reference in self.in_file:
            return True
        return (
            self.session.execute(
                select(col(BodsStatement.id))
                .where(or_(col(BodsStatement.statement_id) == reference, col(BodsStatement.record_id) == reference))
                .limit(1)
            ).first()
            is not None
        )

    def _previous_statement_ids(self, record_key: str, replaces: list[str]) -> list[str]:
        earlier = (
            self.session.execute(
                select(col(BodsStatement.statement_id)).where(
                    col(BodsStatement.record_id) == record_key, col(BodsStatement.record_type) == "relationship"
                )
            )
            .scalars()
            .all()
        )
        return list(dict.fromkeys([*earlier, *replaces]))

    def _supersede(self, statement_ids: list[str], cutoffs: dict[str, date], default: date, by: str) -> None:
        """End the still-open interests of earlier statements, each at the cutoff for its type."""
        if not statement_ids:
            return
        interests = (
            self.session.execute(select(Interest).where(col(Interest.bods_statement_id).in_(statement_ids)))
            .scalars()
            .all()
        )
        for interest in interests:
            self._end(interest, cutoffs.get(interest.interest_type) or default, by)
        self.session.flush()

    def _end(self, interest: Interest, on: date, by: str) -> bool:
        if interest.end_date is not None and interest.end_date <= on:
            return False
        # A correction starting no later than the old version leaves the old one an empty span: it never counted.
        interest.end_date = max(on, interest.start_date) if interest.start_date else on
        interest.note = f"{interest.note} Superseded by BODS statement {by}.".strip()[:2000]
        self.summary.interests_ended += 1
        return True

    def _end_interests_of(self, party: Party, on: date, by: str) -> None:
        interests = (
            self.session.execute(
                select(Interest).where(
                    col(Interest.origin) == TieOrigin.BODS_IMPORT,
                    or_(col(Interest.interested_party_id) == party.id, col(Interest.subject_party_id) == party.id),
                    or_(col(Interest.end_date).is_(None), col(Interest.end_date) > on),
                )
            )
            .scalars()
            .all()
        )
        for interest in interests:
            self._end(interest, on, by)
        self.session.flush()

    def _add_interest(
        self, statement: RelationshipStatement, data: InterestData, holder: Party, subject: Party, record_key: str
    ) -> None:
        note = data.note
        if data.direct_or_indirect == "indirect":
            note = f"{note} Held indirectly; the intermediaries are not in the data.".strip()
        source = statement.source
        self.session.add(
            Interest(
                interested_party_id=holder.id,
                subject_party_id=subject.id,
                interest_type=data.interest_type,
                share_exact=data.exact,
                share_min=data.minimum,
                share_max=data.maximum,
                share_min_exclusive=data.minimum_exclusive,
                share_max_exclusive=data.maximum_exclusive,
                start_date=data.start,
                end_date=data.end,
                role_title=data.details,
                note=note,
                origin=TieOrigin.BODS_IMPORT,
                verification_level=source.level,
                source_description=source.description,
                source_url=source.url,
                source_date=source.on,
                recorded_by_id=getattr(self.actor, "id", None),
                bods_statement_id=statement.statement_id[:200],
                bods_record_id=record_key[:200],
                direct_or_indirect=data.direct_or_indirect,
                beneficial_ownership_or_control=data.beneficial,
                source_types=",".join(source.types)[:200],
                bods_end_date=data.given_end,
                bods_implied=not statement.interests,
            )
        )
        self.session.flush()
        self.summary.interests_added += 1


def import_bods(
    session: Session, actor, raw_statements: list[dict], file_name: str, progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Import one file's statements in the caller's transaction; the caller commits, or rolls back on error.

    Raises BodsFileError (naming the file and the statement) for a malformed file or a reference to a record that
    is neither in the file nor imported before; the caller must then roll back, as rows may have been flushed.
    """
    summary = ImportSummary(file_name, statements=len(raw_statements))
    raw_statements = drop_repeated_statements(raw_statements, file_name)
    summary.skipped += summary.statements - len(raw_statements)
    raw: dict[str, dict] = {}
    statements = parse_statements(raw_statements, file_name, summary.warnings, raw=raw)
    summary.warnings.extend(share_warnings(statements))
    _Importer(session, actor, statements, summary, raw).run(progress)
    record_import(session, actor, summary)
    return summary


def record_import(session: Session, actor, summary: ImportSummary) -> None:
    """The file's import in the audit trail, when it changed anything (either way of importing calls it)."""
    if not summary.changed:
        return
    record_event(
        session,
        actor,
        "bods.imported",
        "bods_file",
        None,
        after={
            "file": summary.file_name,
            "statements": summary.statements,
            "parties_added": summary.parties_added,
            "parties_updated": summary.parties_updated,
            "interests_added": summary.interests_added,
            "interests_ended": summary.interests_ended,
            "skipped": summary.skipped,
            "declarations_added": summary.declarations_added,
            "warnings": len(summary.warnings),
        },
    )
