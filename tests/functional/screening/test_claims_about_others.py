"""A vendor's claim about another party counts against that party only once an admin approves it: one vendor
cannot get a competitor screened out with an unreviewed disclosure."""

import re
from datetime import date
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.bids.models import Bid
from marketplace.disclosures.models import DisclosureVersion
from marketplace.jobs.models import BiddingMode, Visibility
from marketplace.notifications.models import Notification
from marketplace.parties.models import VerificationLevel
from marketplace.screening.engine.verdicts import Screening
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.store.picture import vendor_picture
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    BuyerOrgFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VendorOrgFactory,
    VerifiedVendorOrgFactory,
)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def findings(page: str) -> list[str]:
    """The findings of a vendor's screening page, as text."""
    articles = [part.split("</article>")[0] for part in page.split('data-testid="finding"')[1:]]
    return [" ".join(re.sub(r"<[^>]+>", " ", article).split()) for article in articles]


def board_findings(page: str) -> list[str]:
    """The board findings of a vendor's screening page, as text."""
    return [finding for finding in findings(page) if "Excluded (board)" in finding]


@pytest.fixture
def market(session):
    """Northwind AI names Cobalt Social as a rival and has a confidential job Polyglot Response Co bid on;
    Probe Analytics is a new vendor with nothing filed yet. Every verdict is stored."""
    lab = BuyerOrgFactory(name="Northwind AI")
    buyer = BuyerFactory(org_id=lab.id)
    RivalFactory(buyer_org_id=lab.id, party_id=PartyFactory(name="Cobalt Social").id)
    polyglot = VendorFactory(org_id=VerifiedVendorOrgFactory(name="Polyglot Response Co").id)
    prober = VendorFactory(org_id=VendorOrgFactory(name="Probe Analytics").id)
    job = JobFactory(
        buyer_org_id=lab.id,
        visibility=Visibility.CONFIDENTIAL,
        bidding_mode=BiddingMode.OPEN,
        title="Rank 20k chatbot answers",
    )
    bid = BidFactory(job_id=job.id, vendor_org_id=polyglot.org_id)
    refresh_verdicts(session, None)
    return buyer, polyglot, prober, job, bid


def file_the_sabotage(client, login_as, session, prober) -> DisclosureVersion:
    """Probe Analytics files and submits: Mallory Probe sits on the boards of Polyglot and of Cobalt Social."""
    login_as(prober)
    assert client.post(url_for("disclosures.new_version")).status_code == 303
    version = session.execute(
        select(DisclosureVersion).where(DisclosureVersion.vendor_org_id == prober.org_id)
    ).scalar_one()
    for where in ("Polyglot Response Co", "Cobalt Social"):
        response = client.post(
            url_for("disclosures.add_tie", version_id=version.id),
            data={
                "kind": "elsewhere:boardMember",
                "party_name": "Mallory Probe",
                "party_kind": "person",
                "other_org": where,
            },
        )
        assert response.status_code == 303, text(response)
    response = client.post(
        url_for("disclosures.submit", version_id=version.id),
        data={"attester_name": "Eve Prober", "attester_title": "CEO", "attest": "y"},
    )
    assert response.status_code == 303, text(response)
    return version


def test_an_unreviewed_claim_about_a_competitor_changes_nothing_for_it_until_an_admin_approves_it(
    client, login_as, session, market, stored_against_live
):
    buyer, polyglot, prober, job, bid = market
    polyglot_org = session.get(Organization, polyglot.org_id)
    version = file_the_sabotage(client, login_as, session, prober)

    # Unreviewed: Polyglot still sees the confidential job, its bid stays in its list and the lab's comparison.
    login_as(polyglot)
    assert client.get(url_for("jobs.show", job_id=job.id)).status_code == 200
    assert "Rank 20k chatbot answers" in text(client.get(url_for("bids.mine")))
    login_as(buyer)
    assert "Polyglot Response Co" in text(client.get(url_for("bids.compare", job_id=job.id)))
    page = text(client.get(url_for("screening.vendor", org_id=polyglot_org.id)))
    assert "Mallory Probe" not in page and "(board)" not in page
    assert session.get(Bid, bid.id).conflicted is False
    assert stored_against_live() == []

    # The admin sees whom the claim reaches, and what approving would do to Polyglot's verdict.
    login_as(AdminFactory())
    review = text(client.get(url_for("admin.review", version_id=version.id)))
    claims = review.split('data-testid="claims-about-others"')[1].split("</section>")[0]
    assert claims.count('data-testid="claim"') == 2 and "Polyglot Response Co" in claims
    assert "Approving would also change Polyglot Response Co for Northwind AI clear → exclude." in review

    response = client.post(url_for("admin.decide", version_id=version.id), data={"decision": "approved"})
    assert response.status_code == 303

    # Approved, so admin-verified: it counts against Polyglot now, and says who claimed it.
    login_as(polyglot)
    assert client.get(url_for("jobs.show", job_id=job.id)).status_code == 404
    assert session.get(Bid, bid.id).conflicted is True
    told = (
        session.execute(
            select(Notification.message).where(Notification.user_id == buyer.id, Notification.kind == "verdict_changed")
        )
        .scalars()
        .all()
    )
    assert any(m.startswith("Screening of Polyglot Response Co worsened: clear → exclude.") for m in told)
    login_as(buyer)
    assert "Polyglot Response Co" not in text(client.get(url_for("bids.compare", job_id=job.id)))
    page = text(client.get(url_for("screening.vendor", org_id=polyglot_org.id)))
    [finding] = board_findings(page)
    assert "Mallory Probe" in finding
    assert "claimed by Probe Analytics's v1 disclosure" in finding and "admin-verified" in finding
    assert stored_against_live() == []


