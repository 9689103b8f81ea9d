"""Each screening rule of docs/screening.md on small hand-made graphs, with its edge cases."""

from datetime import date, timedelta

import numpy as np
import pytest
from scipy import sparse

from marketplace.dates import months_before
from marketplace.screening.engine.graph import CommercialEdge, Edge, Graph, PartyNode, VendorFacts, built
from marketplace.screening.engine.lookthrough import LookThrough, downstream
from marketplace.screening.engine.rules import screen_vendors
from marketplace.screening.engine.verdicts import Action, Policy, Range, Rule, Source, Verdict

AS_OF = date(2025, 7, 1)
DECLARED = Source("self-declared", "admin-verified", date(2025, 6, 12))


class World:
    """A small ownership graph built by party names."""

    def __init__(self):
        self.graph = Graph()
        self.ids: dict[str, int] = {}

    def party(self, name: str, kind: str = "entity", party_type: str = "registeredEntity") -> int:
        if name not in self.ids:
            self.ids[name] = len(self.ids) + 1
            self.graph.parties[self.ids[name]] = PartyNode(self.ids[name], name, kind, party_type)
        return self.ids[name]

    def holds(
        self, holder: str, subject: str, share: float | None = None, kind: str = "shareholding", **fields
    ) -> Edge:
        if share is not None:
            fields.update(low=share, high=share)
        fields.setdefault("source", DECLARED)
        edge = Edge(len(self.graph.edges) + 1, self.party(holder), self.party(subject), kind, **fields)
        self.graph.edges.append(edge)
        return edge

    def trades(self, vendor: str, partner: str, kind: str, revenue: float | None = None, **fields) -> None:
        self.graph.commercial.append(
            CommercialEdge(
                len(self.graph.commercial) + 1, self.party(vendor), self.party(partner), kind, revenue, **fields
            )
        )

    def screen(
        self,
        vendor: str,
        rivals=("Cobalt Social",),
        policy: Policy | None = None,
        as_of: date = AS_OF,
        approved_on: date | None = AS_OF,
        on_platform: bool = True,
    ):
        vendor_id = self.party(vendor)
        policy = policy or Policy()
        facts = VendorFacts(vendor_id, on_platform=on_platform, approved_on=approved_on, org_id=100 + vendor_id)
        return screen_vendors(self.graph, [facts], [self.party(r) for r in rivals], policy, as_of)[vendor_id]


def found(screening, rule: Rule, rival: str | None = "Cobalt Social"):
    matches = [f for f in screening.findings if f.rule == rule and f.rival == rival]
    return matches[0] if matches else None


@pytest.fixture
def world():
    return World()


# -- ownership -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("share", "verdict"), [(49, Verdict.EXCLUDE), (20, Verdict.REVIEW), (5, Verdict.CLEAR)])
def test_a_direct_stake_excludes_at_49_reviews_at_20_and_clears_at_5(world, share, verdict):
    world.holds("Cobalt Social", "Scalewise Data", share)

    screening = world.screen("Scalewise Data")

    assert screening.verdict == verdict
    assert screening.rivals[0].stake == Range(share, share)
    assert screening.rivals[0].verdict == verdict
    ownership = found(screening, Rule.OWNERSHIP)
    assert (ownership.verdict if ownership else Verdict.CLEAR) == verdict


def test_the_explanation_names_the_rival_the_figure_the_source_and_the_date(world):
    world.holds("Cobalt Social", "Scalewise Data", 49)

    explanation = found(world.screen("Scalewise Data"), Rule.OWNERSHIP).explanation

    assert explanation.startswith("Excluded (ownership): Cobalt Social holds 49% of Scalewise Data")
    assert "shareholding, self-declared 2025-06-12, admin-verified" in explanation
    assert "as of 2025-07-01" in explanation


def test_a_range_reviews_when_only_its_high_end_reaches_the_exclude_threshold(world):
    world.holds("Cobalt Social", "Scalewise Data", low=20, high=30)

    screening = world.screen("Scalewise Data")

    ownership = found(screening, Rule.OWNERSHIP)
    assert ownership.verdict == Verdict.REVIEW
    assert ownership.stake == Range(20, 30)
    assert "may hold 20–30% of Scalewise Data" in ownership.explanation


