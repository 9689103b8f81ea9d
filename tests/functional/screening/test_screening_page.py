"""One vendor's screening as the buyer reads it: verdict, findings, routes, sources, and the ownership picture."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.notifications.models import Notification
from marketplace.parties.models import TieOrigin, VerificationLevel
from marketplace.screening.engine.verdicts import Finding, Screening, Verdict
from marketplace.screening.store.picture import MAX_NODES, vendor_picture
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)


@pytest.fixture
def scene(session):
    """Cobalt Social (the buyer's rival) holds 49% of Scalewise Data; Holdco holds 30% of it and is held by
    Ana Park, who sits on Scalewise's board."""
    buyer = BuyerFactory()
    vendor = VerifiedVendorOrgFactory(name="Scalewise Data")
    cobalt = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=cobalt.id)
    holdco = PartyFactory(name="Holdco Ltd")
    ana = PersonFactory(name="Ana Park")
    InterestFactory(
        interested_party_id=cobalt.id,
        subject_party_id=vendor.party_id,
        share_exact=49.0,
        verification_level=VerificationLevel.ADMIN_VERIFIED,
        source_description="Registry filing",
        source_date=date(2025, 6, 12),
    )
    InterestFactory(
        interested_party_id=holdco.id,
        subject_party_id=vendor.party_id,
        share_exact=None,
        share_min=20.0,
        share_max=30.0,
    )
    InterestFactory(interested_party_id=ana.id, subject_party_id=holdco.id, share_exact=100.0)
    InterestFactory(
        interested_party_id=ana.id, subject_party_id=vendor.party_id, interest_type="boardMember", share_exact=None
    )
    return {"buyer": buyer, "vendor": vendor, "cobalt": cobalt, "holdco": holdco, "ana": ana}


def page_of(client, vendor, **args):
    return client.get(f"/vendors/{vendor.id}/screening", query_string=args)


def nodes_in(html: str) -> dict[int, str]:
    """Each drawn party id with its classes."""
    return {
        int(party): classes
        for classes, party in re.findall(r'<g class="(node[^"]*)" data-testid="graph-node" data-party="(\d+)"', html)
    }


def test_buyer_reads_the_verdict_and_each_finding_with_its_figure_and_sources(client, login_as, scene):
    login_as(scene["buyer"])
    response = page_of(client, scene["vendor"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'data-testid="verdict">\s*<span class="badge badge-exclude">', html)
    findings = re.findall(r'data-testid="finding".*?</article>', html, re.S)
    assert findings, "the 49% stake must be a finding"
    first = findings[0]
    assert "Cobalt Social" in first and "49%" in first
    assert 'data-testid="figure">49%' in first
    assert re.search(r'data-testid="route">Cobalt Social → Scalewise Data</li>', first)
    assert re.search(
        r'data-testid="source">Registry filing — <span class="level">admin-verified</span>, 2025-06-12', first
    )
    assert utcnow().date().isoformat() in html
    assert "An exclude finding cannot be waived" in first
    assert 'data-testid="waive-form"' not in html


def test_the_picture_draws_the_owners_people_and_rival_around_the_vendor(client, login_as, scene):
    login_as(scene["buyer"])
    html = page_of(client, scene["vendor"]).get_data(as_text=True)
    assert '<svg class="chart ownership-graph"' in html
    drawn = nodes_in(html)
    vendor_party = scene["vendor"].party_id
    assert set(drawn) == {vendor_party, scene["cobalt"].id, scene["holdco"].id, scene["ana"].id}
    assert "vendor" in drawn[vendor_party].split()
    assert "rival" in drawn[scene["cobalt"].id].split()
    assert "person" in drawn[scene["ana"].id].split()
    assert re.search(r"<ellipse cx=", html) and re.search(r"<rect x=", html)
    for label in ("shares 49%", "shares 20–30%", "shares 100%", "board member"):
        assert f">{label}</tspan>" in html
    assert 'data-testid="legend"' in html and "Your rival" in html
    # The finding's route, Cobalt Social → Scalewise Data, is the one arrow highlighted.
    highlighted = re.findall(
        r'<g class="edge route" data-testid="graph-edge" data-holder="(\d+)" data-subject="(\d+)"', html
    )
    assert highlighted == [(str(scene["cobalt"].id), str(vendor_party))]
    assert "<script" not in html.split("<main")[1]


def test_a_vendor_with_no_ties_is_clear_with_nothing_to_explain(client, login_as):
    buyer = login_as(BuyerFactory())
    RivalFactory(buyer_org_id=buyer.org_id)
    vendor = VerifiedVendorOrgFactory(name="Quiet Labels")
    html = page_of(client, vendor).get_data(as_text=True)
    assert re.search(r'data-testid="verdict">\s*<span class="badge badge-clear">', html)
    assert 'data-testid="no-findings"' in html
    assert len(nodes_in(html)) == 1


def test_a_review_finding_offers_the_waive_form(client, login_as, session):
    buyer = login_as(BuyerFactory())
    vendor = VerifiedVendorOrgFactory(name="Tagwell")
    rival = RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Helix Dynamics").id)
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor.party_id, share_exact=15.0)
    html = page_of(client, vendor).get_data(as_text=True)
    assert re.search(r'data-testid="verdict">\s*<span class="badge badge-review">', html)
    form = re.search(r'<form[^>]*data-testid="waive-form".*?</form>', html, re.S).group(0)
    assert f'action="/vendors/{vendor.id}/waivers"' in form
    assert '<input type="hidden" name="rule" value="ownership">' in form
    assert f'<input type="hidden" name="rival_party_id" value="{rival.party_id}">' in form
    assert 'name="reason"' in form