def test_a_claim_about_another_party_counts_against_its_filer_at_once(
    client, login_as, session, market, stored_against_live
):
    """The filer's own screening counts its unreviewed claims: Mallory sits on its board too."""
    buyer, polyglot, prober, job, bid = market
    prober_org = session.get(Organization, prober.org_id)
    login_as(prober)
    client.post(url_for("disclosures.new_version"))
    version = session.execute(
        select(DisclosureVersion).where(DisclosureVersion.vendor_org_id == prober.org_id)
    ).scalar_one()
    for data in (
        {"kind": "boardMember", "party_name": "Mallory Probe", "party_kind": "person"},
        {
            "kind": "elsewhere:boardMember",
            "party_name": "Mallory Probe",
            "party_kind": "person",
            "other_org": "Cobalt Social",
        },
    ):
        assert client.post(url_for("disclosures.add_tie", version_id=version.id), data=data).status_code == 303
    client.post(
        url_for("disclosures.submit", version_id=version.id),
        data={"attester_name": "Eve Prober", "attester_title": "CEO", "attest": "y"},
    )

    login_as(buyer)
    page = text(client.get(url_for("screening.vendor", org_id=prober_org.id)))
    [finding] = board_findings(page)
    assert "Excluded (board): Mallory Probe" in finding
    assert "claimed by Probe Analytics's v1 disclosure" in finding and "self-declared" in finding
    assert stored_against_live() == []


def test_an_owners_unreviewed_claim_about_its_own_owners_does_not_reach_what_it_owns(
    client, login_as, session, market, stored_against_live
):
    """Probe Analytics holds 30% of Polyglot (checked). Its own unreviewed filing says Cobalt Social, the lab's
    rival, holds 60% of it: that counts against Probe at once, but against Polyglot only once approved."""
    buyer, polyglot, prober, job, bid = market
    polyglot_org, prober_org = session.get(Organization, polyglot.org_id), session.get(Organization, prober.org_id)
    InterestFactory(
        interested_party_id=prober_org.party_id,
        subject_party_id=polyglot_org.party_id,
        share_exact=30.0,
        verification_level=VerificationLevel.OFFICIAL_REGISTER,
    )
    refresh_verdicts(session, None)
    login_as(prober)
    assert client.post(url_for("disclosures.new_version")).status_code == 303
    version = session.execute(
        select(DisclosureVersion).where(DisclosureVersion.vendor_org_id == prober.org_id)
    ).scalar_one()
    tie = {"kind": "shareholding", "party_name": "Cobalt Social", "party_kind": "entity", "share_exact": "60"}
    assert client.post(url_for("disclosures.add_tie", version_id=version.id), data=tie).status_code == 303
    response = client.post(
        url_for("disclosures.submit", version_id=version.id),
        data={"attester_name": "Eve Prober", "attester_title": "CEO", "attest": "y"},
    )
    assert response.status_code == 303, text(response)

    login_as(buyer)
    own = findings(text(client.get(url_for("screening.vendor", org_id=prober_org.id))))
    assert any("Excluded (ownership): Cobalt Social holds 60% of Probe Analytics" in finding for finding in own)
    assert not [
        f for f in findings(text(client.get(url_for("screening.vendor", org_id=polyglot_org.id)))) if "Cobalt" in f
    ]
    drawn = vendor_picture(session, polyglot_org.party_id, Screening(polyglot_org.id), {}, date.today())
    assert "Probe Analytics" in {n.name for n in drawn.nodes} and "Cobalt Social" not in {n.name for n in drawn.nodes}
    login_as(polyglot)
    assert client.get(url_for("jobs.show", job_id=job.id)).status_code == 200
    assert session.get(Bid, bid.id).conflicted is False
    assert stored_against_live() == []

    login_as(AdminFactory())
    review = text(client.get(url_for("admin.review", version_id=version.id)))
    assert "Approving would also change Polyglot Response Co for Northwind AI clear → exclude." in review
    assert client.post(url_for("admin.decide", version_id=version.id), data={"decision": "approved"}).status_code == 303
    login_as(polyglot)
    assert client.get(url_for("jobs.show", job_id=job.id)).status_code == 404
    assert session.get(Bid, bid.id).conflicted is True
    assert stored_against_live() == []
