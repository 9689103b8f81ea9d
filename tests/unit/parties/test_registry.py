"""The registry of parties: search, suggested duplicates, and merges that keep every identifier and interest."""

import random
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select
from sqlmodel import SQLModel

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.concentration.models import OwnerGroupReport
from marketplace.deals.models import PendingDeal
from marketplace.parties import registry
from marketplace.parties.models import (
    CommercialKind,
    CommercialTie,
    Interest,
    Party,
    PartyDistinction,
    PartyIdentifier,
    PartyKind,
)
from marketplace.parties.service import normalize_identifier
from marketplace.screening.models import Rival, VerdictRecord, Waiver
from marketplace.screening.services.screen import screen_vendor
from marketplace.visibility import NotVisible
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    BuyerOrgFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    RivalFactory,
    VendorOrgFactory,
)


@pytest.fixture
def admin(session):
    return AdminFactory()


def add_identifier(session, party, value, scheme="GB-COH"):
    session.add(
        PartyIdentifier(party_id=party.id, scheme=scheme, value=value, value_normalized=normalize_identifier(value))
    )
    session.flush()


# --- search ------------------------------------------------------------------------------------------------


def test_search_finds_by_name_and_by_identifier_however_it_is_written(session, admin):
    cobalt = PartyFactory(name="Cobalt Social Ltd")
    add_identifier(session, cobalt, "SC115530")
    PartyFactory(name="Quartz Labs")

    assert [s.party.id for s in registry.search(session, admin, "cobalt")] == [cobalt.id]
    by_identifier = registry.search(session, admin, "sc-115530")
    assert [s.party.id for s in by_identifier] == [cobalt.id]
    assert [i.value for i in by_identifier[0].identifiers] == ["SC115530"]
    assert registry.search(session, admin, "no such party anywhere") == []


def test_only_admins_use_the_registry(session):
    buyer = BuyerFactory()
    party = PartyFactory()
    with pytest.raises(NotVisible):
        registry.search(session, buyer, "x")
    with pytest.raises(NotVisible):
        registry.suggested_duplicates(session, buyer)
    with pytest.raises(NotVisible):
        registry.merge_parties(session, buyer, party.id, PartyFactory().id)


# --- suggested duplicates ----------------------------------------------------------------------------------


def pairs_of(session, admin):
    return {
        (pair.first.name, pair.second.name): pair.reason for pair in registry.suggested_duplicates(session, admin).pairs
    }


def test_the_same_normalised_identifier_suggests_a_duplicate(session, admin):
    first, second = PartyFactory(name="Cobalt Social"), PartyFactory(name="CS Holdco")
    add_identifier(session, first, "SC115530")
    add_identifier(session, second, "sc 115-530")
    other_scheme = PartyFactory(name="Unrelated Trust")
    add_identifier(session, other_scheme, "SC115530", scheme="US-EIN")

    pairs = pairs_of(session, admin)
    assert pairs[("Cobalt Social", "CS Holdco")] == "same identifier GB-COH SC115530"
    assert not any("Unrelated Trust" in names for names in pairs)


def test_near_identical_names_of_the_same_kind_are_suggested(session, admin):
    PartyFactory(name="Cobalt Social, Inc.")
    PartyFactory(name="cobalt social")
    PartyFactory(name="Cobalt Sociall Ltd")
    PartyFactory(name="Cobalt Socal Ltd")
    PartyFactory(name="Cobalt Capital")
    person = PersonFactory(name="Cobalt Social")  # a person is never the same party as a company

    pairs = pairs_of(session, admin)
    assert pairs[("Cobalt Social, Inc.", "cobalt social")] == "the same name"
    assert pairs[("Cobalt Social, Inc.", "Cobalt Sociall Ltd")] == "names 100% alike"  # doubled letters folded
    assert pairs[("Cobalt Social, Inc.", "Cobalt Socal Ltd")] == "names 96% alike"
    assert not any("Cobalt Capital" in names for names in pairs)
    assert not any(person.id in pair.ids for pair in registry.suggested_duplicates(session, admin).pairs)


