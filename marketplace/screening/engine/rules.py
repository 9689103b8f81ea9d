"""The screening engine: the seven competitor-exclusion rules of docs/screening.md as a pure function of the ownership
graph, the buyer's rivals and policy, and a date. No database, no Flask.

The work that depends on a rival is done once per rival (its control group by a vectorised fixed point, its
look-through stakes by one sparse solve per end of the ranges, for all rivals together); the work that depends
on people's roles is one index. Each vendor is then answered with lookups.

Figures are computed twice, from every low end and from every high end. Each end is computed twice again:
as given, for the figures reported, and with exclusive bounds moved EPSILON inside, for the threshold
decisions (so a share "under 25%" never reaches 25%).

Semantics beyond docs/screening.md's words: a pair's share is its shareholdings added up (votingRights where it has
none; the other way round for votes), capped at 100%; a tie through an entity that is only possibly in the
rival's group (from the high ends) is at most review; a role's holder may be any party; revenue shares left
blank count for nothing; an approval dated after T is no approval at T.
"""

import gc
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from marketplace.dates import months_before
from marketplace.screening.engine import explain
from marketplace.screening.engine.explain import Route, Tie
from marketplace.screening.engine.graph import CommercialEdge, Edge, EdgeColumns, Graph, VendorFacts
from marketplace.screening.engine.lookthrough import LookThrough, Routes, downstream
from marketplace.screening.engine.verdicts import (
    DEFAULT_ACTIONS,
    Action,
    Finding,
    Policy,
    Range,
    RivalResult,
    Rule,
    Screening,
    Verdict,
    worst,
)

EPSILON = 1e-9  # percent: how far inside its figure an exclusive bound sits when compared with a threshold
TOLERANCE = 1e-10  # percent: float noise forgiven at a threshold; below EPSILON, so exclusivity still counts
ROUTES_KEPT = 5
BATCH = 64  # sources (or targets) solved together when the unknown-owner bound must be refined

SHARE, VOTE, APPOINT, SEAT, SENIOR, CONTRACT, UNDISCLOSED = range(1, 8)
TYPE_CODES = {
    "shareholding": SHARE,
    "votingRights": VOTE,
    "appointmentOfBoard": APPOINT,
    "boardMember": SEAT,
    "boardChair": SEAT,
    "seniorManagingOfficial": SENIOR,
    "otherInfluenceOrControl": CONTRACT,
    "rightsGrantedByContract": CONTRACT,
    "conditionalRightsGrantedByContract": CONTRACT,
    "unknownInterest": UNDISCLOSED,
    "unpublishedInterest": UNDISCLOSED,
}
_TYPE_CODES = defaultdict(int, TYPE_CODES)  # every other interest type: 0
ROLE_TYPES = frozenset({"boardMember", "boardChair", "seniorManagingOfficial"})
# parties.models.UNKNOWN_PARTY_TYPES, which the engine may not import (test_engine_rules.py checks they agree).
UNKNOWN_PARTY_TYPES = frozenset({"anonymousEntity", "unknownEntity", "anonymousPerson", "unknownPerson"})
RULE_ORDER: dict[str, int] = {rule: position for position, rule in enumerate(Rule)}
# (end, decided): "low"/"high" end of the ranges; decided=True moves exclusive bounds inside by EPSILON.
VARIANTS = (("low", False), ("high", False), ("low", True), ("high", True))
Variant = tuple[str, bool]
# (certain, body, path, ties): one reason a rule found something, as _strongest weighs them.
Reason = tuple[bool, str, list[int], list[Tie]]
# (unknown owner, stake, low end reaches review)
OwnerStake = tuple[int, Range, bool]


def screen_vendors(
    graph: Graph, vendors: list[VendorFacts], rival_ids: list[int], policy: Policy, as_of: date
) -> dict[int, Screening]:
    """Screen every vendor against every rival under the policy, as of a date: {vendor party id: Screening}.

    Waivers are not applied here: every finding comes back with waived=False.
    """
    with collector_paused():
        return _screen(graph, vendors, rival_ids, policy, as_of)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading and screening a graph makes hundreds of thousands of objects,
    none of them in a reference cycle, and the collector would only walk them again and again. What is garbage
    when it ends is freed by reference counting, or by the next collection after."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _screen(
    graph: Graph, vendors: list[VendorFacts], rival_ids: list[int], policy: Policy, as_of: date
) -> dict[int, Screening]:
    rival_ids = list(dict.fromkeys(rival_ids))
    snapshot = _Snapshot(graph, as_of, policy, [v.party_id for v in vendors] + rival_ids)
    vendor_nodes = snapshot.node_array([v.party_id for v in vendors])
    rivals = _rivals(snapshot, snapshot.node_array(rival_ids), vendor_nodes, policy)
    unknown_owners = _unknown_owner_stakes(snapshot, vendor_nodes, policy)
    undisclosed = _undisclosed_routes(snapshot, vendor_nodes)
    if unknown_owners and snapshot.actions[Rule.UNKNOWN] != Action.IGNORE:
        # Thousands of owners on a large register: their routes found in batches, not a tree kept per owner.
        snapshot.routes().prefetch(
            (owner, int(vendor_nodes[at])) for at, owned in unknown_owners.items() for owner, _, _ in owned
        )
    results = {}
    # Most vendors of a register are looked at by no rival and reached by no unknown owner: their rivals' results
    # are the clear ones, and only the unverified rule can find anything.
    looked_at = set(unknown_owners).union(undisclosed, *(rival.attention for rival in rivals))
    clear = [rival.clear_results for rival in rivals]
    stale_before = snapshot.stale_before
    for position, (facts, node) in enumerate(zip(vendors, vendor_nodes.tolist(), strict=True)):
        if position not in looked_at and (not facts.on_platform or _current(facts.approved_on, stale_before, as_of)):
            # Nothing for any rule to find (_unverified_finding finds nothing either): no words, no objects made.
            results[facts.party_id] = Screening(
                facts.org_id, [], [results_of[position] for results_of in clear], as_of, facts.party_id
            )
            continue
        vendor = _Vendor(snapshot, policy, as_of, node, position)
        found: list[Finding | None] = []
        if position in looked_at:
            found = [f for rival in rivals if position in rival.attention for f in _rival_findings(vendor, rival)]
            if position in unknown_owners:
                found += _unknown_owner_findings(vendor, unknown_owners[position])
            if position in undisclosed:
                found.append(_undisclosed_finding(vendor, undisclosed[position]))
        found.append(_unverified_finding(vendor, facts))
        findings = [f for f in found if f is not None]
        if len(findings) > 1:
            findings.sort(key=lambda f: (-f.verdict.severity, RULE_ORDER[f.rule], f.rival or ""))
        results[facts.party_id] = Screening(
            vendor_org_id=facts.org_id,
            findings=findings,
            as_of=as_of,
            vendor_party_id=facts.party_id,
            rivals=[rival.result(position, findings) for rival in rivals]
            if position in looked_at
            else [results_of[position] for results_of in clear],
        )
    return results


