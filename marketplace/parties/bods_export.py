"""Exporting a vendor's ownership graph as BODS 0.4, valid against the official schema (bods_schema/).

The export holds the vendor's entity record and every party and relationship upstream of it: everything with a
route into the vendor through interests, as of any date (ended interests carry their end date). Interests are
grouped into one relationship record per holder, subject and source. Identifiers are stable: a party's recordId
is its bods_record_id when it came from BODS, else "marketplace-party-<id>"; statementIds are uuid5 of our ids and
of the statement's content, so the same data exports the same ids and changed data gets new statements.
"""

import hashlib
import json
import re
import uuid
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, OrgKind
from marketplace.db_types import utcnow
from marketplace.disclosures.counting import counted_version_ids
from marketplace.parties.models import Interest, Party, PartyIdentifier, PartyKind, TieOrigin, VerificationLevel
from marketplace.parties.service import NAME_ALIAS_SCHEME, canonical_party

SCHEMA_DIR = Path(__file__).parent / "bods_schema"
SCHEMA_FILES = ("statement.json", "entity-record.json", "person-record.json", "relationship-record.json",
                "components.json")
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
ENTITY_TYPES = {"registeredEntity", "legalEntity", "arrangement", "anonymousEntity", "unknownEntity", "state",
                "stateBody"}
UNSPECIFIED_REASONS = {"noBeneficialOwners", "subjectUnableToConfirmOrIdentifyBeneficialOwner",
                       "interestedPartyHasNotProvidedInformation", "subjectExemptFromDisclosure",
                       "interestedPartyExemptFromDisclosure", "unknown", "informationUnknownToPublisher"}
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
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
            for error in statements_validator().iter_errors(statements)]


# --- finding the vendor and its upstream graph -----------------------------------------------------------------


def find_vendor_party(session: Session, vendor: str) -> Party:
    """The party of the vendor organisation named so (exact, case-insensitive), else the party with that recordId,
    else the one entity of that exact name. Raises BodsExportError naming it when there is none, or several."""
    wanted = vendor.strip()
    orgs = session.execute(
        select(Organization).where(func.lower(Organization.name) == wanted.lower(),
                                   Organization.kind == OrgKind.VENDOR, Organization.party_id.is_not(None))
    ).scalars().all()
    if len(orgs) > 1:
        raise BodsExportError(f"Several vendors are named “{wanted}”; use the party's BODS recordId.")
    if orgs:
        return canonical_party(session, session.get(Party, orgs[0].party_id))
    party = session.execute(select(Party).where(Party.bods_record_id == wanted)).scalar_one_or_none()
    if party is None:
        parties = session.execute(
            select(Party).where(func.lower(Party.name) == wanted.lower(), Party.kind == PartyKind.ENTITY,
                                Party.merged_into_id.is_(None))
        ).scalars().all()
        if len(parties) > 1:
            raise BodsExportError(f"Several parties are named “{wanted}”; use the party's BODS recordId.")
        party = parties[0] if parties else None
    if party is None:
        raise BodsExportError(f"No vendor or party is named “{wanted}” (or has that BODS recordId).")
    return canonical_party(session, party)


class _Graph:
    """The parties upstream of one party, merged parties standing for the party they joined."""

    def __init__(self, session: Session):
        self.session = session
        self.canonical: dict[int, Party] = {}

    def party(self, party_id: int) -> Party:
        if party_id not in self.canonical:
            self.canonical[party_id] = canonical_party(self.session, self.session.get(Party, party_id))
        return self.canonical[party_id]

    def aliases(self, party_ids: set[int]) -> set[int]:
        """These parties and every party merged into them."""
        found, frontier = set(party_ids), set(party_ids)
        while frontier:
            frontier = set(self.session.execute(
                select(Party.id).where(Party.merged_into_id.in_(frontier))
            ).scalars()) - found
            found |= frontier
        return found

    def upstream(self, root: Party) -> tuple[list[Party], list[Interest]]:
        counted = counted_version_ids(self.session)
        parties, interests, frontier = {root.id: root}, {}, {root.id}
        while frontier:
            rows = self.session.execute(
                select(Interest).where(
                    Interest.subject_party_id.in_(self.aliases(frontier)),
                    or_(Interest.origin != TieOrigin.DISCLOSURE, Interest.disclosure_id.in_(counted)),
                )
            ).scalars().all()
            frontier = set()
            for interest in rows:
                interests[interest.id] = interest
                holder = self.party(interest.interested_party_id)
                if holder.id not in parties:
                    parties[holder.id] = holder
                    frontier.add(holder.id)
        return list(parties.values()), sorted(interests.values(), key=lambda i: i.id)


