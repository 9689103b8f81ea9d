"""Screening the obvious way, for comparison with the engine: per vendor and per rival, walk every simple path of
shareholdings from the rival down to the vendor, multiplying shares along the path and summing over paths.

Nothing is cached: each node's holders are read with one query each time the walk reaches it. Only the
ownership rule is computed (shareholding and voting rights active today, exact shares, ranges [min, max], a
missing share read as [0, 100]); the engine also runs the control, people, commercial, unknown-owner,
undisclosed and unverified rules, so this comparison flatters the naive way.
"""

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from marketplace.parties.models import Interest

_i = Interest.__table__
_HOLDERS = (
    select(_i.c.interested_party_id, _i.c.share_exact, _i.c.share_min, _i.c.share_max)
    .where(_i.c.subject_party_id == bindparam("subject"),
           _i.c.interest_type.in_(["shareholding", "votingRights"]),
           or_(_i.c.start_date.is_(None), _i.c.start_date <= bindparam("as_of")),
           or_(_i.c.end_date.is_(None), _i.c.end_date > bindparam("as_of")))
)
# Hops: the generated chains are at most 8 deep; longer walks (around cycles) are cut, which flatters the naive way.
MAX_DEPTH = 8


@dataclass
class NaiveResult:
    vendor_party_id: int
    stakes: dict[int, tuple[float, float]] = field(default_factory=dict)  # rival -> (low, high) percent
    queries: int = 0
    paths: int = 0
    truncated: bool = False

    @property
    def verdict(self) -> str:
        high = max((low for low, _ in self.stakes.values()), default=0.0)
        return "exclude" if high >= 25 else "review" if high >= 10 else "clear"


def _fraction(exact, low, high) -> tuple[float, float]:
    if exact is not None:
        return exact / 100, exact / 100
    if low is None and high is None:
        return 0.0, 1.0
    return (low or 0.0) / 100, (100.0 if high is None else high) / 100


def screen_vendor(session: Session, vendor_party_id: int, rival_ids: list[int], as_of: date,
                  deadline: float | None = None) -> NaiveResult:
    """Walk up from the vendor through its holders (a query per node reached), over simple paths only; every
    path that reaches a rival adds the product of its shares to that rival's stake."""
    result = NaiveResult(vendor_party_id, {rival: (0.0, 0.0) for rival in rival_ids})
    rivals = set(rival_ids)
    conn = session.connection()

    def walk(node: int, on_path: set[int], low: float, high: float, depth: int) -> None:
        if deadline is not None and time.perf_counter() > deadline:
            result.truncated = True
            return
        result.queries += 1
        rows = conn.execute(_HOLDERS, {"subject": node, "as_of": as_of}).all()
        for holder, exact, share_min, share_max in rows:
            if holder in on_path:
                continue
            f_low, f_high = _fraction(exact, share_min, share_max)
            path_low, path_high = low * f_low, high * f_high
            if holder in rivals:
                result.paths += 1
                old_low, old_high = result.stakes[holder]
                result.stakes[holder] = (old_low + path_low * 100, min(100.0, old_high + path_high * 100))
            if depth < MAX_DEPTH and path_high > 0:
                on_path.add(holder)
                walk(holder, on_path, path_low, path_high, depth + 1)
                on_path.discard(holder)

    walk(vendor_party_id, {vendor_party_id}, 1.0, 1.0, 0)
    return result


def screen_many(session: Session, vendor_party_ids: list[int], rival_ids: list[int], as_of: date,
                time_limit: float) -> tuple[list[tuple[int, float, NaiveResult]], bool]:
    """Screen vendors one after another until the time limit: [(party id, seconds, result)], and whether every
    vendor was done."""
    done = []
    stop = time.perf_counter() + time_limit
    for party_id in vendor_party_ids:
        started = time.perf_counter()
        if started > stop:
            return done, False
        result = screen_vendor(session, party_id, rival_ids, as_of, deadline=stop)
        done.append((party_id, time.perf_counter() - started, result))
        if result.truncated:
            return done, False
    return done, True
