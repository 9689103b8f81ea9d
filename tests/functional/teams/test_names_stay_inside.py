"""A person's name on what they did (a question, an answer, a delivery, a decision) shows to their own
organisation; the other side sees the organisation, never the person."""

import re
from html import unescape

from flask import g
from sqlalchemy import select

from marketplace.accounts.models import OrgRole
from marketplace.contracts.models import Delivery, DeliveryDecision, Milestone, MilestoneStatus
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode
from tests.factories import BuyerFactory, JobFactory, QuestionFactory, VendorFactory, VerifiedVendorFactory
from tests.functional.payments.stripe_support import make_deal


def _page(client, login_as, user, path) -> str:
    g.pop("_login_user", None)
    login_as(user)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", client.get(path).get_data(as_text=True))))


def test_who_asked_and_who_answered_is_shown_to_their_own_colleagues_only(client, login_as, session):
    job = JobFactory(bidding_mode=BiddingMode.OPEN)
    vendor_member = VerifiedVendorFactory(name="Vera Vendormember", org_role=OrgRole.MEMBER)
    lab_member = BuyerFactory(org_id=job.buyer_org_id, name="Lars Labmember", org_role=OrgRole.MEMBER)
    QuestionFactory(
        job_id=job.id,
        vendor_org_id=vendor_member.org_id,
        asked_by_id=vendor_member.id,
        answered_by_id=lab_member.id,
        answer="English and German.",
        answered_at=utcnow(),
    )
    vendor_colleague = VendorFactory(org_id=vendor_member.org_id)
    lab_colleague = BuyerFactory(org_id=job.buyer_org_id)
    other_vendor = VerifiedVendorFactory()

    vendors_page = _page(client, login_as, vendor_colleague, f"/jobs/{job.id}")
    assert "asked by Vera Vendormember" in vendors_page and "Lars Labmember" not in vendors_page
    labs_page = _page(client, login_as, lab_colleague, f"/jobs/{job.id}")
    assert "answered by Lars Labmember" in labs_page and "Vera Vendormember" not in labs_page
    others_page = _page(client, login_as, other_vendor, f"/jobs/{job.id}")
    assert "English and German." in others_page
    assert "Vera Vendormember" not in others_page and "Lars Labmember" not in others_page


def test_who_delivered_and_who_rejected_is_shown_to_their_own_colleagues_only(client, login_as, session):
    deal = make_deal(session)
    milestone = session.execute(select(Milestone).where(Milestone.contract_id == deal.contract.id)).scalar_one()
    milestone.status = MilestoneStatus.REJECTED
    deliverer = VendorFactory(org_id=deal.vendor.org_id, name="Dora Deliverer", org_role=OrgRole.MEMBER)
    decider = BuyerFactory(org_id=deal.buyer.org_id, name="Rex Rejecter", org_role=OrgRole.MANAGER)
    session.add(
        Delivery(
            milestone_id=milestone.id,
            note="Batch one.",
            delivered_by_id=deliverer.id,
            decision=DeliveryDecision.REJECTED,
            reason="Boxes too loose.",
            decided_by_id=decider.id,
            decided_at=utcnow(),
        )
    )
    session.flush()
    path = f"/contracts/{deal.contract.id}"

    vendors_page = _page(client, login_as, deal.vendor, path)
    assert "by Dora Deliverer" in vendors_page and "Rex Rejecter" not in vendors_page
    labs_page = _page(client, login_as, deal.buyer, path)
    assert "by Rex Rejecter" in labs_page and "Dora Deliverer" not in labs_page
    assert "Boxes too loose." in vendors_page and "Batch one." in labs_page