# --- building statements ---------------------------------------------------------------------------------------


def record_id_of(party: Party) -> str:
    return party.bods_record_id or f"marketplace-party-{party.id}"


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
        details = {"isComponent": False, "personType": person_type, "names": names}
        if person_type != "knownPerson" and _unspecified_details(party):
            details["unspecifiedPersonDetails"] = _unspecified_details(party)
        record_type = "person"
    else:
        entity_type = party.party_type if party.party_type in ENTITY_TYPES else (
            "unknownEntity" if party.kind == PartyKind.UNSPECIFIED else "registeredEntity")
        details = {"isComponent": False, "entityType": {"type": entity_type}, "name": party.name}
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
    out = {"type": interest.interest_type}
    if interest.role_title:
        out["details"] = interest.role_title
    share = _share(interest)
    if share:
        out["share"] = share
    if interest.start_date:
        out["startDate"] = interest.start_date.isoformat()
    if interest.end_date:
        out["endDate"] = interest.end_date.isoformat()
    return out


def _source(interest: Interest) -> dict:
    source = {"type": [SOURCE_TYPES.get(interest.verification_level, "selfDeclaration")]}
    if interest.source_description:
        source["description"] = interest.source_description
    url = urlparse(interest.source_url or "")
    if url.scheme in ("http", "https") and url.netloc:
        source["url"] = interest.source_url
    if interest.source_date:
        source["retrievedAt"] = interest.source_date.isoformat()
    return source


class _Writer:
    def __init__(self, declaration_subject: str, published: date):
        self.declaration_subject = declaration_subject
        self.publication = {"publicationDate": published.isoformat(), "bodsVersion": BODS_VERSION,
                            "publisher": dict(PUBLISHER)}

    def statement(self, statement_id: str, record_id: str, record_type: str, details: dict, on: date,
                  source: dict | None = None) -> dict:
        statement = {
            "statementId": statement_id,
            "statementDate": on.isoformat(),
            "publicationDetails": self.publication,
            "declarationSubject": self.declaration_subject,
            "recordId": record_id,
            "recordType": record_type,
            "recordStatus": "new",
            "recordDetails": details,
        }
        if source:
            statement["source"] = source
        return statement


def export_vendor(session: Session, vendor: str, published: date | None = None) -> list[dict]:
    """BODS 0.4 statements for the vendor and everything upstream of it: parties first, then relationships.

    Raises BodsExportError when no vendor (organisation name, recordId, or entity name) matches.
    """
    root = find_vendor_party(session, vendor)
    graph = _Graph(session)
    parties, interests = graph.upstream(root)
    writer = _Writer(record_id_of(root), published or utcnow().date())
    identifiers = defaultdict(list)
    for identifier in session.execute(
        select(PartyIdentifier).where(PartyIdentifier.party_id.in_(graph.aliases({p.id for p in parties})))
        .order_by(PartyIdentifier.id)
    ).scalars():
        identifiers[graph.party(identifier.party_id).id].append(identifier)
    statements = []
    for party in parties:
        record_type, details = _party_details(party, identifiers[party.id])
        statements.append(writer.statement(_statement_id("party", party.id, details), record_id_of(party),
                                           record_type, details, party.created_at.date()))
    statements.extend(_relationships(graph, writer, interests))
    return statements


def _relationships(graph: _Graph, writer: _Writer, interests: list[Interest]) -> list[dict]:
    """One relationship record per holder, subject and source; the subject must be an entity."""
    groups: dict[tuple, list[Interest]] = defaultdict(list)
    for interest in interests:
        holder, subject = graph.party(interest.interested_party_id), graph.party(interest.subject_party_id)
        if _is_person(subject):
            continue
        source_key = (interest.verification_level, interest.source_description, interest.source_url,
                      interest.source_date)
        groups[(holder.id, subject.id, source_key)].append(interest)
    statements = []
    for (holder_id, subject_id, _source_key), group in groups.items():
        first = group[0]
        details = {
            "isComponent": False,
            "subject": record_id_of(graph.party(subject_id)),
            "interestedParty": record_id_of(graph.party(holder_id)),
            "interests": [_interest(interest) for interest in group],
        }
        our_ids = ",".join(str(i.id) for i in group)
        on = first.source_date or first.recorded_at.date()
        statements.append(writer.statement(_statement_id("relationship", our_ids, details),
                                           f"marketplace-relationship-{first.id}", "relationship", details, on,
                                           _source(first)))
    return statements
