"""The common shapes of a BODS 0.4 statement read, checked and parsed in compiled code (msgspec), for the import of
large files (marketplace.parties.bods_stream).

`fast_statement(line)` decodes one statement's JSON straight into typed structs that accept only what the 0.4
schema accepts, and less: every field the structs know is typed at least as strictly as the schema types it (its
enums, its date and URI formats as narrow patterns, its required fields, its number bounds), and a field they do
not know (annotations, addresses, alternate names, an Unspecified Record, component records, ...) makes the decode
fail. It then builds the same PartyStatement or RelationshipStatement that bods._Parser would.

It returns None for anything else: a statement it cannot read, one that is not valid, one whose parse would warn
(a future date) or refuse (an end before a start), and every statement of a shape it does not know. The caller
then reads that statement the present way (JSON decoding, the schema check, _Parser), which words any refusal as
before. tests/unit/parties/test_bods_fast.py holds the two to the same verdict and the same parse.
"""

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from marketplace.parties.bods import (
    INTEREST_TYPES,
    MAX_ID_LENGTH,
    NO_SOURCE_LEVEL,
    SOURCE_LEVELS,
    InterestData,
    PartyStatement,
    RelationshipStatement,
    SourceData,
    Statement,
)
from marketplace.parties.models import PartyKind
from marketplace.parties.vocabulary import InterestType

# Narrower than the schema's "uri" format (RFC 3987, absolute): http(s), a host of letters, digits, dots and
# hyphens, a path of unreserved characters. Anything else is left to the schema.
Uri = Annotated[str, Meta(pattern=r"^https?://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?$")]
# msgspec's date: YYYY-MM-DD and a real day (the schema's "date" format; "date-time" is left to the schema).
# A person's birth date: YYYY or YYYY-MM as the schema's pattern, or a date (checked when built).
BirthDate = Annotated[str, Meta(pattern=r"^[0-9]{4}(-(1[0-2]|0[1-9])(-[0-9]{2})?)?$")]
Percent = Annotated[float, Meta(ge=0, le=100)]