def test_merged_parties_are_no_longer_suggested(session, admin):
    keep, merged = PartyFactory(name="Cobalt Social"), PartyFactory(name="Cobalt Social Inc")
    assert ("Cobalt Social", "Cobalt Social Inc") in pairs_of(session, admin)
    registry.merge_parties(session, admin, keep.id, merged.id)
    assert pairs_of(session, admin) == {}


# --- merging -----------------------------------------------------------------------------------------------


def test_a_merge_keeps_every_identifier_and_interest(session, admin):
    keep = PartyFactory(name="Cobalt Social")
    merged = PartyFactory(name="Cobalt Social Holdings")
    add_identifier(session, keep, "SC115530")
    add_identifier(session, merged, "GB123456789", scheme="GB-VAT")
    add_identifier(session, merged, "5493001KJTIIGC8Y1R12", scheme="XI-LEI")
    vendor = VendorOrgFactory(name="Scalewise Data")
    owner = PersonFactory(name="Rui Costa")
    held = InterestFactory(interested_party_id=merged.id, subject_party_id=vendor.party_id, share_exact=30.0)
    in_it = InterestFactory(interested_party_id=owner.id, subject_party_id=merged.id, share_exact=80.0)
    kept_own = InterestFactory(interested_party_id=keep.id, subject_party_id=PartyFactory().id)
    customer = CommercialTie(
        vendor_party_id=vendor.party_id, counterparty_id=merged.id, kind=CommercialKind.CUSTOMER, revenue_share_pct=40.0
    )
    session.add(customer)
    earlier = PartyFactory(name="Cobalt Soc.", merged_into_id=merged.id)
    session.flush()

    result = registry.merge_parties(session, admin, keep.id, merged.id)

    assert result.id == keep.id
    identifiers = session.execute(
        select(PartyIdentifier.scheme, PartyIdentifier.value).where(PartyIdentifier.party_id == keep.id)
    ).all()
    assert sorted(identifiers) == sorted(
        [
            ("GB-COH", "SC115530"),
            ("GB-VAT", "GB123456789"),
            ("XI-LEI", "5493001KJTIIGC8Y1R12"),
            ("alias", "Cobalt Social Holdings"),
        ]
    )
    assert session.execute(select(PartyIdentifier).where(PartyIdentifier.party_id == merged.id)).first() is None
    assert session.get(Interest, held.id).interested_party_id == keep.id
    assert session.get(Interest, in_it.id).subject_party_id == keep.id
    assert session.get(Interest, kept_own.id).interested_party_id == keep.id
    assert session.get(CommercialTie, customer.id).counterparty_id == keep.id
    assert session.get(Party, merged.id).merged_into_id == keep.id
    assert session.get(Party, earlier.id).merged_into_id == keep.id
    # The old name still finds the kept party.
    assert [s.party.id for s in registry.search(session, admin, "Cobalt Social Holdings")] == [keep.id]

    record = session.execute(select(AuditRecord).where(AuditRecord.action == "party.merged")).scalar_one()
    assert record.actor_id == admin.id and record.subject_id == keep.id
    assert record.before["merged"]["name"] == "Cobalt Social Holdings"
    assert record.before["merged"]["identifiers"] == ["GB-VAT: GB123456789", "XI-LEI: 5493001KJTIIGC8Y1R12"]
    assert record.after["merged_into"] == keep.id
    assert record.after["moved"] == {
        "interests held": 1,
        "interests in it": 1,
        "commercial ties": 1,
        "identifiers": 2,
        "earlier merges": 1,
    }
    assert "alias: Cobalt Social Holdings" in record.after["kept"]["identifiers"]


