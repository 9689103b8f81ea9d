"""An independent reference for the screening engine, written the plainest way, for small graphs only.

Dense numpy matrices over every party; the control group by scanning every party until nothing changes; the
look-through by np.linalg.solve on the full matrix. Where the full matrix's series does not converge, each
party is checked the long way: it diverges when a strongly connected set with spectral radius 1 or more lies
on a route to it. Nothing here is shared with marketplace.screening.engine.rules.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from marketplace.screening.engine.verdicts import Action, Rule, Verdict

EPS = 1e-9
TOL = 1e-10
ROLES = {"boardMember", "boardChair", "seniorManagingOfficial"}
UNKNOWN_TYPES = {"anonymousEntity", "unknownEntity", "anonymousPerson", "unknownPerson"}
SEVERITY = {Verdict.CLEAR: 0, Verdict.REVIEW: 1, Verdict.EXCLUDE: 2}
DEFAULTS = {
    Rule.CONTROL: "exclude",
    Rule.OWNERSHIP: "threshold",
    Rule.BOARD: "exclude",
    Rule.PEOPLE: "review",
    Rule.CONTRACT: "review",
    Rule.UNKNOWN: "review",
    Rule.UNVERIFIED: "review",
}


@dataclass
class Expected:
    verdict: Verdict = Verdict.CLEAR
    findings: dict = field(default_factory=dict)  # (rule value, rival party id or None) -> worst verdict
    stakes: dict = field(default_factory=dict)  # rival party id -> (low, high), percent, as given
    rival_verdicts: dict = field(default_factory=dict)  # rival party id -> worst verdict
    exact: bool = True  # every look-through matrix was invertible with a convergent series


def months_ago(day: date, months: int) -> date:
    year, month = day.year, day.month - months
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def share(edge, end: str, decided: bool) -> float:
    """One end of an edge's share, percent; decided moves an exclusive bound inside by EPS."""
    if end == "low":
        value = 0.0 if edge.low is None else edge.low
        if decided and edge.low is not None and edge.low_exclusive:
            value += EPS
    else:
        value = 100.0 if edge.high is None else edge.high
        if decided and edge.high is not None and edge.high_exclusive:
            value -= EPS
    return min(100.0, max(0.0, value))