def _active(tie: Edge | CommercialEdge, as_of: date) -> bool:
    return (tie.start is None or tie.start <= as_of) and (tie.end is None or tie.end > as_of)


def _party_ids(graph: Graph, referenced: list[np.ndarray]) -> np.ndarray:
    """Every party id, sorted: the graph's parties, and any id a tie or the caller names that it lacks."""
    ids = np.sort(np.fromiter(graph.parties, dtype=np.int64, count=len(graph.parties)))
    others = np.concatenate(referenced)
    if ids.size:
        found = ids[np.minimum(np.searchsorted(ids, others), ids.size - 1)] == others
        others = others[~found]
    return np.union1d(ids, others) if others.size else ids


class _Grouped:
    """Values grouped by a node number, each group found in constant time."""

    def __init__(self, keys: np.ndarray, n: int, values: np.ndarray | None = None):
        order = np.argsort(keys, kind="stable")
        self.values: list[int] = (order if values is None else np.asarray(values)[order]).tolist()
        self.starts: list[int] = np.searchsorted(keys[order], np.arange(n + 1)).tolist()

    def get(self, node: int) -> list[int]:
        return self.values[self.starts[node] : self.starts[node + 1]]


class _Snapshot:
    """The graph at T, on dense node numbers: edge arrays, share matrices, and the indexes the rules read."""

    def __init__(self, graph: Graph, as_of: date, policy: Policy, extra_ids: list[int]):
        self.graph, self.as_of = graph, as_of
        self.commercial = [c for c in graph.commercial if _active(c, as_of)]
        window_start = months_before(as_of, policy.people_window_months)
        self.actions = {rule: policy.action(rule) for rule in Rule}
        self.stale_before = months_before(as_of, policy.stale_after_months)
        self.edges: list[Edge] | EdgeColumns
        codes: np.ndarray | None = None
        if isinstance(graph.edges, EdgeColumns):
            # The same ties in the same order as below, read from the columns at once.
            columns = graph.edges
            day, window = np.datetime64(as_of, "D"), np.datetime64(window_start, "D")
            started = np.isnat(columns.start_day) | (columns.start_day <= day)
            all_codes = np.fromiter(
                map(_TYPE_CODES.__getitem__, columns.interest_type), dtype=np.int8, count=len(columns)
            )
            ends = columns.end_day
            active = np.flatnonzero(started & (np.isnat(ends) | (ends > day)))
            ended_at = np.flatnonzero(
                ~np.isnat(ends)
                & (ends >= window)
                & (ends <= day)
                & ((all_codes == SEAT) | (all_codes == SENIOR))
                & started
            )
            self.edges = columns.take(active)
            ended_roles = [columns[p] for p in ended_at.tolist()]
            holders, subjects, codes = columns.holder[active], columns.subject[active], all_codes[active]
            ended = np.stack([columns.holder[ended_at], columns.subject[ended_at]], axis=1).reshape(-1, 2)
        else:
            self.edges = [
                e for e in graph.edges if (e.start is None or e.start <= as_of) and (e.end is None or e.end > as_of)
            ]
            ended_roles = [
                e
                for e in graph.edges
                if e.end is not None
                and window_start <= e.end <= as_of
                and e.interest_type in ROLE_TYPES
                and (e.start is None or e.start <= as_of)
            ]
            count = len(self.edges)
            holders = np.fromiter(map(attrgetter("holder"), self.edges), dtype=np.int64, count=count)
            subjects = np.fromiter(map(attrgetter("subject"), self.edges), dtype=np.int64, count=count)
            ended = np.array([(e.holder, e.subject) for e in ended_roles], dtype=np.int64).reshape(-1, 2)
        trades = np.array([(c.vendor, c.counterparty) for c in self.commercial], dtype=np.int64).reshape(-1, 2)
        self.ids = _party_ids(
            graph, [holders, subjects, ended.ravel(), trades.ravel(), np.asarray(extra_ids, dtype=np.int64)]
        )
        self.n = n = len(self.ids)
        self.id_list: list[int] = self.ids.tolist()
        self.holder, self.subject = np.searchsorted(self.ids, holders), np.searchsorted(self.ids, subjects)
        self.codes = (
            codes
            if codes is not None
            else np.fromiter(
                map(_TYPE_CODES.__getitem__, map(attrgetter("interest_type"), self.edges)),
                dtype=np.int8,
                count=len(self.edges),
            )
        )
        self.keys = self.holder * n + self.subject
        self.pair_order = np.argsort(self.keys, kind="stable")
        self.sorted_keys = self.keys[self.pair_order]
        self._read_shares()
        self.holdings = self._matrices(self._counted_pairs(SHARE, VOTE))
        self.votes = self._matrices(self._counted_pairs(VOTE, SHARE))
        appoint = self.codes == APPOINT
        self.appoint = sparse.csr_matrix(
            (np.ones(int(appoint.sum())), (self.holder[appoint], self.subject[appoint])), shape=(n, n)
        )
        self.appointers = self.appoint.T.tocsr()
        self.seats_in, self.contracts_in, self.undisclosed_in = (
            _Grouped(self.subject[where], n, where)
            for where in (np.flatnonzero(self.codes == code) for code in (SEAT, CONTRACT, UNDISCLOSED))
        )
        self.undisclosed_subjects = np.unique(self.subject[self.codes == UNDISCLOSED])
        self._index_roles(ended_roles, self.node_array(ended[:, 0]), self.node_array(ended[:, 1]))
        self.trade_vendor, self.trade_partner = self.node_array(trades[:, 0]), self.node_array(trades[:, 1])
        self.commercial_of = _Grouped(self.trade_vendor, n)
        self.unknown = self.node_array(
            [p.id for p in graph.parties.values() if p.kind == "unspecified" or p.party_type in UNKNOWN_PARTY_TYPES]
        )
        self._transposed: dict[int, sparse.csr_matrix] = {}
        self._names: dict[int, str] = {}
        self._routes: Routes | None = None
        self._pair_lists: tuple[list[int], list[int], list[int]] | None = None

    def _index_roles(self, ended_roles: list[Edge], ended_holders: np.ndarray, ended_subjects: np.ndarray) -> None:
        """Board and senior roles held at T or ended within the people window, by vendor and by person."""
        active = np.flatnonzero((self.codes == SEAT) | (self.codes == SENIOR))
        # role_edge(i): the i-th of these, made when asked for (tens of thousands of roles on a large register).
        self._role_positions: list[int] = active.tolist()
        self._ended_roles = ended_roles
        self._role_cache: dict[int, Edge] = {}
        self._role_ties: dict[int, Tie] = {}
        self._role_parts: dict[tuple[int, str], tuple[str, Tie]] = {}
        self.role_holder = np.concatenate([self.holder[active], ended_holders])
        self.role_subject = np.concatenate([self.subject[active], ended_subjects])
        self.role_active: list[bool] = np.concatenate(
            [np.ones(active.size, bool), np.zeros(len(ended_roles), bool)]
        ).tolist()
        self.roles_in, self.roles_of = _Grouped(self.role_subject, self.n), _Grouped(self.role_holder, self.n)

    def role_edge(self, role: int) -> Edge:
        """The tie of a role of _index_roles: held at T, else ended within the people window."""
        held = len(self._role_positions)
        if role >= held:
            return self._ended_roles[role - held]
        edge = self._role_cache.get(role)
        if edge is None:
            edge = self._role_cache[role] = self.edges[self._role_positions[role]]
        return edge

    def role_part(self, role: int, entity: str) -> tuple[str, Tie]:
        """A role in words ("is a board member of <entity>", "was ... until <end>") and the tie citing it, kept per
        role and entity: the people rule words one role again for every vendor and rival it is paired with."""
        key = (role, entity)
        part = self._role_parts.get(key)
        if part is None:
            tie = self._role_ties.get(role)
            held = role < len(self._role_positions)
            if held and isinstance(self.edges, EdgeColumns):
                # Read from the columns: no Edge made for a role only words and a tie are wanted of.
                position, columns = self._role_positions[role], self.edges
                kind, end = columns.interest_type[position], None
                if tie is None:
                    tie = Tie(columns.id_list()[position], kind, columns.source[position])
            else:
                edge = self.role_edge(role)
                kind, end = edge.interest_type, None if held else edge.end
                if tie is None:
                    tie = Tie(edge.id, edge.interest_type, edge.source)
            self._role_ties[role] = tie
            part = self._role_parts[key] = (explain.role_text(kind, entity, end), tie)
        return part

    # -- nodes and names ---------------------------------------------------------------------------------------

    def node_array(self, party_ids: Iterable[int]) -> np.ndarray:
        return np.searchsorted(self.ids, np.asarray(list(party_ids), dtype=np.int64))

    def party_id(self, node: int) -> int:
        return self.id_list[node]

    def name(self, node: int) -> str:
        name = self._names.get(node)
        if name is None:
            party = self.graph.parties.get(self.party_id(node))
            name = self._names[node] = party.name if party is not None else f"party {self.party_id(node)}"
        return name

    def route(self, nodes: list[int], share: Range | None = None) -> Route:
        return Route(tuple(map(self.id_list.__getitem__, nodes)), tuple(map(self.name, nodes)), share)

    # -- shares ------------------------------------------------------------------------------------------------

    def _read_shares(self) -> None:
        """Percent figures per edge: [low, high] as given, and as decided (exclusive bounds moved inside)."""
        countable = np.flatnonzero((self.codes == SHARE) | (self.codes == VOTE))
        if isinstance(self.edges, EdgeColumns):
            low, high = self.edges.low[countable], self.edges.high[countable]
            low_open = self.edges.low_exclusive[countable].copy()
            high_open = self.edges.high_exclusive[countable].copy()
        else:
            edges = [self.edges[i] for i in countable.tolist()]
            low = np.array([e.low for e in edges], dtype=float)
            high = np.array([e.high for e in edges], dtype=float)
            low_open = np.fromiter(map(attrgetter("low_exclusive"), edges), dtype=bool, count=len(edges))
            high_open = np.fromiter(map(attrgetter("high_exclusive"), edges), dtype=bool, count=len(edges))
        low_open &= ~np.isnan(low)
        high_open &= ~np.isnan(high)
        # No figure on a countable interest is [0, 100]; a reversed range is read the right way round.
        given_low = np.clip(np.nan_to_num(low, nan=0.0), 0.0, 100.0)
        given_high = np.clip(np.nan_to_num(high, nan=100.0), 0.0, 100.0)
        given_low, given_high = np.minimum(given_low, given_high), np.maximum(given_low, given_high)
        wide = given_low < given_high
        decided_low = np.clip(given_low + EPSILON * (low_open & wide), 0.0, 100.0)
        decided_high = np.clip(given_high - EPSILON * (high_open & wide), 0.0, 100.0)
        crossed = decided_low > decided_high
        middle = (decided_low + decided_high) / 2
        decided_low[crossed], decided_high[crossed] = middle[crossed], middle[crossed]
        self.exclusive = bool(low_open.any() or high_open.any())
        self.shares = {}
        for key, values in (
            (("low", False), given_low),
            (("high", False), given_high),
            (("low", True), decided_low),
            (("high", True), decided_high),
        ):
            column = np.zeros(len(self.edges))
            column[countable] = values
            self.shares[key] = column

    def _counted_pairs(self, first: int, fallback: int) -> NDArray[np.bool_]:
        """Edges of type `first`, and of type `fallback` on pairs that have no `first` (per holder and subject)."""
        ordered = self.codes[self.pair_order]
        new_pair = np.ones(len(ordered), dtype=bool)
        new_pair[1:] = self.sorted_keys[1:] != self.sorted_keys[:-1]
        starts = np.flatnonzero(new_pair)
        has_first = np.logical_or.reduceat(ordered == first, starts) if starts.size else np.zeros(0, bool)
        pair_has_first = np.empty(len(ordered), dtype=bool)
        pair_has_first[self.pair_order] = has_first[np.cumsum(new_pair) - 1]
        # numpy's stubs type an array comparison as Any: it is a boolean array.
        return cast(NDArray[np.bool_], (self.codes == first) | ((self.codes == fallback) & ~pair_has_first))

    def _matrices(self, mask: np.ndarray) -> dict[Variant, sparse.csr_matrix]:
        """One n x n matrix of fractions per variant (where no bound is exclusive, decided and given are one)."""
        matrices: dict[Variant, sparse.csr_matrix] = {}
        for key in VARIANTS:
            if key[1] and not self.exclusive:
                matrices[key] = matrices[(key[0], False)]
                continue
            matrix = sparse.csr_matrix(
                (self.shares[key][mask] / 100.0, (self.holder[mask], self.subject[mask])), shape=(self.n, self.n)
            )
            np.minimum(matrix.data, 1.0, out=matrix.data)  # several interests of one pair: still at most 100%
            matrix.eliminate_zeros()
            matrices[key] = matrix
        return matrices

    def transposed(self, kind: str, key: Variant) -> sparse.csr_matrix:
        """Holders of each node (rows) for `holdings` or `votes`, cached."""
        matrix = getattr(self, kind)[key]
        if id(matrix) not in self._transposed:
            self._transposed[id(matrix)] = matrix.T.tocsr()
        return self._transposed[id(matrix)]

    def holders_in(self, kind: str, key: Variant, node: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.transposed(kind, key)
        start, end = rows.indptr[node], rows.indptr[node + 1]
        return rows.indices[start:end], rows.data[start:end]

    def share_of(self, kind: str, key: Variant, holder: int, node: int) -> float:
        holders, shares = self.holders_in(kind, key, node)
        found = shares[holders == holder]
        return float(found[0]) * 100.0 if found.size else 0.0

    def routes(self) -> Routes:
        if self._routes is None:
            self._routes = Routes(self.holdings[("high", False)])
        return self._routes

    # -- ties --------------------------------------------------------------------------------------------------

    def ties(self, holder: int, subject: int, codes: Container[int]) -> list[Tie]:
        """The interests `holder` holds in `subject` at T whose type is among `codes`."""
        if self._pair_lists is None:
            self._pair_lists = (self.sorted_keys.tolist(), self.pair_order.tolist(), self.codes.tolist())
        keys, order, code_of = self._pair_lists
        key = holder * self.n + subject
        start = bisect_left(keys, key)
        end = bisect_left(keys, key + 1, start)
        return [self.tie(p) for p in order[start:end] if code_of[p] in codes]

    def tie(self, position: int) -> Tie:
        if isinstance(self.edges, EdgeColumns):
            columns = self.edges
            return Tie(columns.id_list()[position], columns.interest_type[position], columns.source[position])
        edge = self.edges[position]
        return Tie(edge.id, edge.interest_type, edge.source)

    def route_ties(self, nodes: list[int], codes: Container[int]) -> list[Tie]:
        return [tie for a, b in zip(nodes, nodes[1:], strict=False) for tie in self.ties(a, b, codes)]


# -- rivals: the control group and the stakes, once per rival -----------------------------------------------------


def control_group(votes: sparse.csr_matrix, appoint: sparse.csr_matrix, rival: int, threshold: float) -> np.ndarray:
    """The round in which each node joined the rival's group (0 for the rival), -1 outside it.

    The group grows, until nothing changes, by every entity in which its members together hold at least
    `threshold` (a fraction) of the votes, or whose board a member appoints. Each round adds what the members
    found in the previous round hold, so the work is proportional to the group's own ties.
    """
    n = votes.shape[0]
    rounds = np.full(n, -1, dtype=np.int64)
    rounds[rival] = 0
    held = np.zeros(n)
    frontier, step = np.array([rival], dtype=np.int64), 0
    while frontier.size:
        step += 1
        indices, data = _rows_of(votes, frontier)
        np.add.at(held, indices, data)
        joined = np.union1d(indices[held[indices] >= threshold], _rows_of(appoint, frontier)[0])
        joined = joined[rounds[joined] < 0]
        rounds[joined] = step
        frontier = joined
    return rounds


def _rows_of(matrix: sparse.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The column indices and values of some rows of a CSR matrix, read from its arrays: scipy's row indexing
    builds a new matrix each time, which costs more than the whole walk when the groups are small."""
    starts, ends = matrix.indptr[rows], matrix.indptr[rows + 1]
    if rows.size == 1:
        return matrix.indices[starts[0] : ends[0]], matrix.data[starts[0] : ends[0]]
    lengths = ends - starts
    positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    return matrix.indices[positions], matrix.data[positions]


def control_groups(graph: Graph, rival_ids: list[int], policy: Policy, as_of: date) -> dict[int, dict[int, bool]]:
    """Each rival's group as rule 1 computes it: {rival: {member: certain}}, every party possibly in the group (from
    the high ends), certain when it is in the group from the low ends too; the rival itself is its own member."""
    rival_ids = list(dict.fromkeys(rival_ids))
    if not rival_ids:
        return {}
    snapshot = _Snapshot(graph, as_of, policy, rival_ids)
    groups = {}
    for party_id, node in zip(rival_ids, snapshot.node_array(rival_ids).tolist(), strict=True):
        rival = _Rival(snapshot, int(node), policy)
        certain = rival.members["low"]
        groups[party_id] = {
            snapshot.party_id(member): bool(certain[member])
            for member in np.flatnonzero(rival.members["high"]).tolist()
        }
    return groups


class _Rival:
    """One rival: its group (per end), its stakes in every vendor (per variant, percent), and the vendors that
    need a closer look (every other vendor is clear of this rival)."""

    consolidated: dict[Variant, np.ndarray]
    lookthrough: dict[Variant, np.ndarray]
    stakes: dict[Variant, np.ndarray]

    def __init__(self, snapshot: _Snapshot, node: int, policy: Policy):
        self.snapshot, self.node = snapshot, node
        self.party_id, self.name = snapshot.party_id(node), snapshot.name(node)
        threshold = (policy.control_at - TOLERANCE) / 100.0
        self.rounds = {
            end: control_group(snapshot.votes[(end, True)], snapshot.appoint, node, threshold)
            for end in ("low", "high")
        }
        self.members = {end: self.rounds[end] >= 0 for end in ("low", "high")}
        self.consolidated, self.lookthrough, self.stakes = {}, {}, {}
        self._parents: dict[tuple[int, str], list[tuple[int, float | None]]] = {}
        self._chains: dict[tuple[int, str], tuple[int, ...]] = {}
        self._group_roles: _Grouped | None = None
        self._member_names: dict[tuple[int, bool], str] = {}

    def set_stakes(self, key: Variant, consolidated: np.ndarray, lookthrough: np.ndarray) -> None:
        self.consolidated[key], self.lookthrough[key] = consolidated, lookthrough
        self.stakes[key] = np.clip(np.maximum(consolidated, lookthrough), 0.0, 100.0)

    def find_attention(self, vendor_nodes: np.ndarray, policy: Policy) -> None:
        """The vendor positions where some rule may find something; vectorised over every vendor at once."""
        snapshot, member = self.snapshot, self.members["high"]
        is_vendor = np.zeros(snapshot.n, dtype=bool)
        is_vendor[vendor_nodes] = True
        tied = np.zeros(snapshot.n, dtype=bool)
        interest = ((snapshot.codes == SEAT) | (snapshot.codes == CONTRACT)) & member[snapshot.holder]
        tied[snapshot.subject[interest]] = True
        people = np.zeros(snapshot.n, dtype=bool)
        people[snapshot.role_holder[member[snapshot.role_subject]]] = True
        tied[snapshot.role_subject[people[snapshot.role_holder]]] = True
        tied[snapshot.trade_vendor[member[snapshot.trade_partner]]] = True
        near = tied[vendor_nodes] | member[vendor_nodes]
        near |= self.stakes[("high", True)] >= min(policy.review_at, policy.exclude_at) - TOLERANCE
        self.attention = set(np.flatnonzero(near).tolist())
        # Most vendors share a figure (0% at both ends): one immutable Range per distinct figure.
        # Each (low, high) pair read as one complex number: np.unique on rows (axis=0) sorts them as records, which
        # took a quarter of a second per rival at 100,000 vendors; complex numbers sort by real part, then imaginary.
        ends = np.column_stack([self.stakes[("low", False)], self.stakes[("high", False)]]).astype(float, order="C")
        distinct, which = np.unique(ends.view(np.complex128).ravel(), return_inverse=True)
        made = [Range(value.real, value.imag) for value in distinct.tolist()]
        which_list = which.ravel().tolist()
        self.ranges = [made[i] for i in which_list]
        # Most vendors are clear of the rival at a figure many share: one immutable result each.
        clear = [RivalResult(self.name, self.party_id, Verdict.CLEAR, stake) for stake in made]
        self.clear_results = [clear[i] for i in which_list]

    def result(self, position: int, findings: list[Finding]) -> RivalResult:
        stake = self.ranges[position]
        if position in self.attention:
            verdict = worst(f.verdict for f in findings if f.rival_party_id == self.party_id)
            return RivalResult(self.name, self.party_id, verdict, stake)
        return self.clear_results[position]

    def in_group(self, node: int, end: str) -> bool:
        return bool(self.members[end][node])

    def group_roles(self) -> "_Grouped":
        """The roles held in the group's members (from the high ends), by person, in the order of roles_of: a person
        with roles in hundreds of entities is then looked at only where the group is."""
        if self._group_roles is None:
            snapshot = self.snapshot
            inside = np.flatnonzero(self.members["high"][snapshot.role_subject])
            self._group_roles = _Grouped(snapshot.role_holder[inside], snapshot.n, inside)
        return self._group_roles

    def member_chain(self, member: int) -> tuple[bool, tuple[int, ...]]:
        """Whether a member (from the high ends) is certainly in the group, and its chain from the rival along the
        ends that decide it."""
        certain = self.in_group(member, "low")
        end = "low" if certain else "high"
        if (member, end) not in self._chains:
            self.chain(member, end)
        return certain, self._chains.get((member, end), (member,))

    def member_name(self, member: int, certain: bool) -> str:
        """A member as a role's entity: the rival, or "<member>, (possibly) in <rival>'s group"."""
        key = (member, certain)
        name = self._member_names.get(key)
        if name is None:
            name = self._member_names[key] = explain.group_clause(
                self.snapshot.name(member), self.name, certain
            ).rstrip(",")
        return name

    def parents(self, node: int, end: str) -> list[tuple[int, float | None]]:
        """Members that brought `node` into the group: board appointers (share None), then voters, largest first."""
        if (node, end) not in self._parents:
            self._parents[node, end] = self._find_parents(node, end)
        return self._parents[node, end]

    def _find_parents(self, node: int, end: str) -> list[tuple[int, float | None]]:
        snapshot, rounds = self.snapshot, self.rounds[end]
        joined = rounds[node]
        start, stop = snapshot.appointers.indptr[node], snapshot.appointers.indptr[node + 1]
        appointers = [(int(h), None) for h in snapshot.appointers.indices[start:stop] if 0 <= rounds[h] < joined]
        holders, shares = snapshot.holders_in("votes", (end, True), node)
        earlier = (rounds[holders] >= 0) & (rounds[holders] < joined)
        voters = sorted(
            zip(holders[earlier].tolist(), (shares[earlier] * 100).tolist(), strict=True), key=lambda item: -item[1]
        )
        return appointers + voters

    def chain(self, node: int, end: str) -> list[int]:
        """The control chain from the rival to a member, following the largest contributor at each step."""
        climbed, at = [], node
        while (at, end) not in self._chains and at != self.node:
            climbed.append(at)
            at = self.parents(at, end)[0][0]
        chain = self._chains.get((at, end), (at,))
        for member in reversed(climbed):
            chain = self._chains[member, end] = (*chain, member)
        return list(self._chains.get((node, end), chain))


def _rivals(snapshot: _Snapshot, rival_nodes: np.ndarray, vendor_nodes: np.ndarray, policy: Policy) -> list[_Rival]:
    """Every rival's group and stakes: one look-through solve per end of the ranges, for all rivals together."""
    rivals = [_Rival(snapshot, int(node), policy) for node in rival_nodes]
    if not rivals:
        return rivals
    sources = sparse.csr_matrix(
        (np.ones(len(rivals)), (np.arange(len(rivals)), rival_nodes)), shape=(len(rivals), snapshot.n)
    )
    # The high ends as given hold every edge any variant holds: where no vendor lies below a rival along them,
    # every stake is 0 and nothing needs solving (one vendor's part of the graph, most often).
    reached = downstream(snapshot.holdings[("high", False)], rival_nodes)[vendor_nodes].any()
    solved = {}
    for key in VARIANTS:
        matrix = snapshot.holdings[key]
        if id(matrix) not in solved:
            solved[id(matrix)] = (
                LookThrough(matrix, rival_nodes).from_sources(sources, vendor_nodes) * 100.0
                if reached
                else np.zeros((len(rivals), vendor_nodes.size))
            )
        members = sparse.csr_matrix(np.vstack([rival.members[key[0]] for rival in rivals]).astype(float))
        consolidated = (members @ matrix)[:, vendor_nodes].toarray() * 100.0
        for index, rival in enumerate(rivals):
            rival.set_stakes(key, consolidated[index], solved[id(matrix)][index])
    for rival in rivals:
        rival.find_attention(vendor_nodes, policy)
    return rivals


# -- the rules ----------------------------------------------------------------------------------------------------


@dataclass
class _Vendor:
    """What every rule needs to word a finding about one vendor."""

    snapshot: _Snapshot
    policy: Policy
    as_of: date
    node: int
    position: int

    @property
    def name(self) -> str:
        return self.snapshot.name(self.node)

    def finding(
        self,
        rule: Rule,
        verdict: Verdict,
        body: str,
        rival: _Rival | None = None,
        stake: Range | None = None,
        routes: Sequence[Route] = (),
        ties: Sequence[Tie] = (),
    ) -> Finding:
        ties = list({(t.kind, t.edge_id): t for t in ties}.values())
        sources = {(s.description, s.verification_level, s.recorded): s for s in (t.source for t in ties)}
        routes = list(routes)[:ROUTES_KEPT]
        return Finding(
            rule=rule.value,
            verdict=verdict,
            rival=rival.name if rival else None,
            rival_party_id=rival.party_id if rival else None,
            stake=stake,
            explanation=explain.sentence(verdict, rule, body, self.as_of, routes, ties),
            paths=[list(r.names) for r in routes],
            path_ids=[list(r.ids) for r in routes],
            sources=list(sources.values()),
            as_of=self.as_of,
        )


def _decide(vendor: "_Vendor", rule: Rule, found: Verdict | None, certain: bool = True) -> Verdict | None:
    """The policy's verdict for a rule that found `found`; a tie only possibly in the group is at most review."""
    if found is None:
        return None
    action = vendor.snapshot.actions[rule]
    if action == Action.IGNORE:
        return None
    if action == Action.THRESHOLD:
        action = DEFAULT_ACTIONS[rule]
    verdict = found if action == Action.THRESHOLD else Verdict(action.value)
    return verdict if certain else Verdict.REVIEW


def _rival_findings(vendor: _Vendor, rival: _Rival) -> list[Finding]:
    findings = [
        _control_finding(vendor, rival),
        _ownership_finding(vendor, rival),
        *_role_findings(vendor, rival),
        _contract_finding(vendor, rival),
    ]
    return [f for f in findings if f is not None]


def _control_finding(vendor: _Vendor, rival: _Rival) -> Finding | None:
    """Rule 1: the vendor is in the rival's group (from the low ends), or may be (from the high ends only)."""
    certain = rival.in_group(vendor.node, "low")
    if not certain and not rival.in_group(vendor.node, "high"):
        return None
    verdict = _decide(vendor, Rule.CONTROL, Verdict.EXCLUDE, certain)
    if verdict is None:
        return None
    snapshot, end = vendor.snapshot, "low" if certain else "high"
    if vendor.node == rival.node:
        body = explain.control_body(rival.name, vendor.name, None, False, certain, itself=True)
        return vendor.finding(Rule.CONTROL, verdict, body, rival, routes=[snapshot.route([vendor.node])])
    parents = rival.parents(vendor.node, end)
    paths = [rival.chain(member, end) + [vendor.node] for member, _ in parents[:ROUTES_KEPT]]
    votes = Range(*(_group_votes(snapshot, rival, vendor.node, side) for side in ("low", "high")))
    routes = [
        snapshot.route(path, None if share is None else Range(share, share))
        for path, (_, share) in zip(paths, parents, strict=False)
    ]
    ties = [t for path in paths for t in snapshot.route_ties(path, {SHARE, VOTE, APPOINT})]
    appointed = parents[0][1] is None
    body = explain.control_body(rival.name, vendor.name, votes, appointed, certain, itself=False)
    return vendor.finding(Rule.CONTROL, verdict, body, rival, votes, routes, ties)


def _group_votes(snapshot: _Snapshot, rival: _Rival, node: int, end: str) -> float:
    holders, shares = snapshot.holders_in("votes", (end, False), node)
    return float(min(100.0, shares[rival.members[end][holders]].sum() * 100.0))


def _ownership_finding(vendor: _Vendor, rival: _Rival) -> Finding | None:
    """Rule 2: the larger of the consolidated and look-through stakes, against the thresholds."""
    at, policy = vendor.position, vendor.policy
    found = None
    if rival.stakes[("low", True)][at] >= policy.exclude_at - TOLERANCE:
        found = Verdict.EXCLUDE
    elif rival.stakes[("high", True)][at] >= policy.review_at - TOLERANCE:
        found = Verdict.REVIEW
    verdict = _decide(vendor, Rule.OWNERSHIP, found)
    if verdict is None:
        return None
    certain = found == Verdict.EXCLUDE
    key = ("low" if certain else "high", False)
    stake = rival.ranges[at]
    consolidated = rival.consolidated[key][at] > rival.lookthrough[key][at] + TOLERANCE
    paths = _ownership_paths(vendor, rival, key[0])
    ties = [t for path, _ in paths for t in vendor.snapshot.route_ties(path, {SHARE, VOTE})]
    body = explain.ownership_body(rival.name, vendor.name, stake, certain, consolidated)
    routes = [vendor.snapshot.route(path, share) for path, share in paths]
    return vendor.finding(Rule.OWNERSHIP, verdict, body, rival, stake, routes, ties)


def _ownership_paths(vendor: _Vendor, rival: _Rival, end: str) -> list[tuple[list[int], Range]]:
    """Look-through routes (product of shares) and consolidated ones (a group member's own holding), largest first."""
    snapshot, node = vendor.snapshot, vendor.node
    found = {}
    for path in snapshot.routes().routes(rival.node, node, ROUTES_KEPT):
        low = high = 100.0
        for a, b in zip(path, path[1:], strict=False):
            low *= snapshot.share_of("holdings", ("low", False), a, b) / 100.0
            high *= snapshot.share_of("holdings", ("high", False), a, b) / 100.0
        found[tuple(path)] = Range(low, high)
    holders, _ = snapshot.holders_in("holdings", ("high", False), node)
    for member in holders[rival.rounds[end][holders] > 0].tolist():
        path = rival.chain(member, end) + [node]
        found.setdefault(
            tuple(path),
            Range(
                snapshot.share_of("holdings", ("low", False), member, node),
                snapshot.share_of("holdings", ("high", False), member, node),
            ),
        )
    ordered = sorted(found.items(), key=lambda item: (-item[1].high, -item[1].low))
    return [(list(path), share) for path, share in ordered[:ROUTES_KEPT]]


def _role_findings(vendor: _Vendor, rival: _Rival) -> list[Finding | None]:
    """Rules 3 and 4: a group member's board seat in the vendor; one person's roles in both, now or lately."""
    snapshot, node = vendor.snapshot, vendor.node
    board: list[Reason]
    people: list[Reason]
    board, people = [], []  # (certain, body, path, ties)
    for position in snapshot.seats_in.get(node):
        member = int(snapshot.holder[position])
        if rival.in_group(member, "high"):
            certain = rival.in_group(member, "low")
            who = explain.group_clause(snapshot.name(member), rival.name, certain)
            body = explain.board_seat_body(who, snapshot.tie(position).kind, vendor.name)
            path = rival.chain(member, "low" if certain else "high") + [node]
            board.append((certain, body, path, [snapshot.tie(position)]))
    # (person, member) -> (both held at T, role in vendor, role in member)
    pairs: dict[tuple[int, int], tuple[bool, int, int]] = {}
    group_roles = rival.group_roles()
    for mine in snapshot.roles_in.get(node):
        person = int(snapshot.role_holder[mine])
        for theirs in group_roles.get(person):
            member = int(snapshot.role_subject[theirs])
            if member == node:
                continue
            both = snapshot.role_active[mine] and snapshot.role_active[theirs]
            if (person, member) not in pairs or (both and not pairs[person, member][0]):
                pairs[person, member] = (both, mine, theirs)
    for (person, member), (both, mine, theirs) in pairs.items():
        certain, chain = rival.member_chain(member)
        mine_text, mine_tie = snapshot.role_part(mine, vendor.name)
        theirs_text, theirs_tie = snapshot.role_part(theirs, rival.member_name(member, certain))
        body = explain.shared_role_body(snapshot.name(person), mine_text, theirs_text)
        (board if both else people).append((certain, body, [*chain, person, node], [theirs_tie, mine_tie]))
    return [
        _strongest(vendor, rival, Rule.BOARD, Verdict.EXCLUDE, board),
        _strongest(vendor, rival, Rule.PEOPLE, Verdict.REVIEW, people),
    ]


def _strongest(
    vendor: _Vendor, rival: _Rival, rule: Rule, found: Verdict, reasons: list[Reason], stake: Range | None = None
) -> Finding | None:
    """One finding for a rule and rival, worded after its surest reason, citing the routes and ties of all."""
    if not reasons:
        return None
    reasons = sorted(reasons, key=lambda reason: not reason[0])
    verdict = _decide(vendor, rule, found, certain=reasons[0][0])
    if verdict is None:
        return None
    # Only the routes a finding keeps are named: a vendor under a large group has dozens of reasons.
    routes = [vendor.snapshot.route(path) for _, _, path, _ in reasons[:ROUTES_KEPT]]
    ties = [tie for *_, reason_ties in reasons for tie in reason_ties]
    body = explain.reasons_text([body for _, body, _, _ in reasons])
    return vendor.finding(rule, verdict, body, rival, stake, routes, ties)


def _contract_finding(vendor: _Vendor, rival: _Rival) -> Finding | None:
    """Rule 5: contractual control by a group member, an exclusive agreement, or revenue from the group."""
    snapshot, node, policy = vendor.snapshot, vendor.node, vendor.policy
    reasons = []
    for position in snapshot.contracts_in.get(node):
        member = int(snapshot.holder[position])
        if rival.in_group(member, "high"):
            certain = rival.in_group(member, "low")
            who = explain.group_clause(snapshot.name(member), rival.name, certain)
            body = explain.contract_interest_body(who, snapshot.tie(position).kind, vendor.name)
            reasons.append(
                (certain, body, rival.chain(member, "low" if certain else "high") + [node], [snapshot.tie(position)])
            )
    revenue = {"low": 0.0, "high": 0.0}
    customers = []
    for index in snapshot.commercial_of.get(node):
        tie, partner = snapshot.commercial[index], int(snapshot.trade_partner[index])
        if not rival.in_group(partner, "high"):
            continue
        certain = rival.in_group(partner, "low")
        path = rival.chain(partner, "low" if certain else "high") + [node]
        if tie.kind == "exclusive_agreement":
            who = explain.group_clause(snapshot.name(partner), rival.name, certain).rstrip(",")
            reasons.append(
                (
                    certain,
                    explain.exclusive_body(vendor.name, who),
                    path,
                    [Tie(tie.id, "exclusive agreement", tie.source)],
                )
            )
        elif tie.kind == "customer" and tie.revenue_share_pct:
            revenue["high"] += tie.revenue_share_pct
            revenue["low"] += tie.revenue_share_pct if certain else 0.0
            customers.append(
                (path, Tie(tie.id, f"customer, {explain.percent(tie.revenue_share_pct)} of revenue", tie.source))
            )
    stake = None
    if revenue["high"] >= policy.revenue_share_at - TOLERANCE:
        stake = Range(min(revenue["low"], 100.0), min(revenue["high"], 100.0))
        certain = revenue["low"] >= policy.revenue_share_at - TOLERANCE
        reasons.append(
            (
                certain,
                explain.revenue_body(vendor.name, rival.name, stake),
                customers[0][0],
                [tie for _, tie in customers],
            )
        )
    return _strongest(vendor, rival, Rule.CONTRACT, Verdict.REVIEW, reasons, stake)


# -- rule 6: owners nobody can name, ownership nobody has disclosed -------------------------------------------------


def _unknown_owner_stakes(snapshot: _Snapshot, vendor_nodes: np.ndarray, policy: Policy) -> dict[int, list[OwnerStake]]:
    """{vendor position: [(unknown owner, stake, low end reaches review)]} for owners whose high end reaches review.

    The stake of all unknown owners together bounds each one's; only vendors where that bound reaches the review
    threshold are looked at, and where one owner alone has a route to the vendor, the bound is its stake. Only
    vendors that several owners reach are looked at owner by owner, and only with the owners upstream of them.
    """
    owners, threshold = snapshot.unknown, policy.review_at - TOLERANCE
    if not owners.size or not vendor_nodes.size:
        return {}
    decided = snapshot.holdings[("high", True)]
    everyone = sparse.csr_matrix(
        (np.ones(owners.size), (np.zeros(owners.size, np.int64), owners)), shape=(1, snapshot.n)
    )
    bound = LookThrough(decided, owners).from_sources(everyone, vendor_nodes)[0]
    first, last = _reaching(decided, owners)
    # Reached by an owner (a threshold of 0 must not make every vendor a finding), at or above the threshold.
    flagged = np.flatnonzero((bound * 100.0 >= threshold) & (last[vendor_nodes] >= 0))
    found: defaultdict[int, list[OwnerStake]] = defaultdict(list)
    if not flagged.size:
        return found
    targets = vendor_nodes[flagged]
    alone = first[targets] == last[targets]
    if alone.any():
        figures = {}
        for end in ("low", "high"):
            matrix = snapshot.holdings[(end, False)]
            given = (
                bound[flagged[alone]]
                if matrix is decided
                else LookThrough(matrix, owners).from_sources(everyone, targets[alone])[0]
            )
            figures[end] = np.clip(given * 100.0, 0.0, 100.0).tolist()
        for at, owner, low, high in zip(
            flagged[alone].tolist(),
            owners[first[targets[alone]]].tolist(),
            figures["low"],
            figures["high"],
            strict=True,
        ):
            found[at].append((owner, Range(low, high), low >= threshold))
    if not alone.all():
        _owner_by_owner(snapshot, owners, flagged[~alone], targets[~alone], threshold, found)
    return found


def _reaching(holdings: sparse.csr_matrix, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each node, the lowest and the highest index in `sources` of a source with a route to it (both -1 when
    none has one): where the two agree, that source alone reaches the node."""
    coo = holdings.tocoo()
    first, last = np.full(holdings.shape[0], np.iinfo(np.int64).max), np.full(holdings.shape[0], -1)
    index = np.arange(sources.size)
    np.minimum.at(first, sources, index)
    np.maximum.at(last, sources, index)
    # The edges by what they point at, so that each round reduces runs of them (ufunc.at is slow on many edges).
    order = np.argsort(coo.col, kind="stable")
    rows, cols = coo.row[order], coo.col[order]
    starts = np.flatnonzero(np.concatenate(([True], cols[1:] != cols[:-1]))) if cols.size else np.zeros(0, np.int64)
    pointed = cols[starts]
    while starts.size:  # relax along every edge until nothing changes: as many rounds as the longest shortest route
        lower, higher = first.copy(), last.copy()
        lower[pointed] = np.minimum(lower[pointed], np.minimum.reduceat(first[rows], starts))
        higher[pointed] = np.maximum(higher[pointed], np.maximum.reduceat(last[rows], starts))
        if np.array_equal(lower, first) and np.array_equal(higher, last):
            break
        first, last = lower, higher
    first[last < 0] = -1
    return first, last


def _owner_by_owner(
    snapshot: _Snapshot,
    owners: np.ndarray,
    flagged: np.ndarray,
    targets: np.ndarray,
    threshold: float,
    found: dict[int, list[OwnerStake]],
) -> None:
    """Each unknown owner's own stake in vendors that several of them reach, added to `found` where its high end
    reaches the threshold, largest first."""
    owners = owners[downstream(snapshot.transposed("holdings", ("high", True)), targets)[owners]]
    decided = _pairwise(snapshot, ("high", True), owners, targets)
    hits = np.argwhere(decided * 100.0 >= threshold)
    if not hits.size:
        return
    used_owners, owner_at = np.unique(hits[:, 0], return_inverse=True)
    used_targets, target_at = np.unique(hits[:, 1], return_inverse=True)
    figures = {}
    for end in ("low", "high"):
        if snapshot.holdings[(end, False)] is snapshot.holdings[("high", True)]:
            given = decided[np.ix_(used_owners, used_targets)]  # no exclusive bound: the same figures
        else:
            given = _pairwise(snapshot, (end, False), owners[used_owners], targets[used_targets])
        figures[end] = np.clip(given * 100.0, 0.0, 100.0)
    low, high = figures["low"], figures["high"]
    for (owner, target), i, j in zip(hits.tolist(), owner_at.ravel().tolist(), target_at.ravel().tolist(), strict=True):
        stake = Range(float(low[i, j]), float(high[i, j]))
        found[int(flagged[target])].append((int(owners[owner]), stake, stake.low >= threshold))
    for at in set(flagged[np.unique(hits[:, 1])].tolist()):
        found[at].sort(key=lambda item: (-item[1].high, -item[1].low))


def _pairwise(snapshot: _Snapshot, key: Variant, holders: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """len(holders) x len(targets) look-through stakes (fractions), solved from the smaller side.

    One factorisation of what lies downstream of the holders (or upstream of the targets, on the transposed
    matrix, whose rows are the columns wanted here), then the solves in batches.
    """
    forward = holders.size <= targets.size
    matrix = snapshot.holdings[key] if forward else snapshot.transposed("holdings", key)
    sources, wanted = (holders, targets) if forward else (targets, holders)
    solver = LookThrough(matrix, sources)
    blocks = []
    for start in range(0, sources.size, BATCH):
        chunk = sources[start : start + BATCH]
        rows = sparse.csr_matrix((np.ones(chunk.size), (np.arange(chunk.size), chunk)), shape=(chunk.size, snapshot.n))
        blocks.append(solver.from_sources(rows, wanted))
    stakes = np.vstack(blocks) if blocks else np.zeros((0, wanted.size))
    return stakes if forward else stakes.T


def _unknown_owner_findings(vendor: _Vendor, owners: list[OwnerStake]) -> list[Finding]:
    findings: list[Finding] = []
    verdict = _decide(vendor, Rule.UNKNOWN, Verdict.REVIEW)
    if verdict is None:
        return findings
    snapshot = vendor.snapshot
    for owner, stake, certain in owners:
        paths = snapshot.routes().routes(owner, vendor.node, ROUTES_KEPT)
        ties = [t for path in paths for t in snapshot.route_ties(path, {SHARE, VOTE})]
        party = snapshot.graph.parties.get(snapshot.party_id(owner))
        body = explain.unknown_owner_body(
            snapshot.name(owner), vendor.name, stake, certain, party.unspecified_reason if party is not None else ""
        )
        findings.append(
            vendor.finding(Rule.UNKNOWN, verdict, body, None, stake, [snapshot.route(path) for path in paths], ties)
        )
    return findings


def _undisclosed_routes(snapshot: _Snapshot, vendor_nodes: np.ndarray) -> dict[int, list[int]]:
    """{vendor position: route from an entity with an unknown or unpublished interest down to the vendor}."""
    if not snapshot.undisclosed_subjects.size:
        return {}
    reached, parent = downstream(snapshot.holdings[("high", True)], snapshot.undisclosed_subjects, parents=True)
    routes = {}
    for position in np.flatnonzero(reached[vendor_nodes]).tolist():
        path = [int(vendor_nodes[position])]
        while parent[path[-1]] >= 0:
            path.append(int(parent[path[-1]]))
        routes[position] = path[::-1]
    return routes


def _undisclosed_finding(vendor: _Vendor, path: list[int]) -> Finding | None:
    verdict = _decide(vendor, Rule.UNKNOWN, Verdict.REVIEW)
    if verdict is None:
        return None
    snapshot = vendor.snapshot
    positions = snapshot.undisclosed_in.get(path[0])
    declared = [snapshot.tie(p) for p in positions]
    holder_node = int(snapshot.holder[positions[0]])
    holder = snapshot.name(holder_node)
    party = snapshot.graph.parties.get(snapshot.party_id(holder_node))
    body = explain.undisclosed_body(
        vendor.name,
        snapshot.name(path[0]),
        holder,
        declared[0].kind,
        party.unspecified_reason if party is not None else "",
    )
    routes = [snapshot.route(path)] if len(path) > 1 else []
    return vendor.finding(
        Rule.UNKNOWN, verdict, body, None, None, routes, declared + snapshot.route_ties(path, {SHARE, VOTE})
    )


# -- rule 7 -----------------------------------------------------------------------------------------------------


def _current(approved: date | None, stale_before: date, as_of: date) -> bool:
    """Rule 7's clear case: a disclosure approved by T and not older than the policy allows."""
    return approved is not None and stale_before <= approved <= as_of


def _unverified_finding(vendor: _Vendor, facts: VendorFacts) -> Finding | None:
    """Rule 7: a platform vendor with no approved disclosure at T, or one older than the policy allows."""
    policy, approved = vendor.policy, facts.approved_on
    if not facts.on_platform or _current(approved, vendor.snapshot.stale_before, vendor.as_of):
        return None
    verdict = _decide(vendor, Rule.UNVERIFIED, Verdict.REVIEW)
    if verdict is None:
        return None
    body = explain.unverified_body(vendor.name, approved, vendor.as_of, policy.stale_after_months)
    return vendor.finding(Rule.UNVERIFIED, verdict, body)