def test_a_missing_share_is_anything_from_0_to_100(world):
    world.holds("Cobalt Social", "Scalewise Data")

    screening = world.screen("Scalewise Data")

    assert found(screening, Rule.OWNERSHIP).stake == Range(0, 100)
    assert found(screening, Rule.OWNERSHIP).verdict == Verdict.REVIEW
    # 100% at the high end is control at the high end only: review, not exclude.
    assert found(screening, Rule.CONTROL).verdict == Verdict.REVIEW
    assert screening.verdict == Verdict.REVIEW


def test_an_exclusive_low_bound_at_the_threshold_still_excludes(world):
    world.holds("Cobalt Social", "Scalewise Data", low=25, high=40, low_exclusive=True)

    assert found(world.screen("Scalewise Data"), Rule.OWNERSHIP).verdict == Verdict.EXCLUDE


def test_an_exclusive_high_bound_at_the_threshold_does_not_reach_it(world):
    world.holds("Cobalt Social", "Scalewise Data", low=5, high=10, high_exclusive=True)
    world.holds("Cobalt Social", "Tagline AI", low=5, high=10)

    below = world.screen("Scalewise Data")

    assert found(below, Rule.OWNERSHIP) is None
    assert below.rivals[0].stake == Range(5, 10)  # the figures as given
    assert found(world.screen("Tagline AI"), Rule.OWNERSHIP).verdict == Verdict.REVIEW


def test_an_exclusive_high_bound_at_the_exclude_threshold_reviews(world):
    world.holds("Cobalt Social", "Scalewise Data", low=10, high=25, low_exclusive=True, high_exclusive=True)

    assert found(world.screen("Scalewise Data"), Rule.OWNERSHIP).verdict == Verdict.REVIEW


def test_an_exclusive_high_bound_of_50_is_not_control_even_at_the_high_end(world):
    world.holds("Cobalt Social", "Scalewise Data", low=40, high=50, high_exclusive=True)

    screening = world.screen("Scalewise Data")

    assert found(screening, Rule.CONTROL) is None
    assert found(screening, Rule.OWNERSHIP).verdict == Verdict.EXCLUDE


def test_a_chain_through_a_wholly_owned_holdco_is_control_and_ownership_60(world):
    world.holds("Cobalt Social", "Cobalt Holdings", 100)
    world.holds("Cobalt Holdings", "Scalewise Data", 60)

    screening = world.screen("Scalewise Data")

    control = found(screening, Rule.CONTROL)
    assert control.verdict == Verdict.EXCLUDE
    assert control.paths == [["Cobalt Social", "Cobalt Holdings", "Scalewise Data"]]
    assert control.path_ids == [[world.ids["Cobalt Social"], world.ids["Cobalt Holdings"], world.ids["Scalewise Data"]]]
    assert found(screening, Rule.OWNERSHIP).stake == Range(60, 60)
    assert screening.rivals[0].stake == Range(60, 60)


def test_two_group_members_with_30_percent_each_control_together(world):
    world.holds("Cobalt Social", "Cobalt Labs", 100)
    world.holds("Cobalt Social", "Cobalt Ventures", 100)
    world.holds("Cobalt Labs", "Scalewise Data", 30)
    world.holds("Cobalt Ventures", "Scalewise Data", 30)

    screening = world.screen("Scalewise Data")

    control = found(screening, Rule.CONTROL)
    assert control.verdict == Verdict.EXCLUDE
    assert control.stake == Range(60, 60)
    assert sorted(control.paths) == [
        ["Cobalt Social", "Cobalt Labs", "Scalewise Data"],
        ["Cobalt Social", "Cobalt Ventures", "Scalewise Data"],
    ]
    # Consolidated: each member's holding counts in full.
    assert found(screening, Rule.OWNERSHIP).stake == Range(60, 60)


