"""The registry of parties: names and identifiers normalised, found, created."""

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.parties.models import Party, PartyKind

_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def normalize_name(name: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _SPACES.sub(" ", folded).strip().lower()


def normalize_identifier(value: str) -> str:
    """'SC115530', 'Sc 115530' and 'sc-115530' are one identifier."""
    return _NOT_ALNUM.sub("", value.lower())


def search_parties(session: Session, text: str, limit: int = 20) -> list[Party]:
    needle = normalize_name(text)
    query = select(Party).where(Party.merged_into_id.is_(None))
    if needle:
        query = query.where(Party.name_normalized.contains(needle))
    return list(session.execute(query.order_by(Party.name).limit(limit)).scalars())


def find_or_create_party(session: Session, name: str, kind: PartyKind = PartyKind.ENTITY,
                         party_type: str | None = None) -> Party:
    """The party with this exact (normalised) name and kind, created if there is none."""
    normalized = normalize_name(name)
    party = session.execute(
        select(Party).where(Party.name_normalized == normalized, Party.kind == kind,
                            Party.merged_into_id.is_(None)).order_by(Party.id).limit(1)
    ).scalar_one_or_none()
    if party is None:
        default_type = "knownPerson" if kind == PartyKind.PERSON else "registeredEntity"
        party = Party(kind=kind, party_type=party_type or default_type, name=name.strip(),
                      name_normalized=normalized)
        session.add(party)
        session.flush()
    return party