def test_a_merge_moves_rival_lists_waivers_and_the_organisation(session, admin):
    keep = PartyFactory(name="Cobalt Social")
    merged_org = BuyerOrgFactory(name="Cobalt Social Inc")
    merged = session.get(Party, merged_org.party_id)
    both = RivalFactory(party_id=keep.id)
    RivalFactory(buyer_org_id=both.buyer_org_id, party_id=merged.id)
    only_merged = RivalFactory(party_id=merged.id)
    vendor = VendorOrgFactory()
    session.add(
        Waiver(
            buyer_org_id=only_merged.buyer_org_id,
            vendor_org_id=vendor.id,
            rule="ownership",
            rival_party_id=merged.id,
            reason="Passive stake.",
        )
    )
    session.flush()

    registry.merge_parties(session, admin, keep.id, merged.id)

    rivals = session.execute(select(Rival.buyer_org_id, Rival.party_id)).all()
    assert sorted(rivals) == sorted([(both.buyer_org_id, keep.id), (only_merged.buyer_org_id, keep.id)])
    waiver = session.execute(select(Waiver)).scalar_one()
    assert waiver.rival_party_id == keep.id
    assert session.get(Organization, merged_org.id).party_id == keep.id


def test_every_reference_to_a_party_is_moved_by_a_merge(session, admin):
    """A table added later with a column pointing at party.id must be taught to the merge."""
    moved = {
        "interest.interested_party_id",
        "interest.subject_party_id",
        "commercialtie.vendor_party_id",
        "commercialtie.counterparty_id",
        "partyidentifier.party_id",
        "organization.party_id",
        "rival.party_id",
        "waiver.rival_party_id",
        "party.merged_into_id",
        "bodsstatement.party_id",
        "partydistinction.first_party_id",
        "partydistinction.second_party_id",
        "noownersdeclaration.subject_party_id",
        "pendingdeal.acquirer_party_id",
        "pendingdeal.target_party_id",
        "ownergroupreport.owner_party_id",
    }
    referencing = {
        f"{table.name}.{fk.parent.name}"
        for table in SQLModel.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == "party"
    }
    assert referencing <= moved


def test_a_merge_moves_pending_deals_and_common_owner_reports(session, admin):
    """A lab told of both parties as a common owner keeps one report; a pending deal names the kept party."""
    keep, merged, target = PartyFactory(name="Cobalt Social"), PartyFactory(name="Cobalt Social Inc"), PartyFactory()
    lab, other_lab = BuyerFactory(), BuyerFactory()
    deal = PendingDeal(
        acquirer_party_id=merged.id, target_party_id=target.id, share_pct=30.0, announced_on=date(2026, 12, 1)
    )
    session.add(deal)
    for buyer, owner in ((lab, keep), (lab, merged), (other_lab, merged)):
        session.add(OwnerGroupReport(buyer_org_id=buyer.org_id, owner_party_id=owner.id, vendor_org_ids=[1, 2]))
    session.flush()
    registry.merge_parties(session, admin, keep.id, merged.id)
    session.refresh(deal)
    assert deal.acquirer_party_id == keep.id
    reports = session.execute(select(OwnerGroupReport.buyer_org_id, OwnerGroupReport.owner_party_id)).all()
    assert sorted(reports) == sorted([(lab.org_id, keep.id), (other_lab.org_id, keep.id)])


def test_a_merge_screens_every_vendor_again(session, admin):
    buyer = BuyerFactory()
    rival = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=rival.id)
    alias = PartyFactory(name="Cobalt Social Holdings")
    vendor = VendorOrgFactory()
    InterestFactory(interested_party_id=alias.id, subject_party_id=vendor.party_id, share_exact=40.0)
    assert screen_vendor(session, buyer.org_id, vendor).verdict != "exclude"

    registry.merge_parties(session, admin, rival.id, alias.id)

    assert screen_vendor(session, buyer.org_id, vendor).verdict == "exclude"
    record = session.execute(
        select(VerdictRecord).where(
            VerdictRecord.buyer_org_id == buyer.org_id, VerdictRecord.vendor_org_id == vendor.id
        )
    ).scalar_one()
    assert record.verdict == "exclude"


def refusal(session, admin, keep, merged) -> str:
    with pytest.raises(registry.RegistryError) as raised:
        registry.merge_parties(session, admin, keep.id, merged.id)
    return str(raised.value)


