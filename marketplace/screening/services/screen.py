"""Screening vendors for buyers: the graph from the database, each buyer's rivals and policy, the engine, waivers.

Every buyer organisation is screened, not only those that named rivals: the unknown-owner and unverified rules
name no rival. Buyers with the same policy get one engine run between them, against all their rivals together:
each rival's findings depend on that rival alone, so each buyer then keeps its own rivals' findings.

A vendor's unreviewed claims about other parties count only in its own screening (marketplace.screening.store.loader):
every other vendor is screened on the shared graph in one engine run, and the vendors with such claims of their
own on their part of the graph with their claims added, in groups none of whose claims can reach another's
screening (such vendors are few: those with a version awaiting review).

Vendor-side access (verdicts_for_vendor, asked by marketplace.visibility on every page) is computed from the
vendor's part of the graph as it is now, never read from the verdicts refresh_verdicts stored: those are updated
after a change, on the task queue. A page's screenings (verdicts_for_vendor, screen_pairs_for_page) are kept
between requests by marketplace.transaction_cache.shared under the database's screening generation, which every
commit that changes a table screening reads bumps: an answer kept is the one a screening now would give.
Buyer-side lists may read the stored verdicts (cached_screenings_for_buyer).
"""

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple, cast

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import tasks, transaction_cache
from marketplace.accounts.models import Organization, OrgKind
from marketplace.db_types import utcnow
from marketplace.screening.engine.graph import Graph, PartyNode, VendorFacts, built
from marketplace.screening.engine.rules import collector_paused, control_groups, screen_vendors
from marketplace.screening.engine.verdicts import Finding, Policy, Screening, Verdict, worst  # noqa: F401  (re-exported)
from marketplace.screening.models import Rival, ScreeningPolicy, VerdictRecord
from marketplace.screening.store import loader as store
from marketplace.screening.store import matches
from marketplace.screening.store.affected import Reach
from marketplace.screening.store.beside import beside, may_read_beside
from marketplace.screening.store.policies import apply_waivers, policy_for, waiver_keys

# Up to this many vendors, reading each one's part of the graph beats reading the whole graph once.
CLOSURE_UP_TO = 50
# Up to this many (buyer, vendor) pairs, screen_pairs_for_page keeps each pair's screening between requests. Beyond,
# it is no page but a whole register (100,000 vendors): keeping them would evict every page's answers from the
# process's store (transaction_cache.SHARED_ANSWERS), and storing and copying them took seconds.
PAGE_PAIRS_KEPT = 1000


class _VendorRef(NamedTuple):
    """What the vendors' facts and waivers read of a vendor: taken here, not in the thread that reads them."""

    id: int
    party_id: int | None


def _rivals_by_buyer(session: Session, buyer_ids: list[int], aliases: store.Aliases) -> dict[int, tuple[int, ...]]:
    """Each buyer's rival parties (a merged rival stands for the party it joined)."""
    found: dict[int, set[int]] = {buyer: set() for buyer in buyer_ids}
    rows = session.execute(
        select(col(Rival.buyer_org_id), col(Rival.party_id)).where(col(Rival.buyer_org_id).in_(buyer_ids))
    )
    for buyer, party_id in rows:
        found[buyer].add(aliases.resolve(party_id))
    return {buyer: tuple(sorted(parties)) for buyer, parties in found.items()}


def _policies(session: Session, buyer_ids: list[int]) -> dict[int, Policy]:
    """Each buyer's policy: the defaults unless it saved one."""
    customised = set(
        session.execute(
            select(col(ScreeningPolicy.buyer_org_id)).where(col(ScreeningPolicy.buyer_org_id).in_(buyer_ids))
        ).scalars()
    )
    default = Policy()
    return {buyer: policy_for(session, buyer) if buyer in customised else default for buyer in buyer_ids}


def _policy_key(policy: Policy) -> tuple:
    return (
        policy.exclude_at,
        policy.review_at,
        policy.people_window_months,
        policy.control_at,
        policy.revenue_share_at,
        policy.stale_after_months,
        tuple(sorted((str(rule), str(action)) for rule, action in policy.actions.items())),
    )


