"""Vendors with unreviewed claims about other parties are screened alike however many vendors are screened at once,
and as the whole graph with their own claims (and no one else's) screens them."""

import random

import pytest
from sqlalchemy import select

from marketplace.disclosures.models import DisclosureStatus
from marketplace.parties.models import Interest, TieOrigin
from marketplace.screening.engine.rules import screen_vendors
from marketplace.screening.engine.verdicts import Policy
from marketplace.screening.services import screen as service
from marketplace.screening.store import loader as store
from tests.factories import BuyerOrgFactory, DisclosureFactory, InterestFactory, RivalFactory, VendorOrgFactory
from tests.functional.screening.test_rivals_part_of_graph import random_register

CLAIMED = ["shareholding", "votingRights", "appointmentOfBoard", "boardMember", "seniorManagingOfficial"]


def add_claims(session, rng: random.Random, vendors, rivals) -> None:
    """Pending versions of some vendors claiming ties held in other parties: rivals, companies, other vendors."""
    people = (
        session.execute(
            select(Interest.interested_party_id).where(
                Interest.interest_type.in_(["boardMember", "seniorManagingOfficial"])
            )
        )
        .scalars()
        .all()
    )
    entities = [org.party_id for org in vendors] + list(rivals)
    for org in rng.sample(vendors, 9):
        version = DisclosureFactory(vendor_org_id=org.id, number=50, status=DisclosureStatus.SUBMITTED)
        owners = (
            session.execute(
                select(Interest.interested_party_id).where(
                    Interest.subject_party_id == org.party_id,
                    Interest.interest_type == "shareholding",
                    Interest.interested_party_id.not_in(people),
                )
            )
            .scalars()
            .all()
        )
        if owners:  # "my owner is 60% held by a rival": it counts against the filer at once
            InterestFactory(
                interested_party_id=rng.choice(rivals),
                subject_party_id=rng.choice(owners),
                share_exact=60.0,
                origin=TieOrigin.DISCLOSURE,
                disclosure_id=version.id,
            )
        for _ in range(rng.randint(2, 4)):
            kind = rng.choice(CLAIMED)
            holder = rng.choice(people if kind in ("boardMember", "seniorManagingOfficial") else entities)
            subject = rng.choice([e for e in entities if e not in (org.party_id, holder)])
            InterestFactory(
                interested_party_id=holder,
                subject_party_id=subject,
                interest_type=kind,
                share_exact=rng.choice([30.0, 60.0]) if kind in CLAIMED[:2] else None,
                origin=TieOrigin.DISCLOSURE,
                disclosure_id=version.id,
            )
    session.flush()


def words(findings, exact: bool) -> list:
    """Findings as compared: in full, or their rule, verdict, rival and figure only (two ties that explain a finding
    equally may be named in another order when the graph around differs). Possible matches (the register's
    lookalike names) are left out: the engine alone, the reference here, does not look for them, and
    test_rivals_part_of_graph checks that every path finds the same ones."""
    findings = [f for f in findings if str(f.rule) != "possible_match"]
    if exact:
        return [f.as_dict() for f in findings]
    return sorted(
        (str(f.rule), str(f.verdict), f.rival or "", sorted(f.stake.as_dict().items()) if f.stake else [])
        for f in findings
    )


@pytest.mark.parametrize("seed", range(12))
def test_many_at_once_one_by_one_and_the_whole_graph_agree_on_vendors_with_claims(session, seed):
    exact = seed in (3, 11)
    rng = random.Random(seed)
    vendors, rivals = random_register(session, rng)
    add_claims(session, rng, vendors, rivals)
    vendors += [VendorOrgFactory(name=f"Plain vendor {n}") for n in range(service.CLOSURE_UP_TO)]
    buyer = BuyerOrgFactory(name="Northwind AI")
    for rival in rivals:
        RivalFactory(buyer_org_id=buyer.id, party_id=rival)
    today = service.utcnow().date()
    whole = store.load_graph(session, today)
    assert whole.claims, "the register has claims to screen"

    together = service.screenings_for_buyer(session, buyer.id, vendors)  # more than CLOSURE_UP_TO
    changed = 0
    for org, fact in zip(vendors[:12], store.vendor_facts(session, vendors[:12]), strict=True):
        alone = service.screen_vendor(session, buyer.id, org)
        reference = screen_vendors(store.with_claims(whole, fact.party_id), [fact], rivals, Policy(), today)
        expected = words(reference[fact.party_id].findings, exact)
        assert words(alone.findings, exact) == expected
        assert words(together[org.id].findings, exact) == expected
        shared = screen_vendors(whole, [fact], rivals, Policy(), today)[fact.party_id]
        changed += words(shared.findings, exact) != expected
    assert changed, "some vendor's own claims change its screening"