def test_voting_rights_decide_control_where_given(world):
    world.holds("Cobalt Social", "Scalewise Data", 40)
    world.holds("Cobalt Social", "Scalewise Data", 60, kind="votingRights")
    world.holds("Cobalt Social", "Tagline AI", 60)
    world.holds("Cobalt Social", "Tagline AI", 30, kind="votingRights")

    assert found(world.screen("Scalewise Data"), Rule.CONTROL).verdict == Verdict.EXCLUDE
    tagline = world.screen("Tagline AI")
    assert found(tagline, Rule.CONTROL) is None
    assert found(tagline, Rule.OWNERSHIP).stake == Range(60, 60)


def test_appointing_the_board_is_control(world):
    world.holds("Cobalt Social", "Scalewise Data", kind="appointmentOfBoard")

    control = found(world.screen("Scalewise Data"), Rule.CONTROL)

    assert control.verdict == Verdict.EXCLUDE
    assert "appoints the board" in control.explanation


def test_a_rival_screened_as_a_vendor_is_excluded_as_itself(world):
    world.party("Cobalt Social")

    control = found(world.screen("Cobalt Social"), Rule.CONTROL)

    assert control.verdict == Verdict.EXCLUDE
    assert "Cobalt Social is Cobalt Social itself" in control.explanation


def test_look_through_counts_every_route_round_a_cross_holding(world):
    world.holds("Alpha", "Beta", 50)
    world.holds("Beta", "Alpha", 50)
    world.holds("Alpha", "Scalewise Data", 40)

    screening = world.screen("Scalewise Data", rivals=("Alpha", "Beta"))

    weights = np.array([[0, 0.5, 0.4], [0.5, 0, 0], [0, 0, 0]])  # Alpha, Beta, Scalewise
    closed_form = weights @ np.linalg.inv(np.eye(3) - weights) * 100
    by_rival = {r.rival: r for r in screening.rivals}
    assert by_rival["Alpha"].stake.low == pytest.approx(closed_form[0, 2], abs=1e-9)
    assert by_rival["Alpha"].stake.low == pytest.approx(40 / 0.75)
    # Beta's group holds Alpha (50%), whose 40% counts in full: more than Beta's look-through of 26.7%.
    assert closed_form[1, 2] == pytest.approx(0.5 * 40 / 0.75)
    assert by_rival["Beta"].stake == Range(40, 40)


def test_a_cross_holding_below_control_is_look_through_only(world):
    world.holds("Alpha", "Beta", 40)
    world.holds("Beta", "Alpha", 40)
    world.holds("Alpha", "Scalewise Data", 30)

    screening = world.screen("Scalewise Data", rivals=("Beta",))

    assert screening.rivals[0].stake.low == pytest.approx(0.4 * 30 / (1 - 0.16))
    assert found(screening, Rule.OWNERSHIP, "Beta").verdict == Verdict.REVIEW
    assert found(screening, Rule.OWNERSHIP, "Beta").paths == [["Beta", "Alpha", "Scalewise Data"]]


def test_a_100_percent_cross_holding_does_not_crash_and_reads_as_100(world):
    world.holds("Alpha", "Beta", 100)
    world.holds("Beta", "Alpha", 100)
    world.holds("Alpha", "Scalewise Data", 10)
    world.holds("Gamma", "Delta")  # [0, 100] both ways: the high ends sum over 100% round the cycle
    world.holds("Delta", "Gamma")
    world.holds("Zeta", "Gamma")
    world.holds("Gamma", "Tagline AI", 10)

    scalewise = world.screen("Scalewise Data", rivals=("Beta",))
    tagline = world.screen("Tagline AI", rivals=("Zeta",))

    assert scalewise.rivals[0].stake == Range(100, 100)
    assert tagline.rivals[0].stake.high == 100
    assert tagline.rivals[0].stake.low == 0