def test_a_party_is_not_merged_into_itself(session, admin):
    party = PartyFactory(name="Cobalt Social")
    assert refusal(session, admin, party, party) == (
        "A party cannot be merged into itself: choose two different parties."
    )


def test_a_person_is_not_merged_into_an_organisation_nor_the_reverse(session, admin):
    person, company = PersonFactory(name="Rui Costa"), PartyFactory(name="Rui Costa Ltd")
    assert refusal(session, admin, company, person) == (
        "Rui Costa is a person and Rui Costa Ltd an organisation: a person cannot be merged into an organisation."
    )
    assert "an organisation cannot be merged into a person" in refusal(session, admin, person, company)
    assert session.get(Party, person.id).merged_into_id is None


def test_an_unknown_owner_can_turn_out_to_be_a_named_one(session, admin):
    unknown = PartyFactory(name="Unknown owner", kind=PartyKind.UNSPECIFIED, party_type="unknownEntity")
    named = PartyFactory(name="Cobalt Social")
    registry.merge_parties(session, admin, named.id, unknown.id)
    assert session.get(Party, unknown.id).merged_into_id == named.id


def test_two_platform_organisations_and_tied_parties_are_not_merged(session, admin):
    first, second = VendorOrgFactory(name="Scalewise Data"), VendorOrgFactory(name="Scalewise Data Europe")
    first_party, second_party = session.get(Party, first.party_id), session.get(Party, second.party_id)
    assert "are both organisations on the platform" in refusal(session, admin, first_party, second_party)

    parent, child = PartyFactory(name="Cobalt Group"), PartyFactory(name="Cobalt Group Sub")
    InterestFactory(interested_party_id=parent.id, subject_party_id=child.id)
    assert "have ties to each other" in refusal(session, admin, parent, child)


def test_a_party_already_merged_cannot_be_merged_again(session, admin):
    keep, merged, third = PartyFactory(name="A Co"), PartyFactory(name="B Co"), PartyFactory(name="C Co")
    registry.merge_parties(session, admin, keep.id, merged.id)
    assert refusal(session, admin, third, merged) == (
        "B Co was already merged into another party; merge that one instead."
    )
    assert "There is no party" in refusal(session, admin, keep, SimpleNamespace(id=999999))


# --- one party's duplicates, through the indexes --------------------------------------------------------------

_NAMES = [
    "Halcyon Research",
    "Halcyon Research GmbH",
    "Halcyon Reserch Ltd",
    "Halcyon Holdings",
    "Research Halcyon",
    "Cobalt Social",
    "Cobalt Socal Ltd",
    "Kobalt Social",
    "Cobalt 2 Social",
    "Cobalt 3 Social",
    "Quartz Labs",
    "Quartz Lab",
    "The Quartz Labs",
    "Nordwind AI",
    "Northwind AI",
    "Northwind A.I. Inc",
    "Ivan Petrov",
    "Iwan Petrow",
]


def every_pair(session, parties):
    """The suggestions worked out the obvious way, every pair against every other: identifier matches first (value
    by value in the order of each value's first row), then likely names of one kind."""
    live = [party for party in parties if party.merged_into_id is None]
    distinct = {(d.first_party_id, d.second_party_id) for d in session.execute(select(PartyDistinction)).scalars()}
    found = {}

    def suggest(a, b, reason):
        key = tuple(sorted((a.id, b.id)))
        if reason and key not in distinct:
            found.setdefault(key, reason)

    rows = sorted(
        (row for row in session.execute(select(PartyIdentifier)).scalars() if row.scheme != registry.ALIAS_SCHEME),
        key=lambda row: row.id,
    )
    by_id = {party.id: party for party in live}
    groups = {}
    for row in rows:
        if row.party_id in by_id:
            groups.setdefault(row.value_normalized, []).append(row)
    for group in groups.values():
        for i, left in enumerate(group):
            for right in group[i + 1 :]:
                a, b = by_id[left.party_id], by_id[right.party_id]
                suggest(a, b, registry._identifier_reason(left, right, a, b))
    for i, a in enumerate(live):
        for b in live[i + 1 :]:
            if a.kind == b.kind != PartyKind.UNSPECIFIED and a.match_key and b.match_key:
                suggest(a, b, registry._names_alike(a.match_key, a.name, b.match_key, b.name))
    return found