def _graph_and_variants(
    session: Session,
    facts: list[VendorFacts],
    rival_ids: set[int],
    policies: list[Policy],
    as_of: date,
    lookback_months: int,
    aliases: store.Aliases,
) -> tuple[Graph, dict]:
    """The part of the graph above the vendors when they are few, below the rivals (and unknown owners) when they
    are many: either holds everything a rule can find about them. With it, the likely variants of the rivals and of
    their groups' members, per control threshold (screening.matches): for many vendors, the groups read below the
    rivals and their members' variants; for a few, the variants among the parties of their part of the graph that
    would give them a finding were they a rival, whose groups are read above them. Both give each vendor the same
    possible matches."""
    parties = [fact.party_id for fact in facts if fact.party_id > 0]
    thresholds = {policy.control_at for policy in policies}
    if len(facts) > CLOSURE_UP_TO:
        # What lies below the unknown owners does not depend on the rivals: read beside the walks below them.
        unknown_reach = store.unknown_reach(session, as_of, lookback_months=lookback_months, aliases=aliases)
        # What lies below the rivals, walked once: for their groups, and again in the rivals' part of the graph.
        below = store.parties_below(session, rival_ids, as_of, lookback_months=lookback_months, aliases=aliases)
        variants = _lookalikes_below(session, rival_ids, thresholds, as_of, lookback_months, aliases, below)
        # The variants are walked down from too: what they hold is where their possible matches are found.
        graph = store.load_graph_for_rivals(
            session,
            parties,
            rival_ids.union(*variants.values()),
            as_of,
            lookback_months=lookback_months,
            aliases=aliases,
            known_below=below,
            unknown_reach_later=unknown_reach,
        )
        return graph, variants
    graph = store.load_graph_around(
        session, parties, as_of, extra_party_ids=rival_ids, lookback_months=lookback_months, aliases=aliases
    )

    def groups_of(party_ids):
        above = store.load_graph_above(session, party_ids, as_of, lookback_months=lookback_months, aliases=aliases)
        present = sorted(rival_ids & above.parties.keys())
        return {
            threshold: control_groups(above, present, Policy(control_at=threshold), as_of) for threshold in thresholds
        }

    if not rival_ids:
        return graph, {threshold: {} for threshold in thresholds}
    # The variants first, then the engine with only the parties that have one naming a rival as stand-in rivals:
    # run with every party of a large group, it took seconds. A party's variants, and whether it would give a
    # vendor a finding as a rival, do not depend on the other parties asked about, so this gives what running the
    # engine with every party first and reading the variants of those it found gives.
    variants = matches.variants_near(session, rival_ids, [p for p in graph.parties if p > 0], groups_of)
    named = sorted({party for found in variants.values() for party in found})
    near = _would_matter(graph, [fact for fact in facts if fact.party_id > 0], named, policies, as_of)
    variants = {key: {party: found[party] for party in found if party in near} for key, found in variants.items()}
    return graph, {threshold: variants.get(threshold, variants[None]) for threshold in thresholds}


def _would_matter(
    graph: Graph, facts: list[VendorFacts], party_ids: list[int], policies: list[Policy], as_of: date
) -> set[int]:
    """Of these parties, the ones that would give a vendor some finding were they a rival, under a policy at
    least as strict as each given one (lowest thresholds, longest people window, no rule ignored): only such a
    party, as a variant, can give a vendor a possible match."""
    if not party_ids or not facts:
        return set()
    # The vendors' own unreviewed claims too: a party tied to a vendor only by them can give it a finding.
    graph = store.with_claims(graph, *[fact.party_id for fact in facts if fact.party_id in graph.claims])
    strictest = Policy(
        exclude_at=min(p.exclude_at for p in policies),
        review_at=min(min(p.review_at, p.exclude_at) for p in policies),
        people_window_months=max(p.people_window_months for p in policies),
        control_at=min(p.control_at for p in policies),
        revenue_share_at=min(p.revenue_share_at for p in policies),
    )
    screenings = _run_engine(graph, facts, tuple(party_ids), strictest, as_of)
    return {
        f.rival_party_id
        for screening in screenings.values()
        for f in screening.findings
        if f.rival_party_id is not None
    }


def _without_party(graph: Graph, vendor_orgs) -> None:
    """An organisation made without a party still gets the rules that need none (unverified)."""
    for org in vendor_orgs:
        if org.party_id is None:
            graph.parties[-org.id] = PartyNode(-org.id, org.name, "entity")