def test_paths_come_largest_first(world):
    world.holds("Cobalt Social", "Scalewise Data", 5)
    world.holds("Cobalt Social", "Beta", 30)
    world.holds("Beta", "Scalewise Data", 40)
    world.holds("Cobalt Social", "Alpha", 40)
    world.holds("Alpha", "Scalewise Data", 45)

    ownership = found(world.screen("Scalewise Data"), Rule.OWNERSHIP)

    assert ownership.paths == [
        ["Cobalt Social", "Alpha", "Scalewise Data"],
        ["Cobalt Social", "Beta", "Scalewise Data"],
        ["Cobalt Social", "Scalewise Data"],
    ]
    assert ownership.stake.low == pytest.approx(18 + 12 + 5)
    assert (
        "through Cobalt Social → Alpha → Scalewise Data (18%); Cobalt Social → Beta → Scalewise Data (12%); "
        "Cobalt Social → Scalewise Data (5%)"
    ) in ownership.explanation


# -- the date ----------------------------------------------------------------------------------------------------


def test_only_interests_held_at_the_date_count(world):
    world.holds("Cobalt Social", "Scalewise Data", 49, start=AS_OF + timedelta(days=1))
    world.holds("Cobalt Social", "Scalewise Data", 49, end=AS_OF)
    world.holds("Cobalt Social", "Scalewise Data", 12, start=AS_OF, end=AS_OF + timedelta(days=1))

    screening = world.screen("Scalewise Data")

    assert screening.rivals[0].stake == Range(12, 12)
    assert found(screening, Rule.OWNERSHIP).verdict == Verdict.REVIEW
    earlier = world.screen("Scalewise Data", as_of=AS_OF - timedelta(days=1))
    assert earlier.rivals[0].stake == Range(49, 49)
    assert earlier.as_of == AS_OF - timedelta(days=1)


# -- board and people ----------------------------------------------------------------------------------------------


def test_a_group_member_on_the_board_excludes(world):
    world.holds("Cobalt Social", "Cobalt Labs", 100)
    world.holds("Cobalt Labs", "Scalewise Data", kind="boardMember")

    board = found(world.screen("Scalewise Data"), Rule.BOARD)

    assert board.verdict == Verdict.EXCLUDE
    assert board.paths == [["Cobalt Social", "Cobalt Labs", "Scalewise Data"]]
    assert "Cobalt Labs, in Cobalt Social's group, holds a board seat (board member)" in board.explanation


def test_one_person_on_both_boards_excludes(world):
    world.party("Jane Doe", "person", "knownPerson")
    world.holds("Jane Doe", "Scalewise Data", kind="boardChair")
    world.holds("Jane Doe", "Cobalt Social", kind="seniorManagingOfficial")

    screening = world.screen("Scalewise Data")

    board = found(screening, Rule.BOARD)
    assert board.verdict == Verdict.EXCLUDE
    assert board.paths == [["Cobalt Social", "Jane Doe", "Scalewise Data"]]
    assert "Jane Doe is the board chair of Scalewise Data and is a senior managing official of Cobalt Social" in (
        board.explanation
    )
    assert found(screening, Rule.PEOPLE) is None


def test_the_founder_who_left_for_the_rival_within_24_months_is_review(world):
    world.holds("Jane Doe", "Scalewise Data", kind="boardMember", end=AS_OF - timedelta(days=300))
    world.holds("Jane Doe", "Cobalt Social", kind="seniorManagingOfficial", start=AS_OF - timedelta(days=290))

    screening = world.screen("Scalewise Data")

    people = found(screening, Rule.PEOPLE)
    assert people.verdict == Verdict.REVIEW
    assert found(screening, Rule.BOARD) is None
    assert "Jane Doe was a board member of Scalewise Data until 2024-09-04" in people.explanation


def test_roles_ended_more_than_24_months_ago_do_not_count(world):
    world.holds("Jane Doe", "Scalewise Data", kind="boardMember", end=months_before(AS_OF, 24))
    world.holds("Jane Doe", "Cobalt Social", kind="boardMember")
    world.holds("John Roe", "Tagline AI", kind="boardMember", end=months_before(AS_OF, 24) - timedelta(days=1))
    world.holds("John Roe", "Cobalt Social", kind="boardMember")

    assert found(world.screen("Scalewise Data"), Rule.PEOPLE).verdict == Verdict.REVIEW  # on the boundary
    assert world.screen("Tagline AI").verdict == Verdict.CLEAR


