"""The buyer's vendor search: every vendor with its verdict and reasons; excluded ones only on request."""

import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization, VendorProfile
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.screening.services.refresh import refresh_verdicts
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VendorOrgFactory,
)


def approved_vendor(session, name: str, modalities=(), certifications=()) -> Organization:
    org = VendorOrgFactory(name=name)
    DisclosureFactory(vendor_org_id=org.id, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    profile = session.execute(select(VendorProfile).where(VendorProfile.org_id == org.id)).scalar_one()
    profile.modalities, profile.certifications = list(modalities), list(certifications)
    session.flush()
    return org


def rows(html: str) -> list[tuple[str, str, str]]:
    """Each result row as (vendor name, verdict, row classes)."""
    found = re.findall(
        r'<tr data-testid="vendor-row" data-verdict="(\w+)" class="([^"]*)">\s*<td><a href="[^"]+">([^<]+)</a>', html
    )
    return [(name, verdict, classes) for verdict, classes, name in found]


def names(html: str) -> list[str]:
    return [name for name, _, _ in rows(html)]


@pytest.fixture
def market(session):
    """Three vendors for one buyer: Alpha clear, Beta under review (15%), Gamma excluded (49%)."""
    buyer = BuyerFactory()
    rival = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=rival.id)
    alpha = approved_vendor(session, "Alpha Annotations", ["image", "video"], ["soc2_type2"])
    beta = approved_vendor(session, "Beta Labels", ["text"], ["iso27001", "soc2_type2"])
    gamma = approved_vendor(session, "Gamma Tagging", ["image"], ["hipaa"])
    InterestFactory(interested_party_id=rival.id, subject_party_id=beta.party_id, share_exact=15.0)
    InterestFactory(interested_party_id=rival.id, subject_party_id=gamma.party_id, share_exact=49.0)
    # As when an admin records a fact: the verdicts are computed and kept at once.
    refresh_verdicts(session, None, buyer_org_ids=[buyer.org_id])
    return {"buyer": buyer, "alpha": alpha, "beta": beta, "gamma": gamma}


def search(client, **args):
    return client.get("/vendors", query_string=args)


def test_buyer_sees_each_vendor_with_its_verdict_and_reasons_but_not_the_excluded(client, login_as, market):
    login_as(market["buyer"])
    response = search(client)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert [(n, v) for n, v, _ in rows(html)] == [("Alpha Annotations", "clear"), ("Beta Labels", "review")]
    assert "Gamma Tagging" not in html
    beta_row = html.split("Beta Labels")[1].split("</tr>")[0]
    assert "Cobalt Social" in beta_row and "15%" in beta_row
    assert re.search(r'data-testid="hidden-excluded">1 excluded vendor hidden', html)
    assert f'href="/vendors/{market["alpha"].id}/screening"' in html


def test_show_excluded_lists_them_greyed_with_their_reasons(client, login_as, market):
    login_as(market["buyer"])
    html = search(client, show_excluded="y").get_data(as_text=True)
    found = {name: (verdict, classes) for name, verdict, classes in rows(html)}
    assert found["Gamma Tagging"] == ("exclude", "greyed")
    assert found["Alpha Annotations"][1] == "" and found["Beta Labels"][1] == ""
    gamma_row = html.split("Gamma Tagging")[1].split("</tr>")[0]
    assert "Cobalt Social" in gamma_row and "49%" in gamma_row
    assert 'data-testid="hidden-excluded"' not in html


def test_filter_by_verdict(client, login_as, market):
    login_as(market["buyer"])
    assert names(search(client, verdict="review").get_data(as_text=True)) == ["Beta Labels"]
    assert names(search(client, verdict="clear").get_data(as_text=True)) == ["Alpha Annotations"]
    # Asking for excluded vendors shows them, ticked or not.
    assert names(search(client, verdict="exclude").get_data(as_text=True)) == ["Gamma Tagging"]


def test_search_by_name_modality_and_certification(client, login_as, market):
    login_as(market["buyer"])
    assert names(search(client, q="beta").get_data(as_text=True)) == ["Beta Labels"]
    assert names(search(client, q="annot alpha").get_data(as_text=True)) == ["Alpha Annotations"]
    assert names(search(client, modality="image", show_excluded="y").get_data(as_text=True)) == [
        "Alpha Annotations",
        "Gamma Tagging",
    ]
    assert names(search(client, certification="soc2_type2").get_data(as_text=True)) == [
        "Alpha Annotations",
        "Beta Labels",
    ]
    assert names(search(client, certification="hipaa").get_data(as_text=True)) == []
    html = search(client, modality="3d_lidar").get_data(as_text=True)
    assert names(html) == [] and "No vendors match." in html


def test_profile_facts_are_shown(client, login_as, market):
    login_as(market["buyer"])
    alpha_row = search(client).get_data(as_text=True).split("Alpha Annotations")[1].split("</tr>")[0]
    assert "Image, Video" in alpha_row and "SOC 2 Type II" in alpha_row


def test_an_unknown_filter_value_is_refused(client, login_as, market):
    login_as(market["buyer"])
    response = search(client, verdict="maybe")
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert names(response.get_data(as_text=True)) == ["Alpha Annotations", "Beta Labels"]


def test_results_come_25_to_a_page(client, login_as, session):
    login_as(BuyerFactory())
    for n in range(30):
        approved_vendor(session, f"Paged Vendor {n:02d}")
    first = search(client, q="Paged").get_data(as_text=True)
    assert len(rows(first)) == 25 and "page 1 of 2" in first
    assert 'href="/vendors?q=Paged&amp;page=2"' in first
    second = search(client, q="Paged", page=2).get_data(as_text=True)
    assert names(second) == [f"Paged Vendor {n:02d}" for n in range(25, 30)]
    assert names(search(client, q="Paged", page=9).get_data(as_text=True)) == names(second)


def test_suspended_vendors_are_not_listed(client, login_as, session, market):
    market["alpha"].suspended_at = utcnow()
    session.flush()
    login_as(market["buyer"])
    assert "Alpha Annotations" not in names(search(client).get_data(as_text=True))


@pytest.mark.parametrize("make_user", [VendorFactory, AdminFactory], ids=["vendor", "admin"])
def test_only_buyers_search_vendors_by_verdict(client, login_as, make_user):
    login_as(make_user())
    assert search(client).status_code == 403


def test_each_buyer_sees_its_own_verdicts(client, login_as, market):
    login_as(BuyerFactory())
    found = {name: verdict for name, verdict, _ in rows(search(client).get_data(as_text=True))}
    assert found["Beta Labels"] == "clear" and found["Gamma Tagging"] == "clear"
