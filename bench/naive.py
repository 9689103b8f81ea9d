"""Screening the obvious way, for comparison with the engine: per vendor, walk every simple path of shareholdings
up from the vendor, multiplying shares along the path and summing over paths, and ask the database about each
tie as the rules come to it.

Nothing is cached: each node's holders are read with one query each time a walk reaches it. What it covers:
- ownership and unknown owners: the stake of each rival and of each unknown owner, over simple paths of
  shareholdings and voting rights active today (exact shares, ranges [min, max], a missing share read as
  [0, 100]); cycles are cut where a path meets itself, so cross-holdings are undercounted;
- control, read the obvious way: a rival "controls" an entity it holds at least 50% of over those paths;
- board, people and contract: the board and managing roles in the vendor (a query), each holder's other roles
  (a query each, for people), the vendor's commercial counterparties (a query), and for every entity found that
  way a walk up to see whether a rival controls it;
- unverified: the vendor's latest approval (a query).
It words no explanation, builds no route list and applies no policy beyond the default thresholds, so the
comparison still flatters it.
"""

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization
from marketplace.disclosures.models import DisclosureVersion
from marketplace.parties.models import ROLE_INTEREST_TYPES, CommercialTie, Interest, Party

_i, _p, _c = Interest.__table__, Party.__table__, CommercialTie.__table__
_UNKNOWN_TYPES = ("anonymousEntity", "unknownEntity", "anonymousPerson", "unknownPerson")


def _active(table):
    return (
        or_(table.c.start_date.is_(None), table.c.start_date <= bindparam("as_of")),
        or_(table.c.end_date.is_(None), table.c.end_date > bindparam("as_of")),
    )


_HOLDERS = (
    select(_i.c.interested_party_id, _i.c.share_exact, _i.c.share_min, _i.c.share_max, _p.c.kind, _p.c.party_type)
    .join(_p, _p.c.id == _i.c.interested_party_id)
    .where(
        _i.c.subject_party_id == bindparam("subject"),
        _i.c.interest_type.in_(["shareholding", "votingRights"]),
        *_active(_i),
    )
)
_ROLE_HOLDERS = select(_i.c.interested_party_id).where(
    _i.c.subject_party_id == bindparam("subject"), _i.c.interest_type.in_(sorted(ROLE_INTEREST_TYPES)), *_active(_i)
)
_ROLES_OF = select(_i.c.subject_party_id).where(
    _i.c.interested_party_id == bindparam("holder"), _i.c.interest_type.in_(sorted(ROLE_INTEREST_TYPES)), *_active(_i)
)
_COUNTERPARTIES = select(_c.c.counterparty_id).where(_c.c.vendor_party_id == bindparam("vendor"), *_active(_c))
_APPROVED = (
    select(func.max(DisclosureVersion.decided_at))
    .join(Organization, Organization.id == DisclosureVersion.vendor_org_id)
    .where(Organization.party_id == bindparam("vendor"), DisclosureVersion.status == "approved")
)
# Hops: the generated chains are at most 8 deep; longer walks (around cycles) are cut, which flatters the naive way.
MAX_DEPTH = 8


@dataclass
class NaiveResult:
    vendor_party_id: int
    stakes: dict[int, tuple[float, float]] = field(default_factory=dict)  # rival -> (low, high) percent
    unknown: dict[int, tuple[float, float]] = field(default_factory=dict)  # unknown owner -> (low, high)
    tied: set[int] = field(default_factory=set)  # rivals controlling a board member, co-director or counterparty
    approved: bool = False
    queries: int = 0
    paths: int = 0
    truncated: bool = False

    @property
    def verdict(self) -> str:
        low = max((low for low, _ in self.stakes.values()), default=0.0)
        high = max((high for _, high in [*self.stakes.values(), *self.unknown.values()]), default=0.0)
        if low >= 25:
            return "exclude"
        return "review" if high >= 10 or self.tied or not self.approved else "clear"


def _fraction(exact, low, high) -> tuple[float, float]:
    if exact is not None:
        return exact / 100, exact / 100
    if low is None and high is None:
        return 0.0, 1.0
    return (low or 0.0) / 100, (100.0 if high is None else high) / 100


def _walk(
    conn, result: NaiveResult, start: int, rivals: set[int], as_of: date, deadline: float | None, unknown: dict | None
) -> dict[int, tuple[float, float]]:
    """Every simple path up from `start`: each rival's stake in it (and each unknown owner's, into `unknown`)."""
    stakes = {rival: (0.0, 0.0) for rival in rivals}

    def add(into: dict, party: int, low: float, high: float) -> None:
        old_low, old_high = into.get(party, (0.0, 0.0))
        into[party] = (old_low + low * 100, min(100.0, old_high + high * 100))

    def walk(node: int, on_path: set[int], low: float, high: float, depth: int) -> None:
        if deadline is not None and time.perf_counter() > deadline:
            result.truncated = True
            return
        result.queries += 1
        for holder, exact, share_min, share_max, kind, party_type in conn.execute(
            _HOLDERS, {"subject": node, "as_of": as_of}
        ).all():
            if holder in on_path:
                continue
            f_low, f_high = _fraction(exact, share_min, share_max)
            path_low, path_high = low * f_low, high * f_high
            if holder in rivals:
                result.paths += 1
                add(stakes, holder, path_low, path_high)
            if unknown is not None and (kind == "unspecified" or party_type in _UNKNOWN_TYPES):
                add(unknown, holder, path_low, path_high)
            if depth < MAX_DEPTH and path_high > 0:
                on_path.add(holder)
                walk(holder, on_path, path_low, path_high, depth + 1)
                on_path.discard(holder)

    walk(start, {start}, 1.0, 1.0, 0)
    return stakes


def screen_vendor(
    session: Session, vendor_party_id: int, rival_ids: list[int], as_of: date, deadline: float | None = None
) -> NaiveResult:
    """Every rule the obvious way, for one vendor (see the module's docstring)."""
    result = NaiveResult(vendor_party_id)
    rivals = set(rival_ids)
    conn = session.connection()
    result.stakes = _walk(conn, result, vendor_party_id, rivals, as_of, deadline, result.unknown)

    def controlled(entity: int) -> set[int]:
        if entity in rivals:
            return {entity}
        stakes = _walk(conn, result, entity, rivals, as_of, deadline, None)
        return {rival for rival, (low, _) in stakes.items() if low >= 50}

    result.tied |= {rival for rival, (low, _) in result.stakes.items() if low >= 50}
    result.queries += 2
    holders = conn.execute(_ROLE_HOLDERS, {"subject": vendor_party_id, "as_of": as_of}).scalars().all()
    for holder in holders:
        result.tied |= controlled(holder)  # an entity on the vendor's board
        result.queries += 1
        for entity in conn.execute(_ROLES_OF, {"holder": holder, "as_of": as_of}).scalars().all():
            if entity != vendor_party_id:
                result.tied |= controlled(entity)  # a co-director's other company
    for partner in conn.execute(_COUNTERPARTIES, {"vendor": vendor_party_id, "as_of": as_of}).scalars().all():
        result.tied |= controlled(partner)
    result.queries += 1
    result.approved = conn.execute(_APPROVED, {"vendor": vendor_party_id}).scalar() is not None
    return result


def screen_many(
    session: Session, vendor_party_ids: list[int], rival_ids: list[int], as_of: date, time_limit: float
) -> tuple[list[tuple[int, float, NaiveResult]], bool]:
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