def test_a_role_starting_after_the_date_does_not_count(world):
    world.holds("Jane Doe", "Scalewise Data", kind="boardMember")
    world.holds("Jane Doe", "Cobalt Social", kind="boardMember", start=AS_OF + timedelta(days=1))

    assert world.screen("Scalewise Data").verdict == Verdict.CLEAR


# -- contract ------------------------------------------------------------------------------------------------------


def test_an_exclusive_agreement_with_the_group_is_review(world):
    world.holds("Cobalt Social", "Cobalt Cloud", 100)
    world.trades("Scalewise Data", "Cobalt Cloud", "exclusive_agreement", source=DECLARED)

    contract = found(world.screen("Scalewise Data"), Rule.CONTRACT)

    assert contract.verdict == Verdict.REVIEW
    assert "Scalewise Data has an exclusive agreement with Cobalt Cloud, in Cobalt Social's group" in (
        contract.explanation
    )
    assert contract.sources == [DECLARED]


def test_30_percent_of_revenue_from_the_group_is_review_and_25_is_not(world):
    world.holds("Cobalt Social", "Cobalt Cloud", 100)
    world.trades("Scalewise Data", "Cobalt Social", "customer", 20)
    world.trades("Scalewise Data", "Cobalt Cloud", "customer", 10)
    world.trades("Tagline AI", "Cobalt Social", "customer", 20)
    world.trades("Tagline AI", "Cobalt Cloud", "customer", 5)
    world.trades("Tagline AI", "Someone Else", "customer", 60)

    contract = found(world.screen("Scalewise Data"), Rule.CONTRACT)

    assert contract.verdict == Verdict.REVIEW
    assert contract.stake == Range(30, 30)
    assert "30% of Scalewise Data's revenue comes from Cobalt Social's group" in contract.explanation
    assert world.screen("Tagline AI").verdict == Verdict.CLEAR


def test_rights_granted_by_contract_are_review(world):
    world.holds("Cobalt Social", "Scalewise Data", kind="rightsGrantedByContract")

    assert found(world.screen("Scalewise Data"), Rule.CONTRACT).verdict == Verdict.REVIEW


def test_an_ended_agreement_does_not_count(world):
    world.trades("Scalewise Data", "Cobalt Social", "exclusive_agreement", end=AS_OF)

    assert world.screen("Scalewise Data").verdict == Verdict.CLEAR


# -- unknown owners ------------------------------------------------------------------------------------------------


def test_an_anonymous_owner_of_30_to_50_percent_is_review_by_its_high_end(world):
    world.party("Undisclosed holder", "unspecified", "anonymousEntity")
    world.holds("Undisclosed holder", "Scalewise Data", low=30, high=50)

    unknown = found(world.screen("Scalewise Data"), Rule.UNKNOWN, None)

    assert unknown.verdict == Verdict.REVIEW
    assert unknown.stake == Range(30, 50)
    assert unknown.rival is None and unknown.rival_party_id is None
    assert "Undisclosed holder" in unknown.explanation and "30–50%" in unknown.explanation


def test_an_unknown_owner_counts_through_a_chain_and_below_the_threshold_clears(world):
    world.party("Unknown A", "entity", "unknownEntity")
    world.party("Unknown B", "person", "anonymousPerson")
    world.holds("Unknown A", "Holdco", low=5, high=20)
    world.holds("Holdco", "Scalewise Data", 60)
    world.holds("Unknown B", "Tagline AI", low=0, high=8)

    unknown = found(world.screen("Scalewise Data"), Rule.UNKNOWN, None)
    assert unknown.stake == Range(3, 12)
    assert unknown.paths == [["Unknown A", "Holdco", "Scalewise Data"]]
    assert world.screen("Tagline AI").verdict == Verdict.CLEAR


def test_many_small_unknown_owners_are_judged_one_by_one(world):
    for number in range(12):
        world.party(f"Anonymous {number}", "unspecified", "anonymousPerson")
        world.holds(f"Anonymous {number}", "Scalewise Data", 5)

    # Together 60%, but none reaches 10%.
    assert world.screen("Scalewise Data").verdict == Verdict.CLEAR


