"""Loading the ownership graph from the database, as screening reads it.

Only the ties that count are loaded: admin-recorded facts and BODS imports always; a disclosure's ties only when
its version counts (marketplace.parties.counting: the latest approved version and the pending ones filed after
it, never a draft or a rejected one). Merged parties are read as the party they joined. Ties that ended within the
look-back window are loaded too (the people rule looks back); the engine decides what holds at the date.

A claim counts unreviewed only against the vendor that made it: a self-declared disclosure tie whose subject is
another party (that party's owners, board, people), or any self-declared tie of a version awaiting review (its own
owners too reach whatever it holds), is kept out of the graph every vendor is screened on, in `Graph.claims` under
the claiming vendor's party, until an admin approves the version and so verifies it; `with_claims` gives the
claiming vendor's own graph. Sources of ties about another party name who claimed them.

Rows are read as plain tuples with Core selects: the whole graph has hundreds of thousands of interests, and
screening never needs all of them. `load_graph_around` reads the part above a few vendors (what can change their
verdicts); `load_graph_for_rivals` the part below the rivals and the unknown owners (where every finding about any
vendor starts). `load_graph` reads everything (the benchmark compares with it; the tests check the parts against it).
`load_graph_below` and `load_graph_above` read only the shares, votes and board appointments that decide control
groups, below the rivals or above a few parties (screening.matches: possible matches with a group's members).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from typing import cast as typing_cast

import numpy as np
from sqlalchemy import BigInteger, Date, any_, cast, func, literal, or_, select, union, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, OrgKind
from marketplace.dates import months_before
from marketplace.db_types import id_array, in_ids
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.parties.counting import counted_version_ids
from marketplace.parties.models import (
    ROLE_INTEREST_TYPES,
    UNDISCLOSED_INTEREST,
    UNKNOWN_PARTY,
    CommercialTie,
    Interest,
    Party,
    TieOrigin,
    VerificationLevel,
)
from marketplace.screening.engine.claims import (
    counts_only_for_filer,
    one_claim_at_a_time,
    raise_commercial,
    raise_interest,
)
from marketplace.screening.engine.graph import (
    CommercialEdge,
    Edge,
    EdgeColumns,
    Graph,
    PartyNode,
    VendorFacts,
    built,
)
from marketplace.screening.engine.verdicts import Source
from marketplace.screening.store.beside import Later, beside, may_read_beside

LOOKBACK_MONTHS = 24
_ORIGIN_WORDS = {TieOrigin.ADMIN_FACT.value: "admin-recorded fact", TieOrigin.BODS_IMPORT.value: "BODS import"}

_party = typing_cast(Any, Party).__table__
_org = typing_cast(Any, Organization).__table__
_interest = typing_cast(Any, Interest).__table__
_commercial = typing_cast(Any, CommercialTie).__table__
_version = typing_cast(Any, DisclosureVersion).__table__

_DISCLOSURE = TieOrigin.DISCLOSURE.value
_BODS = TieOrigin.BODS_IMPORT.value
_SELF_DECLARED = VerificationLevel.SELF_DECLARED.value
_APPROVED = DisclosureStatus.APPROVED.value


def _utc_day(column, dialect: str):
    """A timestamp's day in UTC, computed by the database: cheaper than reading the timestamps into Python."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column, type_=Date)


def _recorded_day(table, dialect: str):
    """The source's date, else the day the tie was recorded (UTC)."""
    return func.coalesce(table.c.source_date, _utc_day(table.c.recorded_at, dialect), type_=Date)


def _interest_columns(dialect: str) -> tuple:
    i = _interest.c
    return (
        i.id,
        i.interested_party_id,
        i.subject_party_id,
        i.interest_type,
        i.share_exact,
        i.share_min,
        i.share_max,
        i.share_min_exclusive,
        i.share_max_exclusive,
        i.start_date,
        i.end_date,
        i.role_title,
        i.origin,
        i.disclosure_id,
        i.verification_level,
        i.source_description,
        _recorded_day(_interest, dialect),
        i.bods_record_id,
    )


def _commercial_columns(dialect: str) -> tuple:
    c = _commercial.c
    return (
        c.id,
        c.vendor_party_id,
        c.counterparty_id,
        c.kind,
        c.revenue_share_pct,
        c.start_date,
        c.end_date,
        c.origin,
        c.disclosure_id,
        c.verification_level,
        c.source_description,
        _recorded_day(_commercial, dialect),
    )


_PARTY_COLUMNS = (
    _party.c.id,
    _party.c.name,
    _party.c.kind,
    _party.c.party_type,
    _party.c.bods_record_id,
    _party.c.unspecified_reason,
)


# --- Merged parties ----------------------------------------------------------------------------------------


@dataclass
class Aliases:
    """Merged parties: each merged id's surviving party, and each survivor's every id (itself included)."""

    root: dict[int, int] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)

    def resolve(self, party_id: int) -> int:
        return self.root.get(party_id, party_id)

    def expand(self, party_ids: Iterable[int]) -> set[int]:
        """Every id standing for the same parties as these."""
        out = set(party_ids)
        # Only merged ids and the parties they joined stand for others: a set per id took a second at 1M parties.
        for party_id in (out & self.root.keys()) | (out & self.members.keys()):
            out |= self.members[self.resolve(party_id)]
        return out


