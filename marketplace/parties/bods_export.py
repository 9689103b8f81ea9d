"""Exporting a vendor's ownership graph as BODS 0.4, valid against the official schema (bods_schema/).

The export holds the vendor's entity record and every party and relationship upstream of it: everything with a
route into the vendor through interests, as of any date, with the history of each record.

What came from BODS goes back out as the source had it:

- A BODS 0.4 statement imported is written back as it was read (its statementId, recordId, recordStatus,
  statementDate, publicationDetails, source, annotations and every field), in import order, so that a later
  statement of the same record, imported after a round trip, updates it instead of adding a second version. Two
  things may change: a declarationSubject that is not in the export becomes the vendor's record (and a component
  whose indirect relationship is not in the export is no longer marked isComponent), and a reference to a party
  merged since into another becomes the kept party's recordId; a statement whose references changed is a new
  statement of the same record (new statementId, same recordId and recordStatus).
- An imported party whose data changed since (identifiers added, names merged into it) gets one more statement of
  its record, recordStatus "updated".
- A BODS 0.2/0.3 statement is translated to 0.4: its record keeps its recordId (the statementID that began its
  chain of replacesStatements); the statementId is new (uuid5 of the original), as the content is new.
- An unspecified interested party ({"reason": ...}) stays inline; "no beneficial owners" declarations stay.

The platform's own facts (disclosures, admin facts) are relationships with stable minted ids
("marketplace-party-<id>", "marketplace-relationship-<id>", uuid5 statementIds of our ids and the content),
grouped per holder, subject and source, with an annotation saying where they come from. What BODS cannot carry
(commercial ties, review status) is said in annotations and in ExportResult.left_out.
"""

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, OrgKind
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureVersion
from marketplace.parties.bods import PARTY_RECORD_TYPES, _Parser, statement_digest
from marketplace.parties.counting import counted_version_ids
from marketplace.parties.models import (
    BodsStatement,
    CommercialTie,
    Interest,
    NoOwnersDeclaration,
    Party,
    PartyIdentifier,
    PartyKind,
    TieOrigin,
    VerificationLevel,
)
from marketplace.parties.service import NAME_ALIAS_SCHEME, canonical_party

SCHEMA_DIR = Path(__file__).parent / "bods_schema"
SCHEMA_FILES = (
    "statement.json",
    "entity-record.json",
    "person-record.json",
    "relationship-record.json",
    "components.json",
)
BODS_VERSION = "0.4"
PUBLISHER = {"name": "Arm's-length labeling marketplace"}
STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://marketplace.invalid/bods/statement")
SOURCE_TYPES = {
    VerificationLevel.ADMIN_VERIFIED: "verified",
    VerificationLevel.OFFICIAL_REGISTER: "officialRegister",
    VerificationLevel.THIRD_PARTY: "thirdParty",
    VerificationLevel.SELF_DECLARED: "selfDeclaration",
}
PERSON_TYPES = {"knownPerson", "anonymousPerson", "unknownPerson"}
ENTITY_TYPES = {
    "registeredEntity",
    "legalEntity",
    "arrangement",
    "anonymousEntity",
    "unknownEntity",
    "state",
    "stateBody",
}
UNSPECIFIED_REASONS = {
    "noBeneficialOwners",
    "subjectUnableToConfirmOrIdentifyBeneficialOwner",
    "interestedPartyHasNotProvidedInformation",
    "subjectExemptFromDisclosure",
    "interestedPartyExemptFromDisclosure",
    "unknown",
    "informationUnknownToPublisher",
}
# org-id.guide scheme codes look like GB-COH or XI-LEI; anything else is a scheme's name.
ORG_ID_SCHEME = re.compile(r"^[A-Z]{2}-[A-Z0-9]+$")
JURISDICTION_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


class BodsExportError(ValueError):
    """The vendor to export cannot be found (or is ambiguous)."""