def test_an_unpublished_interest_in_the_vendor_or_upstream_is_review(world):
    world.holds("Somebody", "Scalewise Data", kind="unpublishedInterest")
    world.holds("Holdco", "Tagline AI", 30)
    world.holds("Somebody", "Holdco", kind="unknownInterest")
    world.holds("Tagline AI", "Subsidiary", 100)
    world.holds("Somebody", "Subsidiary", kind="unknownInterest")

    scalewise = found(world.screen("Scalewise Data"), Rule.UNKNOWN, None)
    tagline = found(world.screen("Tagline AI"), Rule.UNKNOWN, None)

    assert scalewise.verdict == Verdict.REVIEW
    assert "Somebody holds an unpublished interest in it" in scalewise.explanation
    assert tagline.verdict == Verdict.REVIEW
    assert tagline.paths == [["Holdco", "Tagline AI"]]
    # Subsidiary's undisclosed interest is downstream of Tagline AI: it says nothing of who owns Tagline.
    assert "Somebody holds an unknown interest in Holdco, which holds a share of Tagline AI" in tagline.explanation


# -- unverified ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approved_on", "on_platform", "flagged"),
    [
        (None, True, True),
        (months_before(AS_OF, 12) - timedelta(days=1), True, True),
        (months_before(AS_OF, 12), True, False),
        (AS_OF - timedelta(days=330), True, False),
        (AS_OF + timedelta(days=1), True, True),
        (None, False, False),
    ],
)
def test_unverified_vendors_are_review(world, approved_on, on_platform, flagged):
    screening = world.screen("Scalewise Data", approved_on=approved_on, on_platform=on_platform)

    unverified = found(screening, Rule.UNVERIFIED, None)
    assert (unverified is not None) == flagged
    if flagged:
        assert unverified.verdict == Verdict.REVIEW
        assert "2025-07-01" in unverified.explanation


# -- policy --------------------------------------------------------------------------------------------------------


def test_ignore_drops_a_finding_and_exclude_overrides_it(world):
    world.holds("Cobalt Social", "Scalewise Data", 49)
    world.holds("Jane Doe", "Scalewise Data", kind="boardMember", end=AS_OF - timedelta(days=30))
    world.holds("Jane Doe", "Cobalt Social", kind="boardMember")

    screening = world.screen(
        "Scalewise Data", policy=Policy(actions={Rule.OWNERSHIP: Action.IGNORE, Rule.PEOPLE: Action.EXCLUDE})
    )

    assert found(screening, Rule.OWNERSHIP) is None
    assert found(screening, Rule.PEOPLE).verdict == Verdict.EXCLUDE
    assert found(screening, Rule.PEOPLE).explanation.startswith("Excluded (people)")
    assert screening.rivals[0].stake == Range(49, 49)  # the figure is still reported


def test_ownership_can_be_forced_to_review(world):
    world.holds("Cobalt Social", "Scalewise Data", 49)

    screening = world.screen("Scalewise Data", policy=Policy(actions={Rule.OWNERSHIP: Action.REVIEW}))

    assert found(screening, Rule.OWNERSHIP).verdict == Verdict.REVIEW


def test_thresholds_come_from_the_policy(world):
    world.holds("Cobalt Social", "Scalewise Data", 49)
    world.holds("Cobalt Social", "Tagline AI", 8)
    world.holds("Cobalt Social", "Cobalt Labs", 40)
    world.holds("Cobalt Labs", "Holdout AI", kind="boardMember")
    policy = Policy(exclude_at=50, review_at=5, control_at=40)

    assert found(world.screen("Scalewise Data", policy=policy), Rule.OWNERSHIP).verdict == Verdict.REVIEW
    assert found(world.screen("Tagline AI", policy=policy), Rule.OWNERSHIP).verdict == Verdict.REVIEW
    # Control at 40%: Cobalt Labs joins the group, so its board seat counts.
    assert found(world.screen("Holdout AI", policy=policy), Rule.BOARD).verdict == Verdict.EXCLUDE
    assert world.screen("Holdout AI").verdict == Verdict.CLEAR


