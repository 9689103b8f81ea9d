"""The registry of parties: names and identifiers normalised, found, created."""

import re
import unicodedata
from datetime import date
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.parties.models import NoOwnersDeclaration, Party, PartyIdentifier, PartyKind

_SPACES = re.compile(r"\s+")
# Merged parties' former names, kept as identifiers by the registry (parties.registry.ALIAS_SCHEME): not an id.
NAME_ALIAS_SCHEME = "alias"
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def normalize_name(name: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name."""
    # An ASCII name is its own NFKD form (most are: the BODS import normalises one per party it adds).
    folded = name if name.isascii() else unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _SPACES.sub(" ", folded).strip().lower()


def normalize_identifier(value: str) -> str:
    """'SC115530', 'Sc 115530' and 'sc-115530' are one identifier."""
    return _NOT_ALNUM.sub("", value.lower())


def no_owners_declarations(session: Session, party_id: int, as_of: date) -> list[str]:
    """The party's standing "no beneficial owners" declarations (from BODS), one line each:
    "Declared: no beneficial owners (Companies House, 2024-01-01)". Parties merged into it count."""
    ids, frontier = {party_id}, {party_id}
    while frontier:
        frontier = (
            set(session.execute(select(col(Party.id)).where(col(Party.merged_into_id).in_(frontier))).scalars()) - ids
        )
        ids |= frontier
    rows = session.execute(
        select(NoOwnersDeclaration)
        .where(
            col(NoOwnersDeclaration.subject_party_id).in_(ids),
            or_(col(NoOwnersDeclaration.end_date).is_(None), col(NoOwnersDeclaration.end_date) > as_of),
        )
        .order_by(col(NoOwnersDeclaration.id))
    ).scalars()
    lines = []
    for row in rows:
        on = row.source_date or row.statement_date
        if on is not None and on > as_of:
            continue  # declared after the date looked at
        source = row.source_description or row.source_types.replace(",", ", ") or f"BODS {row.bods_statement_id}"
        where = ", ".join(part for part in (source, on.isoformat() if on else "") if part)
        lines.append(f"Declared: no beneficial owners ({where})")
    return lines


def search_parties(session: Session, text: str, limit: int = 20) -> list[Party]:
    needle = normalize_name(text)
    if text.strip() and not needle:  # only punctuation: nothing to look for, not everything
        return []
    query = select(Party).where(col(Party.merged_into_id).is_(None))
    if needle:
        query = query.where(col(Party.name_normalized).contains(needle, autoescape=True))
    return list(session.execute(query.order_by(Party.name).limit(limit)).scalars())


def find_or_create_party(
    session: Session, name: str, kind: PartyKind = PartyKind.ENTITY, party_type: str | None = None
) -> Party:
    """The party with this exact (normalised) name and kind, created if there is none."""
    normalized = normalize_name(name)
    party = session.execute(
        select(Party)
        .where(col(Party.name_normalized) == normalized, col(Party.kind) == kind, col(Party.merged_into_id).is_(None))
        .order_by(col(Party.id))
        .limit(1)
    ).scalar_one_or_none()
    if party is None:
        default_type = "knownPerson" if kind == PartyKind.PERSON else "registeredEntity"
        party = Party(kind=kind, party_type=party_type or default_type, name=name.strip(), name_normalized=normalized)
        session.add(party)
        session.flush()
    return party


def canonical_party(session: Session, party: Party | None) -> Party | None:
    """The party that stands for this one: itself, or the one it was merged into (followed to the end)."""
    seen = set()
    while party is not None and party.merged_into_id is not None and party.id not in seen:
        seen.add(party.id)
        party = session.get(Party, party.merged_into_id)
    return party


def _same_scheme(left: str, right: str) -> bool:
    """Schemes match when equal up to case and punctuation, or when either is not given."""
    return not left or not right or normalize_identifier(left) == normalize_identifier(right)


def find_party_by_identifier(session: Session, scheme: str, value: str, kinds=None) -> Party | None:
    """The (surviving) party holding this identifier, of one of the given kinds; the oldest when several do."""
    normalized = normalize_identifier(value)
    if not normalized:
        return None
    rows = session.execute(
        select(col(PartyIdentifier.scheme), Party)
        .join(Party, col(Party.id) == PartyIdentifier.party_id)
        .where(col(PartyIdentifier.value_normalized) == normalized)
        .order_by(col(Party.id))
    ).all()
    for other_scheme, party in rows:
        if other_scheme == NAME_ALIAS_SCHEME:
            continue
        party = cast(Party, canonical_party(session, party))
        if _same_scheme(scheme, other_scheme) and (kinds is None or party.kind in kinds):
            return party
    return None


def add_identifier(session: Session, party: Party, scheme: str, value: str) -> PartyIdentifier | None:
    """Record an identifier of the party unless it already has it (compared normalised); None when it had it."""
    normalized = normalize_identifier(value)
    if not normalized:
        return None
    held = session.execute(
        select(PartyIdentifier).where(
            col(PartyIdentifier.party_id) == party.id, col(PartyIdentifier.value_normalized) == normalized
        )
    ).scalars()
    if any(normalize_identifier(row.scheme) == normalize_identifier(scheme) for row in held):
        return None
    identifier = PartyIdentifier(
        party_id=party.id, scheme=scheme.strip()[:100], value=value.strip()[:200], value_normalized=normalized[:200]
    )
    session.add(identifier)
    session.flush()
    return identifier