def _batches(facts: list[VendorFacts]) -> list[list[VendorFacts]]:
    """The engine answers per party: two organisations on one (merged) party go in separate runs."""
    batches: list[list[VendorFacts]] = []
    seen: dict[int, int] = defaultdict(int)  # party id -> how many batches hold it already
    for fact in facts:
        index = seen[fact.party_id]
        seen[fact.party_id] += 1
        if index == len(batches):
            batches.append([])
        batches[index].append(fact)
    return batches


def _claim_batches(graph: Graph, claimants: list[int]) -> list[list[int]]:
    """The vendors with claims of their own, in groups none of whose claims reach another's screening: each group
    is screened in one run on the graph with the claims of all its members, which gives each what its own give."""
    reach = Reach(graph)
    reached = {party: reach.affected_by(graph.claims[party]) for party in claimants}
    batches: list[list[int]] = []
    for party in claimants:
        batch = next(
            (b for b in batches if all(party not in reached[other] and other not in reached[party] for other in b)),
            None,
        )
        if batch is None:
            batches.append([party])
        else:
            batch.append(party)
    return batches


def _own_graphs(
    session: Session,
    graph: Graph,
    facts: list[VendorFacts],
    rival_ids: set[int],
    as_of: date,
    lookback_months: int,
    aliases: store.Aliases,
) -> list[tuple[Graph, set[int]]]:
    """[(a graph, the parties screened on it)] for the vendors with unreviewed claims of their own about others.

    Those the loaded graph holds no claims of cannot be given a finding by their claims. When the graph is the
    rivals' part (many vendors), the claimants are screened on the part above them instead: a run on the whole
    rivals' part costs as much as screening every vendor.
    """
    claimants = sorted({fact.party_id for fact in facts if fact.party_id in graph.claims})
    if not claimants:
        return []
    if len(facts) > CLOSURE_UP_TO:
        graph = store.load_graph_around(
            session, claimants, as_of, extra_party_ids=rival_ids, lookback_months=lookback_months, aliases=aliases
        )
    return [(store.with_claims(graph, *batch), set(batch)) for batch in _claim_batches(graph, claimants)]


def _run_engine(
    graph: Graph,
    facts: list[VendorFacts],
    rival_ids: tuple[int, ...],
    policy: Policy,
    as_of: date,
    own_graphs: Sequence[tuple[Graph, set[int]]] = (),
) -> dict[int, Screening]:
    """{vendor org id: Screening} for one set of rivals under one policy: the vendors with claims of their own on
    graphs with their claims, the others together on the shared one."""
    claimants = {party for _, parties in own_graphs for party in parties}
    runs = [(graph, batch) for batch in _batches([f for f in facts if f.party_id not in claimants])]
    for own, parties in own_graphs:
        runs += [(own, batch) for batch in _batches([f for f in facts if f.party_id in parties])]
    out: dict[int, Screening] = {}
    for run_graph, batch in runs:
        by_party = screen_vendors(run_graph, batch, list(rival_ids), policy, as_of)
        for fact in batch:
            screening = by_party.get(fact.party_id) or Screening(fact.org_id, as_of=as_of)
            screening.vendor_org_id = fact.org_id
            out[cast(int, fact.org_id)] = screening
    return out


def _lookalikes_below(
    session: Session,
    rival_ids: set[int],
    thresholds: set[float],
    as_of: date,
    lookback_months: int,
    aliases: store.Aliases,
    parties_below: set[int] | None = None,
) -> dict:
    """The rivals' likely variants and their group members', per control threshold (screening.matches): the groups
    read from what lies below the rivals (`parties_below`, if read already), the same whichever vendors are
    screened."""
    if not rival_ids:
        return {threshold: {} for threshold in thresholds}
    below = store.load_graph_below(
        session, rival_ids, as_of, lookback_months=lookback_months, aliases=aliases, below=parties_below
    )
    groups = {
        threshold: control_groups(below, sorted(rival_ids), Policy(control_at=threshold), as_of)
        for threshold in thresholds
    }
    return matches.rival_variants(session, rival_ids, groups)


