"""Naming the other party of a tie: found in the registry (by name or identifier) and picked, or added new once
the registry's lookalikes are set aside; and a search never tells a vendor who names whom as a rival."""

import pytest
from sqlalchemy import func, select

from marketplace.disclosures import service
from marketplace.parties.models import Interest, Party, PartyIdentifier, PartyKind
from marketplace.parties.service import normalize_identifier
from tests.factories import BuyerFactory, InterestFactory, PartyFactory, RivalFactory, VendorFactory
from tests.unit.disclosures.helpers import tie


def text(response) -> str:
    return response.get_data(as_text=True)


def party_count(session) -> int:
    return session.execute(select(func.count(Party.id))).scalar_one()


@pytest.fixture
def halcyon(session):
    """Halcyon Research GmbH, known from an admin's fact, with its LEI."""
    party = PartyFactory(name="Halcyon Research GmbH", jurisdiction="DE")
    session.add(
        PartyIdentifier(
            party_id=party.id,
            scheme="XI-LEI",
            value="5493001KJTIIGC8Y1R12",
            value_normalized=normalize_identifier("5493001KJTIIGC8Y1R12"),
        )
    )
    InterestFactory(interested_party_id=party.id)
    session.flush()
    return party


def add(client, draft, **fields):
    data = {"kind": "shareholding", "party_kind": "entity", "share_exact": "30", **fields}
    return client.post(f"/disclosure/{draft.id}/ties", data=data)


def held_by(session, draft) -> list[int]:
    return list(
        session.execute(select(Interest.interested_party_id).where(Interest.disclosure_id == draft.id)).scalars()
    )


@pytest.mark.parametrize("typed", ["halcyon", "HALCYON RESEARCH, G.m.b.H.", "Халкион Ресерч", "5493-001k"])
def test_a_vendor_finds_a_party_by_name_variant_or_identifier(client, login_as, session, vendor, draft, halcyon, typed):
    login_as(vendor)
    before = party_count(session)
    page = text(client.get(f"/disclosure/{draft.id}/edit", query_string={"find": typed}))
    assert page.count('data-testid="registry-choice"') == 1
    assert "Halcyon Research GmbH" in page and "XI-LEI 5493001KJTIIGC8Y1R12" in page and "DE" in page
    assert party_count(session) == before  # searching changes nothing


def test_picking_a_party_ties_to_it_and_makes_no_new_one(client, login_as, session, vendor, draft, halcyon):
    login_as(vendor)
    before = party_count(session)
    session.expire_all()  # the party as read from the database, as the server reads it
    response = add(client, draft, party_id=str(halcyon.id), party_name="", find="halcyon")
    assert response.status_code == 303
    assert held_by(session, draft) == [halcyon.id] and party_count(session) == before
    assert "Halcyon Research GmbH added." in text(client.get(response.headers["Location"]))


def test_a_lookalike_name_asks_first_and_is_added_once_set_aside(client, login_as, session, vendor, draft, halcyon):
    login_as(vendor)
    asked = add(client, draft, party_name="Halcyon Research Ltd")
    page = text(asked)
    assert asked.status_code == 400
    assert "The registry already knows “Halcyon Research GmbH”" in page
    assert 'data-testid="registry-choice"' in page and 'name="new_party"' in page
    assert 'value="Halcyon Research Ltd"' in page  # what was typed is kept
    assert held_by(session, draft) == []
    assert add(client, draft, party_name="Halcyon Research Ltd", new_party="y").status_code == 303
    created = session.execute(select(Party).where(Party.name == "Halcyon Research Ltd")).scalar_one()
    assert held_by(session, draft) == [created.id]


def test_a_rivals_name_alone_is_never_found(client, login_as, session, vendor, draft):
    """A party only a buyer's rival list names (or only another vendor's draft) is not in the vendor's registry:
    the search and the lookalike question read the same whether or not anyone names it."""
    rival = PartyFactory(name="Halcyon Research")
    RivalFactory(buyer_org_id=BuyerFactory().org_id, party_id=rival.id)
    other = VendorFactory()
    other_draft = service.start_new_version(session, other)
    service.add_tie(session, other, other_draft.id, tie(name="Halcyon Labs Holding", share_exact=10.0))
    login_as(vendor)
    for typed in ("Halcyon Research", "Halcyon Labs Holding"):
        page = text(client.get(f"/disclosure/{draft.id}/edit", query_string={"find": typed}))
        assert 'data-testid="registry-choice"' not in page and 'data-testid="registry-none"' in page
    assert add(client, draft, party_name="Halcyon Research GmbH").status_code == 303  # no question asked
    assert add(client, draft, party_id=str(rival.id)).status_code == 400


@pytest.mark.parametrize("picked", ["999999", "unspecified", "not-a-number"])
def test_a_party_not_offered_cannot_be_picked(client, login_as, session, vendor, draft, halcyon, picked):
    if picked == "unspecified":
        unknown = PartyFactory(name="Unknown owner", kind=PartyKind.UNSPECIFIED, party_type="unknownEntity")
        InterestFactory(interested_party_id=unknown.id)
        picked = str(unknown.id)
    login_as(vendor)
    response = add(client, draft, party_id=picked, party_name="")
    if picked == "not-a-number":
        assert response.status_code == 400 and "Not a valid integer value." in text(response)
    else:
        assert response.status_code == 400
        assert "Choose one of the parties found in the registry, or add a new one." in text(response)
    assert held_by(session, draft) == []


def test_no_party_and_no_name_is_refused_beside_the_name(client, login_as, session, vendor, draft):
    login_as(vendor)
    response = add(client, draft, party_name="  ")
    assert response.status_code == 400 and "Name the person or organisation." in text(response)


def test_a_merged_party_picked_from_an_old_page_names_the_party_it_joined(
    client, login_as, session, vendor, draft, halcyon
):
    joined = PartyFactory(name="Halcyon Research AG")
    InterestFactory(interested_party_id=joined.id)
    halcyon.merged_into_id = joined.id
    session.flush()
    login_as(vendor)
    assert add(client, draft, party_id=str(halcyon.id)).status_code == 303
    assert held_by(session, draft) == [joined.id]