def test_a_tie_through_a_member_only_possibly_in_the_group_is_review(world):
    world.holds("Cobalt Social", "Maybe Holdings", low=30, high=60)
    world.holds("Maybe Holdings", "Scalewise Data", kind="boardMember")

    board = found(world.screen("Scalewise Data"), Rule.BOARD)

    assert board.verdict == Verdict.REVIEW
    assert "possibly in Cobalt Social's group" in board.explanation


# -- several rivals, several vendors -------------------------------------------------------------------------------


def test_each_rival_gets_its_own_result(world):
    world.holds("Cobalt Social", "Scalewise Data", 49)
    world.holds("Nimbus AI", "Scalewise Data", 12)
    world.party("Orion Labs")

    screening = world.screen("Scalewise Data", rivals=("Cobalt Social", "Nimbus AI", "Orion Labs"))

    assert [(r.rival, r.verdict, r.stake) for r in screening.rivals] == [
        ("Cobalt Social", Verdict.EXCLUDE, Range(49, 49)),
        ("Nimbus AI", Verdict.REVIEW, Range(12, 12)),
        ("Orion Labs", Verdict.CLEAR, Range(0, 0)),
    ]
    assert screening.verdict == Verdict.EXCLUDE
    assert [f.rival for f in screening.findings] == ["Cobalt Social", "Nimbus AI"]


def test_every_vendor_is_answered_with_its_ids_and_nothing_waived(world):
    world.holds("Cobalt Social", "Scalewise Data", 30)
    world.party("Tagline AI")
    facts = [
        VendorFacts(world.ids["Scalewise Data"], approved_on=AS_OF, org_id=7),
        VendorFacts(world.ids["Tagline AI"], approved_on=AS_OF, org_id=8),
        VendorFacts(999, on_platform=False),
    ]  # a party the graph does not hold

    results = screen_vendors(world.graph, facts, [world.ids["Cobalt Social"], 555], Policy(), AS_OF)

    assert set(results) == {world.ids["Scalewise Data"], world.ids["Tagline AI"], 999}
    scalewise = results[world.ids["Scalewise Data"]]
    assert (scalewise.vendor_org_id, scalewise.vendor_party_id, scalewise.as_of) == (
        7,
        world.ids["Scalewise Data"],
        AS_OF,
    )
    assert scalewise.verdict == Verdict.EXCLUDE
    assert not any(f.waived for f in scalewise.findings)
    assert scalewise.findings[0].as_of == AS_OF
    assert results[world.ids["Tagline AI"]].verdict == Verdict.CLEAR
    assert results[999].verdict == Verdict.CLEAR
    assert [r.rival for r in results[999].rivals] == ["Cobalt Social", "party 555"]


# -- the solver ----------------------------------------------------------------------------------------------------


def _random_holdings(size: int, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    holders, subjects = rng.integers(0, size, 4 * size), rng.integers(0, size, 4 * size)
    keep = holders != subjects
    matrix = sparse.csr_matrix(
        (rng.uniform(0.01, 0.3, keep.sum()), (holders[keep], subjects[keep])), shape=(size, size)
    )
    np.minimum(matrix.data, 1.0, out=matrix.data)
    return matrix


def test_the_series_solver_agrees_with_the_factorisation():
    holdings = _random_holdings(300, seed=1)
    sources = np.array([0, 1, 2])
    rows = sparse.csr_matrix((np.ones(3), (np.arange(3), sources)), shape=(3, 300))
    targets = np.arange(300)

    direct = LookThrough(holdings, sources).from_sources(rows, targets)
    series = LookThrough(holdings, sources, direct_limit=0).from_sources(rows, targets)
    dense = holdings.toarray()
    exact = (dense @ np.linalg.inv(np.eye(300) - dense))[sources]

    assert np.allclose(direct, exact, atol=1e-12)
    assert np.allclose(series, exact, atol=1e-12)
    # On the transposed matrix, from a target: every party's stake in that target.
    targets = np.array([5, 6])
    columns = LookThrough(holdings.T.tocsr(), targets).from_sources(
        sparse.csr_matrix((np.ones(2), (np.arange(2), targets)), shape=(2, 300)), sources
    )
    assert np.allclose(columns.T, exact[:, [5, 6]], atol=1e-12)


def test_a_large_ring_is_judged_by_its_spectral_radius():
    size = 400
    ring = np.arange(size)
    for share, diverges in ((0.5, False), (1.0, True)):
        holdings = sparse.csr_matrix((np.full(size, share), (ring, (ring + 1) % size)), shape=(size, size))
        stakes = LookThrough(holdings, [0]).from_sources(
            sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, size)), np.array([1, 2])
        )
        if diverges:
            assert np.isinf(stakes).all()
        else:
            assert stakes[0, 0] == pytest.approx(0.5 / (1 - 0.5**size))


