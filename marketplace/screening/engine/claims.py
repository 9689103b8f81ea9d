"""Which claim about one relationship counts, at each date (docs/screening.md, "Which claim counts").

Several rows can state the same fact (holder, subject, interest type): the versions of one BODS record, a tie
copied into every version of a disclosure, a disclosure and an admin's fact alike. At any date exactly one
figure counts, decided here as a pure function of the rows:

1. **Versions of one claim are successive.** Rows of one *stream* (one BODS record, one disclosure version, one
   admin fact) never overlap in what they say: at a date, the active row that started last is the stream's word
   (a row with no start date started before any dated one). An end date is exclusive, so a row ending on D and
   one starting on D are successive, never concurrent.
2. **Concurrent claims from different streams are merged by standing.** A checked claim (admin-verified, an
   official register, a third-party source) beats a self-declared one; among claims of equal standing the newer
   (by the source's date, then the later row) wins.
3. **A self-declared claim can raise a checked figure, never lower it.** Where both are active, each end of the
   share range is the larger of the two, and the raise is credited to the self-declared source. A vendor cannot
   argue a stake down in an unreviewed version, but a newer checked figure (a later register filing) can.

The result is a list of rows, each covering a span in which one outcome holds, so that the engine (which asks
`active_at(T)`) sees one row per fact at every date.
"""

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import TypeVar

from marketplace.screening.engine.graph import CommercialEdge, Edge

SELF_DECLARED = "self-declared"


def counts_only_for_filer(*, self_declared: bool, about_filer: bool, approved: bool) -> bool:
    """Whose claim counts (docs/screening.md, "Whose claim counts against whom"): a tie a vendor disclosed,
    self-declared, counts only in that vendor's own screening while it is about another party (its owners, board,
    people), or while the version holding it awaits review (through the filer it would reach whatever the filer
    holds). Approved by an admin, a tie about the filer itself counts for everyone; one about another party is
    admin-verified by the approval."""
    return self_declared and (not about_filer or not approved)


T = TypeVar("T", Edge, CommercialEdge)


def _covers(edge: Edge | CommercialEdge, day: date | None) -> bool:
    """Active on `day`; None is a day before every date the rows name."""
    if day is None:
        return edge.start is None
    return (edge.start is None or edge.start <= day) and (edge.end is None or edge.end > day)


def _checked(edge: Edge | CommercialEdge) -> bool:
    return edge.source.verification_level != SELF_DECLARED


def _newest(edges: Iterable[T]) -> T:
    return max(edges, key=lambda e: (e.source.recorded or date.min, e.id))


def prevailing(active: Sequence[tuple[T, Hashable]], raise_by: Callable[[T, T], T]) -> T:
    """The claim that counts among rows active at one date, each given with its stream."""
    per_stream: dict[Hashable, T] = {}
    for edge, stream in active:
        current = per_stream.get(stream)
        if current is None or (edge.start or date.min, edge.id) > (current.start or date.min, current.id):
            per_stream[stream] = edge
    checked = [e for e in per_stream.values() if _checked(e)]
    declared = [e for e in per_stream.values() if not _checked(e)]
    if not checked:
        return _newest(declared)
    base = _newest(checked)
    return raise_by(base, _newest(declared)) if declared else base


def one_claim_at_a_time(rows: Sequence[T], streams: Sequence[Hashable], raise_by: Callable[[T, T], T]) -> list[T]:
    """Rows stating one fact, reduced to successive rows of which exactly one is active at any date."""
    if len(rows) == 1:
        return list(rows)
    items = list(zip(rows, streams, strict=True))
    bounds: list[date] = sorted({day for row in rows for day in (row.start, row.end) if day is not None})
    out: list[T] = []
    current: T | None = None
    run_start: date | None = None
    for index, day in enumerate([None, *bounds]):
        active = [item for item in items if _covers(item[0], day)]
        outcome = prevailing(active, raise_by) if active else None
        if outcome != current:
            if current is not None:
                out.append(replace(current, start=run_start, end=day))
            current, run_start = outcome, day
        if index == len(bounds) and current is not None:
            out.append(replace(current, start=run_start, end=None))
    return out


def _end(value: float | None, exclusive: bool, fallback: float) -> tuple[float, bool]:
    return (fallback, False) if value is None else (value, not exclusive)


def raise_interest(base: Edge, claim: Edge) -> Edge:
    """A checked interest, raised where a self-declared one states more (each end of the range on its own).

    No share given reads as [0, 100] once the other side gives one, as the engine reads it.
    """
    if claim.low is None:
        if base.low is None:
            return base
        if base.high == 100.0 and not base.high_exclusive:
            return base
        return replace(base, high=100.0, high_exclusive=False, source=claim.source)
    low_base, low_claim = _end(base.low, base.low_exclusive, 0.0), _end(claim.low, claim.low_exclusive, 0.0)
    high_base, high_claim = _end(base.high, base.high_exclusive, 100.0), _end(claim.high, claim.high_exclusive, 100.0)
    if low_claim <= low_base and high_claim <= high_base:
        return base
    low, low_inclusive = max(low_base, low_claim)
    high, high_inclusive = max(high_base, high_claim)
    return replace(
        base,
        low=low,
        high=high,
        low_exclusive=not low_inclusive,
        high_exclusive=not high_inclusive,
        role_title=base.role_title or claim.role_title,
        source=claim.source,
    )


def raise_commercial(base: CommercialEdge, claim: CommercialEdge) -> CommercialEdge:
    """A checked revenue share, raised where a self-declared one states more."""
    if claim.revenue_share_pct is None or (base.revenue_share_pct or 0.0) >= claim.revenue_share_pct:
        return base
    return replace(base, revenue_share_pct=claim.revenue_share_pct, source=claim.source)