def load_aliases(session: Session) -> Aliases:
    """Every merge, followed to the end of its chain."""
    merged: dict[int, int] = dict(
        session.execute(select(_party.c.id, _party.c.merged_into_id).where(_party.c.merged_into_id.is_not(None))).all()
    )
    aliases = Aliases()
    for party_id in merged:
        root, seen = party_id, {party_id}
        while root in merged and merged[root] not in seen:  # a cycle of merges stops where it loops
            root = merged[root]
            seen.add(root)
        aliases.root[party_id] = root
        aliases.members.setdefault(root, {root}).add(party_id)
    return aliases


# --- Which ties, when --------------------------------------------------------------------------------------


def _dated(table, as_of: date, since: date):
    """Started by as_of, and not ended before the look-back window opened."""
    return (
        or_(table.c.start_date.is_(None), table.c.start_date <= as_of),
        or_(table.c.end_date.is_(None), table.c.end_date >= since),
    )


@dataclass(frozen=True)
class _Counting:
    """Which disclosure versions count, their numbers, and who filed them (for naming the source)."""

    counted: set[int]
    numbers: dict[int, int]
    # version id -> (the filing vendor's party, or None; its name)
    filers: dict[int, tuple[int | None, str]] = field(default_factory=dict)
    # counted versions awaiting review (filed after the latest approved one)
    pending: set[int] = field(default_factory=set)


def _counting(session: Session, disclosure_ids: set[int] | None) -> _Counting:
    """Counting for the given versions (None: every version)."""
    query = select(
        _version.c.id, _version.c.vendor_org_id, _version.c.number, _version.c.status, _org.c.party_id, _org.c.name
    ).join(_org, _org.c.id == _version.c.vendor_org_id)
    if disclosure_ids is not None:
        query = query.where(in_ids(session, _version.c.id, disclosure_ids))
    rows = session.execute(query).all()
    if not rows:
        return _Counting(set(), {})
    counted = counted_version_ids(
        session, None if disclosure_ids is None else sorted({row.vendor_org_id for row in rows})
    )
    return _Counting(
        counted,
        {row.id: row.number for row in rows},
        {row.id: (row.party_id, row.name) for row in rows},
        {row.id for row in rows if row.id in counted and row.status != _APPROVED},
    )


# --- Rows into the engine's plain data ----------------------------------------------------------------------
# The loops below unpack rows by position: on 300,000 rows, attribute access by name costs seconds.


class _Sources(dict):
    """One Source object per distinct source, looked up by (origin, version, level, description, date, whether the
    tie is about another party than its filer): thousands of ties share a handful."""

    def __init__(self, counting: _Counting):
        super().__init__()
        self._numbers = counting.numbers
        self._filers = counting.filers

    def __missing__(self, key: tuple) -> Source:
        origin, disclosure_id, level, description, recorded, foreign = key
        if not description:
            if origin == _DISCLOSURE:
                number = self._numbers.get(disclosure_id)
                description = f"v{number} disclosure" if number is not None else "disclosure"
                if foreign:  # about another party: say who claims it, lest it read as that party's own word
                    description = f"claimed by {self._filers[disclosure_id][1]}'s {description}"
            else:
                description = _ORIGIN_WORDS.get(origin, origin)
        source = self[key] = Source(description, str(level), recorded)
        return source


def _stream(origin: str, row_id: int, disclosure_id: int | None, record_id: str | None = None) -> tuple:
    """Which claim a row is a version of: a disclosure version, a BODS relationship record (every statement of
    the record), or an admin's fact."""
    if origin == _DISCLOSURE:
        return (origin, disclosure_id)
    if origin == _BODS and record_id:
        return (origin, record_id)
    return (origin, row_id)


def _edges(
    rows, aliases: Aliases, counting: _Counting, sources: _Sources, claims: dict[int, list[Edge]]
) -> tuple[list[Edge], list[tuple], list[tuple]]:
    """Interests as edges, each with the fact it states (holder, subject, type) and the claim it is a version of.

    Exact x is [x, x]; a minimum or maximum alone is bounded by 0 or 100 on the other side; no share is None.
    A disclosure's tie about another party than its filer names the filer in its source; unreviewed, it is
    marked claimed_by the filer's party and goes into `claims` under that party instead, as does a tie about the
    filer itself in a version awaiting review (through the filer it reaches what the filer holds).
    """
    edges, keys, streams = [], [], []
    merged, counted = aliases.root, counting.counted
    new_object, edge_fields = object.__new__, tuple(Edge.__dataclass_fields__)
    filers = {version: aliases.resolve(party) for version, (party, _) in counting.filers.items() if party is not None}
    for (
        id_,
        holder,
        subject,
        interest_type,
        exact,
        share_min,
        share_max,
        min_exclusive,
        max_exclusive,
        start,
        end,
        title,
        origin,
        disclosure_id,
        level,
        description,
        recorded,
        record_id,
    ) in rows:
        if origin == _DISCLOSURE and disclosure_id not in counted:
            continue
        if merged:
            holder, subject = merged.get(holder, holder), merged.get(subject, subject)
            if holder == subject:  # a merge made the tie point at itself
                continue
        claimed_by, foreign = None, False
        if origin == _DISCLOSURE:
            filer = filers.get(disclosure_id)
            foreign = filer is not None and filer != subject
            only_filers = counts_only_for_filer(
                self_declared=level == _SELF_DECLARED,
                about_filer=not foreign,
                approved=disclosure_id not in counting.pending,  # a counted version: approved, or awaiting review
            )
            claimed_by = filer if only_filers else None
        if exact is not None:
            low, high, low_exclusive, high_exclusive = exact, exact, False, False
        elif share_min is None and share_max is None:
            low, high, low_exclusive, high_exclusive = None, None, False, False
        else:
            low = share_min if share_min is not None else 0.0
            high = share_max if share_max is not None else 100.0
            low_exclusive = bool(min_exclusive) and share_min is not None
            high_exclusive = bool(max_exclusive) and share_max is not None
        # Built without the frozen dataclass's __init__ (graph.built, inlined: this loop runs per tie).
        edge = new_object(Edge)
        edge.__dict__.update(
            zip(
                edge_fields,
                (
                    id_,
                    holder,
                    subject,
                    interest_type,
                    low,
                    high,
                    low_exclusive,
                    high_exclusive,
                    start,
                    end,
                    title or "",
                    sources[origin, disclosure_id, level, description, recorded, foreign],
                    claimed_by,
                ),
                strict=True,
            )
        )
        if claimed_by is not None:
            claims.setdefault(claimed_by, []).append(edge)
            continue
        edges.append(edge)
        keys.append((holder, subject, interest_type))
        streams.append(_stream(origin, id_, disclosure_id, record_id))
    return edges, keys, streams