class _Strict(Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Publisher(_Strict):
    name: str


class PublicationDetails(_Strict):
    publicationDate: date
    bodsVersion: Literal["0.4"]
    publisher: Publisher
    license: Uri | UnsetType = UNSET


SourceType = Literal["selfDeclaration", "officialRegister", "thirdParty", "primaryResearch", "verified"]


class Source(_Strict):
    type: list[SourceType] | UnsetType = UNSET
    description: str | UnsetType = UNSET
    url: Uri | UnsetType = UNSET
    retrievedAt: date | UnsetType = UNSET


class Identifier(_Strict):
    id: str | UnsetType = UNSET
    scheme: str | UnsetType = UNSET
    schemeName: str | UnsetType = UNSET


class Jurisdiction(_Strict):
    name: str
    code: Annotated[str, Meta(min_length=2, max_length=6)] | UnsetType = UNSET


class Country(_Strict):
    name: str
    code: Annotated[str, Meta(min_length=2, max_length=2)] | UnsetType = UNSET


class EntityType(_Strict):
    # No subtype (its allowed values depend on the type) and no anonymous or unknown entities (Unspecified Records).
    type: Literal["registeredEntity", "legalEntity", "arrangement", "state", "stateBody"]


class EntityDetails(_Strict):
    isComponent: bool
    entityType: EntityType
    name: str | UnsetType = UNSET
    jurisdiction: Jurisdiction | UnsetType = UNSET
    identifiers: list[Identifier] | UnsetType = UNSET
    foundingDate: date | UnsetType = UNSET
    dissolutionDate: date | UnsetType = UNSET


class Name(_Strict):
    fullName: str
    type: Literal["legal", "translation", "transliteration", "former", "alternative", "birth"] | UnsetType = UNSET
    familyName: str | UnsetType = UNSET
    givenName: str | UnsetType = UNSET
    patronymicName: str | UnsetType = UNSET


class PersonDetails(_Strict):
    isComponent: bool
    personType: Literal["knownPerson"]
    names: list[Name] | UnsetType = UNSET
    identifiers: list[Identifier] | UnsetType = UNSET
    nationalities: list[Country] | UnsetType = UNSET
    birthDate: BirthDate | UnsetType = UNSET


class Share(_Strict):
    exact: Percent | UnsetType = UNSET
    minimum: Percent | UnsetType = UNSET
    maximum: Percent | UnsetType = UNSET
    exclusiveMinimum: Percent | UnsetType = UNSET
    exclusiveMaximum: Percent | UnsetType = UNSET


class Interest(_Strict):
    type: InterestType | UnsetType = UNSET
    directOrIndirect: Literal["direct", "indirect", "unknown"] | UnsetType = UNSET
    beneficialOwnershipOrControl: bool | UnsetType = UNSET
    details: str | UnsetType = UNSET
    share: Share | UnsetType = UNSET
    startDate: date | UnsetType = UNSET
    endDate: date | UnsetType = UNSET


class RelationshipDetails(_Strict):
    # Subject and interested party as record references only (an Unspecified Record goes the present way), and no
    # component records.
    isComponent: bool
    subject: Annotated[str, Meta(min_length=1)]
    interestedParty: Annotated[str, Meta(min_length=1)]
    interests: list[Interest] | UnsetType = UNSET


StatementId = Annotated[str, Meta(min_length=32, max_length=64)]


class _Statement(_Strict, tag_field="recordType"):
    statementId: StatementId
    declarationSubject: str
    statementDate: date
    recordId: str
    recordStatus: Literal["new", "updated", "closed"] | UnsetType = UNSET
    declaration: str | UnsetType = UNSET
    publicationDetails: PublicationDetails | UnsetType = UNSET
    source: Source | UnsetType = UNSET


class EntityStatement(_Statement, tag="entity", kw_only=True):
    recordDetails: EntityDetails


class PersonStatement(_Statement, tag="person", kw_only=True):
    recordDetails: PersonDetails


class RelationshipStatementShape(_Statement, tag="relationship", kw_only=True):
    recordDetails: RelationshipDetails


_DECODER = msgspec.json.Decoder(EntityStatement | PersonStatement | RelationshipStatementShape)
_SOURCE_LEVELS = dict(SOURCE_LEVELS)


class _NotFast(Exception):
    """The fast path cannot say what _Parser would: leave the statement to it."""


def decode(text: str | bytes) -> EntityStatement | PersonStatement | RelationshipStatementShape | None:
    """The statement as typed structs when it has a shape they know and holds what the 0.4 schema allows, else
    None."""
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError:  # ValidationError is one
        return None


def fast_statement(text: str | bytes, today: date) -> Statement | None:
    """What _Parser(validate=False, today=today).parse would make of this statement, for a statement the 0.4 schema
    accepts and whose parse neither warns nor refuses; None for any other (read it the present way)."""
    shape = decode(text)
    if shape is None:
        return None
    try:
        return build(shape, today)
    except _NotFast:
        return None


def build(shape, today: date) -> Statement:
    """_Parser._parse_04 for a decoded statement; _NotFast where the parser would warn or refuse."""
    statement_id = shape.statementId.strip()
    record_id = shape.recordId.strip()
    if not statement_id or not record_id or len(record_id) > MAX_ID_LENGTH - len("#interestedParty"):
        raise _NotFast
    if len(statement_id) > MAX_ID_LENGTH:  # cannot happen at 64 characters; kept as the parser's rule
        raise _NotFast
    published = shape.publicationDetails
    on = _not_future(shape.statementDate, today)
    if published is not UNSET:
        published_on = _not_future(published.publicationDate, today)
        on = on or published_on
    status = shape.recordStatus or "new"  # UNSET is falsy
    details = shape.recordDetails
    if type(shape) is RelationshipStatementShape:
        interests = details.interests if details.interests is not UNSET else []
        return RelationshipStatement(
            subject=details.subject,
            interested=details.interestedParty,
            unspecified=None,
            components=[],
            interests=[_interest(item) for item in interests],
            source=_source(shape.source, on, today),
            statement_id=statement_id,
            record_id=record_id,
            status=status,
            on=on,
        )
    if type(shape) is EntityStatement:
        record_type, party_type = "entity", details.entityType.type
        name = (details.name or "").strip()
        jurisdiction = details.jurisdiction
        birth_date, nationalities = "", []
    else:
        record_type, party_type = "person", details.personType
        name = _person_name(details.names or [])
        jurisdiction = UNSET
        birth_date = _birth_date(details.birthDate, today)
        nationalities = [
            country
            for item in details.nationalities or []
            if (country := {key: value for key, value in (("code", item.code), ("name", item.name)) if value})
        ]
    return PartyStatement(
        birth_date=birth_date,
        nationalities=nationalities,
        record_type=record_type,
        kind=PartyKind(record_type),
        party_type=party_type[:40],
        name=(name or f"Unnamed {record_type}")[:300],
        jurisdiction=(jurisdiction.code or jurisdiction.name or "")[:80] if jurisdiction is not UNSET else "",
        identifiers=_identifiers(details.identifiers),
        unspecified_reason="",
        unspecified_description="",
        entity_subtype="",
        statement_id=statement_id,
        record_id=record_id,
        status=status,
        on=on,
    )


def _identifiers(identifiers: list[Identifier] | UnsetType) -> list[tuple[str, str]]:
    if identifiers is UNSET:
        return []
    found = []
    for item in identifiers:
        if item.scheme is UNSET and item.schemeName is UNSET:  # the schema requires one of them
            raise _NotFast
        if item.id:
            found.append((item.scheme or item.schemeName or "", item.id))
    return found


def _not_future(value: date, today: date) -> date:
    if value > today:  # the parser warns
        raise _NotFast
    return value


def _birth_date(value, today: date) -> str:
    if value is UNSET or not value:
        return ""
    if len(value) == 10:
        try:
            date.fromisoformat(value)
        except ValueError:  # the schema's date format refuses it
            raise _NotFast from None
    if value > today.isoformat()[: len(value)]:  # the parser warns
        raise _NotFast
    return value


def _person_name(names: list[Name]) -> str:
    named = [n for n in names if n.fullName]
    legal = [n for n in named if n.type == "legal"]  # "individual" is not in the 0.4 enum
    return (legal or named)[0].fullName.strip() if named else ""


def _source(source, on: date | None, today: date) -> SourceData:
    if source is UNSET:
        return SourceData(NO_SOURCE_LEVEL, on=on)
    types = list(source.type) if source.type is not UNSET else []
    level = next((level for code, level in SOURCE_LEVELS if code in types), NO_SOURCE_LEVEL)
    retrieved = _not_future(source.retrievedAt, today) if source.retrievedAt is not UNSET else None
    return SourceData(
        level,
        (source.description or "")[:1000],
        (source.url or "")[:1000],
        retrieved or on,
        tuple(types),
    )


def _interest(item: Interest) -> InterestData:
    code = item.type or "unknownInterest"
    note = ""
    if code not in INTEREST_TYPES:
        code, note = "unknownInterest", f"BODS interest type “{code}”."
    exact = minimum = maximum = None
    min_exclusive = max_exclusive = False
    share = item.share
    if share is not UNSET:
        exact = share.exact if share.exact is not UNSET else None
        minimum = share.minimum if share.minimum is not UNSET else None
        maximum = share.maximum if share.maximum is not UNSET else None
        if share.exclusiveMinimum is not UNSET:
            minimum, min_exclusive = share.exclusiveMinimum, True
        if share.exclusiveMaximum is not UNSET:
            maximum, max_exclusive = share.exclusiveMaximum, True
        if exact is not None:
            minimum = maximum = None
            min_exclusive = max_exclusive = False
        elif minimum is not None and maximum is not None and minimum > maximum:  # the parser refuses
            raise _NotFast
    start = item.startDate if item.startDate is not UNSET else None
    end = item.endDate if item.endDate is not UNSET else None
    if start and end and end < start:  # the parser refuses
        raise _NotFast
    beneficial = item.beneficialOwnershipOrControl
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
        direct_or_indirect=(item.directOrIndirect or "")[:20],
        details=(item.details or "")[:200],
        note=note,
        beneficial=beneficial if beneficial is not UNSET else None,
    )