def _screen_with_variants(
    graph: Graph,
    facts: list[VendorFacts],
    rival_ids: tuple[int, ...],
    variants: dict,
    policy: Policy,
    as_of: date,
    own_graphs: Sequence[tuple[Graph, set[int]]] = (),
) -> dict[int, Screening]:
    """The engine run against the rivals and, as if each were a rival, their likely variants and their group
    members' variants; what the variants' runs find comes back as possible-match findings (screening.matches)."""
    named = set(rival_ids)
    wanted = {variant: found for variant, found in variants.items() if any(m.rival_id in named for m in found)}
    if not wanted:
        return _run_engine(graph, facts, rival_ids, policy, as_of, own_graphs)
    screenings = _run_engine(graph, facts, tuple(sorted(named | wanted.keys())), policy, as_of, own_graphs)
    return {
        vendor: matches.as_possible_matches(screening, wanted, named, policy)
        for vendor, screening in screenings.items()
    }


def _for_rivals(screening: Screening, rival_ids: set[int]) -> Screening:
    """The screening as a buyer naming only these rivals has it: the other rivals' findings left out."""
    return dataclasses.replace(
        screening,
        findings=[f for f in screening.findings if f.rival_party_id is None or f.rival_party_id in rival_ids],
        rivals=[r for r in screening.rivals if r.rival_party_id in rival_ids],
    )


def _copy(screening: Screening) -> Screening:
    """A screening one buyer can mark its own waivers on."""
    return dataclasses.replace(
        screening, findings=[dataclasses.replace(f) for f in screening.findings], rivals=list(screening.rivals)
    )


def screen_pairs(session: Session, buyer_org_ids, vendor_orgs, as_of: date | None = None):
    """Screen every given vendor for every given buyer: {(buyer_id, vendor_id): Screening}, waivers marked.

    A vendor is an Organization or any row with its id, party_id, kind and name (many are read faster as rows).

    Buyers with the same rivals and policy share Screening objects (and their findings): treat them as read-only.
    """
    with collector_paused():
        return _screen_pairs(session, buyer_org_ids, vendor_orgs, as_of)


def _screen_pairs(session: Session, buyer_org_ids, vendor_orgs, as_of: date | None):
    as_of = as_of or utcnow().date()
    buyer_ids = list(dict.fromkeys(buyer_org_ids))
    vendors = [v for v in vendor_orgs if v.kind == OrgKind.VENDOR]
    if not buyer_ids or not vendors:
        return {}
    aliases = store.load_aliases(session)
    # The vendors' facts and the waivers read beside the graph and the engine (where they may be: store.beside).
    refs = [_VendorRef(vendor.id, vendor.party_id) for vendor in vendors]
    vendor_ids = [ref.id for ref in refs]
    later = beside(
        session,
        lambda own: (store.vendor_facts(own, refs, aliases), waiver_keys(own, buyer_ids, vendor_ids)),
        allowed=len(vendors) > CLOSURE_UP_TO and may_read_beside(session),  # a page's few: not worth a connection
    )
    rivals = _rivals_by_buyer(session, buyer_ids, aliases)
    policies = _policies(session, buyer_ids)
    lookback = max([store.LOOKBACK_MONTHS, *(p.people_window_months for p in policies.values())])
    named = {p for parties in rivals.values() for p in parties}
    if len(vendors) > CLOSURE_UP_TO:
        # The rivals' part of the graph needs the vendors' parties only, as the facts give them (a merged party: the
        # one it joined); the facts come when the engine needs them.
        resolve = aliases.resolve
        parties = [
            built(VendorFacts, resolve(ref.party_id) if ref.party_id is not None else -ref.id, True, None, ref.id)
            for ref in refs
        ]
        graph, variants = _graph_and_variants(session, parties, named, [*policies.values()], as_of, lookback, aliases)
        facts, keys = later.result()
    else:
        facts, keys = later.result()
        graph, variants = _graph_and_variants(session, facts, named, [*policies.values()], as_of, lookback, aliases)
    all_rivals = named.union(*(found.keys() for found in variants.values()))
    _without_party(graph, vendors)
    own_graphs = _own_graphs(session, graph, facts, all_rivals, as_of, lookback, aliases)

    groups: dict[tuple, list[int]] = defaultdict(list)
    for buyer in buyer_ids:
        groups[_policy_key(policies[buyer])].append(buyer)
    waived = {(buyer, vendor) for buyer, vendor, _, _ in keys}
    results: dict[tuple[int, int], Screening] = {}
    for buyers in groups.values():
        everyone = tuple(sorted({rival for buyer in buyers for rival in rivals[buyer]}))
        policy = policies[buyers[0]]
        screenings = _screen_with_variants(
            graph, facts, everyone, variants[policy.control_at], policy, as_of, own_graphs
        )
        views: dict[tuple[int, ...], dict[int, Screening]] = {everyone: screenings}
        for buyer in buyers:
            if rivals[buyer] not in views:
                named = set(rivals[buyer])
                views[rivals[buyer]] = {v: _for_rivals(s, named) for v, s in screenings.items()}
            for vendor_id, screening in views[rivals[buyer]].items():
                # Buyers without a waiver for the vendor share one screening; a waiver marks a copy.
                if (buyer, vendor_id) in waived:
                    screening = _copy(screening)
                    apply_waivers(screening.findings, buyer, vendor_id, keys)
                results[(buyer, vendor_id)] = screening
    return results


