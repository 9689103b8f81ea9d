"""Screening many vendors reads only the part of the graph below the rivals and the unknown owners.

store.load_graph_for_rivals must give every vendor exactly the screening the whole graph gives: checked on random
registers with every kind of tie the rules read (stakes, votes, appointments, seats, roles ended and current,
contracts, commercial ties, unknown owners, unpublished interests, cycles, merged parties, disclosures).
"""

import random
from datetime import timedelta

from sqlalchemy import select

from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.parties.models import CommercialKind, CommercialTie, PartyKind, TieOrigin
from marketplace.screening.engine.rules import control_groups, screen_vendors
from marketplace.screening.engine.verdicts import Policy
from marketplace.screening.models import Rival, VerdictRecord
from marketplace.screening.services import screen as service
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.store import loader as store
from tests.factories import (
    BuyerOrgFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    RivalFactory,
    VendorOrgFactory,
)

TYPES = ["shareholding"] * 6 + [
    "votingRights",
    "appointmentOfBoard",
    "boardMember",
    "boardChair",
    "seniorManagingOfficial",
    "otherInfluenceOrControl",
    "unknownInterest",
]


def random_register(session, rng: random.Random):
    """Vendors, rivals, companies, people and unknown owners, tied at random; returns (vendors, rival ids)."""
    today = utcnow().date()
    vendors = []
    for _ in range(12):
        org = VendorOrgFactory()  # organisation names are unique: the factory numbers them across registers
        if rng.random() < 0.8:
            DisclosureFactory(
                vendor_org_id=org.id,
                number=1,
                status=DisclosureStatus.APPROVED,
                decided_at=utcnow() - timedelta(days=rng.choice([10, 500])),
            )
        vendors.append(org)
    rivals = [PartyFactory(name=f"Rival {n}") for n in range(2)]
    companies = [PartyFactory(name=f"Company {n}") for n in range(25)]
    people = [PersonFactory(name=f"Person {n}") for n in range(12)]
    unknown = [
        PartyFactory(name=f"Unknown {n}", kind=PartyKind.UNSPECIFIED, party_type="anonymousEntity") for n in range(2)
    ]
    # Companies under a second name (likely the same: possible matches with the rivals' group members) and a rival
    # under a second name.
    lookalikes = [PartyFactory(name=f"Company {n} GmbH") for n in range(1, 25, 3)] + [PartyFactory(name="Rival 1 AG")]
    vendor_parties = [org.party_id for org in vendors]
    entities = [p.id for p in rivals + companies] + vendor_parties
    numbers: dict[int, int] = {}  # the last disclosure version number of each vendor
    for _ in range(110):
        kind = rng.choice(TYPES)
        holder = rng.choice(
            [p.id for p in people]
            if kind in ("boardChair", "seniorManagingOfficial")
            else [p.id for p in people + unknown + rivals + companies + lookalikes]
        )
        subject = rng.choice(entities + [p.id for p in lookalikes])
        if holder == subject:
            continue
        values = {"interest_type": kind, "share_exact": None}
        if kind in ("shareholding", "votingRights"):
            roll = rng.random()
            if roll < 0.6:
                values["share_exact"] = rng.choice([5.0, 12.0, 30.0, 51.0, 80.0, 100.0])
            elif roll < 0.9:
                values.update(
                    share_min=rng.choice([0.0, 10.0, 25.0]),
                    share_max=rng.choice([30.0, 50.0]),
                    share_min_exclusive=rng.random() < 0.5,
                    share_max_exclusive=rng.random() < 0.5,
                )
        roll = rng.random()
        if roll < 0.15:
            values["end_date"] = today - timedelta(days=rng.choice([30, 400, 1000]))
        elif roll < 0.2:
            values["start_date"] = today + timedelta(days=30)
        if subject in vendor_parties and rng.random() < 0.3:
            org = vendors[vendor_parties.index(subject)]
            numbers[org.id] = numbers.get(org.id, 1) + 1
            version = DisclosureFactory(
                vendor_org_id=org.id, number=numbers[org.id], status=rng.choice(list(DisclosureStatus))
            )
            values.update(origin=TieOrigin.DISCLOSURE, disclosure_id=version.id)
        InterestFactory(interested_party_id=holder, subject_party_id=subject, **values)
    for _ in range(10):
        session.add(
            CommercialTie(
                vendor_party_id=rng.choice(vendor_parties),
                counterparty_id=rng.choice([r.id for r in rivals] * 5 + entities),
                kind=rng.choice(list(CommercialKind)),
                revenue_share_pct=rng.choice([None, 5.0, 40.0]),
                origin=TieOrigin.ADMIN_FACT,
            )
        )
    # A company known under two names: ties to either count for the one it joined.
    alias = PartyFactory(name="Company 0 (old name)", merged_into_id=companies[0].id)
    InterestFactory(interested_party_id=alias.id, subject_party_id=rng.choice(vendor_parties), share_exact=30.0)
    InterestFactory(interested_party_id=rng.choice(rivals).id, subject_party_id=alias.id, share_exact=60.0)
    # Surely one group member with a lookalike holding a vendor, and one company held too little to be a member.
    InterestFactory(interested_party_id=rivals[0].id, subject_party_id=companies[1].id, share_exact=100.0)
    InterestFactory(interested_party_id=lookalikes[0].id, subject_party_id=rng.choice(vendor_parties), share_exact=30.0)
    InterestFactory(interested_party_id=rivals[1].id, subject_party_id=companies[4].id, share_exact=20.0)
    InterestFactory(interested_party_id=lookalikes[1].id, subject_party_id=rng.choice(vendor_parties), share_exact=30.0)
    session.flush()
    return vendors, [rival.id for rival in rivals]


