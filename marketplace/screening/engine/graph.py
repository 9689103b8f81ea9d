"""The ownership graph as screening reads it: plain data, loaded as of a date, no database.

Shares are percentages (0-100). An edge with no share given has low = high = None; the engine reads a missing
share on a countable interest as [0, 100]. Exclusive bounds are flags beside the figures.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

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
    edges: list[Edge] = field(default_factory=list)
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
