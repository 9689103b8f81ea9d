"""The registry as a vendor may search it when naming the other party of a tie.

Only parties the registry already knows from public sources are findable: a BODS record or statement, an
identifier, or a tie that is on file (an admin's fact, a BODS import, or a filed disclosure that was not
rejected). A party that exists only because a buyer named it as a rival, or only in another vendor's draft, is
never found, so a search cannot tell a vendor whether anyone names a party as a rival. Results show names,
kinds, jurisdictions and identifiers: nothing about who names a party, nor its ties.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.parties.models import (
    BodsStatement,
    CommercialTie,
    Interest,
    Party,
    PartyIdentifier,
    PartyKind,
    TieOrigin,
)
from marketplace.parties.service import NAME_ALIAS_SCHEME, canonical_party, normalize_identifier, normalize_name
from marketplace.parties.variants import similar_names

FOUND_LIMIT = 10
_HIDDEN_STATUSES = (DisclosureStatus.DRAFT.value, DisclosureStatus.REJECTED.value)
PICKABLE_KINDS = (PartyKind.ENTITY, PartyKind.PERSON)


@dataclass(frozen=True)
class FoundParty:
    party: Party
    identifiers: list[PartyIdentifier] = field(default_factory=list)
    score: float | None = None  # how alike its name is to the name typed, when found by the matcher


def _on_file(model):
    """A tie of this model that is on file: not in a draft nor in a rejected disclosure."""
    filed = select(DisclosureVersion.id).where(DisclosureVersion.status.not_in(_HIDDEN_STATUSES))
    return or_(model.origin != TieOrigin.DISCLOSURE, model.disclosure_id.in_(filed))


def findable():
    """The SQL condition on Party: known from a public source (see the module's docstring)."""
    return or_(
        Party.bods_record_id.is_not(None),
        exists().where(BodsStatement.party_id == Party.id),
        exists().where(PartyIdentifier.party_id == Party.id, PartyIdentifier.scheme != NAME_ALIAS_SCHEME),
        exists().where(and_(Interest.interested_party_id == Party.id, _on_file(Interest))),
        exists().where(and_(Interest.subject_party_id == Party.id, _on_file(Interest))),
        exists().where(and_(CommercialTie.counterparty_id == Party.id, _on_file(CommercialTie))),
        exists().where(and_(CommercialTie.vendor_party_id == Party.id, _on_file(CommercialTie))),
    )


def _with_identifiers(session: Session, found: Sequence[tuple[Party, float | None]]) -> list[FoundParty]:
    ids = [party.id for party, _ in found]
    identifiers = defaultdict(list)
    if ids:
        for row in session.execute(
            select(PartyIdentifier)
            .where(col(PartyIdentifier.party_id).in_(ids), col(PartyIdentifier.scheme) != NAME_ALIAS_SCHEME)
            .order_by(PartyIdentifier.scheme, PartyIdentifier.value)
        ).scalars():
            identifiers[row.party_id].append(row)
    return [FoundParty(party, identifiers[party.id], score) for party, score in found]


def find_for_tie(session: Session, text: str, limit: int = FOUND_LIMIT) -> list[FoundParty]:
    """Findable parties whose name contains the text, whose name the matcher finds likely the same, or that hold
    an identifier (LEI, company number, any scheme) containing it; the likeliest first."""
    needle, identifier = normalize_name(text or ""), normalize_identifier(text or "")
    if not (text or "").strip():
        return []
    live = (
        col(Party.merged_into_id).is_(None),
        col(Party.kind).in_([kind.value for kind in PICKABLE_KINDS]),
        findable(),
    )
    found: dict[int, tuple[Party, float | None]] = {}
    for kind in PICKABLE_KINDS:
        for party, score in similar_names(session, text, kind, (findable(),)):
            found.setdefault(party.id, (party, score))
    conditions = [col(Party.name_normalized).contains(needle, autoescape=True)] if needle else []
    if len(identifier) >= 4:  # a fragment shorter than that matches too many numbers to mean anything
        conditions.append(
            col(Party.id).in_(
                select(col(PartyIdentifier.party_id)).where(
                    col(PartyIdentifier.scheme) != NAME_ALIAS_SCHEME,
                    col(PartyIdentifier.value_normalized).contains(identifier, autoescape=True),
                )
            )
        )
    if conditions:  # a name in another script has no ASCII form to look for: the matcher found what there is
        query = select(Party).where(*live, or_(*conditions)).order_by(Party.name_normalized, col(Party.id)).limit(limit)
        for party in session.execute(query).scalars():
            found.setdefault(party.id, (party, None))
    ordered = sorted(found.values(), key=lambda item: (-(item[1] or 0.0), item[0].name_normalized, item[0].id))
    return _with_identifiers(session, ordered[:limit])


def likely_same_findable(session: Session, name: str, kind: PartyKind) -> list[FoundParty]:
    """Findable parties of this kind whose names are likely this name's, other than one with this very name
    (naming it again picks it anyway)."""
    normalized = normalize_name(name)
    found = [
        (party, score)
        for party, score in similar_names(session, name, kind, (findable(),))
        if party.name_normalized != normalized
    ]
    return _with_identifiers(session, found[:FOUND_LIMIT])


def pickable_party(session: Session, party_id: int) -> Party | None:
    """The findable party a vendor picked (the one it was merged into, if it was), or None."""
    party = session.execute(select(Party).where(col(Party.id) == party_id, findable())).scalar_one_or_none()
    party = canonical_party(session, party)
    if party is None or party.kind not in PICKABLE_KINDS:
        return None
    return party