def test_the_rivals_part_of_the_graph_screens_every_vendor_as_the_whole_graph_does(session):
    today = utcnow().date()
    found = set()
    for seed in range(6):
        vendors, rivals = random_register(session, random.Random(seed))
        facts = store.vendor_facts(session, vendors)
        parties = [fact.party_id for fact in facts]
        for policy in (Policy(), Policy(exclude_at=50.0, review_at=5.0, people_window_months=12)):
            whole = screen_vendors(store.load_graph(session, today), facts, rivals, policy, today)
            part = store.load_graph_for_rivals(session, parties, rivals, today)
            screened = screen_vendors(part, facts, rivals, policy, today)
            for fact in facts:
                expected, got = whole[fact.party_id], screened[fact.party_id]
                assert got.verdict == expected.verdict
                assert [f.as_dict() for f in got.findings] == [f.as_dict() for f in expected.findings]
                assert got.rivals == expected.rivals
                found |= {str(f.rule) for f in got.findings}
    # The registers gave every rule something to find.
    assert found == {"control", "ownership", "board", "people", "contract", "unknown", "unverified"}


def test_what_no_rival_or_unknown_owner_reaches_is_not_read(session):
    vendors, rivals = random_register(session, random.Random(7))
    unrelated = [PartyFactory(name=f"Elsewhere {n}") for n in range(20)]
    for owner, owned in zip(unrelated, unrelated[1:], strict=False):
        InterestFactory(interested_party_id=owner.id, subject_party_id=owned.id, share_exact=70.0)
    today = utcnow().date()
    part = store.load_graph_for_rivals(session, [v.party_id for v in vendors], rivals, today)
    assert not {p.id for p in unrelated} & set(part.parties)
    assert len(part.edges) < len(store.load_graph(session, today).edges)


def test_screening_more_vendors_than_the_closure_limit_agrees_with_one_by_one(session):
    """Alone (the vendor's part of the graph, as its access is decided) and in a batch (the rivals' part, as lists
    and stored verdicts are made), every vendor gets the same findings, possible matches with the rivals' group
    members included."""
    members_matched = set()
    for seed in (11, 12, 13, 14):
        vendors, rivals = random_register(session, random.Random(seed))
        vendors += [VendorOrgFactory(name=f"Plain vendor {seed}-{n}") for n in range(service.CLOSURE_UP_TO)]
        buyer = BuyerOrgFactory(name=f"Northwind AI {seed}")
        for rival in rivals:
            RivalFactory(buyer_org_id=buyer.id, party_id=rival)
        session.flush()
        one_by_one = {org.id: service.screen_vendor(session, buyer.id, org) for org in vendors[:12]}
        together = service.screenings_for_buyer(session, buyer.id, vendors)  # more than CLOSURE_UP_TO
        assert len(together) == len(vendors)
        for org in vendors[:12]:
            screening = one_by_one[org.id]
            assert [f.as_dict() for f in together[org.id].findings] == [f.as_dict() for f in screening.findings]
            assert service.verdicts_for_vendor(session, org)[buyer.id] == together[org.id].access_verdict
            members_matched |= {
                (f.matched_party_id, f.matched_as_party_id)
                for f in screening.findings
                if f.rule == "possible_match" and f.matched_as_party_id != f.rival_party_id
            }
        refresh_verdicts(session, None, buyer_org_ids=[buyer.id])
        stored = dict(
            session.execute(
                select(VerdictRecord.vendor_org_id, VerdictRecord.findings).where(
                    VerdictRecord.buyer_org_id == buyer.id
                )
            ).all()
        )
        for org in vendors[:12]:
            assert [(f["rule"], f["explanation"]) for f in stored[org.id]] == [
                (f.rule, f.explanation) for f in one_by_one[org.id].findings
            ]
        # Start the next register afresh: the vendors and rivals of this one are left out of the next buyer's view.
        for rival in session.execute(select(Rival).where(Rival.buyer_org_id == buyer.id)).scalars():
            session.delete(rival)
        session.flush()
    # The registers gave the possible-match rule group members' variants to find.
    assert members_matched


def test_the_groups_read_below_the_rivals_are_the_whole_graphs(session):
    today = utcnow().date()
    for seed in range(4):
        _, rivals = random_register(session, random.Random(seed))
        for policy in (Policy(), Policy(control_at=30.0)):
            whole = control_groups(store.load_graph(session, today), rivals, policy, today)
            assert control_groups(store.load_graph_below(session, rivals, today), rivals, policy, today) == whole
            assert len(whole[rivals[0]]) > 1  # rivals[0] holds all of Company 1 at least