def _edge_columns(
    rows: Sequence, aliases: Aliases, counting: _Counting, sources: _Sources, claims: dict[int, list[Edge]]
) -> EdgeColumns:
    """What _edges and _one_per_fact give, as columns (engine.graph.EdgeColumns): the same ties with the same
    figures and sources in the same order, the claims as Edges in `claims`, for the hundreds of thousands of ties
    of a register's rivals' part without an object each. Only the rows stating a fact several rows state are made
    into Edges, to be reduced to one claim at a time."""
    if not rows:
        return EdgeColumns.of([])
    (
        ids,
        holders,
        subjects,
        types,
        exact,
        share_min,
        share_max,
        min_exclusive,
        max_exclusive,
        starts,
        ends,
        titles,
        origins,
        disclosure_ids,
        levels,
        descriptions,
        recorded,
        record_ids,
    ) = map(list, zip(*rows, strict=True))
    count = len(ids)
    merged, counted = aliases.root, counting.counted
    if merged:
        holders = [merged.get(holder, holder) for holder in holders]
        subjects = [merged.get(subject, subject) for subject in subjects]
    keep = np.ones(count, dtype=bool)
    foreign = [False] * count
    claimed: dict[int, int] = {}  # row -> the filer's party, for the ties counting only for their filer
    filers = {version: aliases.resolve(party) for version, (party, _) in counting.filers.items() if party is not None}
    for row, origin in enumerate(origins):
        if origin != _DISCLOSURE:
            continue
        disclosure_id = disclosure_ids[row]
        if disclosure_id not in counted:
            keep[row] = False
            continue
        filer = filers.get(disclosure_id)
        foreign[row] = filer is not None and filer != subjects[row]
        only_filers = counts_only_for_filer(
            self_declared=levels[row] == _SELF_DECLARED,
            about_filer=not foreign[row],
            approved=disclosure_id not in counting.pending,
        )
        if only_filers and filer is not None:
            claimed[row] = filer
    holder, subject = np.array(holders, dtype=np.int64), np.array(subjects, dtype=np.int64)
    if merged:
        keep &= holder != subject  # a merge made the tie point at itself
    given = np.array(exact, dtype=float)
    low_given, high_given = np.array(share_min, dtype=float), np.array(share_max, dtype=float)
    has_exact = ~np.isnan(given)
    no_share = ~has_exact & np.isnan(low_given) & np.isnan(high_given)
    ranged = ~has_exact & ~no_share
    low = np.where(has_exact, given, np.where(no_share, np.nan, np.nan_to_num(low_given, nan=0.0)))
    high = np.where(has_exact, given, np.where(no_share, np.nan, np.nan_to_num(high_given, nan=100.0)))
    low_exclusive = ranged & np.array(min_exclusive, dtype=bool) & ~np.isnan(low_given)
    high_exclusive = ranged & np.array(max_exclusive, dtype=bool) & ~np.isnan(high_given)
    kept = np.flatnonzero(keep).tolist()
    source_of = {
        row: sources[origins[row], disclosure_ids[row], levels[row], descriptions[row], recorded[row], foreign[row]]
        for row in kept
    }
    titles = [title or "" for title in titles]

    def edge(row: int, claimed_by: int | None = None) -> Edge:
        return built(
            Edge,
            ids[row],
            holders[row],
            subjects[row],
            types[row],
            None if no_share[row] else float(low[row]),
            None if no_share[row] else float(high[row]),
            bool(low_exclusive[row]),
            bool(high_exclusive[row]),
            starts[row],
            ends[row],
            titles[row],
            source_of[row],
            claimed_by,
        )

    for row in kept:
        if row in claimed:
            claims.setdefault(claimed[row], []).append(edge(row, claimed[row]))
    shared = [row for row in kept if row not in claimed] if claimed else kept
    at = np.array(shared, dtype=np.intp)
    columns = EdgeColumns(
        np.array(ids, dtype=np.int64)[at],
        holder[at],
        subject[at],
        [types[row] for row in shared],
        low[at],
        high[at],
        low_exclusive[at],
        high_exclusive[at],
        [starts[row] for row in shared],
        [ends[row] for row in shared],
        [titles[row] for row in shared],
        [source_of[row] for row in shared],
    )
    # One fact (holder, subject, type) stated by several rows: those rows reduced as _one_per_fact does.
    kinds: dict[str, int] = {}
    kind = np.fromiter(
        (kinds.setdefault(t, len(kinds)) for t in columns.interest_type), dtype=np.int64, count=len(columns)
    )
    order = np.lexsort((kind, columns.subject, columns.holder))  # stable: a fact's rows in their order
    same = (
        (columns.holder[order][1:] == columns.holder[order][:-1])
        & (columns.subject[order][1:] == columns.subject[order][:-1])
        & (kind[order][1:] == kind[order][:-1])
    )
    if not same.any():
        return columns
    first = np.concatenate(([True], ~same))
    starts_at = np.flatnonzero(first)
    sizes = np.diff(np.append(starts_at, order.size))
    repeated = np.zeros(len(columns), dtype=bool)
    reduced: list[Edge] = []
    for begin, size in zip(starts_at[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        group = order[begin : begin + size]
        repeated[group] = True
        rows_of = [shared[position] for position in group.tolist()]
        reduced.extend(
            one_claim_at_a_time(
                [edge(row) for row in rows_of],
                [_stream(origins[row], ids[row], disclosure_ids[row], record_ids[row]) for row in rows_of],
                raise_interest,
            )
        )
    out = columns.take(np.flatnonzero(~repeated)).concat(EdgeColumns.of(reduced))
    # In the order of (id, start), as _one_per_fact sorts: a row's pieces by their start.
    start_key = np.where(np.isnat(out.start_day), np.datetime64(date.min, "D"), out.start_day)
    return out.take(np.lexsort((start_key, out.ids)))


def _commercial_edges(
    rows, aliases: Aliases, counting: _Counting, sources: _Sources
) -> tuple[list[CommercialEdge], list[tuple]]:
    edges, streams = [], []
    resolve, counted = aliases.resolve, counting.counted
    for (
        id_,
        vendor,
        counterparty,
        kind,
        revenue_share,
        start,
        end,
        origin,
        disclosure_id,
        level,
        description,
        recorded,
    ) in rows:
        if origin == _DISCLOSURE and disclosure_id not in counted:
            continue
        vendor, counterparty = resolve(vendor), resolve(counterparty)
        if vendor == counterparty:
            continue
        # A commercial tie is always the filer's own (its vendor side is the filer): it concerns no one else.
        edges.append(
            CommercialEdge(
                id_,
                vendor,
                counterparty,
                str(kind),
                revenue_share,
                start,
                end,
                sources[origin, disclosure_id, level, description, recorded, False],
            )
        )
        streams.append(_stream(origin, id_, disclosure_id))
    return edges, streams


# --- One fact, several claims --------------------------------------------------------------------------------


def _one_per_fact(edges: list, keys: list[tuple], streams: list, raise_by) -> list:
    """Rows stating one fact (holder, subject, type), several versions or several sources of it, reduced to one
    row counting at any date (marketplace.screening.engine.claims). `keys[i]` and `streams[i]` belong to edges[i]."""
    first: dict[tuple, int] = {}
    repeated: dict[tuple, list[int]] = {}
    for index, key in enumerate(keys):
        seen = first.setdefault(key, index)
        if seen != index:
            repeated.setdefault(key, [seen]).append(index)
    if not repeated:
        return edges
    out = [edges[index] for key, index in first.items() if key not in repeated]
    for group in repeated.values():
        out.extend(one_claim_at_a_time([edges[i] for i in group], [streams[i] for i in group], raise_by))
    out.sort(key=lambda e: (e.id, e.start or date.min))
    return out


def _nodes(rows, aliases: Aliases) -> dict[int, PartyNode]:
    merged = aliases.root
    nodes: dict[int, PartyNode] = {}
    new_object = object.__new__
    for id_, name, kind, party_type, record_id, reason in rows:
        if id_ not in merged:
            # Built without the frozen dataclass's __init__ (graph.built, inlined, its fields named: 240,000 parties
            # at 1M, in 0.25 s against 0.4 s through zip).
            node = nodes[id_] = new_object(PartyNode)
            node.__dict__.update(
                id=id_,
                name=name,
                kind=str(kind),
                party_type=party_type or "",
                record_id=record_id,
                unspecified_reason=reason or "",
            )
    return nodes


def _assemble(
    session: Session,
    party_rows,
    interest_rows,
    commercial_rows,
    aliases: Aliases,
    counting: _Counting,
    *,
    columns: bool = False,
) -> Graph:
    """The graph of these rows; with `columns`, its ties as columns (engine.graph.EdgeColumns), the same ties."""
    sources = _Sources(counting)
    claims: dict[int, list[Edge]] = {}
    edges: list[Edge] | EdgeColumns
    if columns:
        edges = _edge_columns(interest_rows, aliases, counting, sources, claims)
    else:
        edges = _one_per_fact(*_edges(interest_rows, aliases, counting, sources, claims), raise_interest)
    commercial, streams = _commercial_edges(commercial_rows, aliases, counting, sources)
    commercial = _one_per_fact(
        commercial, [(e.vendor, e.counterparty, e.kind) for e in commercial], streams, raise_commercial
    )
    parties = _nodes(party_rows, aliases)
    claimed = [edge for own in claims.values() for edge in own]
    if isinstance(edges, EdgeColumns):
        ends = set(np.union1d(edges.holder, edges.subject).tolist())
    else:
        ends = {e.holder for e in edges} | {e.subject for e in edges}
    ends |= {e.holder for e in claimed} | {e.subject for e in claimed}
    ends |= {e.vendor for e in commercial} | {e.counterparty for e in commercial}
    missing = ends - parties.keys()
    if missing:
        parties.update(_nodes(_party_rows(session, missing), aliases))
    return Graph(parties=parties, edges=edges, commercial=commercial, claims=claims)


def with_claims(graph: Graph, *party_ids: int) -> Graph:
    """The graph a vendor is screened on: the shared graph and its own unreviewed claims about other parties
    (merged with what the shared graph says of the same ties, as the loader merges sources). Given several
    vendors, the claims of all of them: right for each only when none's claims reach another's screening."""
    own = [edge for party_id in party_ids for edge in graph.claims.get(party_id, ())]
    if not own:
        return graph
    edges = graph.edges + own
    # The shared graph's rows are already one per fact at any date; a claim is one more concurrent source.
    merged = _one_per_fact(
        edges,
        [(e.holder, e.subject, e.interest_type) for e in edges],
        [("shared", e.id) for e in graph.edges] + [("claim", e.id) for e in own],
        raise_interest,
    )
    # In the order of the ties' ids, as the loader gives them: where two ties could explain a finding equally,
    # the engine names the first, and a vendor's finding must read the same in a batch as alone.
    return Graph(parties=graph.parties, edges=sorted(merged, key=lambda e: e.id), commercial=graph.commercial)


def _party_rows(session: Session, ids: Iterable[int]) -> Sequence:
    return session.execute(select(*_PARTY_COLUMNS).where(in_ids(session, _party.c.id, ids))).all()


# --- The whole graph ----------------------------------------------------------------------------------------


def load_graph(
    session: Session, as_of: date, *, lookback_months: int = LOOKBACK_MONTHS, aliases: Aliases | None = None
) -> Graph:
    """Every party and every tie that counts, as of the date (ties ended within the look-back window too)."""
    since = months_before(as_of, lookback_months)
    dialect = session.get_bind().dialect.name
    aliases = aliases or load_aliases(session)
    counting = _counting(session, None)
    party_rows = session.execute(select(*_PARTY_COLUMNS)).all()
    interest_rows = session.execute(select(*_interest_columns(dialect)).where(*_dated(_interest, as_of, since))).all()
    commercial_rows = session.execute(
        select(*_commercial_columns(dialect)).where(*_dated(_commercial, as_of, since))
    ).all()
    return _assemble(session, party_rows, interest_rows, commercial_rows, aliases, counting)


# --- Only what matters for some vendors -----------------------------------------------------------------------

# What passes a rival's group and its stakes down to what is held: descending follows only these.
_PASSING = ("shareholding", "votingRights", "appointmentOfBoard")


def _closure(
    session: Session, seeds: Iterable[int], aliases: Aliases, as_of: date, since: date, downward: bool = False
) -> set[int]:
    """The seeds and every party with a route of interests into one of them (upward), or every party one of them
    holds shares, votes or board appointments in, through any chain (downward); read across merges, so that a
    party merged into one found is walked too.

    Breadth first, one query a level with the level's ids as one parameter. (A recursive CTE does the same in one
    statement, but SQLite plans its join with a Bloom filter built by reading the whole interest table on every
    level: 60 ms for a vendor with three owners, where this takes 3 ms.)
    """
    near, far = _interest.c.subject_party_id, _interest.c.interested_party_id
    conditions = list(_dated(_interest, as_of, since))
    if downward:
        near, far = far, near
        conditions.append(_interest.c.interest_type.in_(_PASSING))
    return walk(session, seeds, aliases, near, far, conditions)


# Up to this many seeds, a walk is one recursive query on PostgreSQL (walk).
RECURSIVE_UP_TO = 64


def walk(session: Session, seeds: Iterable[int], aliases: Aliases, near, far, conditions: Sequence = ()) -> set[int]:
    """The seeds and every party reached from them by stepping from an interest's `near` column to its `far` one
    (interests meeting the conditions), read across merges.

    From a few seeds on PostgreSQL, one recursive query walks as far as it goes (one round trip where a level a
    query took a dozen); merges found on the way are walked on from, by another query, until none is new. From many
    seeds, and on SQLite, one query a level (_closure says why for SQLite): PostgreSQL plans the recursive query
    once, for as many rows a step as the seeds, and from thousands of seeds (the unknown owners of a 1M-party
    register) it sorts the whole interest table at every step (28 s, where a query a level takes under 3)."""
    found = frontier = aliases.expand(seeds)
    postgresql = session.get_bind().dialect.name == "postgresql"
    while frontier:
        if postgresql and len(frontier) <= RECURSIVE_UP_TO:
            start = select(func.unnest(id_array(frontier)).label("id")).cte("walked", recursive=True)
            start = start.union(select(far.label("id")).where(near == start.c.id, *conditions))
            # all(): the rows fetched at once, not one by one (174,000 of them below the rivals at 1M parties).
            reached = set(session.execute(select(start.c.id)).scalars().all())
            expanded = aliases.expand(reached)
            frontier = expanded - reached - found
            found = found | expanded
        else:
            step = session.execute(select(far).distinct().where(in_ids(session, near, frontier), *conditions))
            frontier = aliases.expand(step.scalars().all()) - found
            found = found | frontier
    return found


def _role_entities(session: Session, vendor_ids: set[int], aliases: Aliases, as_of: date, since: date) -> set[int]:
    """Where the people holding a board or managing role in the vendors hold such roles too."""
    roles = sorted(ROLE_INTEREST_TYPES)
    people = set(
        session.execute(
            select(_interest.c.interested_party_id)
            .distinct()
            .where(
                in_ids(session, _interest.c.subject_party_id, vendor_ids),
                _interest.c.interest_type.in_(roles),
                *_dated(_interest, as_of, since),
            )
        ).scalars()
    )
    return set(
        session.execute(
            select(_interest.c.subject_party_id)
            .distinct()
            .where(
                in_ids(session, _interest.c.interested_party_id, aliases.expand(people)),
                _interest.c.interest_type.in_(roles),
                *_dated(_interest, as_of, since),
            )
        ).scalars()
    )


def _counterparties(session: Session, vendor_ids: set[int], as_of: date, since: date) -> set[int]:
    return set(
        session.execute(
            select(_commercial.c.counterparty_id)
            .distinct()
            .where(in_ids(session, _commercial.c.vendor_party_id, vendor_ids), *_dated(_commercial, as_of, since))
        ).scalars()
    )


def _closure_around(session: Session, vendors: set[int], aliases: Aliases, as_of: date, since: date) -> set[int] | None:
    """What load_graph_around's seeds (the vendors, where their people hold roles too, their counterparties) and
    _closure of them give, in one statement: on PostgreSQL, for a few vendors (a re-screen, a page), where it was
    four round trips. None elsewhere, and when a merged party (or one another joined) is met: the walks across merges
    are _closure's."""
    if session.get_bind().dialect.name != "postgresql" or not vendors or len(vendors) > RECURSIVE_UP_TO:
        return None
    interest, commercial = _interest.c, _commercial.c
    roles = interest.interest_type.in_(sorted(ROLE_INTEREST_TYPES))
    dated = _dated(_interest, as_of, since)
    people = (
        select(interest.interested_party_id.label("id"))
        .where(interest.subject_party_id == any_(id_array(vendors)), roles, *dated)
        .distinct()
        .cte("people")
    )
    seeds = union(
        select(func.unnest(id_array(vendors)).label("id")),
        select(interest.subject_party_id).where(among(interest.interested_party_id, people), roles, *dated),
        select(commercial.counterparty_id).where(
            commercial.vendor_party_id == any_(id_array(vendors)), *_dated(_commercial, as_of, since)
        ),
    ).cte("seeds")
    walked = select(seeds.c.id).cte("walked", recursive=True)
    walked = walked.union(select(interest.interested_party_id).where(interest.subject_party_id == walked.c.id, *dated))
    query: Any = select(literal("c").label("what"), walked.c.id)
    if aliases.root:  # the people too, to know whether a merge was among them
        query = union_all(query, select(literal("p"), people.c.id))
    rows = session.execute(query).all()
    if {party for _, party in rows} & (aliases.root.keys() | aliases.members.keys()):
        return None
    return {party for what, party in rows if what == "c"}


def among(column, cte):
    """`column = ANY(the CTE's ids as one array)`: an index scan for the few ids, where `IN (SELECT ...)` lets
    PostgreSQL guess a thousand rows and read the whole interest table."""
    return column == any_(cast(select(func.array_agg(cte.c.id)).scalar_subquery(), ARRAY(BigInteger)))


def load_graph_around(
    session: Session,
    vendor_party_ids: Iterable[int],
    as_of: date,
    *,
    extra_party_ids: Iterable[int] = (),
    lookback_months: int = LOOKBACK_MONTHS,
    aliases: Aliases | None = None,
) -> Graph:
    """The part of the graph that decides the given vendors' screening, as of the date.

    That is every party with a route into a vendor; the people holding board or managing roles in a vendor, the
    entities where they hold such roles, and the vendor's commercial counterparties, each with every party that
    has a route into it. Screening a vendor on this graph gives what it gives on the whole graph: whether an
    entity belongs to a rival's group depends only on the parties with a route into it. `extra_party_ids` (the
    rivals) are loaded as parties without their ties, so that the engine can name them.
    """
    since = months_before(as_of, lookback_months)
    aliases = aliases or load_aliases(session)
    vendors = aliases.expand(vendor_party_ids)
    closure = _closure_around(session, vendors, aliases, as_of, since)
    if closure is None:
        seeds = vendors | _role_entities(session, vendors, aliases, as_of, since)
        seeds |= _counterparties(session, vendors, as_of, since)
        closure = _closure(session, seeds, aliases, as_of, since)
    dialect = session.get_bind().dialect.name
    interest_rows = _interest_rows_among(session, _interest.c.subject_party_id, closure, as_of, since)
    commercial_rows = session.execute(
        select(*_commercial_columns(dialect)).where(
            in_ids(session, _commercial.c.vendor_party_id, vendors), *_dated(_commercial, as_of, since)
        )
    ).all()
    disclosure_ids = {row.disclosure_id for row in interest_rows if row.disclosure_id is not None}
    disclosure_ids |= {row.disclosure_id for row in commercial_rows if row.disclosure_id is not None}
    counting = _counting(session, disclosure_ids)
    wanted = closure | aliases.expand(extra_party_ids)
    wanted |= {aliases.resolve(party_id) for party_id in wanted}
    return _assemble(session, _kept_party_rows(session, wanted), interest_rows, commercial_rows, aliases, counting)


def _kept_party_rows(session: Session, ids: Iterable[int]) -> list:
    """_party_rows, each party's row kept between transactions under the party table's counter until a party
    changes (transaction_cache.shared_per_party_unless_written): a re-screen after a tie changed reads again only
    the parties no earlier screening read (a vendor under a large group has thousands above it, most of them
    shared with the group's other vendors). In the order of the ids, as _party_rows gives them to _nodes."""

    def compute(keys: list[tuple[str, int]]) -> dict[tuple[str, int], Any]:
        found = {row[0]: row for row in _party_rows(session, [party_id for _, party_id in keys])}
        return {key: found.get(key[1]) for key in keys}

    kept = transaction_cache.shared_per_party_unless_written(
        session, [("screening.party_row", party_id) for party_id in sorted(ids)], ("party",), compute
    )
    return [row for row in kept.values() if row is not None]


def _interest_rows_among(session: Session, column, ids: Iterable[int], as_of: date, since: date, *extra) -> Sequence:
    dialect = session.get_bind().dialect.name
    return session.execute(
        select(*_interest_columns(dialect)).where(
            in_ids(session, column, ids), *_dated(_interest, as_of, since), *extra
        )
    ).all()


def load_graph_above(
    session: Session,
    party_ids: Iterable[int],
    as_of: date,
    *,
    lookback_months: int = LOOKBACK_MONTHS,
    aliases: Aliases | None = None,
) -> Graph:
    """The shares, votes and board appointments held in these parties and in every party with a route into them,
    as of the date: all that decides whether each of them is in a rival's control group (load_graph_around)."""
    since = months_before(as_of, lookback_months)
    aliases = aliases or load_aliases(session)
    above = _closure(session, set(party_ids), aliases, as_of, since)
    rows = _interest_rows_among(
        session, _interest.c.subject_party_id, above, as_of, since, _interest.c.interest_type.in_(_PASSING)
    )
    disclosure_ids = {row.disclosure_id for row in rows if row.disclosure_id is not None}
    wanted = above | {aliases.resolve(party_id) for party_id in above}
    return _assemble(session, _party_rows(session, wanted), rows, [], aliases, _counting(session, disclosure_ids))


def load_graph_below(
    session: Session,
    party_ids: Iterable[int],
    as_of: date,
    *,
    lookback_months: int = LOOKBACK_MONTHS,
    aliases: Aliases | None = None,
    below: set[int] | None = None,
) -> Graph:
    """The shares, votes and board appointments held by these parties and by everything below them, as of the date:
    all that decides which entities are in their control groups (a group grows only by what its members hold), the
    same whichever part of the graph a screening reads. `below`: what parties_below gave for the same parties."""
    since = months_before(as_of, lookback_months)
    aliases = aliases or load_aliases(session)
    if below is None:
        below = _closure(session, set(party_ids), aliases, as_of, since, downward=True)
    rows = _interest_rows_among(
        session, _interest.c.interested_party_id, below, as_of, since, _interest.c.interest_type.in_(_PASSING)
    )
    disclosure_ids = {row.disclosure_id for row in rows if row.disclosure_id is not None}
    wanted = below | {aliases.resolve(party_id) for party_id in below}
    return _assemble(session, _party_rows(session, wanted), rows, [], aliases, _counting(session, disclosure_ids))


def parties_below(
    session: Session,
    party_ids: Iterable[int],
    as_of: date,
    *,
    lookback_months: int = LOOKBACK_MONTHS,
    aliases: Aliases | None = None,
) -> set[int]:
    """These parties and every party they hold shares, votes or board appointments in, through any chain, as of the
    date: read once, it serves load_graph_below and load_graph_for_rivals (`known_below`) alike."""
    since = months_before(as_of, lookback_months)
    return _closure(session, set(party_ids), aliases or load_aliases(session), as_of, since, downward=True)


# Each through its partial index (migration 0046), whose condition it states as a literal: a bound value could not
# tell a generic plan that the index holds every row asked for.
_UNKNOWN_PARTIES = select(_party.c.id).where(UNKNOWN_PARTY)


def _undisclosed_interests(dialect: str, as_of: date, since: date):
    return select(*_interest_columns(dialect)).where(UNDISCLOSED_INTEREST, *_dated(_interest, as_of, since))


def unknown_reach(
    session: Session,
    as_of: date,
    *,
    lookback_months: int = LOOKBACK_MONTHS,
    aliases: Aliases | None = None,
    allowed: bool | None = None,
) -> Later[tuple[Sequence, set[int]]]:
    """Every unknown or unpublished interest, and every party below an owner nobody can name or below a party
    with such an interest (_closure downward, as of the date): what load_graph_for_rivals reads besides what lies
    below the rivals. None of it depends on the rivals, so it is started beside (store.beside) where it may, for
    the caller to go on with the rivals' walks meanwhile; else it runs in the session when its result is asked."""
    since = months_before(as_of, lookback_months)
    aliases = aliases or load_aliases(session)
    dialect = session.get_bind().dialect.name

    def read(own: Session) -> tuple[Sequence, set[int]]:
        unknown = set(own.execute(_UNKNOWN_PARTIES).scalars())
        undisclosed = own.execute(_undisclosed_interests(dialect, as_of, since)).all()
        seeds = unknown | {row.subject_party_id for row in undisclosed}
        return undisclosed, _closure(own, seeds, aliases, as_of, since, downward=True)

    return beside(session, read, allowed=allowed)


def load_graph_for_rivals(
    session: Session,
    vendor_party_ids: Iterable[int],
    rival_party_ids: Iterable[int],
    as_of: date,
    *,
    lookback_months: int = LOOKBACK_MONTHS,
    aliases: Aliases | None = None,
    known_below: Iterable[int] = (),
    unknown_reach_later: Later[tuple[Sequence, set[int]]] | None = None,
) -> Graph:
    """The part of the graph where any rule can find anything against these rivals, as of the date.

    Every finding starts from a rival, an owner nobody can name, or an interest nobody has published, and
    travels down shareholdings, votes and board appointments: a rival's group and its stakes reach only what lies
    below it, and so do the unknown owners' stakes. So this reads what lies below those parties, every tie they
    hold (seats, contracts, roles), the roles of everyone with a role in one of them, every unknown or
    unpublished interest, and the commercial ties with a counterparty among them. A vendor outside all of that is
    clear of every graph rule. Roles are read only where the people rule looks: in the rivals' part and in the
    vendors. Screening the vendors on this graph gives what the whole graph gives, for a cost that
    grows with the rivals' reach rather than the size of the register. The vendors and rivals are loaded as parties
    (without their ties) so that the engine can name them.

    `known_below` is what parties_below gave for some of the rivals: only the others are walked down from.
    `unknown_reach_later` is what unknown_reach gave for the same date, look-back and aliases, if started already.
    """
    since = months_before(as_of, lookback_months)
    aliases = aliases or load_aliases(session)
    dialect = session.get_bind().dialect.name
    # Reads that do not wait for each other go to other connections beside this one where they may (store.beside):
    # the server answers one while this process reads another's rows.
    allowed = may_read_beside(session)
    if unknown_reach_later is None:
        unknown_reach_later = unknown_reach(
            session, as_of, lookback_months=lookback_months, aliases=aliases, allowed=allowed
        )
    below_rivals = set(known_below)
    others = aliases.expand(rival_party_ids) - below_rivals
    if others:
        below_rivals |= _closure(session, others, aliases, as_of, since, downward=True)
    interest, roles = _interest.c, _interest.c.interest_type.in_(sorted(ROLE_INTEREST_TYPES))
    # The people rule asks about one person's roles in a rival's group, which lies below the rival, and in a
    # vendor: the roles below the rivals read while what lies below the unknown owners is still being walked.
    roles_below_later = beside(
        session,
        lambda own: _interest_rows_among(own, interest.subject_party_id, below_rivals, as_of, since, roles),
        allowed=allowed,
    )
    # What lies below the unknown owners, walked apart from the rivals' part: the same parties as walking only from
    # those outside it, as what lies below a party of the rivals' part is in it already.
    undisclosed, below_unknown = unknown_reach_later.result()
    reach = below_rivals | below_unknown
    vendors = aliases.expand(vendor_party_ids)
    rivals = aliases.expand(rival_party_ids)

    def roles_and_parties(own: Session) -> tuple[Sequence, Sequence, set[int], Sequence]:
        roles_below = roles_below_later.result()
        people = aliases.expand(row.interested_party_id for row in roles_below) - reach
        their_roles = _interest_rows_among(
            own,
            interest.interested_party_id,
            people,
            as_of,
            since,
            roles,
            in_ids(own, interest.subject_party_id, vendors),
        )
        wanted = reach | people | vendors | rivals
        wanted |= {aliases.resolve(party_id) for party_id in wanted}
        party_rows = own.execute(select(*_PARTY_COLUMNS).where(in_ids(own, _party.c.id, wanted))).all()
        return roles_below, their_roles, people, party_rows

    roles_later = beside(session, roles_and_parties, allowed=allowed)
    commercial_later = beside(
        session,
        lambda own: own.execute(
            select(*_commercial_columns(dialect)).where(
                in_ids(own, _commercial.c.counterparty_id, reach), *_dated(_commercial, as_of, since)
            )
        ).all(),
        allowed=allowed,
    )
    held = _interest_rows_among(session, interest.interested_party_id, reach, as_of, since)
    roles_below, their_roles, people, party_rows = roles_later.result()
    commercial_rows = commercial_later.result()
    rows = list({row.id: row for row in (*held, *roles_below, *their_roles, *undisclosed)}.values())
    disclosure_ids = {row.disclosure_id for row in rows if row.disclosure_id is not None}
    disclosure_ids |= {row.disclosure_id for row in commercial_rows if row.disclosure_id is not None}
    counting = _counting(session, disclosure_ids)
    return _assemble(session, party_rows, rows, commercial_rows, aliases, counting, columns=True)


# --- What the unverified rule needs ---------------------------------------------------------------------------


def approval_dates(session: Session, vendor_org_ids: Iterable[int]) -> dict[int, date]:
    """When each vendor's latest approved disclosure version was approved (vendors with none are left out)."""
    latest: dict[int, tuple[int, date | None]] = {}
    rows = session.execute(
        select(
            _version.c.vendor_org_id,
            _version.c.number,
            _utc_day(_version.c.decided_at, session.get_bind().dialect.name),
        ).where(
            in_ids(session, _version.c.vendor_org_id, vendor_org_ids),
            _version.c.status == DisclosureStatus.APPROVED.value,
        )
    ).all()
    for vendor, number, decided_on in rows:
        if vendor not in latest or number > latest[vendor][0]:
            latest[vendor] = (number, decided_on)
    return {vendor: decided for vendor, (_, decided) in latest.items() if decided is not None}


def vendor_facts(session: Session, vendor_orgs, aliases: Aliases | None = None) -> list[VendorFacts]:
    """Facts of platform vendor organisations; an organisation without a party stands as party -org id."""
    aliases = aliases or load_aliases(session)
    approved = approval_dates(session, [org.id for org in vendor_orgs])
    resolve = aliases.resolve
    # Fields in order: party_id, on_platform, approved_on, org_id (100,000 vendors: built without __init__).
    return [
        built(
            VendorFacts,
            resolve(org.party_id) if org.party_id is not None else -org.id,
            True,
            approved.get(org.id),
            org.id,
        )
        for org in vendor_orgs
    ]


def platform_vendor_of(session: Session, party_id: int, aliases: Aliases | None = None) -> Organization | None:
    """The vendor organisation whose party this is (or was, before a merge), if any."""
    aliases = aliases or load_aliases(session)
    return session.execute(
        select(Organization)
        .where(
            col(Organization.kind) == OrgKind.VENDOR, col(Organization.party_id).in_(sorted(aliases.expand([party_id])))
        )
        .order_by(col(Organization.id))
        .limit(1)
    ).scalar_one_or_none()
