"""The rival-list service, without a request."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.parties.models import Party, PartyKind
from marketplace.screening.models import Rival, VerdictRecord
from marketplace.screening.services import rivals
from marketplace.visibility import NotVisible
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorFactory,
)


def _party_of(session, user):
    return session.get(Party, session.get(Organization, user.org_id).party_id)


def test_add_by_name_names_the_party_writes_the_trail_and_rescreens(session):
    buyer = BuyerFactory()
    vendor = VendorFactory()
    cobalt = PartyFactory(name="Cobalt Social")
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=_party_of(session, vendor).id, share_exact=30)

    party = rivals.add_rival_by_name(session, buyer, "cobalt social")

    assert party.id == cobalt.id
    rival = session.execute(select(Rival).where(Rival.buyer_org_id == buyer.org_id)).scalar_one()
    assert rival.added_by_id == buyer.id
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "rival.added")).scalar_one()
    assert record.after == {"party_id": cobalt.id, "name": "Cobalt Social"}
    verdict = session.execute(
        select(VerdictRecord.verdict).where(
            VerdictRecord.buyer_org_id == buyer.org_id, VerdictRecord.vendor_org_id == vendor.org_id
        )
    ).scalar_one()
    assert verdict == "exclude"


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Enter the name of the company you compete with."),
        ("   ", "Enter the name of the company you compete with."),
        ("x" * 301, "Use at most 300 characters."),
    ],
)
def test_add_by_name_refuses_a_missing_or_overlong_name(session, name, message):
    buyer = BuyerFactory()
    with pytest.raises(rivals.RivalError, match=message) as raised:
        rivals.add_rival_by_name(session, buyer, name)
    assert raised.value.field == "name"


def test_add_refuses_the_buyers_own_organisation_by_name_and_by_party(session):
    buyer = BuyerFactory()
    own = _party_of(session, buyer)
    with pytest.raises(rivals.RivalError, match="your own organisation"):
        rivals.add_rival_by_name(session, buyer, f"  {own.name.lower()} ")
    with pytest.raises(rivals.RivalError, match="your own organisation"):
        rivals.add_rival_by_party(session, buyer, own.id)
    assert session.execute(select(Rival)).first() is None


def test_add_refuses_a_duplicate(session):
    buyer = BuyerFactory()
    cobalt = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=cobalt.id)
    with pytest.raises(rivals.RivalError, match="already on your rival list"):
        rivals.add_rival_by_party(session, buyer, cobalt.id)
    with pytest.raises(rivals.RivalError, match="already on your rival list"):
        rivals.add_rival_by_name(session, buyer, "COBALT SOCIAL")


def test_the_same_rival_may_be_named_by_two_buyers(session):
    cobalt = PartyFactory(name="Cobalt Social")
    first, second = BuyerFactory(), BuyerFactory()
    rivals.add_rival_by_party(session, first, cobalt.id)
    rivals.add_rival_by_party(session, second, cobalt.id)
    named_by = session.execute(select(Rival.buyer_org_id).where(Rival.party_id == cobalt.id)).scalars().all()
    assert sorted(named_by) == sorted([first.org_id, second.org_id])


def test_add_by_party_follows_a_merge_and_refuses_people(session):
    buyer = BuyerFactory()
    kept = PartyFactory(name="Helix Dynamics")
    duplicate = PartyFactory(name="Helix Dynamics Inc", merged_into_id=kept.id)
    assert rivals.add_rival_by_party(session, buyer, duplicate.id).id == kept.id
    with pytest.raises(rivals.RivalError, match="no longer in the registry"):
        rivals.add_rival_by_party(session, buyer, PersonFactory().id)


@pytest.mark.parametrize("make_user", [VendorFactory, AdminFactory], ids=["vendor", "admin"])
def test_only_buyers_keep_a_rival_list(session, make_user):
    user = make_user()
    with pytest.raises(rivals.RivalError, match="Only buyers"):
        rivals.add_rival_by_name(session, user, "Cobalt Social")
    with pytest.raises(rivals.RivalError, match="Only buyers"):
        rivals.rivals_of(session, user)


def test_remove_writes_the_trail_and_rescreens(session):
    buyer = BuyerFactory()
    vendor = VerifiedVendorFactory()
    cobalt = PartyFactory(name="Cobalt Social")
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=_party_of(session, vendor).id, share_exact=30)
    rivals.add_rival_by_party(session, buyer, cobalt.id)
    rival_id = session.execute(select(Rival.id)).scalar_one()

    assert rivals.remove_rival(session, buyer, rival_id).id == cobalt.id

    assert session.get(Rival, rival_id) is None
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "rival.removed")).scalar_one()
    assert record.buyer_org_id == buyer.org_id
    verdicts = select(VerdictRecord.verdict).where(VerdictRecord.vendor_org_id == vendor.org_id)
    assert session.execute(verdicts).scalar_one() == "clear"


def test_remove_refuses_another_organisations_rival(session):
    rival = RivalFactory()
    with pytest.raises(NotVisible):
        rivals.remove_rival(session, BuyerFactory(), rival.id)
    assert session.get(Rival, rival.id) is not None


def test_rivals_of_counts_each_tied_vendor_once(session):
    buyer = BuyerFactory()
    cobalt = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=cobalt.id)
    tied = _party_of(session, VendorFactory())
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=tied.id, share_exact=40)
    InterestFactory(
        interested_party_id=cobalt.id, subject_party_id=tied.id, interest_type="boardMember", share_exact=None
    )
    InterestFactory(
        interested_party_id=cobalt.id, subject_party_id=_party_of(session, VendorFactory()).id, share_exact=2
    )
    [entry] = rivals.rivals_of(session, buyer)
    assert entry.party.name == "Cobalt Social"
    assert entry.tied_vendor_count == 1


def test_find_candidates_lists_companies_only_and_marks_named_ones(session):
    buyer = BuyerFactory()
    named = PartyFactory(name="Cobalt Social")
    PartyFactory(name="Cobalt Mobile")
    PersonFactory(name="Cobalt Person")
    PartyFactory(name="Cobalt Undisclosed", kind=PartyKind.UNSPECIFIED, party_type="anonymousEntity")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=named.id)
    matches = {m.party.name: m for m in rivals.find_candidates(session, buyer, "cobalt")}
    assert set(matches) == {"Cobalt Social", "Cobalt Mobile"}
    assert matches["Cobalt Social"].already_rival and not matches["Cobalt Mobile"].already_rival
    assert rivals.find_candidates(session, buyer, "  ") == []
