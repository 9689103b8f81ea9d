"""Likely variants in the registry: the parties whose names the matcher (parties.matching) finds likely one
party's, read through the stored match keys and blocks, and the pairs an admin marked as not the same."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.parties.matching import LIKELY_AT, blocks, key_similarity, match_key
from marketplace.parties.models import Party, PartyDistinction, PartyKind


def comparable(first: Party, second: Party) -> bool:
    """Only two organisations, or two people, can be one party under two names; unnamed owners never."""
    return first.kind == second.kind and first.kind != PartyKind.UNSPECIFIED


@dataclass(frozen=True)
class LikelyMatch:
    """`party` is likely `variant` under another name, `score` (0–100) alike."""

    party: Party
    variant: Party
    score: float

    @property
    def percent(self) -> str:
        return f"{self.score:.0f}%"


def _ordered(first_id: int, second_id: int) -> tuple[int, int]:
    return (first_id, second_id) if first_id < second_id else (second_id, first_id)


def distinct_pairs(session: Session, party_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The pairs (lower id first) an admin marked as not the same, among those touching these parties."""
    ids = sorted(set(party_ids))
    if not ids:
        return set()
    rows = session.execute(select(PartyDistinction.first_party_id, PartyDistinction.second_party_id).where(
        or_(PartyDistinction.first_party_id.in_(ids), PartyDistinction.second_party_id.in_(ids)))).all()
    return {_ordered(first, second) for first, second in rows}


def all_distinct_pairs(session: Session) -> set[tuple[int, int]]:
    """Every pair (lower id first) an admin marked as not the same."""
    rows = session.execute(select(PartyDistinction.first_party_id, PartyDistinction.second_party_id)).all()
    return {(first, second) for first, second in rows}


def candidates(session: Session, keys: Iterable[str], extra=()) -> list[Party]:
    """Unmerged parties sharing a block with one of the keys: the only ones worth scoring."""
    heads, tails = set(), set()
    for key in keys:
        if key:
            head, tail = blocks(key)
            heads.add(head)
            tails.add(tail)
    if not heads:
        return []
    query = select(Party).where(Party.merged_into_id.is_(None),
                                or_(Party.match_head.in_(sorted(heads)), Party.match_tail.in_(sorted(tails))),
                                *extra)
    return list(session.execute(query.order_by(Party.id)).scalars())


def unsettled_variants(session: Session, parties: Iterable[Party]) -> list[LikelyMatch]:
    """For each given party, the other unmerged parties likely to be it under another name, except those an
    admin marked as not the same; the most alike first."""
    parties = [party for party in parties if party is not None and party.kind != PartyKind.UNSPECIFIED]
    if not parties:
        return []
    found = candidates(session, [party.match_key for party in parties])
    distinct = distinct_pairs(session, [party.id for party in parties])
    matches = []
    for party in parties:
        for other in found:
            if other.id == party.id or not comparable(party, other) or _ordered(party.id, other.id) in distinct:
                continue
            score = key_similarity(party.match_key, other.match_key)
            if score >= LIKELY_AT:
                matches.append(LikelyMatch(party, other, score))
    matches.sort(key=lambda match: (-match.score, match.party.id, match.variant.id))
    return matches


def similar_names(session: Session, name: str, kind: PartyKind, extra=()) -> list[tuple[Party, float]]:
    """Unmerged parties of this kind whose names are likely this name's, the most alike first."""
    key = match_key(name)
    scored = [(party, key_similarity(key, party.match_key))
              for party in candidates(session, [key], (Party.kind == kind, *extra))]
    return sorted([(party, score) for party, score in scored if score >= LIKELY_AT],
                  key=lambda item: (-item[1], item[0].name, item[0].id))
