"""Which platform vendors a change to ties can give another verdict: what re-screening after a change covers.

A tie held in a party S can change, through S, only what lies at or below S: every rule's finding starts at a
rival, an unknown owner or an unpublished interest and travels down shareholdings, votes and board
appointments, so a group, a stake or an undisclosed route reaches S's part of the graph and nothing above it or
beside it. Below S, what a group member can reach besides is read too: the vendors it holds any tie in (a board
seat, a contract), the vendors whose commercial counterparty it is, and the vendors where someone holding a role
in it holds a role too (the board and people rules). Every tie in the database is followed, counted or not and
whatever its dates: a wider scope costs a little time, a narrower one a stored verdict that disagrees with the
live one. `Reach` asks the same of a loaded graph, in memory.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from typing import cast as typing_cast

from sqlalchemy import func, literal, select, union, union_all
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, OrgKind
from marketplace.db_types import id_array, in_ids
from marketplace.parties.models import ROLE_INTEREST_TYPES, UNDISCLOSED_INTEREST_TYPES, CommercialTie, Interest
from marketplace.screening.engine.graph import Graph
from marketplace.screening.store import loader as store

# What carries a rival's group and its stakes down to what is held (as store reads it).
_PASSING = ("shareholding", "votingRights", "appointmentOfBoard")
# An interest nobody has published reaches down the same way (the unknown-owner rule follows it).
_UNDISCLOSED = UNDISCLOSED_INTEREST_TYPES
_interest = typing_cast(Any, Interest).__table__.c
_commercial = typing_cast(Any, CommercialTie).__table__.c


def _below(session: Session, party_ids: Iterable[int], aliases: store.Aliases) -> set[int]:
    """The parties and every party they hold shares, votes or board appointments in, through any chain."""
    return store.walk(
        session,
        party_ids,
        aliases,
        _interest.interested_party_id,
        _interest.subject_party_id,
        [_interest.interest_type.in_(_PASSING)],
    )


def _column(session: Session, column, *conditions) -> set[int]:
    return set(session.execute(select(column).distinct().where(*conditions)).scalars())


def affected_parties(session: Session, party_ids: Iterable[int], aliases: store.Aliases | None = None) -> set[int]:
    """Every party whose screening a change to ties held in these parties (their subjects) can change."""
    aliases = aliases or store.load_aliases(session)
    below = _below(session, party_ids, aliases)
    roles = _interest.interest_type.in_(sorted(ROLE_INTEREST_TYPES))
    held_in = _column(session, _interest.subject_party_id, in_ids(session, _interest.interested_party_id, below))
    people = aliases.expand(
        _column(session, _interest.interested_party_id, in_ids(session, _interest.subject_party_id, below), roles)
    )
    their_roles = (
        _column(session, _interest.subject_party_id, in_ids(session, _interest.interested_party_id, people), roles)
        if people
        else set()
    )
    customers = _column(session, _commercial.vendor_party_id, in_ids(session, _commercial.counterparty_id, below))
    return aliases.expand(below | held_in | their_roles | customers)


def affected_vendor_ids(session: Session, party_ids: Iterable[int], aliases: store.Aliases | None = None) -> set[int]:
    """The platform vendor organisations whose verdict a change to ties held in these parties can change."""
    party_ids = list(party_ids)
    aliases = aliases or store.load_aliases(session)
    if session.get_bind().dialect.name == "postgresql" and 0 < len(party_ids) <= store.RECURSIVE_UP_TO:
        found = _affected_in_one_query(session, party_ids, aliases)
        if found is not None:
            return found
    parties = affected_parties(session, party_ids, aliases)
    if not parties:
        return set()
    return set(
        session.execute(
            select(col(Organization.id)).where(
                col(Organization.kind) == OrgKind.VENDOR, in_ids(session, Organization.party_id, parties)
            )
        ).scalars()
    )


def _affected_in_one_query(session: Session, party_ids: list[int], aliases: store.Aliases) -> set[int] | None:
    """affected_vendor_ids in one round trip (PostgreSQL, a few parties): the walk below, the parties held in, the
    people's other roles, the customers and their vendor organisations, as affected_parties reads them one query
    each. None when a merged party (or one another joined) is met: the walks across merges are affected_parties'."""
    roles = _interest.interest_type.in_(sorted(ROLE_INTEREST_TYPES))
    below = select(func.unnest(id_array(party_ids)).label("id")).cte("below", recursive=True)
    below = below.union(
        select(_interest.subject_party_id.label("id")).where(
            _interest.interested_party_id == below.c.id, _interest.interest_type.in_(_PASSING)
        )
    )
    people = (
        select(_interest.interested_party_id.label("id"))
        .where(store.among(_interest.subject_party_id, below), roles)
        .distinct()
        .cte("people")
    )
    parties = union(
        select(below.c.id),
        select(_interest.subject_party_id).where(store.among(_interest.interested_party_id, below)),
        select(_interest.subject_party_id).where(store.among(_interest.interested_party_id, people), roles),
        select(_commercial.vendor_party_id).where(store.among(_commercial.counterparty_id, below)),
    ).cte("parties")
    vendors: Any = select(literal("v").label("what"), col(Organization.id).label("id")).where(
        col(Organization.kind) == OrgKind.VENDOR, store.among(col(Organization.party_id), parties)
    )
    query: Any = vendors
    if aliases.root:  # which parties were met too, to know whether a merge was among them
        query = union_all(vendors, select(literal("p"), parties.c.id), select(literal("p"), people.c.id))
    rows = session.execute(query).all()
    met = {party for what, party in rows if what == "p"}
    if met & (aliases.root.keys() | aliases.members.keys()):
        return None
    return {org for what, org in rows if what == "v"}