def _all_buyer_ids(session: Session) -> list[int]:
    return list(
        session.execute(
            select(col(Organization.id)).where(col(Organization.kind) == OrgKind.BUYER).order_by(col(Organization.id))
        ).scalars()
    )


def screen_vendor(session: Session, buyer_org_id: int, vendor_org: Organization, as_of=None) -> Screening:
    """Screen one vendor for one buyer (for a page: screen_pairs_for_page)."""
    return screen_pairs_for_page(session, [buyer_org_id], [vendor_org], as_of).get(
        (buyer_org_id, vendor_org.id), Screening(vendor_org.id)
    )


def screen_pairs_for_page(session: Session, buyer_org_ids, vendor_orgs, as_of=None):
    """screen_pairs for a page (a few vendors): each pair's screening is kept between requests for as long as the
    screening generation stays the same (marketplace.transaction_cache.shared), and given out as a copy. More pairs
    than PAGE_PAIRS_KEPT are screened afresh and kept by no one (a copy each only where buyers share one)."""
    as_of = as_of or utcnow().date()
    buyer_ids = list(dict.fromkeys(buyer_org_ids))
    vendors = {vendor.id: vendor for vendor in vendor_orgs}
    if len(vendors) * len(buyer_ids) > PAGE_PAIRS_KEPT:
        pairs = screen_pairs(session, buyer_ids, list(vendors.values()), as_of)
        return pairs if len(buyer_ids) == 1 else {pair: _copy(screening) for pair, screening in pairs.items()}
    keys = [("screening.pair", buyer, vendor, as_of) for vendor in vendors for buyer in buyer_ids]

    def compute(missing):
        wanted = [vendors[vendor] for vendor in dict.fromkeys(vendor for _, _, vendor, _ in missing)]
        pairs = screen_pairs(session, buyer_ids, wanted, as_of)
        return {key: pairs.get((key[1], key[2])) for key in missing}

    found = transaction_cache.shared_many(session, keys, compute)
    return {(key[1], key[2]): _copy(screening) for key, screening in found.items() if screening is not None}


def verdicts_for_vendor(session: Session, vendor_org: Organization, as_of=None) -> dict[int, Verdict]:
    """The verdict that decides access under every buyer organisation, as a screening now gives it (waived findings
    do not count).

    The security-critical direction: never read from the stored verdicts. One page asks several times (the job,
    whether the vendor may bid, its questions): within one transaction the answer is kept until the session writes
    anything (marketplace.transaction_cache.cached), and between transactions for as long as nothing screening reads
    has changed (marketplace.transaction_cache.shared).
    """
    as_of = as_of or utcnow().date()
    key = ("screening.verdicts_for_vendor", vendor_org.id, as_of)

    def compute() -> dict[int, Verdict]:
        pairs = screen_pairs(session, _all_buyer_ids(session), [vendor_org], as_of)
        return {buyer_id: screening.access_verdict for (buyer_id, _), screening in pairs.items()}

    return dict(transaction_cache.cached(session, key, lambda: transaction_cache.shared(session, key, compute)))


def screenings_for_buyer(session: Session, buyer_org_id: int, vendor_orgs, as_of=None) -> dict[int, Screening]:
    """Each vendor's screening for one buyer, as a screening now gives it, keyed by vendor organisation id."""
    pairs = screen_pairs_for_page(session, [buyer_org_id], vendor_orgs, as_of)
    return {vendor_id: screening for (_, vendor_id), screening in pairs.items()}


def findings_record(findings: list[Finding]) -> list[dict]:
    """Findings as stored with a verdict: what a buyer-side list shows, and which rival a waiver names."""
    return [
        {
            **finding.as_dict(),
            "rival_party_id": finding.rival_party_id,
            "waived": finding.waived,
            "matched_party_id": finding.matched_party_id,
            "matched_as_party_id": finding.matched_as_party_id,
        }
        for finding in findings
    ]


