"""Likely variants in the registry: the parties whose names the matcher (parties.matching) finds likely one
party's, read through the stored match keys and blocks, and the pairs an admin marked as not the same."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import Session

from marketplace.parties.matching import LIKELY_AT, blocks, key_similarity, longest_likely, match_key, shortest_likely
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


def _length_bounds(keys: list[str]) -> tuple[int, int]:
    """Key lengths a likely match of one of the keys can have."""
    return shortest_likely(min(map(len, keys))), longest_likely(max(map(len, keys)))


def _scored(session: Session, keys: list[str], extra=()) -> list[tuple[int, str, str]]:
    """(id, kind, key) of the unmerged parties sharing a block with one of the keys and of a length that can
    match: the only ones worth scoring. Read as plain rows: a common first word can share a block with
    thousands."""
    keys = [key for key in keys if key]
    if not keys:
        return []
    heads, tails = zip(*(blocks(key) for key in keys), strict=True)
    low, high = _length_bounds(keys)
    # Two selects, one per block's index: with OR, SQLite reads the whole table.
    conditions = (Party.merged_into_id.is_(None), func.length(Party.match_key).between(low, high), *extra)
    by_head = select(Party.id, Party.kind, Party.match_key).where(Party.match_head.in_(sorted(set(heads))),
                                                                  *conditions)
    by_tail = select(Party.id, Party.kind, Party.match_key).where(Party.match_tail.in_(sorted(set(tails))),
                                                                  *conditions)
    rows = session.execute(union(by_head, by_tail)).all()
    return sorted((party_id, str(kind), key) for party_id, kind, key in rows)


def unsettled_variants(session: Session, parties: Iterable[Party]) -> list[LikelyMatch]:
    """For each given party, the other unmerged parties likely to be it under another name, except those an
    admin marked as not the same; the most alike first."""
    parties = [party for party in parties if party is not None and party.kind != PartyKind.UNSPECIFIED]
    if not parties:
        return []
    rows = _scored(session, [party.match_key for party in parties])
    distinct = distinct_pairs(session, [party.id for party in parties])
    # Each party is scored against the candidates sharing one of its own blocks only: the answer for a party does
    # not depend on which others are asked about with it, and many parties do not make it quadratic.
    by_block: dict[tuple[int, str], list[tuple[int, str, str]]] = defaultdict(list)
    for row in rows:
        head, tail = blocks(row[2])
        by_block[0, head].append(row)
        by_block[1, tail].append(row)
    matches = []
    for party in parties:
        if not party.match_key:
            continue
        head, tail = blocks(party.match_key)
        candidates = {row[0]: row for row in (*by_block.get((0, head), ()), *by_block.get((1, tail), ()))}
        for other_id, kind, key in candidates.values():
            if other_id == party.id or kind != str(party.kind) or _ordered(party.id, other_id) in distinct:
                continue
            score = key_similarity(party.match_key, key)
            if score >= LIKELY_AT:
                matches.append(LikelyMatch(party, session.get(Party, other_id), score))
    matches.sort(key=lambda match: (-match.score, match.party.id, match.variant.id))
    return matches


def similar_names(session: Session, name: str, kind: PartyKind, extra=()) -> list[tuple[Party, float]]:
    """Unmerged parties of this kind whose names are likely this name's, the most alike first."""
    key = match_key(name)
    scored = [(party_id, key_similarity(key, other)) for party_id, _, other in
              _scored(session, [key], (Party.kind == kind, *extra))]
    found = [(session.get(Party, party_id), score) for party_id, score in scored if score >= LIKELY_AT]
    return sorted(found, key=lambda item: (-item[1], item[0].name, item[0].id))