# --- the official schema -------------------------------------------------------------------------------------


@cache
def statements_validator() -> Draft202012Validator:
    """A Draft 2020-12 validator of a statements array, its cross-file $refs (urn:...) served from bods_schema/."""
    resources = []
    for name in SCHEMA_FILES:
        contents = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    schema = registry.contents("urn:statement")
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(statements: list[dict]) -> list[str]:
    """What makes these statements invalid BODS 0.4, one line each; empty when they are valid."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in statements_validator().iter_errors(statements)
    ]


# --- finding the vendor and its upstream graph -----------------------------------------------------------------


def find_vendor_party(session: Session, vendor: str) -> Party:
    """The party of the vendor organisation named so (exact, case-insensitive), else the party with that recordId,
    else the one entity of that exact name. Raises BodsExportError naming it when there is none, or several."""
    wanted = vendor.strip()
    orgs = (
        session.execute(
            select(Organization).where(
                func.lower(Organization.name) == wanted.lower(),
                col(Organization.kind) == OrgKind.VENDOR,
                col(Organization.party_id).is_not(None),
            )
        )
        .scalars()
        .all()
    )
    if len(orgs) > 1:
        raise BodsExportError(f"Several vendors are named “{wanted}”; use the party's BODS recordId.")
    if orgs:
        return cast(Party, canonical_party(session, session.get(Party, orgs[0].party_id)))
    party = session.execute(select(Party).where(col(Party.bods_record_id) == wanted)).scalar_one_or_none()
    if party is None:
        parties = (
            session.execute(
                select(Party).where(
                    func.lower(Party.name) == wanted.lower(),
                    col(Party.kind) == PartyKind.ENTITY,
                    col(Party.merged_into_id).is_(None),
                )
            )
            .scalars()
            .all()
        )
        if len(parties) > 1:
            raise BodsExportError(f"Several parties are named “{wanted}”; use the party's BODS recordId.")
        party = parties[0] if parties else None
    if party is None:
        raise BodsExportError(f"No vendor or party is named “{wanted}” (or has that BODS recordId).")
    return cast(Party, canonical_party(session, party))


class _Graph:
    """The parties upstream of one party, merged parties standing for the party they joined."""

    def __init__(self, session: Session):
        self.session = session
        self.canonical: dict[int, Party] = {}

    def party(self, party_id: int) -> Party:
        if party_id not in self.canonical:
            self.canonical[party_id] = cast(Party, canonical_party(self.session, self.session.get(Party, party_id)))
        return self.canonical[party_id]

    def aliases(self, party_ids: set[int]) -> set[int]:
        """These parties and every party merged into them."""
        found, frontier = set(party_ids), set(party_ids)
        while frontier:
            frontier = (
                set(
                    self.session.execute(select(col(Party.id)).where(col(Party.merged_into_id).in_(frontier))).scalars()
                )
                - found
            )
            found |= frontier
        return found

    def upstream(self, root: Party) -> tuple[list[Party], list[Interest]]:
        counted = counted_version_ids(self.session)
        parties, interests, frontier = {root.id: root}, {}, {root.id}
        while frontier:
            rows = (
                self.session.execute(
                    select(Interest).where(
                        col(Interest.subject_party_id).in_(self.aliases(frontier)),
                        or_(col(Interest.origin) != TieOrigin.DISCLOSURE, col(Interest.disclosure_id).in_(counted)),
                    )
                )
                .scalars()
                .all()
            )
            frontier = set()
            for interest in rows:
                interests[interest.id] = interest
                holder = self.party(interest.interested_party_id)
                if holder.id not in parties:
                    parties[holder.id] = holder
                    frontier.add(holder.id)
        return list(parties.values()), sorted(interests.values(), key=lambda i: i.id)


# --- building statements ---------------------------------------------------------------------------------------

INLINE_SUFFIX = "#interestedParty"  # an inline unspecified interested party's record (marketplace.parties.bods)
ORIGIN_WORDS = {TieOrigin.DISCLOSURE: "the vendor's ownership disclosure", TieOrigin.ADMIN_FACT: "a platform admin"}
COMMERCIAL_WORDS = {
    "customer": "major customer",
    "exclusive_agreement": "exclusive agreement",
    "subcontractor": "subcontractor",
    "investor": "investor",
    "lender": "lender",
}


def record_id_of(party: Party) -> str:
    return party.bods_record_id or f"marketplace-party-{party.id}"


def is_inline(party: Party) -> bool:
    """An unspecified interested party that BODS gave inline ({"reason": ...}), not as a record of its own."""
    return bool(party.bods_record_id) and cast(str, party.bods_record_id).endswith(INLINE_SUFFIX)


def _statement_id(kind: str, our_ids, details: dict) -> str:
    digest = hashlib.sha256(json.dumps(details, sort_keys=True, default=str).encode()).hexdigest()
    return str(uuid.uuid5(STATEMENT_NAMESPACE, f"{kind}:{our_ids}:{digest}"))


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _is_person(party: Party) -> bool:
    return party.kind == PartyKind.PERSON or (party.kind == PartyKind.UNSPECIFIED and party.party_type in PERSON_TYPES)


def _unspecified_details(party: Party) -> dict | None:
    """Why an anonymous or unknown party is not named; None when we do not know (BODS: SHOULD, not MUST)."""
    if party.unspecified_reason not in UNSPECIFIED_REASONS and not party.description:
        return None
    reason = party.unspecified_reason if party.unspecified_reason in UNSPECIFIED_REASONS else "unknown"
    details = {"reason": reason}
    if party.description:
        details["description"] = party.description
    return details


def _identifiers(identifiers: list[PartyIdentifier]) -> list[dict]:
    out = []
    for identifier in identifiers:
        scheme = identifier.scheme.strip() or "Unknown scheme"
        key = "scheme" if ORG_ID_SCHEME.match(scheme) else "schemeName"
        out.append({"id": identifier.value, key: scheme})
    return out


def _party_details(party: Party, identifiers: list[PartyIdentifier]) -> tuple[str, dict]:
    """A party's recordDetails. Names it was known by before a merge are kept by the registry as identifiers
    of scheme "alias"; BODS has a place for them: an entity's alternateNames, a person's "alternative" names."""
    former = list(dict.fromkeys(i.value for i in identifiers if i.scheme == NAME_ALIAS_SCHEME and i.value))
    identifiers = [i for i in identifiers if i.scheme != NAME_ALIAS_SCHEME]
    if _is_person(party):
        person_type = party.party_type if party.party_type in PERSON_TYPES else "knownPerson"
        names = [{"fullName": party.name}] + [{"fullName": name, "type": "alternative"} for name in former]
        details: dict[str, Any] = {"isComponent": False, "personType": person_type, "names": names}
        if person_type != "knownPerson" and _unspecified_details(party):
            details["unspecifiedPersonDetails"] = _unspecified_details(party)
        if party.nationalities:
            details["nationalities"] = json.loads(party.nationalities)
        if party.birth_date:
            details["birthDate"] = party.birth_date
        record_type = "person"
    else:
        entity_type = (
            party.party_type
            if party.party_type in ENTITY_TYPES
            else ("unknownEntity" if party.kind == PartyKind.UNSPECIFIED else "registeredEntity")
        )
        details = {"isComponent": False, "entityType": {"type": entity_type}, "name": party.name}
        if party.entity_subtype:
            details["entityType"]["subtype"] = party.entity_subtype
        if former:
            details["alternateNames"] = former
        if entity_type in ("anonymousEntity", "unknownEntity") and _unspecified_details(party):
            details["unspecifiedEntityDetails"] = _unspecified_details(party)
        if party.jurisdiction:
            code = party.jurisdiction.strip()
            details["jurisdiction"] = {"name": code, "code": code} if JURISDICTION_CODE.match(code) else {"name": code}
        record_type = "entity"
    if identifiers:
        details["identifiers"] = _identifiers(identifiers)
    return record_type, details


def _share(interest: Interest) -> dict | None:
    if interest.share_exact is not None:
        return {"exact": _number(interest.share_exact)}
    share = {}
    if interest.share_min is not None:
        share["exclusiveMinimum" if interest.share_min_exclusive else "minimum"] = _number(interest.share_min)
    if interest.share_max is not None:
        share["exclusiveMaximum" if interest.share_max_exclusive else "maximum"] = _number(interest.share_max)
    return share or None


def _interest(interest: Interest) -> dict:
    """An interest as BODS says it. One from BODS keeps the end date its statement gave: the end that a later
    version of the record set is said by that version, which the export carries too."""
    out: dict[str, Any] = {"type": interest.interest_type}
    if interest.role_title:
        out["details"] = interest.role_title
    if interest.direct_or_indirect:
        out["directOrIndirect"] = interest.direct_or_indirect
    if interest.beneficial_ownership_or_control is not None:
        out["beneficialOwnershipOrControl"] = interest.beneficial_ownership_or_control
    share = _share(interest)
    if share:
        out["share"] = share
    if interest.start_date:
        out["startDate"] = interest.start_date.isoformat()
    end = interest.bods_end_date if interest.origin == TieOrigin.BODS_IMPORT else interest.end_date
    if end:
        out["endDate"] = end.isoformat()
    return out


def _source(interest) -> dict:
    types = [t for t in (interest.source_types or "").split(",") if t]
    source = {"type": types or [SOURCE_TYPES.get(interest.verification_level, "selfDeclaration")]}
    if interest.source_description:
        source["description"] = interest.source_description
    url = urlparse(interest.source_url or "")
    if url.scheme in ("http", "https") and url.netloc:
        source["url"] = interest.source_url
    if interest.source_date:
        source["retrievedAt"] = interest.source_date.isoformat()
    return source


def _annotation(description: str, on: date) -> dict:
    return {
        "motivation": "commenting",
        "statementPointerTarget": "",
        "description": description,
        "creationDate": on.isoformat(),
        "createdBy": dict(PUBLISHER),
    }


class _Writer:
    def __init__(self, declaration_subject: str, published: date):
        self.declaration_subject = declaration_subject
        self.published = published
        self.publication = {
            "publicationDate": published.isoformat(),
            "bodsVersion": BODS_VERSION,
            "publisher": dict(PUBLISHER),
        }

    def statement(
        self,
        statement_id: str,
        record_id: str,
        record_type: str,
        details: dict,
        on: date,
        source: dict | None = None,
        status: str = "new",
        annotations: Sequence[dict] = (),
    ) -> dict:
        statement: dict[str, Any] = {
            "statementId": statement_id,
            "statementDate": on.isoformat(),
            "publicationDetails": self.publication,
            "declarationSubject": self.declaration_subject,
            "recordId": record_id,
            "recordType": record_type,
            "recordStatus": status,
            "recordDetails": details,
        }
        if source:
            statement["source"] = source
        if annotations:
            statement["annotations"] = list(annotations)
        return statement


def _digest(statement: dict) -> str:
    """The digest the import gives this statement (marketplace.parties.bods.statement_digest)."""
    return statement_digest(_Parser("export", validate=False).parse(statement, 1))


@dataclass
class ExportResult:
    statements: list[dict]
    # What the export leaves out or carries only as annotations, one sentence each.
    left_out: list[str] = field(default_factory=list)


def export_vendor(session: Session, vendor: str, published: date | None = None) -> list[dict]:
    """BODS 0.4 statements for the vendor and everything upstream of it: parties first, then relationships.

    Raises BodsExportError when no vendor (organisation name, recordId, or entity name) matches.
    """
    return export_vendor_report(session, vendor, published).statements


def export_vendor_report(session: Session, vendor: str, published: date | None = None) -> ExportResult:
    """The export (see export_vendor) and what it leaves out."""
    return _Export(session, find_vendor_party(session, vendor), published or utcnow().date()).run()


def export_organization_report(session: Session, org_id: int, published: date | None = None) -> ExportResult:
    """The export (see export_vendor) of the vendor organisation with this id. Raises BodsExportError when it is no
    vendor of the platform."""
    org = session.get(Organization, org_id)
    if org is None or org.kind != OrgKind.VENDOR or org.party_id is None:
        raise BodsExportError(f"No vendor has the id {org_id}.")
    root = cast(Party, canonical_party(session, session.get(Party, org.party_id)))
    return _Export(session, root, published or utcnow().date()).run()


class _Export:
    def __init__(self, session: Session, root: Party, published: date):
        self.session = session
        self.root = root
        self.graph = _Graph(session)
        self.writer = _Writer(record_id_of(root), published)
        self.left_out: list[str] = []

    def run(self) -> ExportResult:
        parties, interests = self.graph.upstream(self.root)
        self.parties = {p.id: p for p in parties}
        aliases = self.graph.aliases(set(self.parties))
        log = (
            self.session.execute(
                select(BodsStatement).where(col(BodsStatement.party_id).in_(aliases)).order_by(col(BodsStatement.id))
            )
            .scalars()
            .all()
        )
        relationship_rows = [row for row in log if row.record_type == "relationship" and row.content]
        # A party a written-back relationship names, though no interest of ours leads to it (a closed record).
        for row in relationship_rows:
            for reference in self._references(json.loads(cast(str, row.content))):
                party = self._party_of_reference(reference)
                if party is not None:
                    self.parties.setdefault(party.id, party)
        # Parties of our own first, then what was imported in the order it was read (each record's history in
        # order, every party before the relationships naming it), then new versions of imported parties, then
        # the platform's own relationships.
        imported: list[Any]  # (key, statement) pairs, then the statements
        built, imported, updated = self._party_statements(list(self.parties.values()))
        imported_relationships, platform = self._relationships(relationship_rows, interests)
        imported = [statement for _key, statement in sorted(imported + imported_relationships, key=lambda p: p[0])]
        party_statements = built + [s for s in imported if s["recordType"] in PARTY_RECORD_TYPES] + updated
        statements = built + imported + updated + platform
        records = {s["recordId"] for s in statements if s["recordType"] in PARTY_RECORD_TYPES}
        components = {c for s in statements for c in (s.get("recordDetails") or {}).get("componentRecords") or []}
        for statement in statements:
            if statement["declarationSubject"] not in records:
                statement["declarationSubject"] = self.writer.declaration_subject
            details = statement.get("recordDetails") or {}
            # A component of an indirect relationship that is downstream of this vendor, so not in the export:
            # here it stands on its own.
            if details.get("isComponent") and statement["recordId"] not in components:
                details["isComponent"] = False
        self._commercial_ties(party_statements)
        return ExportResult(statements, self.left_out)

    # --- references to records ---

    @staticmethod
    def _references(statement: dict) -> list[str]:
        details = statement.get("recordDetails") or {}
        return [value for value in (details.get("subject"), details.get("interestedParty")) if isinstance(value, str)]

    def _party_of_reference(self, reference: str) -> Party | None:
        party_id = self.session.execute(
            select(col(BodsStatement.party_id))
            .where(
                or_(col(BodsStatement.record_id) == reference, col(BodsStatement.statement_id) == reference),
                col(BodsStatement.record_type).in_(PARTY_RECORD_TYPES),
                col(BodsStatement.party_id).is_not(None),
            )
            .order_by(col(BodsStatement.id).desc())
            .limit(1)
        ).scalar_one_or_none()
        if party_id is not None:
            return self.graph.party(party_id)
        party = self.session.execute(select(Party).where(col(Party.bods_record_id) == reference)).scalar_one_or_none()
        return self.graph.party(party.id) if party is not None else None

    # --- parties ---

    def _party_statements(self, parties: list[Party]) -> tuple[list[dict], list[tuple[int, dict]], list[dict]]:
        """(statements of parties not from BODS 0.4, imported statements by import order, new versions)."""
        identifiers = defaultdict(list)
        for identifier in self.session.execute(
            select(PartyIdentifier)
            .where(col(PartyIdentifier.party_id).in_(self.graph.aliases({p.id for p in parties})))
            .order_by(col(PartyIdentifier.id))
        ).scalars():
            identifiers[self.graph.party(identifier.party_id).id].append(identifier)
        built, imported, updated = [], [], []
        for party in parties:
            if is_inline(party):
                continue  # written inline in the relationships it holds
            record_type, details = _party_details(party, identifiers[party.id])
            history = self._record_history(party)
            imported.extend(history)
            written = [statement for _key, statement in history]
            if not written:
                status = "updated" if party.bods_record_id and self._has_history(party.bods_record_id) else "new"
                built.append(
                    self.writer.statement(
                        _statement_id("party", party.id, details),
                        record_id_of(party),
                        record_type,
                        details,
                        party.created_at.date(),
                        status=status,
                    )
                )
                continue
            last = written[-1]
            if last.get("recordStatus") == "closed":
                continue
            version = self.writer.statement(
                _statement_id("party", party.id, details),
                record_id_of(party),
                record_type,
                details,
                self.writer.published,
                status="updated",
            )
            probe = {**version, "statementDate": last.get("statementDate"), "recordStatus": last.get("recordStatus")}
            if _digest(probe) != _digest(last):  # our data says more than the source did: one more version
                updated.append(version)
        return built, imported, updated

    def _record_history(self, party: Party) -> list[tuple[int, dict]]:
        """The 0.4 statements of the party's record as they were imported, with their place in import order."""
        if not party.bods_record_id:
            return []
        rows = self.session.execute(
            select(col(BodsStatement.id), col(BodsStatement.content))
            .where(
                col(BodsStatement.record_id) == party.bods_record_id,
                col(BodsStatement.record_type).in_(PARTY_RECORD_TYPES),
                col(BodsStatement.content).is_not(None),
            )
            .order_by(col(BodsStatement.id))
        ).all()
        return [(row_id, json.loads(cast(str, content))) for row_id, content in rows]

    def _has_history(self, record_id: str) -> bool:
        return (
            self.session.execute(
                select(col(BodsStatement.id)).where(col(BodsStatement.record_id) == record_id).limit(1)
            ).first()
            is not None
        )

    # --- relationships ---

    def _relationships(
        self, rows: list[BodsStatement], interests: list[Interest]
    ) -> tuple[list[tuple[int, dict]], list[dict]]:
        """(Imported relationships as the source had them, 0.2/0.3 ones translated, with their place in import
        order, "no beneficial owners" declarations among them; the platform's own facts.)"""
        written_back = {row.statement_id for row in rows}
        ordered: list[tuple[int, dict]] = [(row.id, self._write_back(row)) for row in rows]
        translated: dict[str, list[Interest]] = defaultdict(list)
        platform: list[Interest] = []
        for interest in interests:
            if interest.origin == TieOrigin.BODS_IMPORT and interest.bods_statement_id:
                if interest.bods_statement_id not in written_back:
                    translated[interest.bods_statement_id].append(interest)
            else:
                platform.append(interest)
        log = {
            row.statement_id: row
            for row in self.session.execute(
                select(BodsStatement).where(col(BodsStatement.statement_id).in_(list(translated)))
            ).scalars()
        }
        for statement_id, group in translated.items():
            row = log.get(statement_id)
            statement = self._translated(statement_id, row, group)
            if statement is not None:
                ordered.append((row.id if row is not None else 0, statement))
        declarations = (
            self.session.execute(
                select(NoOwnersDeclaration)
                .where(col(NoOwnersDeclaration.subject_party_id).in_(self.graph.aliases(set(self.parties))))
                .order_by(col(NoOwnersDeclaration.id))
            )
            .scalars()
            .all()
        )
        for declaration in declarations:
            if declaration.bods_statement_id not in written_back:
                row = self.session.execute(
                    select(BodsStatement).where(col(BodsStatement.statement_id) == declaration.bods_statement_id)
                ).scalar_one_or_none()
                ordered.append((row.id if row is not None else 0, self._declaration(declaration)))
        return ordered, self._platform(platform)

    def _write_back(self, row: BodsStatement) -> dict:
        """An imported 0.4 relationship statement as read; a reference to a merged party now names the kept one
        (a new statement of the same record)."""
        statement = json.loads(cast(str, row.content))
        details = statement.get("recordDetails") or {}
        changed = False
        for key in ("subject", "interestedParty"):
            reference = details.get(key)
            if isinstance(reference, str):
                party = self._party_of_reference(reference)
                if party is not None and record_id_of(party) != reference:
                    details[key], changed = record_id_of(party), True
        if changed:
            statement["statementId"] = str(
                uuid.uuid5(STATEMENT_NAMESPACE, f"rewritten:{row.statement_id}:{_digest(statement)}")
            )
        return statement

    def _holder(self, party: Party) -> str | dict:
        if is_inline(party):
            inline = {
                "reason": party.unspecified_reason if party.unspecified_reason in UNSPECIFIED_REASONS else "unknown"
            }
            if party.description:
                inline["description"] = party.description
            return inline
        return record_id_of(party)

    def _translated(self, statement_id: str, row: BodsStatement | None, group: list[Interest]) -> dict | None:
        """A 0.2/0.3 statement's interests as a 0.4 statement of the same record."""
        first = group[0]
        holder, subject = self.graph.party(first.interested_party_id), self.graph.party(first.subject_party_id)
        if _is_person(subject):
            self.left_out.append(
                f"BODS statement {statement_id}: its subject {subject.name} is a person; BODS 0.4 "
                "subjects are entities, so it is not written."
            )
            return None
        details = {"isComponent": False, "subject": record_id_of(subject), "interestedParty": self._holder(holder)}
        listed = [_interest(interest) for interest in group if not interest.bods_implied]
        if listed:
            details["interests"] = listed
        on = (row.statement_date if row is not None else None) or first.source_date or first.recorded_at.date()
        status = row.record_status if row is not None else "new"
        return self.writer.statement(
            str(uuid.uuid5(STATEMENT_NAMESPACE, f"translated:{statement_id}")),
            first.bods_record_id or statement_id,
            "relationship",
            details,
            on,
            _source(first),
            status=status,
        )

    def _declaration(self, declaration: NoOwnersDeclaration) -> dict:
        holder = {"reason": "noBeneficialOwners"}
        if declaration.description:
            holder["description"] = declaration.description
        details = {
            "isComponent": False,
            "subject": record_id_of(self.graph.party(declaration.subject_party_id)),
            "interestedParty": holder,
        }
        on = declaration.statement_date or declaration.source_date or self.writer.published
        statement_id = str(uuid.uuid5(STATEMENT_NAMESPACE, f"translated:{declaration.bods_statement_id}"))
        return self.writer.statement(
            statement_id, declaration.bods_record_id, "relationship", details, on, _source(declaration)
        )

    def _platform(self, interests: list[Interest]) -> list[dict]:
        """The platform's own facts: one relationship record per holder, subject and source."""
        groups: dict[tuple, list[Interest]] = defaultdict(list)
        skipped = 0
        for interest in interests:
            holder = self.graph.party(interest.interested_party_id)
            subject = self.graph.party(interest.subject_party_id)
            if _is_person(subject):
                skipped += 1
                continue
            source_key = (
                interest.origin,
                interest.disclosure_id,
                interest.verification_level,
                interest.source_description,
                interest.source_url,
                interest.source_date,
            )
            groups[(holder.id, subject.id, source_key)].append(interest)
        if skipped:
            self.left_out.append(f"{skipped} interests held in a person (BODS 0.4 subjects are entities).")
        versions = self._disclosure_versions({i.disclosure_id for i in interests if i.disclosure_id})
        statements = []
        for (holder_id, subject_id, _source_key), group in groups.items():
            first = group[0]
            details = {
                "isComponent": False,
                "subject": record_id_of(self.graph.party(subject_id)),
                "interestedParty": self._holder(self.graph.party(holder_id)),
                "interests": [_interest(interest) for interest in group],
            }
            our_ids = ",".join(str(i.id) for i in group)
            on = first.source_date or first.recorded_at.date()
            statements.append(
                self.writer.statement(
                    _statement_id("relationship", our_ids, details),
                    f"marketplace-relationship-{first.id}",
                    "relationship",
                    details,
                    on,
                    _source(first),
                    annotations=[_annotation(self._origin_text(first, versions), self.writer.published)],
                )
            )
        return statements

    def _disclosure_versions(self, ids: set[int]) -> dict[int, DisclosureVersion]:
        if not ids:
            return {}
        return {
            v.id: v
            for v in self.session.execute(select(DisclosureVersion).where(col(DisclosureVersion.id).in_(ids))).scalars()
        }

    @staticmethod
    def _origin_text(interest: Interest, versions: dict[int, DisclosureVersion]) -> str:
        level = str(interest.verification_level)
        if interest.origin == TieOrigin.DISCLOSURE and interest.disclosure_id in versions:
            version = versions[interest.disclosure_id]
            return (
                f"From {ORIGIN_WORDS[TieOrigin.DISCLOSURE]}, version {version.number} "
                f"({str(version.status).replace('_', ' ')}); {level}."
            )
        return f"From {ORIGIN_WORDS.get(interest.origin, str(interest.origin))}; {level}."

    # --- what BODS cannot say ---

    def _commercial_ties(self, party_statements: list[dict]) -> None:
        """Commercial ties (customers, exclusive agreements, funding, subcontracting) have no BODS relationship:
        they are annotations on the vendor's last statement, and said to be left out."""
        root_ids = self.graph.aliases({self.root.id})
        ties = (
            self.session.execute(
                select(CommercialTie)
                .where(col(CommercialTie.vendor_party_id).in_(root_ids))
                .order_by(col(CommercialTie.id))
            )
            .scalars()
            .all()
        )
        if not ties:
            return
        own = [s for s in party_statements if s["recordId"] == record_id_of(self.root)]
        notes = []
        for tie in ties:
            counterparty = self.graph.party(tie.counterparty_id)
            text = f"Commercial tie: {COMMERCIAL_WORDS.get(str(tie.kind), str(tie.kind))} {counterparty.name}"
            if tie.revenue_share_pct is not None:
                text += f", {_number(tie.revenue_share_pct)}% of revenue"
            if tie.start_date or tie.end_date:
                text += (
                    f", from {tie.start_date.isoformat() if tie.start_date else '?'}"
                    f" to {tie.end_date.isoformat() if tie.end_date else 'now'}"
                )
            notes.append(_annotation(f"{text} ({tie.verification_level}).", self.writer.published))
        if own:
            own[-1].setdefault("annotations", []).extend(notes)
        self.left_out.append(
            f"{len(ties)} commercial ties (customers, exclusive agreements, investors, lenders, "
            "subcontractors): BODS has no relationship for them; they are annotations on the "
            "vendor's statement, which an import does not read back."
        )