def screened_live_up_to() -> int | None:
    """How many vendors without a stored verdict for a lab one request screens live, at most (the app's
    SCREENED_LIVE_UP_TO), or None: every one. More than that (a lab that has just joined a large platform, before
    the first screening queued for it is stored: queued.lab_joined) are left out of its lists, which say so, so that
    no page screens the whole platform inside a request. Without a task queue (a small platform) there is no worker
    to store them, and every one is screened live."""
    return int(current_app.config["SCREENED_LIVE_UP_TO"]) if tasks.configured() else None


class StoredScreenings(dict[int, tuple[Verdict, list[dict]]]):
    """{vendor org id: (verdict, findings)}, and how many vendors not yet screened for the lab were left out
    (`unscreened`), for the page to say so rather than count short in silence."""

    unscreened: int = 0


def cached_screenings_for_buyer(session: Session, buyer_org_id: int, flagged_only: bool = False) -> StoredScreenings:
    """{vendor org id: (verdict, findings)} for every vendor, from the stored verdicts (with flagged_only, for every
    vendor whose verdict is not clear: the ones with findings).

    A vendor not yet screened for this buyer is screened live here but not stored or acted on: this serves
    GET pages, which change nothing; the next refresh stores it. More of them than screened_live_up_to(), with a
    queue to store them (a lab that has just joined a large platform), are left out and counted (`unscreened`): no
    page screens the platform. Findings are findings_record() dicts. For pages listing many vendors; never for
    access decisions.
    """
    vendors = select(col(Organization.id)).where(col(Organization.kind) == OrgKind.VENDOR)
    stored = select(col(VerdictRecord.vendor_org_id), col(VerdictRecord.verdict), col(VerdictRecord.findings)).where(
        col(VerdictRecord.buyer_org_id) == buyer_org_id, col(VerdictRecord.vendor_org_id).in_(vendors)
    )
    if flagged_only:
        stored = stored.where(col(VerdictRecord.verdict) != Verdict.CLEAR.value)
    cached = StoredScreenings(
        (vendor_id, (Verdict(verdict), findings or [])) for vendor_id, verdict, findings in session.execute(stored)
    )
    recorded = select(col(VerdictRecord.vendor_org_id)).where(col(VerdictRecord.buyer_org_id) == buyer_org_id)
    unstored = select(Organization).where(
        col(Organization.kind) == OrgKind.VENDOR, col(Organization.id).not_in(recorded)
    )
    limit = screened_live_up_to()
    missing = session.execute(unstored if limit is None else unstored.limit(limit + 1)).scalars().all()
    if limit is not None and len(missing) > limit:
        cached.unscreened = cast(int, session.scalar(select(func.count()).select_from(unstored.subquery())))
        return cached
    if missing:
        for (_, vendor_id), screening in screen_pairs(session, [buyer_org_id], missing).items():
            if not flagged_only or screening.verdict != Verdict.CLEAR:
                cached[vendor_id] = (screening.verdict, findings_record(screening.findings))
    return cached


def screen_party(session: Session, party_id: int, rival_party_ids, policy: Policy, as_of: date) -> Screening:
    """Screen any party of the graph against the given rivals under a policy, as of a date.

    The unverified rule applies only when the party is a platform vendor's; no waiver is applied. Likely variants
    of the rivals give possible-match findings, as for buyers.
    """
    aliases = store.load_aliases(session)
    party_id = aliases.resolve(party_id)
    rivals = list(dict.fromkeys(aliases.resolve(rival) for rival in rival_party_ids))
    org = store.platform_vendor_of(session, party_id, aliases)
    fact = (
        store.vendor_facts(session, [org], aliases)[0]
        if org is not None
        else VendorFacts(party_id=party_id, on_platform=False)
    )
    lookback = max(store.LOOKBACK_MONTHS, policy.people_window_months)
    graph, variants = _graph_and_variants(session, [fact], set(rivals), [policy], as_of, lookback, aliases)
    graph = store.with_claims(graph, party_id)
    screening = _screen_with_variants(graph, [fact], tuple(rivals), variants[policy.control_at], policy, as_of).get(
        cast(int, fact.org_id)
    )
    return screening or Screening(fact.org_id, as_of=as_of, vendor_party_id=party_id)
