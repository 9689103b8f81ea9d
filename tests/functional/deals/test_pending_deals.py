"""Deals before they close (issue 17): an admin records a pending acquisition; each lab sees, before it closes, which
of its vendors would change verdict (with its live bids, open contracts and share of spend), and only the labs it
would change are told; nothing changes until it closes; closing makes it a tie with its source and screening
follows (the contract is flagged); an abandoned deal leaves. Every refusal says why, next to its field."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.bids.service import award_bid
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.db_types import utcnow
from marketplace.deals.models import DealStatus, PendingDeal
from marketplace.jobs.models import BiddingMode
from marketplace.notifications.models import Notification
from marketplace.parties.models import Interest
from marketplace.screening.engine.verdicts import Verdict
from marketplace.screening.services.screen import screen_vendor
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorFactory,
)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(session):
    """A lab whose rival is Cobalt, its vendor with a contract (an award) and a live bid, a lab with no such rival."""
    cobalt = PartyFactory(name="Cobalt Social Ltd")
    lab = BuyerFactory(timezone="UTC")
    RivalFactory(buyer_org_id=lab.org_id, party_id=cobalt.id)
    other_lab = BuyerFactory(timezone="UTC")
    vendor = VerifiedVendorFactory()
    awarded = JobFactory(buyer_org_id=lab.org_id, bidding_mode=BiddingMode.OPEN, title="Boxes for 120k frames")
    bid = BidFactory(job_id=awarded.id, vendor_org_id=vendor.org_id, total_minor=600_000)
    award_bid(session, lab, awarded.id, bid.id)
    open_job = JobFactory(buyer_org_id=lab.org_id, title="Transcribe 800 hours")
    BidFactory(job_id=open_job.id, vendor_org_id=vendor.org_id, total_minor=300_000)
    admin = AdminFactory()
    session.commit()
    return lab, other_lab, vendor, admin


def deal_form(vendor_name: str, **changes) -> dict:
    data = {
        "acquirer": "Cobalt Social Ltd",
        "target": vendor_name,
        "share_pct": "49",
        "announced_on": (utcnow() - timedelta(days=3)).date().isoformat(),
        "expected_close": "Q3 2027",
        "source_url": "https://news.example/cobalt",
        "source_description": "Press release",
    }
    data.update(changes)
    return data


def vendor_name(session, vendor) -> str:
    return session.get(Organization, vendor.org_id).name


def test_each_lab_sees_before_the_close_what_the_deal_would_change_and_only_those_it_changes_are_told(
    client, session, login_as, world
):
    lab, other_lab, vendor, admin = world
    name = vendor_name(session, vendor)
    ties = session.execute(select(func.count()).select_from(Interest)).scalar_one()
    login_as(admin)
    assert client.post("/admin/deals", data=deal_form(name)).status_code == 303
    deal = session.execute(select(PendingDeal)).scalar_one()
    assert deal.status == DealStatus.PENDING and deal.share_pct == 49.0

    def told(user) -> list[str]:
        return list(
            session.execute(
                select(Notification.message).where(
                    Notification.user_id == user.id, Notification.kind == "deal_recorded"
                )
            ).scalars()
        )

    assert told(lab) == [
        f"A pending deal would change your screening of 1 vendor if it closed: Cobalt Social Ltd to acquire 49% of "
        f"{name}, announced {deal.announced_on.isoformat()}, expected to close Q3 2027."
    ]
    assert told(other_lab) == [] and told(vendor) == []

    login_as(lab)
    page = text(client.get("/deals"))
    assert "Cobalt Social Ltd to acquire 49% of" in page and name in page
    assert 'data-testid="verdict-after"><span class="badge badge-exclude">' in page
    assert "Transcribe 800 hours" in page and "$3,000.00" in page  # the live bid
    assert "Boxes for 120k frames" in page and "$6,000.00" in page  # the open contract
    assert 'data-testid="spend-share">100% of $6,000.00' in page
    login_as(other_lab)
    assert 'data-testid="no-impact"' in text(client.get("/deals"))

    # Nothing changed: no tie was written, the vendor is still clear for the lab.
    assert session.execute(select(func.count()).select_from(Interest)).scalar_one() == ties
    assert screen_vendor(session, lab.org_id, session.get(Organization, vendor.org_id)).verdict == Verdict.CLEAR


def test_closing_makes_it_a_tie_with_its_source_and_screening_follows(client, session, login_as, world):
    lab, _, vendor, admin = world
    login_as(admin)
    client.post("/admin/deals", data=deal_form(vendor_name(session, vendor)))
    deal = session.execute(select(PendingDeal)).scalar_one()
    assert client.post(f"/admin/deals/{deal.id}/close").status_code == 303
    session.refresh(deal)
    assert deal.status == DealStatus.CLOSED
    tie = session.get(Interest, deal.closed_interest_id)
    assert (tie.share_exact, tie.source_url) == (49.0, "https://news.example/cobalt")
    org = session.get(Organization, vendor.org_id)
    assert screen_vendor(session, lab.org_id, org).verdict == Verdict.EXCLUDE
    contract = session.execute(select(Contract).where(Contract.vendor_org_id == vendor.org_id)).scalar_one()
    assert contract.status in (ContractStatus.FLAGGED, ContractStatus.PAUSED)
    again = client.post(f"/admin/deals/{deal.id}/close", follow_redirects=True)
    assert "This deal is already closed." in text(again)
    login_as(lab)
    assert "No deal is pending." in text(client.get("/deals"))


def test_an_abandoned_deal_leaves_the_labs_pages_and_changes_nothing(client, session, login_as, world):
    lab, _, vendor, admin = world
    login_as(admin)
    client.post("/admin/deals", data=deal_form(vendor_name(session, vendor)))
    deal = session.execute(select(PendingDeal)).scalar_one()
    assert client.post(f"/admin/deals/{deal.id}/abandon").status_code == 303
    session.refresh(deal)
    assert deal.status == DealStatus.ABANDONED and deal.closed_interest_id is None
    login_as(lab)
    assert "No deal is pending." in text(client.get("/deals"))
    assert screen_vendor(session, lab.org_id, session.get(Organization, vendor.org_id)).verdict == Verdict.CLEAR


@pytest.mark.parametrize(
    "changes, field_message",
    [
        ({"acquirer": "No Such Holdings"}, "The register has no party “No Such Holdings”"),
        ({"acquirer": "Cobalt Social Ltd", "target": "Cobalt Social Ltd"}, "A party cannot acquire itself."),
        ({"share_pct": "0"}, "The stake is a percentage above 0 and at most 100."),
        ({"share_pct": "150"}, "The stake is a percentage above 0 and at most 100."),
        ({"announced_on": (utcnow() + timedelta(days=3)).date().isoformat()}, "that date is in the future"),
        ({"source_url": "javascript:alert(1)"}, "Give the source as a web address"),
        ({"expected_close": "x" * 61}, "60 characters"),
    ],
)
def test_every_refusal_says_why_next_to_its_field_and_keeps_the_form(
    client, session, login_as, world, changes, field_message
):
    _, _, vendor, admin = world
    login_as(admin)
    refused = client.post("/admin/deals", data=deal_form(vendor_name(session, vendor), **changes))
    page = text(refused)
    assert refused.status_code == 400 and field_message in page
    assert 'value="Q3 2027"' in page or "x" * 61 in page  # the form comes back filled in
    assert session.execute(select(PendingDeal)).first() is None


def test_only_labs_read_deals_and_only_admins_record_them(client, session, login_as, world):
    lab, _, vendor, admin = world
    login_as(admin)
    client.post("/admin/deals", data=deal_form(vendor_name(session, vendor)))
    deal_id = session.execute(select(PendingDeal.id)).scalar_one()
    login_as(VendorFactory())
    assert client.get("/deals").status_code == 403
    login_as(lab)
    assert client.get("/admin/deals").status_code == 403
    assert client.post(f"/admin/deals/{deal_id}/close").status_code == 403
    assert client.post("/admin/deals", data=deal_form(vendor_name(session, vendor))).status_code == 403
    assert session.execute(select(PendingDeal.status)).scalar_one() == DealStatus.PENDING


def test_a_vendor_reports_a_deal_about_itself_and_the_labs_it_changes_are_told(client, session, login_as, world):
    lab, other_lab, vendor, _ = world
    login_as(vendor)
    assert 'data-testid="report-deal"' in text(client.get("/disclosure/"))
    form = deal_form("Someone Else Entirely")  # the target is the vendor's own organisation, whatever is sent
    refused = client.post("/deals/report", data={**form, "acquirer": "No Such Holdings"})
    assert refused.status_code == 400 and "The register has no party" in text(refused)
    assert client.post("/deals/report", data=form).status_code == 303
    deal = session.execute(select(PendingDeal)).scalar_one()
    assert deal.target_party_id == session.get(Organization, vendor.org_id).party_id
    assert deal.recorded_by_id == vendor.id
    messages = session.execute(select(Notification.user_id).where(Notification.kind == "deal_recorded")).scalars().all()
    assert messages == [lab.id]
    login_as(lab)
    assert 'data-testid="verdict-after"><span class="badge badge-exclude">' in text(client.get("/deals"))
    login_as(other_lab)
    assert client.get("/deals/report").status_code == 403
