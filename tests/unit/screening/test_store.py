"""Loading the ownership graph from the database: which ties count, merged parties, dates, the closure."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from marketplace.db_types import PLANNED_IDS_UP_TO, in_ids
from marketplace.disclosures.models import DisclosureStatus
from marketplace.parties.models import (
    CommercialKind,
    CommercialTie,
    Party,
    PartyKind,
    TieOrigin,
    VerificationLevel,
)
from marketplace.screening.engine.graph import EdgeColumns
from marketplace.screening.store import loader as store
from tests.factories import (
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    VendorOrgFactory,
)

AS_OF = date(2025, 6, 30)


def held(graph, holder, subject, interest_type="shareholding"):
    return [e for e in graph.edges if (e.holder, e.subject, e.interest_type) == (holder.id, subject.id, interest_type)]


def disclosed(version, holder, subject, **values):
    return InterestFactory(
        interested_party_id=holder.id,
        subject_party_id=subject.id,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=version.id,
        **values,
    )


@pytest.fixture
def vendor(session):
    return VendorOrgFactory(name="Scalewise Data")


def party_of(session, org):
    return session.get(Party, org.party_id)


def test_months_before_keeps_the_day_or_the_last_of_the_month():
    assert store.months_before(date(2025, 6, 30), 24) == date(2023, 6, 30)
    assert store.months_before(date(2024, 2, 29), 24) == date(2022, 2, 28)
    assert store.months_before(date(2025, 3, 31), 1) == date(2025, 2, 28)
    assert store.months_before(date(2025, 1, 15), 13) == date(2023, 12, 15)


def test_only_ties_that_count_are_loaded(session, vendor):
    subject = party_of(session, vendor)
    admin_fact, bods, draft_owner, rejected_owner, submitted_owner, approved_owner, superseded_owner = (
        PartyFactory(name=name)
        for name in ("News Co", "Registry Co", "Draft Co", "Rejected Co", "Submitted Co", "Approved Co", "Old Co")
    )
    InterestFactory(interested_party_id=admin_fact.id, subject_party_id=subject.id, origin=TieOrigin.ADMIN_FACT)
    InterestFactory(interested_party_id=bods.id, subject_party_id=subject.id, origin=TieOrigin.BODS_IMPORT)
    old = DisclosureFactory(vendor_org_id=vendor.id, number=1, status=DisclosureStatus.APPROVED)
    approved = DisclosureFactory(vendor_org_id=vendor.id, number=2, status=DisclosureStatus.APPROVED)
    rejected = DisclosureFactory(vendor_org_id=vendor.id, number=3, status=DisclosureStatus.REJECTED)
    submitted = DisclosureFactory(vendor_org_id=vendor.id, number=4, status=DisclosureStatus.SUBMITTED)
    draft = DisclosureFactory(vendor_org_id=vendor.id, number=5, status=DisclosureStatus.DRAFT)
    disclosed(old, superseded_owner, subject)
    disclosed(approved, approved_owner, subject)
    disclosed(rejected, rejected_owner, subject)
    disclosed(submitted, submitted_owner, subject)
    disclosed(draft, draft_owner, subject)

    for graph in (store.load_graph(session, AS_OF), store.load_graph_around(session, [subject.id], AS_OF)):
        shared = {graph.parties[e.holder].name for e in graph.edges if e.subject == subject.id}
        assert shared == {"News Co", "Registry Co", "Approved Co"}  # the submitted version is the vendor's claim
        own = store.with_claims(graph, subject.id)
        holders = {own.parties[e.holder].name for e in own.edges if e.subject == subject.id}
        assert holders == {"News Co", "Registry Co", "Approved Co", "Submitted Co"}


def test_a_tie_copied_into_a_pending_version_counts_once_at_its_highest(session, vendor):
    subject = party_of(session, vendor)
    cobalt = PartyFactory(name="Cobalt Social")
    approved = DisclosureFactory(vendor_org_id=vendor.id, number=1, status=DisclosureStatus.APPROVED)
    pending = DisclosureFactory(vendor_org_id=vendor.id, number=2, status=DisclosureStatus.SUBMITTED)
    first = disclosed(approved, cobalt, subject, share_exact=30.0, verification_level=VerificationLevel.ADMIN_VERIFIED)
    disclosed(pending, cobalt, subject, share_exact=12.0)

    [edge] = held(store.with_claims(store.load_graph(session, AS_OF), subject.id), cobalt, subject)

    # Lowering a stake in an unreviewed version does not lower it; the approved source is quoted.
    assert (edge.low, edge.high, edge.id) == (30.0, 30.0, first.id)
    assert edge.source.verification_level == "admin-verified"

    disclosed(pending, cobalt, subject, interest_type="votingRights", share_exact=None, share_min=40.0, share_max=60.0)
    disclosed(
        approved,
        cobalt,
        subject,
        interest_type="votingRights",
        share_exact=45.0,
        verification_level=VerificationLevel.ADMIN_VERIFIED,
    )
    [votes] = held(store.with_claims(store.load_graph(session, AS_OF), subject.id), cobalt, subject, "votingRights")
    assert (votes.low, votes.high) == (45.0, 60.0)


def test_a_role_held_twice_years_apart_stays_two_ties(session, vendor):
    subject = party_of(session, vendor)
    person = PersonFactory(name="Daniel Okafor")
    for start, end in ((date(2010, 1, 1), date(2012, 1, 1)), (date(2024, 1, 1), None)):
        InterestFactory(
            interested_party_id=person.id,
            subject_party_id=subject.id,
            interest_type="boardMember",
            share_exact=None,
            start_date=start,
            end_date=end,
        )
    edges = held(store.load_graph(session, AS_OF, lookback_months=240), person, subject, "boardMember")
    assert [(e.start, e.end) for e in edges] == [(date(2010, 1, 1), date(2012, 1, 1)), (date(2024, 1, 1), None)]


def test_merged_parties_are_read_as_the_party_they_joined(session, vendor):
    subject = party_of(session, vendor)
    cobalt = PartyFactory(name="Cobalt Social")
    alias = PartyFactory(name="Cobalt Social Inc.", merged_into_id=cobalt.id)
    older_alias = PartyFactory(name="Cobalt", merged_into_id=alias.id)
    InterestFactory(interested_party_id=older_alias.id, subject_party_id=subject.id, share_exact=30.0)
    InterestFactory(interested_party_id=alias.id, subject_party_id=alias.id, share_exact=5.0)  # now a self-loop

    for graph in (store.load_graph(session, AS_OF), store.load_graph_around(session, [subject.id], AS_OF)):
        assert alias.id not in graph.parties and older_alias.id not in graph.parties
        [edge] = [e for e in graph.edges if e.subject == subject.id]
        assert (edge.holder, edge.low) == (cobalt.id, 30.0)
        assert all(e.holder != e.subject for e in graph.edges)


def test_dates_decide_what_is_loaded(session, vendor):
    subject = party_of(session, vendor)
    future, current, recent, long_ago, ends_today = (
        PartyFactory(name=n) for n in ("Future Co", "Current Co", "Recent Co", "Long Ago Co", "Today Co")
    )
    InterestFactory(interested_party_id=future.id, subject_party_id=subject.id, start_date=date(2025, 7, 1))
    InterestFactory(interested_party_id=current.id, subject_party_id=subject.id, start_date=date(2025, 6, 30))
    InterestFactory(interested_party_id=recent.id, subject_party_id=subject.id, end_date=date(2023, 7, 1))
    InterestFactory(interested_party_id=long_ago.id, subject_party_id=subject.id, end_date=date(2023, 6, 29))
    InterestFactory(interested_party_id=ends_today.id, subject_party_id=subject.id, end_date=AS_OF)

    names = {p.name for p in (future, current, recent, long_ago, ends_today)}
    graph = store.load_graph(session, AS_OF)
    assert {graph.parties[e.holder].name for e in graph.edges} & names == {"Current Co", "Recent Co", "Today Co"}
    around = store.load_graph_around(session, [subject.id], AS_OF, lookback_months=36)
    assert {around.parties[e.holder].name for e in around.edges} == {
        "Current Co",
        "Recent Co",
        "Today Co",
        "Long Ago Co",
    }
    assert future.id not in around.parties


def test_shares_and_sources_become_the_engines_figures(session, vendor):
    subject = party_of(session, vendor)
    exact, ranged, floor_only, unshared = (PartyFactory(name=n) for n in ("Exact", "Ranged", "Floor", "None"))
    version = DisclosureFactory(vendor_org_id=vendor.id, number=3, status=DisclosureStatus.SUBMITTED)
    InterestFactory(
        interested_party_id=exact.id,
        subject_party_id=subject.id,
        share_exact=12.5,
        source_description="Companies House filing",
        source_date=date(2025, 1, 2),
        verification_level=VerificationLevel.OFFICIAL_REGISTER,
    )
    disclosed(
        version,
        ranged,
        subject,
        share_exact=None,
        share_min=25.0,
        share_max=50.0,
        share_min_exclusive=True,
        recorded_at=datetime(2025, 6, 12, 23, 30, tzinfo=UTC),
    )
    InterestFactory(
        interested_party_id=floor_only.id,
        subject_party_id=subject.id,
        share_exact=None,
        share_min=5.0,
        origin=TieOrigin.BODS_IMPORT,
        verification_level=VerificationLevel.THIRD_PARTY,
        recorded_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    InterestFactory(
        interested_party_id=unshared.id,
        subject_party_id=subject.id,
        share_exact=None,
        interest_type="appointmentOfBoard",
        role_title="Golden share",
    )

    graph = store.with_claims(store.load_graph(session, AS_OF), subject.id)
    [e1], [e2], [e3] = held(graph, exact, subject), held(graph, ranged, subject), held(graph, floor_only, subject)
    [e4] = held(graph, unshared, subject, "appointmentOfBoard")
    assert (e1.low, e1.high, e1.low_exclusive, e1.high_exclusive) == (12.5, 12.5, False, False)
    assert e1.source == store.Source("Companies House filing", "official register", date(2025, 1, 2))
    assert (e2.low, e2.high, e2.low_exclusive, e2.high_exclusive) == (25.0, 50.0, True, False)
    assert e2.source == store.Source("v3 disclosure", "self-declared", date(2025, 6, 12))
    assert (e3.low, e3.high) == (5.0, 100.0)
    assert e3.source.description == "BODS import" and e3.source.verification_level == "third-party source"
    assert (e4.low, e4.high, e4.role_title) == (None, None, "Golden share")
    assert graph.parties[subject.id].kind == "entity"


def test_commercial_ties_count_like_interests(session, vendor):
    subject = party_of(session, vendor)
    cobalt, rejected_partner = PartyFactory(name="Cobalt Social"), PartyFactory(name="Gone Co")
    rejected = DisclosureFactory(vendor_org_id=vendor.id, number=1, status=DisclosureStatus.REJECTED)
    session.add_all(
        [
            CommercialTie(
                vendor_party_id=subject.id,
                counterparty_id=cobalt.id,
                kind=CommercialKind.CUSTOMER,
                revenue_share_pct=35.0,
                origin=TieOrigin.ADMIN_FACT,
            ),
            CommercialTie(
                vendor_party_id=subject.id,
                counterparty_id=rejected_partner.id,
                kind=CommercialKind.EXCLUSIVE_AGREEMENT,
                origin=TieOrigin.DISCLOSURE,
                disclosure_id=rejected.id,
            ),
        ]
    )
    session.flush()
    for graph in (store.load_graph(session, AS_OF), store.load_graph_around(session, [subject.id], AS_OF)):
        [tie] = graph.commercial
        assert (tie.vendor, tie.counterparty, tie.kind, tie.revenue_share_pct) == (
            subject.id,
            cobalt.id,
            "customer",
            35.0,
        )
        assert cobalt.id in graph.parties


def test_the_closure_holds_what_can_change_the_vendors_verdict_and_nothing_else(session, vendor):
    subject = party_of(session, vendor)
    rival, holding, fund, stranger, strangers_sub = (
        PartyFactory(name=n) for n in ("Cobalt Social", "Cobalt Holdings", "Fund", "Stranger", "Stranger Sub")
    )
    founder, cousin_board = PersonFactory(name="Daniel Okafor"), PersonFactory(name="Unrelated Person")
    rival_lab, lab_owner = PartyFactory(name="Cobalt Labs"), PartyFactory(name="Cobalt Parent")
    partner, partner_owner = PartyFactory(name="Partner"), PartyFactory(name="Partner Owner")
    InterestFactory(interested_party_id=rival.id, subject_party_id=holding.id, share_exact=100.0)
    InterestFactory(interested_party_id=holding.id, subject_party_id=subject.id, share_exact=30.0)
    # A cross-holding: the recursion must stop.
    InterestFactory(interested_party_id=subject.id, subject_party_id=fund.id, share_exact=10.0)
    InterestFactory(interested_party_id=fund.id, subject_party_id=holding.id, share_exact=10.0)
    InterestFactory(interested_party_id=stranger.id, subject_party_id=strangers_sub.id, share_exact=60.0)
    # The founder left the vendor last year for Cobalt Labs, owned by Cobalt Parent.
    InterestFactory(
        interested_party_id=founder.id,
        subject_party_id=subject.id,
        interest_type="seniorManagingOfficial",
        share_exact=None,
        end_date=date(2024, 9, 1),
    )
    InterestFactory(
        interested_party_id=founder.id, subject_party_id=rival_lab.id, interest_type="boardMember", share_exact=None
    )
    InterestFactory(interested_party_id=lab_owner.id, subject_party_id=rival_lab.id, share_exact=80.0)
    InterestFactory(
        interested_party_id=cousin_board.id,
        subject_party_id=strangers_sub.id,
        interest_type="boardMember",
        share_exact=None,
    )
    session.add(
        CommercialTie(
            vendor_party_id=subject.id,
            counterparty_id=partner.id,
            kind=CommercialKind.EXCLUSIVE_AGREEMENT,
            origin=TieOrigin.ADMIN_FACT,
        )
    )
    InterestFactory(interested_party_id=partner_owner.id, subject_party_id=partner.id, share_exact=55.0)
    session.flush()

    graph = store.load_graph_around(session, [subject.id], AS_OF, extra_party_ids=[stranger.id])

    assert set(graph.parties) == {
        subject.id,
        rival.id,
        holding.id,
        fund.id,
        founder.id,
        rival_lab.id,
        lab_owner.id,
        partner.id,
        partner_owner.id,
        stranger.id,
    }
    assert all(e.holder != stranger.id for e in graph.edges)  # a rival is named, its own ties are not read
    whole = store.load_graph(session, AS_OF)
    wanted = {
        (e.holder, e.subject, e.interest_type)
        for e in whole.edges
        if e.subject in graph.parties and e.holder in graph.parties and e.subject != stranger.id
    }
    assert {(e.holder, e.subject, e.interest_type) for e in graph.edges} == wanted


def test_the_closure_walks_across_a_merge(session, vendor):
    subject = party_of(session, vendor)
    holding, holding_alias, rival = (PartyFactory(name=n) for n in ("Holding", "Holding (old name)", "Cobalt"))
    holding_alias.merged_into_id = holding.id
    InterestFactory(interested_party_id=holding.id, subject_party_id=subject.id, share_exact=40.0)
    # The rival's stake was recorded against the old name of the holding company.
    InterestFactory(interested_party_id=rival.id, subject_party_id=holding_alias.id, share_exact=70.0)
    session.flush()

    graph = store.load_graph_around(session, [subject.id], AS_OF)

    assert rival.id in graph.parties and holding_alias.id not in graph.parties
    assert [(e.holder, e.subject) for e in graph.edges if e.holder == rival.id] == [(rival.id, holding.id)]


def test_what_lies_below_unknown_owners_read_first_gives_the_same_rivals_part(session, vendor):
    subject = party_of(session, vendor)
    rival, holding, beyond, hidden = (PartyFactory(name=n) for n in ("Cobalt", "Holding", "Beyond", "Hidden"))
    anonymous = PartyFactory(name="Undisclosed owner", kind=PartyKind.UNSPECIFIED, party_type="anonymousEntity")
    InterestFactory(interested_party_id=rival.id, subject_party_id=holding.id, share_exact=60.0)
    InterestFactory(interested_party_id=holding.id, subject_party_id=subject.id, share_exact=30.0)
    # The unknown owner holds into the rivals' part and beyond it; an interest nobody published sits above another.
    InterestFactory(interested_party_id=anonymous.id, subject_party_id=holding.id, share_exact=10.0)
    InterestFactory(interested_party_id=anonymous.id, subject_party_id=beyond.id, share_exact=40.0)
    InterestFactory(
        interested_party_id=PartyFactory(name="Nominee").id,
        subject_party_id=hidden.id,
        interest_type="unpublishedInterest",
        share_exact=None,
    )
    InterestFactory(interested_party_id=hidden.id, subject_party_id=subject.id, share_exact=5.0)
    session.flush()

    reach = store.unknown_reach(session, AS_OF)
    undisclosed, below_unknown = reach.result()
    early = store.load_graph_for_rivals(session, [subject.id], [rival.id], AS_OF, unknown_reach_later=reach)
    walked = store.load_graph_for_rivals(session, [subject.id], [rival.id], AS_OF)

    assert [row.subject_party_id for row in undisclosed] == [hidden.id]
    assert below_unknown == {anonymous.id, holding.id, subject.id, beyond.id, hidden.id}
    assert early == walked
    assert early.parties.keys() == walked.parties.keys()
    assert {(e.holder, e.subject) for e in early.edges} >= {(anonymous.id, beyond.id), (hidden.id, subject.id)}


def test_unspecified_owners_keep_their_kind_and_type(session, vendor):
    subject = party_of(session, vendor)
    anonymous = PartyFactory(
        name="Undisclosed owner",
        kind=PartyKind.UNSPECIFIED,
        party_type="anonymousEntity",
        bods_record_id="gb-coh-anon-1",
    )
    InterestFactory(interested_party_id=anonymous.id, subject_party_id=subject.id, share_exact=None, share_max=20.0)
    node = store.load_graph_around(session, [subject.id], AS_OF).parties[anonymous.id]
    assert (node.kind, node.party_type, node.record_id) == ("unspecified", "anonymousEntity", "gb-coh-anon-1")


def test_vendor_facts_give_the_latest_approval_date(session, vendor):
    unapproved = VendorOrgFactory(name="Newcomer")
    DisclosureFactory(
        vendor_org_id=vendor.id,
        number=1,
        status=DisclosureStatus.APPROVED,
        decided_at=datetime(2024, 1, 5, 9, 0, tzinfo=UTC),
    )
    DisclosureFactory(
        vendor_org_id=vendor.id,
        number=2,
        status=DisclosureStatus.APPROVED,
        decided_at=datetime(2025, 3, 4, 23, 59, tzinfo=UTC),
    )
    DisclosureFactory(vendor_org_id=vendor.id, number=3, status=DisclosureStatus.SUBMITTED)
    DisclosureFactory(
        vendor_org_id=unapproved.id,
        number=1,
        status=DisclosureStatus.REJECTED,
        decided_at=datetime(2025, 3, 4, tzinfo=UTC),
    )

    facts = {f.org_id: f for f in store.vendor_facts(session, [vendor, unapproved])}

    assert facts[vendor.id].approved_on == date(2025, 3, 4)
    assert facts[vendor.id].party_id == vendor.party_id and facts[vendor.id].on_platform
    assert facts[unapproved.id].approved_on is None


def test_an_unreviewed_claim_about_another_party_is_kept_for_its_filer_alone(session, vendor):
    """Scalewise's submitted version says who owns it, who owns its parent and who sits on a competitor's board:
    all three count only in Scalewise's own graph (its own owners would reach whatever it holds), and the sources
    of the two about other parties name Scalewise."""
    competitor = party_of(session, VendorOrgFactory(name="Polyglot Response Co"))
    parent, rival, mallory = PartyFactory(name="HoldCo"), PartyFactory(name="Cobalt Social"), PersonFactory()
    version = DisclosureFactory(vendor_org_id=vendor.id, status=DisclosureStatus.SUBMITTED)
    own = disclosed(version, parent, party_of(session, vendor), share_exact=60.0)
    parent_owner = disclosed(version, rival, parent, share_exact=50.0)
    seat = disclosed(version, mallory, competitor, interest_type="boardMember", share_exact=None)

    graph = store.load_graph(session, AS_OF)

    assert [e.id for e in graph.edges if e.id in (own.id, parent_owner.id, seat.id)] == []
    claims = graph.claims[party_of(session, vendor).id]
    assert sorted(e.id for e in claims) == sorted([own.id, parent_owner.id, seat.id])
    assert {e.id: e.source.description for e in claims} == {
        own.id: "v1 disclosure",
        parent_owner.id: "claimed by Scalewise Data's v1 disclosure",
        seat.id: "claimed by Scalewise Data's v1 disclosure",
    }
    mine = store.with_claims(graph, party_of(session, vendor).id)
    assert held(mine, parent, party_of(session, vendor))[0].source.description == "v1 disclosure"
    assert {own.id, parent_owner.id, seat.id} <= {e.id for e in mine.edges}
    assert store.with_claims(graph, competitor.id) is graph


def test_a_claim_about_another_party_counts_for_everyone_once_verified(session, vendor):
    competitor = party_of(session, VendorOrgFactory(name="Polyglot Response Co"))
    version = DisclosureFactory(vendor_org_id=vendor.id, status=DisclosureStatus.APPROVED)
    seat = disclosed(
        version,
        PersonFactory(),
        competitor,
        interest_type="boardMember",
        share_exact=None,
        verification_level=VerificationLevel.ADMIN_VERIFIED,
    )

    graph = store.load_graph(session, AS_OF)

    [edge] = [e for e in graph.edges if e.id == seat.id]
    assert graph.claims == {} and edge.claimed_by is None
    assert edge.source.description == "claimed by Scalewise Data's v1 disclosure"
    assert edge.source.verification_level == "admin-verified"


@pytest.mark.parametrize("recursive_up_to", [store.RECURSIVE_UP_TO, 0])
def test_the_walk_follows_chains_cycles_and_merges_both_ways(session, vendor, monkeypatch, recursive_up_to):
    """On PostgreSQL, from a few seeds, one recursive query walks as far as it goes and each merge found starts
    another; from many seeds (here: any), and on SQLite, a query a level: either way the same parties, across a
    merge met half way, round a cycle, and no further."""
    monkeypatch.setattr(store, "RECURSIVE_UP_TO", recursive_up_to)
    subject = party_of(session, vendor)
    middle, middle_alias, top, beside, below = (
        PartyFactory(name=n) for n in ("Middle", "Middle (old name)", "Top", "Beside", "Below")
    )
    middle_alias.merged_into_id = middle.id
    InterestFactory(interested_party_id=middle.id, subject_party_id=subject.id, share_exact=40.0)
    # Recorded against the old name: reached only through the merge.
    InterestFactory(interested_party_id=top.id, subject_party_id=middle_alias.id, share_exact=70.0)
    InterestFactory(interested_party_id=subject.id, subject_party_id=top.id, share_exact=1.0)  # a cycle
    InterestFactory(interested_party_id=beside.id, subject_party_id=below.id, share_exact=50.0)  # elsewhere
    InterestFactory(interested_party_id=subject.id, subject_party_id=below.id, interest_type="boardMember")
    session.flush()
    aliases = store.load_aliases(session)
    interest = store._interest.c

    upward = store.walk(session, [subject.id], aliases, interest.subject_party_id, interest.interested_party_id)
    downward = store.parties_below(session, [top.id], AS_OF, aliases=aliases)

    assert upward == {subject.id, middle.id, middle_alias.id, top.id}
    # Down from the top: into the old name, so the party it joined, and what both hold; a board seat passes nothing.
    assert downward == {top.id, middle_alias.id, middle.id, subject.id}
    assert store.walk(session, [], aliases, interest.subject_party_id, interest.interested_party_id) == set()


def test_the_rivals_part_reads_the_same_with_what_lies_below_some_rivals_known(session, vendor):
    subject = party_of(session, vendor)
    rival, other_rival, holding = (PartyFactory(name=n) for n in ("Cobalt", "Argent", "Holding"))
    InterestFactory(interested_party_id=rival.id, subject_party_id=holding.id, share_exact=60.0)
    InterestFactory(interested_party_id=holding.id, subject_party_id=subject.id, share_exact=30.0)
    InterestFactory(interested_party_id=other_rival.id, subject_party_id=subject.id, share_exact=5.0)
    session.flush()
    below = store.parties_below(session, [rival.id], AS_OF)

    known = store.load_graph_for_rivals(session, [subject.id], [rival.id, other_rival.id], AS_OF, known_below=below)
    walked = store.load_graph_for_rivals(session, [subject.id], [rival.id, other_rival.id], AS_OF)

    assert below == {rival.id, holding.id, subject.id}
    assert known == walked
    assert {(e.holder, e.subject) for e in known.edges} >= {(other_rival.id, subject.id), (rival.id, holding.id)}


@pytest.mark.parametrize("count", [0, 3, PLANNED_IDS_UP_TO, PLANNED_IDS_UP_TO + 1, 70_000])
def test_ids_pass_as_one_parameter_however_many(session, count):
    """More ids than PostgreSQL's 65,535 parameters or SQLite's 32,766, passed as one array (PostgreSQL: a literal
    typed bigint[]) or one JSON list."""
    parties = [PartyFactory(name=f"Party {i}") for i in range(3)]
    session.flush()
    ids = [party.id for party in parties][:count] + list(range(10**9, 10**9 + max(0, count - 3)))
    found = session.execute(select(Party.id).where(in_ids(session, Party.id, ids))).scalars().all()
    assert sorted(found) == sorted(party.id for party in parties[:count])


def test_many_ids_are_hidden_from_the_planner_and_few_are_not(session):
    """PostgreSQL's planner estimates `= ANY(array)` element by element (200 ms for 143,000 ids): past
    PLANNED_IDS_UP_TO ids the array comes from a one-row subquery, which it plans once for any length."""
    dialect = session.get_bind().dialect

    def explained(count: int) -> str:
        compiled = select(Party.id).where(in_ids(session, Party.id, range(1, count + 1))).compile(dialect=dialect)
        if dialect.name != "postgresql":
            return str(compiled)
        return "\n".join(session.connection().exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).scalars())

    few, many = explained(PLANNED_IDS_UP_TO), explained(PLANNED_IDS_UP_TO + 1)
    if dialect.name == "postgresql":
        assert "InitPlan" not in few and "InitPlan" in many
    else:  # SQLite reads any number from one JSON list
        assert "json_each" in few and "json_each" in many


def _both_ways(session):
    """The whole graph's rows assembled as a list of ties and as columns (what the rivals' part uses)."""
    dialect = session.get_bind().dialect.name
    aliases = store.load_aliases(session)
    rows = session.execute(select(*store._interest_columns(dialect))).all()
    parties = session.execute(select(*store._PARTY_COLUMNS)).all()
    counting = store._counting(session, None)
    as_list = store._assemble(session, parties, rows, [], aliases, counting)
    as_columns = store._assemble(session, parties, rows, [], aliases, counting, columns=True)
    return as_list, as_columns


def test_ties_read_as_columns_are_the_ties_read_as_a_list(session, vendor):
    """Every figure, bound, date, title, source and claim alike, in the same order: exact shares, ranges with
    exclusive bounds, one end alone, no figure, a role, a merged holder, a tie a merge turns on itself, a claim
    about another party; then, once one fact is stated by two rows, the reduced tie and the order by id."""
    subject = party_of(session, vendor)
    cobalt, argent = PartyFactory(name="Cobalt Social"), PartyFactory(name="Argent")
    alias = PartyFactory(name="Cobalt Social Inc.", merged_into_id=cobalt.id)
    person = PersonFactory(name="Daniel Okafor")
    InterestFactory(interested_party_id=alias.id, subject_party_id=subject.id, share_exact=30.0)
    InterestFactory(interested_party_id=alias.id, subject_party_id=cobalt.id, share_exact=5.0)  # now a self-loop
    InterestFactory(
        interested_party_id=argent.id,
        subject_party_id=subject.id,
        interest_type="votingRights",
        share_exact=None,
        share_min=25.0,
        share_max=50.0,
        share_min_exclusive=True,
        share_max_exclusive=True,
    )
    InterestFactory(interested_party_id=argent.id, subject_party_id=cobalt.id, share_exact=None, share_min=10.0)
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=argent.id, share_exact=None, share_max=20.0)
    InterestFactory(interested_party_id=person.id, subject_party_id=cobalt.id, share_exact=None)
    InterestFactory(
        interested_party_id=person.id,
        subject_party_id=subject.id,
        interest_type="boardMember",
        share_exact=None,
        role_title="Chair",
        start_date=date(2020, 1, 1),
        end_date=date(2025, 1, 1),
    )
    version = DisclosureFactory(vendor_org_id=vendor.id, status=DisclosureStatus.SUBMITTED)
    disclosed(version, argent, cobalt, interest_type="boardMember", share_exact=None)  # a claim about another
    session.flush()

    as_list, as_columns = _both_ways(session)

    assert isinstance(as_columns.edges, EdgeColumns) and isinstance(as_list.edges, list)
    assert [repr(e) for e in as_columns.edges] == [repr(e) for e in as_list.edges]
    assert as_columns == as_list and as_columns.claims and as_columns.claims == as_list.claims

    approved = DisclosureFactory(vendor_org_id=vendor.id, number=2, status=DisclosureStatus.APPROVED)
    disclosed(approved, argent, subject, interest_type="votingRights", share_exact=45.0)  # the same fact again
    session.flush()

    as_list, as_columns = _both_ways(session)

    assert [repr(e) for e in as_columns.edges] == [repr(e) for e in as_list.edges]
    assert [e.id for e in as_columns.edges] == sorted(e.id for e in as_columns.edges)
    assert as_columns.edges[0] == as_list.edges[0] and as_columns.edges[-1] == as_list.edges[-1]


def test_unknown_owners_and_undisclosed_interests_are_read_through_their_partial_indexes(session):
    """Screening every vendor reads every party nobody can name and every undisclosed interest: a few thousand among
    a register's millions, each read through a partial index (migration 0046) whose condition the query states.
    With PostgreSQL told not to scan tables, it can only answer through the index if the index holds every row the
    query asks for; SQLite's plan names the index it uses."""
    PartyFactory(kind=PartyKind.UNSPECIFIED, party_type="unknownEntity", name="Unknown")
    session.flush()
    dialect = session.get_bind().dialect
    queries = {
        "ix_party_unknown": store._UNKNOWN_PARTIES,
        "ix_interest_undisclosed": store._undisclosed_interests(dialect.name, AS_OF, date(2024, 1, 1)),
    }
    connection = session.connection()
    for index, query in queries.items():
        compiled = query.compile(dialect=dialect)
        if dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).scalars())
        else:
            rows = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled),
                tuple(compiled.params[name] for name in compiled.positiontup or ()),
            )
            plan = "\n".join(str(row[-1]) for row in rows)
        assert index in plan, plan