def random_register(session, admin, seed):
    rng = random.Random(seed)
    parties = []
    for name in rng.sample(_NAMES, 14) + rng.sample(_NAMES, 4):
        kind = rng.choice([PartyKind.ENTITY, PartyKind.ENTITY, PartyKind.PERSON, PartyKind.UNSPECIFIED])
        factory = PersonFactory if kind == PartyKind.PERSON else PartyFactory
        parties.append(factory(name=name, kind=kind))
    for party in parties:
        for _ in range(rng.randrange(3)):
            value = rng.choice(["SC115530", "sc-115530", "HRB 1234", "5493001KJTIIGC8Y1R12"])
            add_identifier(session, party, value, scheme=rng.choice(["GB-COH", "DE-CR", "XI-LEI", ""]))
    for first, second in rng.sample([(a, b) for a in parties for b in parties if a.id < b.id], 3):
        session.add(
            PartyDistinction(
                first_party_id=first.id, second_party_id=second.id, reason="Checked.", recorded_by_id=admin.id
            )
        )
    parties[-1].merged_into_id = parties[0].id
    session.flush()
    return parties


@pytest.mark.parametrize("seed", range(6))
def test_one_partys_duplicates_through_its_indexes_are_every_pair_naming_it(session, admin, seed):
    """duplicates_of (indexed blocks and identifiers) finds exactly what comparing every pair finds, with the same
    reason, on random registers: lookalike names of both kinds, shared identifiers in and across schemes, unnamed
    owners, a merged party and pairs marked as not the same."""
    parties = random_register(session, admin, seed)
    everything = every_pair(session, parties)
    assert everything, "the register should hold some lookalikes"
    for party in parties:
        expected = sorted((ids, reason) for ids, reason in everything.items() if party.id in ids)
        found = sorted((pair.ids, pair.reason) for pair in registry.duplicates_of(session, party))
        assert found == expected, party.name


@pytest.mark.parametrize("seed", range(3))
def test_suggestions_page_through_the_registry_newest_first_listing_each_pair_once(session, admin, seed):
    parties = random_register(session, admin, seed)
    listed, older_than, pages = [], None, 0
    while True:
        page = registry.suggested_duplicates(session, admin, older_than=older_than, window=4)
        listed += [(pair.ids, pair.reason) for pair in page.pairs]
        pages += 1
        if page.older_than is None:
            break
        older_than = page.older_than
    mine = {party.id for party in parties}
    listed = [(ids, reason) for ids, reason in listed if set(ids) <= mine]  # the session may hold other parties
    assert sorted(listed) == sorted(every_pair(session, parties).items())
    assert len(listed) == len(set(listed))
    assert pages >= 17 // 4


def test_a_party_page_shows_its_duplicates_without_reading_the_whole_registry(session, admin):
    halcyon = PartyFactory(name="Halcyon Research")
    variant = PartyFactory(name="Halcyon Research GmbH")
    PartyFactory(name="Quartz Labs")
    for n in range(300):  # a registry around them, some sharing the name's blocks
        PartyFactory(name=f"Halcyon Holding {n:03d}" if n % 2 else f"Unrelated Trading {n:03d}")
    session.flush()
    session.expunge_all()
    loaded = []

    def count(target, _context):
        loaded.append(target.id)

    event.listen(Party, "load", count)
    try:
        detail = registry.party_detail(session, admin, halcyon.id)
    finally:
        event.remove(Party, "load", count)
    assert [(pair.ids, pair.reason) for pair in detail.duplicates] == [((halcyon.id, variant.id), "the same name")]
    # Only the party and its lookalike became rows of the ORM, not the registry around it.
    assert sorted(set(loaded)) == [halcyon.id, variant.id]