def test_routes_of_a_finding_are_highlighted_in_the_picture(session, scene):
    """What the page draws for the engine's routes (Finding.path_ids), whatever the engine's wording."""
    vendor_party, cobalt, holdco, ana = (
        scene["vendor"].party_id,
        scene["cobalt"].id,
        scene["holdco"].id,
        scene["ana"].id,
    )
    finding = Finding(
        "ownership", Verdict.REVIEW, "Ana Park", "A route through Holdco.", path_ids=[[ana, holdco, vendor_party]]
    )
    picture = vendor_picture(
        session, vendor_party, Screening(scene["vendor"].id, [finding]), {cobalt: "Cobalt"}, utcnow().date()
    )
    highlighted = {(e.holder, e.subject) for e in picture.edges if e.highlighted}
    assert highlighted == {(ana, holdco), (holdco, vendor_party)}


def test_only_ties_that_count_are_drawn(session):
    vendor = VerifiedVendorOrgFactory(name="Countwise")
    today = utcnow().date()
    rejected = DisclosureFactory(vendor_org_id=vendor.id, number=2, status=DisclosureStatus.REJECTED)
    ended = PartyFactory(name="Sold Out Capital")
    future = PartyFactory(name="Not Yet Ventures")
    declined = PartyFactory(name="Rejected Holder")
    kept = PartyFactory(name="Current Holder")
    InterestFactory(interested_party_id=ended.id, subject_party_id=vendor.party_id, end_date=today)
    InterestFactory(
        interested_party_id=future.id, subject_party_id=vendor.party_id, start_date=today + timedelta(days=3)
    )
    InterestFactory(
        interested_party_id=declined.id,
        subject_party_id=vendor.party_id,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=rejected.id,
    )
    InterestFactory(interested_party_id=kept.id, subject_party_id=vendor.party_id, origin=TieOrigin.BODS_IMPORT)
    picture = vendor_picture(session, vendor.party_id, Screening(vendor.id), {}, today)
    assert {n.name for n in picture.nodes} == {"Countwise", "Current Holder"}


def test_a_former_role_within_the_people_window_is_drawn_dashed(session):
    vendor = VerifiedVendorOrgFactory(name="Peoplewise")
    rival = PartyFactory(name="Rival Corp")
    founder = PersonFactory(name="Bo Founder")
    today = utcnow().date()
    InterestFactory(
        interested_party_id=founder.id,
        subject_party_id=vendor.party_id,
        interest_type="seniorManagingOfficial",
        share_exact=None,
        end_date=today - timedelta(days=90),
    )
    InterestFactory(
        interested_party_id=founder.id,
        subject_party_id=rival.id,
        interest_type="boardMember",
        share_exact=None,
        start_date=today - timedelta(days=60),
    )
    old = PersonFactory(name="Long Gone")
    InterestFactory(
        interested_party_id=old.id,
        subject_party_id=vendor.party_id,
        interest_type="boardMember",
        share_exact=None,
        end_date=today - timedelta(days=900),
    )
    picture = vendor_picture(session, vendor.party_id, Screening(vendor.id), {rival.id: "Rival Corp"}, today)
    names = {n.name: n for n in picture.nodes}
    assert set(names) == {"Peoplewise", "Bo Founder", "Rival Corp"}
    assert "rival" in names["Rival Corp"].classes
    [former] = [e for e in picture.edges if e.subject == vendor.party_id]
    assert "ended" in former.classes and former.lines == ["former senior officer"]


