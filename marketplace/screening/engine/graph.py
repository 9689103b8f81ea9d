"""The ownership graph as screening reads it: plain data, loaded as of a date, no database.

Shares are percentages (0-100). An edge with no share given has low = high = None; the engine reads a missing
share on a countable interest as [0, 100]. Exclusive bounds are flags beside the figures.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar, overload

import numpy as np
from numpy.typing import NDArray

from marketplace.screening.engine.verdicts import Source

T = TypeVar("T")


def built(cls: type[T], *values: object) -> T:
    """An instance of a frozen dataclass from its fields' values in order, without its __init__: a frozen
    dataclass sets each field through object.__setattr__, which made building the hundreds of thousands of ties
    and parties of a 1M-party register's rivals' part cost about three times as long. The same object (equal, same
    hash, same fields); the values are taken as given (no defaults, no __post_init__: these classes have none)."""
    instance = object.__new__(cls)
    instance.__dict__.update(zip(cls.__dataclass_fields__, values, strict=True))  # type: ignore[attr-defined]
    return instance


@dataclass(frozen=True)
class PartyNode:
    id: int
    name: str
    kind: str  # "entity", "person" or "unspecified" (marketplace.parties.models.PartyKind)
    party_type: str = "registeredEntity"  # BODS entityType / personType code
    record_id: str | None = None
    unspecified_reason: str = ""  # why an unspecified party is not named: a BODS unspecifiedReason code


@dataclass(frozen=True)
class Edge:
    """A BODS interest: `holder` holds `interest_type` in `subject`."""

    id: int
    holder: int
    subject: int
    interest_type: str
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    high_exclusive: bool = False
    start: date | None = None
    end: date | None = None
    role_title: str = ""
    source: Source = Source("", "self-declared")
    # The party of the vendor whose unreviewed disclosure claims this tie about another party: it counts only in
    # that vendor's own screening until an admin verifies it. None for a tie that counts for everyone.
    claimed_by: int | None = None

    def active_at(self, as_of: date) -> bool:
        """Started on or before as_of, and not ended by then (an end on as_of has ended)."""
        return (self.start is None or self.start <= as_of) and (self.end is None or self.end > as_of)


class EdgeColumns(Sequence[Edge]):
    """Ties as columns, for the hundreds of thousands of a register's rivals' part of the graph: the engine reads
    the columns as arrays, and an `Edge` is made only for the tie asked for (`edges[i]`: equal to the one the
    loader would have made). Read-only; `+` gives a list. Shares with no figure are NaN here, None in an Edge; no
    tie here is claimed by a vendor (those stay Edges, in `Graph.claims`)."""

    def __init__(
        self,
        ids: NDArray[np.int64],
        holder: NDArray[np.int64],
        subject: NDArray[np.int64],
        interest_type: list[str],
        low: NDArray[np.float64],
        high: NDArray[np.float64],
        low_exclusive: NDArray[np.bool_],
        high_exclusive: NDArray[np.bool_],
        start: list[date | None],
        end: list[date | None],
        role_title: list[str],
        source: list[Source],
        days: tuple[NDArray[np.datetime64], NDArray[np.datetime64]] | None = None,
    ):
        self.ids, self.holder, self.subject, self.interest_type = ids, holder, subject, interest_type
        self.low, self.high, self.low_exclusive, self.high_exclusive = low, high, low_exclusive, high_exclusive
        self.start, self.end, self.role_title, self.source = start, end, role_title, source
        # The dates as days, NaT where there is none (`days`, if known): compared with a date for every tie at once.
        self.start_day, self.end_day = days if days is not None else (_days(start), _days(end))
        self._id_list: list[int] | None = None

    @classmethod
    def of(cls, edges: Sequence[Edge]) -> "EdgeColumns":
        """The columns of these ties (none claimed)."""
        return cls(
            np.array([e.id for e in edges], dtype=np.int64),
            np.array([e.holder for e in edges], dtype=np.int64),
            np.array([e.subject for e in edges], dtype=np.int64),
            [e.interest_type for e in edges],
            np.array([e.low for e in edges], dtype=float),
            np.array([e.high for e in edges], dtype=float),
            np.array([e.low_exclusive for e in edges], dtype=bool),
            np.array([e.high_exclusive for e in edges], dtype=bool),
            [e.start for e in edges],
            [e.end for e in edges],
            [e.role_title for e in edges],
            [e.source for e in edges],
        )

    def __len__(self) -> int:
        return len(self.interest_type)

    @overload
    def __getitem__(self, index: int) -> Edge: ...

    @overload
    def __getitem__(self, index: slice) -> list[Edge]: ...

    def __getitem__(self, index: int | slice) -> Edge | list[Edge]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        low, high = float(self.low[index]), float(self.high[index])
        return built(
            Edge,
            self.id_list()[index],
            int(self.holder[index]),
            int(self.subject[index]),
            self.interest_type[index],
            None if low != low else low,  # NaN: no figure
            None if high != high else high,
            bool(self.low_exclusive[index]),
            bool(self.high_exclusive[index]),
            self.start[index],
            self.end[index],
            self.role_title[index],
            self.source[index],
            None,
        )

    def __iter__(self) -> Iterator[Edge]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        """Equal to the same ties in the same order, as columns or as a list."""
        if isinstance(other, EdgeColumns | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EdgeColumns({list(self)!r})"

    def __add__(self, other: Sequence[Edge]) -> list[Edge]:
        return [*self, *other]

    def __radd__(self, other: Sequence[Edge]) -> list[Edge]:
        return [*other, *self]

    def id_list(self) -> list[int]:
        if self._id_list is None:
            self._id_list = self.ids.tolist()
        return self._id_list

    def take(self, positions: NDArray[np.intp]) -> "EdgeColumns":
        """The ties at these positions, in this order."""
        at = positions.tolist()
        return EdgeColumns(
            self.ids[positions],
            self.holder[positions],
            self.subject[positions],
            [self.interest_type[p] for p in at],
            self.low[positions],
            self.high[positions],
            self.low_exclusive[positions],
            self.high_exclusive[positions],
            [self.start[p] for p in at],
            [self.end[p] for p in at],
            [self.role_title[p] for p in at],
            [self.source[p] for p in at],
            (self.start_day[positions], self.end_day[positions]),
        )

    def concat(self, other: "EdgeColumns") -> "EdgeColumns":
        return EdgeColumns(
            np.concatenate([self.ids, other.ids]),
            np.concatenate([self.holder, other.holder]),
            np.concatenate([self.subject, other.subject]),
            self.interest_type + other.interest_type,
            np.concatenate([self.low, other.low]),
            np.concatenate([self.high, other.high]),
            np.concatenate([self.low_exclusive, other.low_exclusive]),
            np.concatenate([self.high_exclusive, other.high_exclusive]),
            self.start + other.start,
            self.end + other.end,
            self.role_title + other.role_title,
            self.source + other.source,
            (np.concatenate([self.start_day, other.start_day]), np.concatenate([self.end_day, other.end_day])),
        )


_EPOCH = date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min  # NaT as an int64 day


def _days(dates: list[date | None]) -> NDArray[np.datetime64]:
    """Dates as datetime64 days, NaT for None (numpy converts date objects one by one far more slowly)."""
    days = np.fromiter(
        (_NAT if day is None else day.toordinal() - _EPOCH for day in dates), dtype=np.int64, count=len(dates)
    )
    return days.view("datetime64[D]")


@dataclass(frozen=True)
class CommercialEdge:
    """A tie BODS cannot express: the vendor's customer, exclusive partner, lender..."""

    id: int
    vendor: int
    counterparty: int
    kind: str  # marketplace.parties.models.CommercialKind value
    revenue_share_pct: float | None = None
    start: date | None = None
    end: date | None = None
    source: Source = Source("", "self-declared")

    def active_at(self, as_of: date) -> bool:
        return (self.start is None or self.start <= as_of) and (self.end is None or self.end > as_of)


@dataclass(frozen=True)
class VendorFacts:
    """What the unverified rule needs to know of a vendor."""

    party_id: int
    on_platform: bool = True
    # When the latest approved disclosure was approved; None when there is none.
    approved_on: date | None = None
    org_id: int | None = None


@dataclass
class Graph:
    parties: dict[int, PartyNode] = field(default_factory=dict)
    # A list, or for a large part of the graph columns (EdgeColumns); either way in the loader's order.
    edges: list[Edge] | EdgeColumns = field(default_factory=list)
    commercial: list[CommercialEdge] = field(default_factory=list)
    # Unreviewed claims about other parties, by the claiming vendor's party: left out of `edges`, which every
    # vendor is screened on; store.with_claims adds one vendor's own.
    claims: dict[int, list[Edge]] = field(default_factory=dict)

    def by_subject(self) -> dict[int, list[Edge]]:
        index = defaultdict(list)
        for edge in self.edges:
            index[edge.subject].append(edge)
        return index

    def by_holder(self) -> dict[int, list[Edge]]:
        index = defaultdict(list)
        for edge in self.edges:
            index[edge.holder].append(edge)
        return index
