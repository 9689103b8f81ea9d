"""Likely variants in the registry: the parties whose names the matcher (parties.matching) finds likely one
party's, read through the stored match keys and blocks, and the pairs an admin marked as not the same."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.db_types import in_ids
from marketplace.parties.matching import (
    LIKELY_AT,
    blocks,
    key_similarity,
    likely_among,
    longest_likely,
    match_key,
    shortest_likely,
    telling,
    telling_block,
)
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
    rows = session.execute(
        select(col(PartyDistinction.first_party_id), col(PartyDistinction.second_party_id)).where(
            # One parameter each, however many parties (a vendor's part of the graph can hold thousands).
            or_(
                in_ids(session, PartyDistinction.first_party_id, ids),
                in_ids(session, PartyDistinction.second_party_id, ids),
            )
        )
    ).all()
    return {_ordered(first, second) for first, second in rows}


def all_distinct_pairs(session: Session) -> set[tuple[int, int]]:
    """Every pair (lower id first) an admin marked as not the same."""
    rows = session.execute(select(col(PartyDistinction.first_party_id), col(PartyDistinction.second_party_id))).all()
    return {(first, second) for first, second in rows}


def _length_bounds(keys: list[str]) -> tuple[int, int]:
    """Key lengths a likely match of one of the keys can have."""
    return shortest_likely(min(map(len, keys))), longest_likely(max(map(len, keys)))


# Up to this many keys, each gets its own selects, narrowed by its own length and numbers.
_ONE_BY_ONE = 32


def _scored(session: Session, keys: list[str], extra=()) -> list[tuple[int, str, str, str, str]]:
    """(id, kind, key, head block, tail block) of the unmerged parties sharing a block with one of the keys and of
    a length that can match: the only ones worth scoring. Read as plain rows: a common first word can share a
    block with thousands. For a few keys, each key's selects also ask for its own numbers (a candidate without
    them is never alike: matching.key_similarity), which leaves a handful where a numbered name's first word is
    common."""
    keys = sorted({key for key in keys if key})
    if not keys:
        return []
    columns = (col(Party.id), col(Party.kind), col(Party.match_key), col(Party.match_head), col(Party.match_tail))
    selects = []
    # A key with numbers or single letters: its candidates are exactly the names sharing them (a likely match
    # must), read through their own index: a handful, where a common first word shares a block with thousands.
    told = [key for key in keys if telling_block(key)]
    if told:
        low, high = _length_bounds(told)
        selects.append(
            select(*columns).where(
                col(Party.match_telling).in_(sorted({telling_block(key) for key in told})),
                col(Party.merged_into_id).is_(None),
                func.length(Party.match_key).between(low, high),
                *extra,
            )
        )
    # The others: the names sharing one of their blocks and having no numbers or single letters either. Two selects
    # per group of keys, one per block's index: with OR, SQLite reads the whole table.
    plain = [key for key in keys if not telling_block(key)]
    for group in [[key] for key in plain] if len(plain) <= _ONE_BY_ONE else [plain] if plain else []:
        heads, tails = zip(*(blocks(key) for key in group), strict=True)
        low, high = _length_bounds(group)
        conditions = [
            col(Party.merged_into_id).is_(None),
            Party.match_telling == "",
            func.length(Party.match_key).between(low, high),
            *extra,
        ]
        selects.append(select(*columns).where(col(Party.match_head).in_(sorted(set(heads))), *conditions))
        selects.append(select(*columns).where(col(Party.match_tail).in_(sorted(set(tails))), *conditions))
    rows = session.execute(union(*selects) if len(selects) > 1 else selects[0]).all()
    return sorted((party_id, str(kind), key, head, tail) for party_id, kind, key, head, tail in rows)


def unsettled_variants(session: Session, parties: Iterable[Party]) -> list[LikelyMatch]:
    """For each given party, the other unmerged parties likely to be it under another name, except those an
    admin marked as not the same; the most alike first."""
    parties = [party for party in parties if party is not None]
    by_id = {party.id: party for party in parties}
    return [
        LikelyMatch(by_id[party_id], cast(Party, session.get(Party, variant_id)), score)
        for party_id, variant_id, score in unsettled_variant_ids(session, parties)
    ]


def unsettled_variant_ids(session: Session, parties: Iterable[Party]) -> list[tuple[int, int, float]]:
    """unsettled_variants as (party id, variant id, score), the variants not read as whole parties; the parties
    need only their id, kind and match_key."""
    parties = [party for party in parties if party is not None and party.kind != PartyKind.UNSPECIFIED]
    if not parties:
        return []
    rows = _scored(session, [party.match_key for party in parties])
    distinct = distinct_pairs(session, [party.id for party in parties])
    # Each party is scored against the candidates sharing one of its own blocks only: the answer for a party does
    # not depend on which others are asked about with it. A common first word can give thousands of candidates:
    # they are scored in rapidfuzz's C loop, and only the few alike enough are checked for numbers and letters.
    by_block: dict[tuple, dict[int, str]] = defaultdict(dict)
    for party_id, kind, key, head, tail in rows:
        by_block[0, head, kind][party_id] = key
        by_block[1, tail, kind][party_id] = key
        by_block[2, telling_block(key), kind][party_id] = key
    matches = []
    told_of: dict[str, tuple[str, ...]] = {}
    for party in parties:
        key, kind, party_id = party.match_key, str(party.kind), party.id
        if not key:
            continue
        head, tail = blocks(key)
        told_block = telling_block(key)
        if told_block:  # every name with its numbers and single letters, whatever their blocks
            candidates = dict(by_block.get((2, told_block, kind), {}))
        else:
            candidates = {**by_block.get((0, head, kind), {}), **by_block.get((1, tail, kind), {})}
        candidates.pop(party_id, None)
        ids, keys = list(candidates), list(candidates.values())
        told = telling(key)
        for position, score in likely_among(key, keys):
            other_id, other = ids[position], keys[position]
            if other not in told_of:
                told_of[other] = telling(other)
            if told_of[other] == told and _ordered(party_id, other_id) not in distinct:
                matches.append((party_id, other_id, score))
    matches.sort(key=lambda match: (-match[2], match[0], match[1]))
    return matches


def similar_names(session: Session, name: str, kind: PartyKind, extra=()) -> list[tuple[Party, float]]:
    """Unmerged parties of this kind whose names are likely this name's, the most alike first."""
    key = match_key(name)
    scored = [
        (party_id, key_similarity(key, other))
        for party_id, _, other, _, _ in _scored(session, [key], (Party.kind == kind, *extra))
    ]
    found = [(cast(Party, session.get(Party, party_id)), score) for party_id, score in scored if score >= LIKELY_AT]
    return sorted(found, key=lambda item: (-item[1], item[0].name, item[0].id))