def test_a_large_neighbourhood_is_capped_and_says_how_many_were_left_out(client, login_as, session):
    login_as(BuyerFactory())
    vendor = VerifiedVendorOrgFactory(name="Crowded Co")
    for n in range(MAX_NODES + 5):
        InterestFactory(
            interested_party_id=PartyFactory(name=f"Small Holder {n}").id,
            subject_party_id=vendor.party_id,
            share_exact=1.0,
        )
    html = page_of(client, vendor).get_data(as_text=True)
    assert len(nodes_in(html)) == MAX_NODES
    assert re.search(r'data-testid="omitted">6 more parties are left out', html)


def test_admin_chooses_whose_view_then_reads_it_without_waive_forms(client, login_as, scene):
    login_as(AdminFactory())
    html = page_of(client, scene["vendor"]).get_data(as_text=True)
    assert 'data-testid="buyer-choices"' in html
    buyer_org_id = scene["buyer"].org_id
    assert f"/vendors/{scene['vendor'].id}/screening?buyer={buyer_org_id}" in html
    response = page_of(client, scene["vendor"], buyer=buyer_org_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cobalt Social" in html and 'data-testid="waive-form"' not in html
    assert "Withdraw waiver" not in html
    legend = html.split('data-testid="legend"')[1].split("</ul>")[0]
    assert "The buyer’s rival" in legend and "Your rival" not in legend


def test_admin_naming_a_vendor_as_the_buyer_gets_404(client, login_as, scene):
    login_as(AdminFactory())
    assert page_of(client, scene["vendor"], buyer=scene["vendor"].id).status_code == 404
    assert page_of(client, scene["vendor"], buyer=999_999).status_code == 404


def test_vendors_may_not_read_a_buyers_screening(client, login_as, scene):
    login_as(VendorFactory(org_id=scene["vendor"].id))
    assert page_of(client, scene["vendor"]).status_code == 403


def test_a_buyer_organisation_or_a_missing_one_is_not_a_vendor(client, login_as, scene):
    login_as(scene["buyer"])
    assert client.get(f"/vendors/{scene['buyer'].org_id}/screening").status_code == 404
    assert client.get("/vendors/999999/screening").status_code == 404


def test_reading_the_page_changes_nothing(client, login_as, session, scene):
    login_as(scene["buyer"])
    before = (session.query(AuditRecord).count(), session.query(Notification).count())
    page_of(client, scene["vendor"])
    assert (session.query(AuditRecord).count(), session.query(Notification).count()) == before
    assert session.execute(select(Organization).where(Organization.id == scene["vendor"].id)).scalar_one()


def test_merged_parties_are_drawn_once_as_the_party_they_joined(session):
    vendor = VerifiedVendorOrgFactory(name="Mergewise")
    survivor = PartyFactory(name="Cobalt Social")
    duplicate = PartyFactory(name="Cobalt Social Inc.", merged_into_id=survivor.id)
    InterestFactory(interested_party_id=duplicate.id, subject_party_id=vendor.party_id, share_exact=12.0)
    finding = Finding(
        "ownership", Verdict.REVIEW, "Cobalt Social", "Via the old name.", path_ids=[[duplicate.id, vendor.party_id]]
    )
    picture = vendor_picture(
        session, vendor.party_id, Screening(vendor.id, [finding]), {duplicate.id: "Cobalt"}, utcnow().date()
    )
    assert {n.name for n in picture.nodes} == {"Mergewise", "Cobalt Social"}
    [edge] = picture.edges
    assert (edge.holder, edge.subject, edge.highlighted) == (survivor.id, vendor.party_id, True)
    assert "rival" in next(n for n in picture.nodes if n.id == survivor.id).classes