def _every_node_then_targets(solver: LookThrough, sources: sparse.csr_matrix, targets: np.ndarray) -> np.ndarray:
    """from_sources as it was: every local node's figures first (divergence marked on all of them), then the
    targets' picked out. The gathered version must give exactly these numbers."""
    direct = (sources @ solver.holdings).tocsc()[:, solver.nodes].toarray().T
    values = np.zeros_like(direct)
    if solver.solver is not None:
        values[solver.good] = solver.solver.solve(np.ascontiguousarray(direct[solver.good]))
    np.maximum(values, 0.0, out=values)
    inflow = direct + solver.block.T @ values
    for column in range(direct.shape[1]):
        reached = np.flatnonzero(solver.divergent & (inflow[:, column] > 0))
        if reached.size:
            values[downstream(solver.block, reached), column] = np.inf
    where = solver.local[targets]
    out = np.zeros((sources.shape[0], targets.size))
    out[:, where >= 0] = values[where[where >= 0]].T
    return out


def test_only_the_targets_figures_are_gathered_the_same_numbers_and_divergence():
    holdings = _random_holdings(300, seed=3).tolil()
    # A 100% cross-holding (divergent) reached from source 0 only, with what lies past it.
    holdings[0, 250], holdings[250, 251], holdings[251, 250], holdings[251, 252] = 0.4, 1.0, 1.0, 0.5
    holdings = holdings.tocsr()
    sources = np.array([0, 1, 7])
    rows = sparse.csr_matrix((np.ones(3), (np.arange(3), sources)), shape=(3, 300))
    targets = np.array([299, 250, 252, 3, 0, 251, 120, 5])
    for limit in (1000, 0):  # factorised, and by sweeps
        solver = LookThrough(holdings, sources, direct_limit=limit)
        assert solver.divergent.any()
        gathered = solver.from_sources(rows, targets)
        assert np.array_equal(gathered, _every_node_then_targets(solver, rows, targets))
        assert np.isinf(gathered[0, 1:3]).all()  # the cross-holding and what it holds, from the source reaching it


def test_built_gives_the_object_the_dataclass_gives():
    source = Source("admin-recorded fact", "verified", date(2026, 1, 2))
    values = (7, 1, 2, "shareholding", 25.0, 50.0, True, False, None, date(2027, 1, 1), "", source, 3)
    made, fast = Edge(*values), built(Edge, *values)
    assert fast == made and hash(fast) == hash(made) and repr(fast) == repr(made)
    assert type(fast) is Edge and fast.active_at(date(2026, 6, 1))
    assert built(PartyNode, 4, "Acme", "entity", "", None, "") == PartyNode(4, "Acme", "entity", "", None, "")
    assert built(VendorFacts, 4, True, None, 9) == VendorFacts(party_id=4, approved_on=None, org_id=9)
    with pytest.raises(ValueError):  # every field, in order: a value short is refused, not left unset
        built(PartyNode, 4, "Acme")


def test_the_engine_knows_the_same_unknown_party_types_as_the_tables():
    """The engine may not import the models: its own copy of the types that make a party an unknown owner (rule 6)
    must be the one the partial index and the BODS import use."""
    from marketplace.parties.models import UNKNOWN_PARTY_TYPES
    from marketplace.screening.engine import rules

    assert frozenset(UNKNOWN_PARTY_TYPES) == rules.UNKNOWN_PARTY_TYPES