class Reference:
    def __init__(self, graph, vendors, rival_ids, policy, as_of):
        self.graph, self.vendors, self.policy, self.as_of = graph, vendors, policy, as_of
        self.rivals = list(dict.fromkeys(rival_ids))
        everyone = set(graph.parties) | {v.party_id for v in vendors} | set(self.rivals)
        for e in graph.edges:
            everyone |= {e.holder, e.subject}
        for c in graph.commercial:
            everyone |= {c.vendor, c.counterparty}
        self.ids = sorted(everyone)
        self.at = {pid: i for i, pid in enumerate(self.ids)}
        self.n = len(self.ids)
        self.active = [e for e in graph.edges if e.active_at(as_of)]
        self.exact = True

    def action(self, rule):
        return str(self.policy.actions.get(rule, DEFAULTS[rule]))

    # -- matrices --

    def matrix(self, kind: str, end: str, decided: bool) -> np.ndarray:
        """kind 'own': shareholding, else votingRights; kind 'vote': the other way round."""
        first, second = ("shareholding", "votingRights") if kind == "own" else ("votingRights", "shareholding")
        sums = {first: np.zeros((self.n, self.n)), second: np.zeros((self.n, self.n))}
        seen = {first: np.zeros((self.n, self.n), bool), second: np.zeros((self.n, self.n), bool)}
        for e in self.active:
            if e.interest_type in sums:
                i, j = self.at[e.holder], self.at[e.subject]
                sums[e.interest_type][i, j] += share(e, end, decided) / 100
                seen[e.interest_type][i, j] = True
        return np.minimum(np.where(seen[first], sums[first], sums[second]), 1.0)

    def group(self, rival: int, end: str) -> set[int]:
        votes = self.matrix("vote", end, True)
        appoint = np.zeros((self.n, self.n), bool)
        for e in self.active:
            if e.interest_type == "appointmentOfBoard":
                appoint[self.at[e.holder], self.at[e.subject]] = True
        members = {self.at[rival]}
        changed = True
        while changed:
            changed = False
            for j in range(self.n):
                if j in members:
                    continue
                total = sum(votes[m, j] for m in members) * 100
                if total >= self.policy.control_at - TOL or any(appoint[m, j] for m in members):
                    members.add(j)
                    changed = True
        return members

    def lookthrough(self, w: np.ndarray, source: int) -> np.ndarray:
        """Row `source` of W (I - W)^-1, fractions; inf where the series diverges."""
        eye = np.eye(self.n)
        rho = max(abs(np.linalg.eigvals(w))) if self.n else 0.0
        if rho < 1 - 1e-6:
            return np.linalg.solve((eye - w).T, w[source])
        self.exact = False
        reach = (w > 0).astype(int)
        for k in range(self.n):  # Warshall: reach[i, j] = some route of one edge or more from i to j
            reach = reach | (reach[:, [k]] & reach[[k], :])
        reach = reach.astype(bool)
        bad = []
        for k in range(self.n):
            together = [j for j in range(self.n) if (j == k) or (reach[k, j] and reach[j, k])]
            if reach[k, k] and max(abs(np.linalg.eigvals(w[np.ix_(together, together)]))) >= 1 - 1e-9:
                bad.append(k)
        reached = reach[source].copy()
        divergent = np.zeros(self.n, bool)
        for k in bad:
            if reached[k]:
                divergent |= reach[k]
                divergent[k] = True
        keep = [j for j in range(self.n) if reached[j] and not divergent[j]]
        x = np.zeros(self.n)
        if keep:
            sub = w[np.ix_(keep, keep)]
            x[keep] = np.linalg.solve(np.eye(len(keep)) - sub.T, w[source, keep])
        x[divergent] = np.inf
        return x

    # -- screening --

    def screen(self) -> dict[int, Expected]:
        own = {(end, d): self.matrix("own", end, d) for end in ("low", "high") for d in (False, True)}
        groups = {r: {end: self.group(r, end) for end in ("low", "high")} for r in self.rivals}
        stakes = {}
        for r in self.rivals:
            for key, w in own.items():
                members = groups[r][key[0]]
                consolidated = w[sorted(members)].sum(axis=0) if members else np.zeros(self.n)
                stakes[r, key] = np.clip(np.maximum(consolidated, self.lookthrough(w, self.at[r])) * 100, 0, 100)
        unknown = [
            pid for pid, p in self.graph.parties.items() if p.kind == "unspecified" or p.party_type in UNKNOWN_TYPES
        ]
        unknown_stakes = {u: self.lookthrough(own["high", True], self.at[u]) * 100 for u in unknown}
        upstream_undisclosed = self.undisclosed(own["high", True])
        results = {}
        for facts in self.vendors:
            v = self.at[facts.party_id]
            out = Expected()
            for r in self.rivals:
                low_group, high_group = groups[r]["low"], groups[r]["high"]
                out.stakes[r] = (float(stakes[r, ("low", False)][v]), float(stakes[r, ("high", False)][v]))
                found = []
                if v in low_group:
                    found.append((Rule.CONTROL, "exclude", True))
                elif v in high_group:
                    found.append((Rule.CONTROL, "exclude", False))
                if stakes[r, ("low", True)][v] >= self.policy.exclude_at - TOL:
                    found.append((Rule.OWNERSHIP, "exclude", True))
                elif stakes[r, ("high", True)][v] >= self.policy.review_at - TOL:
                    found.append((Rule.OWNERSHIP, "review", True))
                found += self.ties(facts.party_id, low_group, high_group)
                for rule, verdict, certain in found:
                    decided = self.decide(rule, verdict, certain)
                    if decided:
                        self.record(out, rule, r, decided)
            for u in unknown:
                if unknown_stakes[u][v] >= self.policy.review_at - TOL:
                    self.add(out, Rule.UNKNOWN)
            if upstream_undisclosed[v]:
                self.add(out, Rule.UNKNOWN)
            if facts.on_platform:
                approved = facts.approved_on
                if (
                    approved is None
                    or approved > self.as_of
                    or approved < months_ago(self.as_of, self.policy.stale_after_months)
                ):
                    self.add(out, Rule.UNVERIFIED)
            out.verdict = max(out.findings.values(), key=SEVERITY.get, default=Verdict.CLEAR)
            for r in self.rivals:
                out.rival_verdicts[r] = max(
                    (verdict for (_, rival), verdict in out.findings.items() if rival == r),
                    key=SEVERITY.get,
                    default=Verdict.CLEAR,
                )
            out.exact = self.exact
            results[facts.party_id] = out
        return results

    def add(self, out: Expected, rule: Rule) -> None:
        decided = self.decide(rule, DEFAULTS[rule], True)
        if decided:
            self.record(out, rule, None, decided)

    @staticmethod
    def record(out: Expected, rule: Rule, rival, verdict: Verdict) -> None:
        key = (rule.value, rival)
        out.findings[key] = max(out.findings.get(key, verdict), verdict, key=SEVERITY.get)

    def decide(self, rule: Rule, verdict: str, certain: bool):
        action = self.action(rule)
        if action == Action.IGNORE.value:
            return None
        if action in ("exclude", "review"):
            verdict = action
        if not certain:
            verdict = "review"
        return Verdict(verdict)

    def ties(self, vendor: int, low_group: set, high_group: set) -> list:
        """Board, people and contract findings as (rule, verdict, certain)."""
        at, window = self.at, months_ago(self.as_of, self.policy.people_window_months)
        found = []
        for e in self.active:
            if e.subject == vendor and at[e.holder] in high_group:
                certain = at[e.holder] in low_group
                if e.interest_type in ("boardMember", "boardChair"):
                    found.append((Rule.BOARD, "exclude", certain))
                if e.interest_type in (
                    "otherInfluenceOrControl",
                    "rightsGrantedByContract",
                    "conditionalRightsGrantedByContract",
                ):
                    found.append((Rule.CONTRACT, "review", certain))

        def recent(e):
            return (
                e.interest_type in ROLES
                and (e.start is None or e.start <= self.as_of)
                and (e.end is None or e.end >= window)
            )

        in_vendor = [e for e in self.graph.edges if recent(e) and e.subject == vendor]
        elsewhere = [e for e in self.graph.edges if recent(e) and e.subject != vendor and at[e.subject] in high_group]
        pairs = {}
        for a in in_vendor:
            for b in elsewhere:
                if a.holder == b.holder:
                    both = a.active_at(self.as_of) and b.active_at(self.as_of)
                    pairs[a.holder, b.subject] = pairs.get((a.holder, b.subject), False) or both
        for (_, member), both in pairs.items():
            found.append(
                (Rule.BOARD if both else Rule.PEOPLE, "exclude" if both else "review", at[member] in low_group)
            )
        revenue_low = revenue_high = 0.0
        for c in self.graph.commercial:
            if c.vendor != vendor or not c.active_at(self.as_of) or at[c.counterparty] not in high_group:
                continue
            certain = at[c.counterparty] in low_group
            if c.kind == "exclusive_agreement":
                found.append((Rule.CONTRACT, "review", certain))
            if c.kind == "customer" and c.revenue_share_pct:
                revenue_high += c.revenue_share_pct
                revenue_low += c.revenue_share_pct if certain else 0
        if revenue_low >= self.policy.revenue_share_at - TOL:
            found.append((Rule.CONTRACT, "review", True))
        elif revenue_high >= self.policy.revenue_share_at - TOL:
            found.append((Rule.CONTRACT, "review", False))
        return found

    def undisclosed(self, w: np.ndarray) -> np.ndarray:
        """Parties with an unknown or unpublished interest in themselves or in an entity upstream of them."""
        marked = np.zeros(self.n, bool)
        for e in self.active:
            if e.interest_type in ("unknownInterest", "unpublishedInterest"):
                marked[self.at[e.subject]] = True
        changed = True
        while changed:
            grown = marked | ((w > 0) & marked[:, None]).any(axis=0)
            changed = bool((grown != marked).any())
            marked = grown
        return marked


def reference_screen(graph, vendors, rival_ids, policy, as_of) -> dict[int, Expected]:
    return Reference(graph, vendors, rival_ids, policy, as_of).screen()
