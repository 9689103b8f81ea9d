"""The engine against an independent dense reference, on random small graphs (cycles, ranges, missing shares,
dates, several rivals), and the properties a buyer relies on whatever the graph."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.screening.engine.graph import CommercialEdge, Edge, EdgeColumns, Graph, PartyNode, VendorFacts
from marketplace.screening.engine.rules import screen_vendors
from marketplace.screening.engine.verdicts import Action, Policy, Rule, Source
from tests.unit.screening.reference import SEVERITY, months_ago, reference_screen

AS_OF = date(2025, 6, 30)
SHARES = [0, 5, 10, 20, 24, 25, 30, 40, 49, 50, 60, 75, 100]
INTEREST_TYPES = (
    ["shareholding"] * 6
    + ["votingRights"] * 2
    + [
        "appointmentOfBoard",
        "boardMember",
        "boardChair",
        "seniorManagingOfficial",
        "seniorManagingOfficial",
        "otherInfluenceOrControl",
        "rightsGrantedByContract",
        "unknownInterest",
        "unpublishedInterest",
    ]
)
STARTS = [None, None, None, AS_OF - timedelta(days=1000), AS_OF, AS_OF + timedelta(days=1)]
ENDS = [
    None,
    None,
    None,
    AS_OF,
    AS_OF + timedelta(days=1),
    AS_OF - timedelta(days=300),
    months_ago(AS_OF, 24),
    months_ago(AS_OF, 24) - timedelta(days=1),
]
KINDS = (
    [("entity", "registeredEntity")] * 5
    + [("person", "knownPerson")] * 2
    + [("unspecified", "unknownEntity"), ("entity", "anonymousEntity")]
)
SOURCE = Source("self-declared", "self-declared")
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def share_figures(draw) -> dict:
    form = draw(st.sampled_from(["exact", "exact", "range", "missing"]))
    if form == "exact":
        value = draw(st.sampled_from(SHARES))
        return {"low": value, "high": value}
    if form == "missing":
        return {}
    low, high = sorted(draw(st.lists(st.sampled_from(SHARES), min_size=2, max_size=2, unique=True)))
    return {"low": low, "high": high, "low_exclusive": draw(st.booleans()), "high_exclusive": draw(st.booleans())}


@st.composite
def cases(draw):
    """(graph, vendors, rival ids, policy)."""
    size = draw(st.integers(3, 12))
    ids = list(range(1, size + 1))
    parties = {}
    for pid in ids:
        kind, party_type = draw(st.sampled_from(KINDS))
        parties[pid] = PartyNode(pid, f"Party {pid}", kind, party_type)
    pair = st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda p: p[0] != p[1])
    edges = []
    for number in range(draw(st.integers(0, 3 * size))):
        holder, subject = draw(pair)
        edges.append(
            Edge(
                number + 1,
                holder,
                subject,
                draw(st.sampled_from(INTEREST_TYPES)),
                start=draw(st.sampled_from(STARTS)),
                end=draw(st.sampled_from(ENDS)),
                source=SOURCE,
                **draw(share_figures()),
            )
        )
    commercial = []
    for number in range(draw(st.integers(0, 3))):
        vendor, partner = draw(pair)
        commercial.append(
            CommercialEdge(
                number + 1,
                vendor,
                partner,
                draw(st.sampled_from(["customer", "customer", "exclusive_agreement"])),
                revenue_share_pct=draw(st.sampled_from([None, 10.0, 15.0, 20.0, 30.0])),
                end=draw(st.sampled_from([None, AS_OF])),
            )
        )
    vendors = [
        VendorFacts(
            pid,
            on_platform=draw(st.booleans()),
            org_id=pid,
            approved_on=draw(
                st.sampled_from([None, AS_OF, months_ago(AS_OF, 12), months_ago(AS_OF, 12) - timedelta(days=1)])
            ),
        )
        for pid in draw(st.lists(st.sampled_from(ids), min_size=1, max_size=size, unique=True))
    ]
    rivals = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
    policy = draw(policies())
    return Graph(parties=parties, edges=edges, commercial=commercial), vendors, rivals, policy


@st.composite
def policies(draw) -> Policy:
    if draw(st.booleans()):
        return Policy()
    actions = {
        rule: draw(st.sampled_from([Action.EXCLUDE, Action.REVIEW, Action.IGNORE]))
        for rule in draw(st.lists(st.sampled_from(list(Rule)), max_size=3, unique=True))
    }
    return Policy(
        exclude_at=draw(st.sampled_from([25.0, 20.0, 50.0])),
        review_at=draw(st.sampled_from([10.0, 5.0, 25.0])),
        control_at=draw(st.sampled_from([50.0, 30.0, 60.0])),
        revenue_share_at=draw(st.sampled_from([30.0, 20.0])),
        actions={**Policy().actions, **actions},
    )


def _worst_by_rule(screening) -> dict:
    found = {}
    for f in screening.findings:
        key = (f.rule, f.rival_party_id)
        found[key] = max(found.get(key, f.verdict), f.verdict, key=SEVERITY.get)
    return found


@PROPERTY_SETTINGS
@given(cases())
def test_the_engine_agrees_with_the_reference(case):
    graph, vendors, rivals, policy = case
    screened = screen_vendors(graph, vendors, rivals, policy, AS_OF)
    expected = reference_screen(graph, vendors, rivals, policy, AS_OF)
    for facts in vendors:
        got, want = screened[facts.party_id], expected[facts.party_id]
        tolerance = 1e-9 if want.exact else 1e-6
        for result in got.rivals:
            low, high = want.stakes[result.rival_party_id]
            assert abs(result.stake.low - low) <= tolerance, (facts.party_id, result, low)
            assert abs(result.stake.high - high) <= tolerance, (facts.party_id, result, high)
            assert result.verdict == want.rival_verdicts[result.rival_party_id]
        assert _worst_by_rule(got) == want.findings
        assert got.verdict == want.verdict


@PROPERTY_SETTINGS
@given(cases())
def test_low_ends_never_exceed_high_ends(case):
    graph, vendors, rivals, policy = case
    for screening in screen_vendors(graph, vendors, rivals, policy, AS_OF).values():
        stakes = [r.stake for r in screening.rivals] + [f.stake for f in screening.findings if f.stake]
        for stake in stakes:
            assert 0.0 <= stake.low <= stake.high <= 100.0


@PROPERTY_SETTINGS
@given(cases(), st.data())
def test_adding_an_interest_never_lowers_a_high_stake(case, data):
    graph, vendors, rivals, policy = case
    countable = {(e.holder, e.subject) for e in graph.edges if e.interest_type in ("shareholding", "votingRights")}
    free = [(h, s) for h in graph.parties for s in graph.parties if h != s and (h, s) not in countable]
    if not free:
        return
    holder, subject = data.draw(st.sampled_from(free))
    added = Edge(10_000, holder, subject, "shareholding", source=SOURCE, **data.draw(share_figures()))
    before = screen_vendors(graph, vendors, rivals, policy, AS_OF)
    after = screen_vendors(replace(graph, edges=graph.edges + [added]), vendors, rivals, policy, AS_OF)
    for pid, screening in before.items():
        for old, new in zip(screening.rivals, after[pid].rivals, strict=True):
            assert new.stake.high >= old.stake.high - 1e-9, (pid, old, new, added)


@PROPERTY_SETTINGS
@given(
    cases(),
    st.sampled_from(["exclude_at", "review_at", "control_at", "revenue_share_at", "stale_after_months"]),
    st.sampled_from([1, 5, 20]),
)
def test_raising_a_threshold_never_worsens_a_verdict(case, threshold, raise_by):
    graph, vendors, rivals, policy = case
    raised = replace(policy, **{threshold: getattr(policy, threshold) + raise_by})
    before = screen_vendors(graph, vendors, rivals, policy, AS_OF)
    after = screen_vendors(graph, vendors, rivals, raised, AS_OF)
    for pid, screening in before.items():
        assert after[pid].verdict.severity <= screening.verdict.severity, (pid, threshold)
        for old, new in zip(screening.rivals, after[pid].rivals, strict=True):
            assert new.verdict.severity <= old.verdict.severity


@PROPERTY_SETTINGS
@given(cases())
def test_ties_given_as_columns_screen_as_ties_given_as_a_list(case):
    """The register's rivals' part reaches the engine as columns (graph.EdgeColumns): every finding, word, route,
    stake and tie the same as from the list, in the same order."""
    graph, vendors, rivals, policy = case
    columns = replace(graph, edges=EdgeColumns.of(graph.edges))

    assert list(columns.edges) == graph.edges
    assert screen_vendors(columns, vendors, rivals, policy, AS_OF) == screen_vendors(
        graph, vendors, rivals, policy, AS_OF
    )
