"""Admins record facts from other sources as ties of a vendor: they count at once and the vendor is asked to
confirm them."""

from datetime import date, timedelta

import pytest
from flask import g
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.notifications.models import Notification
from marketplace.parties.models import CommercialTie, Interest, Party, TieOrigin
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services.screen import screen_vendor
from tests.factories import (
    BuyerFactory,
    BuyerOrgFactory,
    PartyFactory,
    RivalFactory,
)
from tests.unit.disclosures.helpers import file_version, tie

SOURCE = "https://find-and-update.company-information.service.gov.uk/company/SC115530/filing-history"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def buyer(session):
    """Northwind AI names Cobalt Social as a rival."""
    buyer = BuyerFactory(org_id=BuyerOrgFactory(name="Northwind AI").id)
    RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Cobalt Social").id)
    return buyer


def fact_form(vendor, **fields):
    data = {
        "vendor_org_id": vendor.org_id,
        "kind": "shareholding",
        "party_name": "Cobalt Social",
        "party_kind": "entity",
        "share_exact": "30",
        "start_date": "2025-05-02",
        "verification_level": "official register",
        "source_url": SOURCE,
        "source_date": "2025-06-01",
        "source_description": "Companies House filing",
        "note": "Allotment of shares.",
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def facts_of(session):
    """Every tie admins recorded (each test starts with none)."""
    interests = session.execute(select(Interest).where(Interest.origin == TieOrigin.ADMIN_FACT)).scalars()
    commercial = session.execute(select(CommercialTie).where(CommercialTie.origin == TieOrigin.ADMIN_FACT)).scalars()
    return [*interests, *commercial]


def test_a_recorded_fact_counts_at_once_and_asks_the_vendor_to_confirm(client, login_as, session, admin, vendor, buyer):
    org = session.get(Organization, vendor.org_id)
    assert screen_vendor(session, buyer.org_id, org).verdict != "exclude"
    login_as(admin)

    form_page = text(client.get(f"/admin/facts/new?vendor={vendor.org_id}"))
    assert "Record a fact from another source" in form_page
    assert f'<option selected value="{vendor.org_id}">Scalewise Data</option>' in form_page

    response = client.post("/admin/facts", data=fact_form(vendor))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/facts/new?vendor={vendor.org_id}")
    flashed = text(client.get(response.headers["Location"]))
    assert (
        "Fact recorded: Cobalt Social is now a tie of Scalewise Data, counted in screening. Scalewise Data "
        "has been asked to confirm it in a new version."
    ) in flashed

    [fact] = facts_of(session)
    assert (fact.interest_type, fact.share_exact, fact.subject_party_id) == ("shareholding", 30.0, org.party_id)
    assert (str(fact.verification_level), fact.source_url, fact.source_date) == (
        "official register",
        SOURCE,
        date(2025, 6, 1),
    )
    assert fact.disclosure_id is None and fact.recorded_by_id == admin.id and fact.note == "Allotment of shares."
    # It counts in screening at once: the buyer's verdict is recomputed in the same request.
    assert screen_vendor(session, buyer.org_id, org).verdict == "exclude"
    record = session.execute(select(VerdictRecord).where(VerdictRecord.vendor_org_id == vendor.org_id)).scalar_one()
    assert record.verdict == "exclude"

    audit = session.execute(select(AuditRecord).where(AuditRecord.action == "fact.recorded")).scalar_one()
    assert audit.actor_id == admin.id and audit.vendor_org_id == vendor.org_id
    assert audit.after["party"] == "Cobalt Social" and audit.after["share"] == "30%"
    assert audit.after["verification_level"] == "official register" and audit.after["source_url"] == SOURCE
    note = session.execute(
        select(Notification).where(Notification.user_id == vendor.id, Notification.kind == "fact_recorded")
    ).scalar_one()
    assert "Cobalt Social: shareholding, 30%" in note.message
    assert "Please confirm it, or tell us what is true, in a new version of your disclosure." in note.message

    # The vendor sees the fact on its disclosure page.
    g.pop("_login_user", None)
    login_as(vendor)
    page = text(client.get("/disclosure/"))
    assert "Facts recorded from other sources" in page
    assert "Cobalt Social: shareholding, 30%" in page and "official register" in page
    assert "Companies House filing" in page


def test_a_commercial_fact_and_a_role_elsewhere(client, login_as, session, admin, vendor):
    file_version(session, vendor, tie("boardMember", name="Rui Costa", party_kind="person"))
    login_as(admin)
    exclusive = client.post(
        "/admin/facts",
        data=fact_form(
            vendor,
            kind="exclusive_agreement",
            party_name="Cobalt Social",
            share_exact=None,
            verification_level="third-party source",
        ),
    )
    assert exclusive.status_code == 303
    tie_row = session.execute(select(CommercialTie).where(CommercialTie.origin == TieOrigin.ADMIN_FACT)).scalar_one()
    assert (str(tie_row.kind), str(tie_row.verification_level)) == ("exclusive_agreement", "third-party source")

    elsewhere = client.post(
        "/admin/facts",
        data=fact_form(
            vendor,
            kind="elsewhere:seniorManagingOfficial",
            party_name="Rui Costa",
            party_kind="person",
            other_org="Cobalt Social",
            role_title="CTO",
            share_exact=None,
            verification_level="admin-verified",
        ),
    )
    assert elsewhere.status_code == 303
    role = session.execute(select(Interest).where(Interest.origin == TieOrigin.ADMIN_FACT)).scalar_one()
    assert session.get(Party, role.subject_party_id).name == "Cobalt Social" and role.role_title == "CTO"

    page = text(client.get(f"/admin/disclosures/{file_version(session, vendor).id}"))
    assert page.count('data-testid="fact"') == 2 and "Rui Costa" in page and "Exclusive agreement" in page


def refused(client, vendor, **fields):
    response = client.post("/admin/facts", data=fact_form(vendor, **fields))
    assert response.status_code == 400
    return text(response)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"source_url": ""}, "Give the address of the source."),
        ({"source_url": "javascript:alert(1)"}, "The source address must be a web address starting with http://"),
        ({"source_date": ""}, "Give the date of the source."),
        ({"source_date": (date.today() + timedelta(days=3)).isoformat()}, "The source&#39;s date is in the future."),
        ({"verification_level": "self-declared"}, "Not a valid choice."),
        ({"verification_level": None}, "Choose how the fact was verified."),
        ({"share_exact": "120"}, "A share is between 0 and 100%; 120% is not."),
        ({"share_exact": "20", "share_min": "10"}, "Give either an exact share or a range, not both."),
        ({"kind": "seniorManagingOfficial", "share_exact": None}, "is a person: choose “person”."),
        ({"party_name": "Scalewise Data"}, "Name someone other than Scalewise Data itself."),
        ({"vendor_org_id": "0"}, "Choose the vendor this fact is about."),
        (
            {
                "kind": "elsewhere:boardMember",
                "party_name": "Nobody Known",
                "party_kind": "person",
                "other_org": "Cobalt Social",
                "share_exact": None,
            },
            "Nobody Known holds no board or senior role at",
        ),
    ],
)
def test_a_refused_fact_keeps_what_was_typed(client, login_as, session, admin, vendor, fields, message):
    login_as(admin)
    page = refused(client, vendor, **fields)
    assert message in page
    assert f'value="{SOURCE}"' in page or "source_url" in fields
    assert "Allotment of shares." in page
    assert facts_of(session) == []
    assert session.execute(select(AuditRecord).where(AuditRecord.action == "fact.recorded")).first() is None


def test_a_fact_about_a_buyer_organisation_is_refused(client, login_as, session, admin, vendor, buyer):
    login_as(admin)
    page = refused(client, vendor, vendor_org_id=str(buyer.org_id))
    assert "Not a valid choice." in page and facts_of(session) == []


@pytest.mark.parametrize("method, path", [("get", "/admin/facts/new"), ("post", "/admin/facts")])
@pytest.mark.parametrize("role", ["buyer", "vendor"])
def test_only_admins_record_facts(client, login_as, session, vendor, method, path, role):
    login_as(BuyerFactory() if role == "buyer" else vendor)
    response = getattr(client, method)(path, data=fact_form(vendor))
    assert response.status_code == 403
    assert facts_of(session) == []
