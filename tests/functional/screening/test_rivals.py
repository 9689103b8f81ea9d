"""The buyer's rival list, seen through the browser's eyes."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid, BidStatus
from marketplace.notifications.models import Notification
from marketplace.parties.models import Party
from marketplace.screening.models import Rival
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    PersonFactory,
    RivalFactory,
    VendorFactory,
)


def _rivals_of(session, org_id):
    return (
        session.execute(select(Party.name).join(Rival, Rival.party_id == Party.id).where(Rival.buyer_org_id == org_id))
        .scalars()
        .all()
    )


def _audit(session, action):
    return session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars().all()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/rivals")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("make_user", [VendorFactory, AdminFactory], ids=["vendor", "admin"])
@pytest.mark.parametrize("method, path", [("get", "/rivals"), ("post", "/rivals"), ("post", "/rivals/1/remove")])
def test_only_buyers_may_keep_rivals(client, login_as, make_user, method, path):
    login_as(make_user())
    response = getattr(client, method)(path, data={"name": "Cobalt Social"})
    assert response.status_code == 403


def test_rival_list_shows_each_rival_and_the_vendors_tied_to_it(client, login_as, session):
    buyer = login_as(BuyerFactory())
    cobalt = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=cobalt.id)
    RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Helix Dynamics").id)
    for vendor in (VendorFactory(), VendorFactory()):
        InterestFactory(interested_party_id=cobalt.id, subject_party_id=_party_of(session, vendor).id, share_exact=49.0)
    rows = _rows(client.get("/rivals").get_data(as_text=True))
    assert [name for name, _ in rows] == ["Cobalt Social", "Helix Dynamics"]
    assert "2 vendors" in rows[0][1]
    assert "0 vendors" in rows[1][1]


def test_empty_rival_list_says_so(client, login_as):
    login_as(BuyerFactory())
    assert "You have not named any rivals yet" in client.get("/rivals").get_data(as_text=True)


def test_search_shows_companies_with_an_add_button(client, login_as):
    buyer = login_as(BuyerFactory())
    PartyFactory(name="Cobalt Social")
    named = PartyFactory(name="Cobalt Mobile")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=named.id)
    PersonFactory(name="Cobalt Person")
    page = client.get("/rivals?q=cobalt").get_data(as_text=True)
    assert "Cobalt Social" in page
    assert page.count("Add as rival") == 1
    assert "Already a rival" in page
    assert "Cobalt Person" not in page


def test_search_marks_the_buyers_own_organisation(client, login_as, session):
    buyer = login_as(BuyerFactory())
    own_name = _party_of(session, buyer).name
    page = client.get(f"/rivals?q={own_name}").get_data(as_text=True)
    assert "your organisation" in page
    assert "Add as rival" not in page


@pytest.mark.parametrize("query", ["%25", "_", "%25%25", "*", "%25_%25"])
def test_wildcards_and_punctuation_alone_match_nothing(client, login_as, query):
    login_as(BuyerFactory())
    PartyFactory(name="Cobalt Social")
    page = client.get(f"/rivals?q={query}").get_data(as_text=True)
    assert "Cobalt Social" not in page
    assert "No company in the registry matches" in page


def test_search_without_matches_suggests_adding_by_name(client, login_as):
    login_as(BuyerFactory())
    page = client.get("/rivals?q=nobody-by-this-name").get_data(as_text=True)
    assert "No company in the registry matches" in page


def test_add_from_search_results(client, login_as, session):
    buyer = login_as(BuyerFactory())
    cobalt = PartyFactory(name="Cobalt Social")
    response = client.post("/rivals", data={"party_id": cobalt.id, "q": "cobalt"})
    assert response.status_code == 303
    assert _rivals_of(session, buyer.org_id) == ["Cobalt Social"]
    page = client.get("/rivals").get_data(as_text=True)
    assert "Cobalt Social is now on your rival list" in page
    [record] = _audit(session, "rival.added")
    assert record.buyer_org_id == buyer.org_id and record.actor_id == buyer.id


def test_add_from_search_refuses_an_unknown_company(client, login_as, session):
    buyer = login_as(BuyerFactory())
    response = client.post("/rivals", data={"party_id": 987654, "q": "cobalt"})
    assert response.status_code == 400
    assert "no longer in the registry" in response.get_data(as_text=True)
    assert _rivals_of(session, buyer.org_id) == []


def test_add_a_new_company_by_name_joins_the_registry(client, login_as, session):
    buyer = login_as(BuyerFactory())
    response = client.post("/rivals", data={"name": "  Orbital Search  "})
    assert response.status_code == 303
    assert _rivals_of(session, buyer.org_id) == ["Orbital Search"]
    assert session.execute(select(Party).where(Party.name == "Orbital Search")).scalar_one()


def test_add_by_name_reuses_the_registry_entry(client, login_as, session):
    buyer = login_as(BuyerFactory())
    existing = PartyFactory(name="Helix Dynamics")
    client.post("/rivals", data={"name": "helix  dynamics"})
    assert session.execute(select(Rival.party_id).where(Rival.buyer_org_id == buyer.org_id)).scalar_one() == existing.id


def test_empty_name_is_refused_next_to_the_field(client, login_as, session):
    buyer = login_as(BuyerFactory())
    response = client.post("/rivals", data={"name": "   "})
    assert response.status_code == 400
    assert "Enter the name of the company you compete with." in response.get_data(as_text=True)
    assert _rivals_of(session, buyer.org_id) == []


def test_own_organisation_is_refused_and_the_typed_name_kept(client, login_as, session):
    buyer = login_as(BuyerFactory())
    own_name = _party_of(session, buyer).name
    response = client.post("/rivals", data={"name": own_name.upper()})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "That is your own organisation" in page
    assert f'value="{own_name.upper()}"' in page
    assert _rivals_of(session, buyer.org_id) == []


def test_duplicate_rival_is_refused(client, login_as, session):
    buyer = login_as(BuyerFactory())
    RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Cobalt Social").id)
    response = client.post("/rivals", data={"name": "Cobalt Social"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Cobalt Social is already on your rival list." in page
    assert 'value="Cobalt Social"' in page
    assert _rivals_of(session, buyer.org_id) == ["Cobalt Social"]


def test_remove_a_rival(client, login_as, session):
    buyer = login_as(BuyerFactory())
    rival = RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Cobalt Social").id)
    response = client.post(f"/rivals/{rival.id}/remove")
    assert response.status_code == 303
    assert _rivals_of(session, buyer.org_id) == []
    assert "Cobalt Social is no longer on your rival list" in client.get("/rivals").get_data(as_text=True)
    [record] = _audit(session, "rival.removed")
    assert record.buyer_org_id == buyer.org_id
    assert record.before["name"] == "Cobalt Social"


def test_another_organisations_rival_is_not_found(client, login_as, session):
    login_as(BuyerFactory())
    other = BuyerFactory()
    rival = RivalFactory(buyer_org_id=other.org_id, party_id=PartyFactory(name="Cobalt Social").id)
    assert client.post(f"/rivals/{rival.id}/remove").status_code == 404
    assert client.post("/rivals/999999/remove").status_code == 404
    assert _rivals_of(session, other.org_id) == ["Cobalt Social"]
    assert _audit(session, "rival.removed") == []


def test_remove_needs_post(client, login_as):
    buyer = login_as(BuyerFactory())
    rival = RivalFactory(buyer_org_id=buyer.org_id)
    assert client.get(f"/rivals/{rival.id}/remove").status_code == 405


def test_naming_a_49_percent_owner_conflicts_its_live_bid_and_tells_the_buyer(client, login_as, session):
    buyer = login_as(BuyerFactory())
    vendor = VendorFactory()
    cobalt = PartyFactory(name="Cobalt Social")
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=_party_of(session, vendor).id, share_exact=49.0)
    bid = BidFactory(job_id=JobFactory(buyer_org_id=buyer.org_id).id, vendor_org_id=vendor.org_id)

    response = client.post("/rivals", data={"name": "Cobalt Social"})

    assert response.status_code == 303
    session.refresh(bid)
    assert bid.conflicted is True and bid.status == BidStatus.ACTIVE
    [notice] = (
        session.execute(
            select(Notification).where(Notification.user_id == buyer.id, Notification.kind == "verdict_changed")
        )
        .scalars()
        .all()
    )
    assert "Cobalt Social holds 49%" in notice.message
    [(name, row)] = _rows(client.get("/rivals").get_data(as_text=True))
    assert name == "Cobalt Social" and "1 vendor<" in row

    rival_id = session.execute(select(Rival.id).where(Rival.buyer_org_id == buyer.org_id)).scalar_one()
    client.post(f"/rivals/{rival_id}/remove")
    session.refresh(bid)
    assert bid.conflicted is False


def test_other_buyers_bids_are_untouched(client, login_as, session):
    login_as(BuyerFactory())
    vendor = VendorFactory()
    cobalt = PartyFactory(name="Cobalt Social")
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=_party_of(session, vendor).id, share_exact=49.0)
    other_bid = BidFactory(job_id=JobFactory().id, vendor_org_id=vendor.org_id)
    client.post("/rivals", data={"name": "Cobalt Social"})
    session.refresh(other_bid)
    assert other_bid.conflicted is False
    assert session.execute(select(Bid).where(Bid.conflicted.is_(True))).first() is None


def _party_of(session, user):
    return session.get(Party, session.get(Organization, user.org_id).party_id)


def _rows(page):
    """(company, whole row) for each rival row of the list."""
    rows = []
    for chunk in page.split('data-testid="rival"')[1:]:
        row = chunk.split("</tr>")[0]
        rows.append((row.split("<td>")[1].split("<")[0].strip(), row))
    return rows