class Reach:
    """The same question asked of a loaded graph (shared edges and every claim): which parties' screening ties held
    in some parties can change. Sound for the parties whose part of the graph was loaded."""

    def __init__(self, graph: Graph):
        edges = graph.edges + [edge for claims in graph.claims.values() for edge in claims]
        self.passing: dict[int, list[int]] = defaultdict(list)
        self.held: dict[int, list[int]] = defaultdict(list)
        self.role_holders: dict[int, list[int]] = defaultdict(list)
        self.roles_of: dict[int, list[int]] = defaultdict(list)
        self.customers: dict[int, list[int]] = defaultdict(list)
        for edge in edges:
            self.held[edge.holder].append(edge.subject)
            if edge.interest_type in _PASSING:
                self.passing[edge.holder].append(edge.subject)
            if edge.interest_type in ROLE_INTEREST_TYPES:
                self.role_holders[edge.subject].append(edge.holder)
                self.roles_of[edge.holder].append(edge.subject)
        for tie in graph.commercial:
            self.customers[tie.counterparty].append(tie.vendor)

    def affected_by(self, edges: Iterable) -> set[int]:
        """Whose screening these ties can change. A seat, a role or a contract passes nothing down: it changes its
        subject's screening, and, held by a person, the screening of wherever that person holds a role."""
        edges = list(edges)
        out = self.affected({e.subject for e in edges if e.interest_type in _PASSING + _UNDISCLOSED})
        for edge in edges:
            out.add(edge.subject)
            if edge.interest_type in ROLE_INTEREST_TYPES:
                out.update(self.roles_of.get(edge.holder, ()))
        return out

    def affected(self, party_ids: Iterable[int]) -> set[int]:
        below, frontier = set(party_ids), list(party_ids)
        while frontier:
            step = {subject for party in frontier for subject in self.passing.get(party, ())} - below
            below |= step
            frontier = list(step)
        out = set(below)
        for party in below:
            out.update(self.held.get(party, ()))
            out.update(self.customers.get(party, ()))
            for person in self.role_holders.get(party, ()):
                out.update(self.roles_of.get(person, ()))
        return out
