"""Withdrawing a dispute: only the side that opened it, only while it is open, with a reason both sides read; the
money unfreezes and the milestone is as it was; that side may not open another on the milestone, the other still
may; nothing moves in Stripe."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import OrgRole
from marketplace.contracts.models import MilestoneStatus
from marketplace.disputes import service as disputes
from marketplace.disputes.models import Dispute, DisputeStatus
from tests.factories import AdminFactory, BuyerFactory, VendorFactory
from tests.functional.disputes.helpers import actions, agrees, delivered_deal, notices
from tests.functional.payments.stripe_support import ledger

DEADLINES = disputes.Deadlines(7, 14)


@pytest.fixture
def delivered(session, gateway, stripe_sim, stripe_config):
    stripe_config.update(DISPUTE_RESPONSE_DAYS=7, DISPUTE_EVIDENCE_DAYS=14)
    return delivered_deal(session, gateway, stripe_sim)


def open_as(session, user, deal, milestone, reason="Half the boxes are missing.") -> Dispute:
    dispute = disputes.open_dispute(
        session, user, deal.contract.id, milestone.id, reason, [], None, deadlines=DEADLINES
    )
    session.commit()
    return dispute


def test_the_opener_withdraws_from_the_dispute_page_and_the_money_unfreezes(
    client, login_as, session, gateway, delivered
):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    charged = ledger(session, deal)
    login_as(deal.buyer)
    page = client.get(f"/disputes/{dispute.id}")
    assert "Withdraw the dispute" in page.text

    # A reason is needed: the form comes back with the message beside the field, and nothing changes.
    refused = client.post(f"/disputes/{dispute.id}/withdraw", data={"reason": "  "})
    assert refused.status_code == 400 and "Say why you withdraw the dispute" in refused.text
    session.refresh(dispute)
    assert dispute.status == DisputeStatus.OPEN

    done = client.post(f"/disputes/{dispute.id}/withdraw", data={"reason": "We agreed on a redelivery."})
    assert done.status_code == 303
    session.refresh(dispute)
    session.refresh(milestone)
    assert dispute.status == DisputeStatus.WITHDRAWN and dispute.withdrawn_by_id == deal.buyer.id
    assert milestone.status == MilestoneStatus.DELIVERED  # as it was when the dispute froze it
    assert ledger(session, deal) == charged and agrees(session, gateway)  # nothing moved in Stripe
    assert actions(session, "dispute", dispute.id) == ["dispute.opened", "dispute.withdrawn"]
    for user in (deal.buyer, deal.vendor):
        [told] = notices(session, user, "dispute_withdrawn")
        assert "The buyer withdrew its dispute" in told and "We agreed on a redelivery." in told
    shown = client.get(f"/disputes/{dispute.id}").text
    assert 'data-testid="withdrawal"' in shown and "We agreed on a redelivery." in shown
    assert "Withdraw the dispute" not in shown
    # The lab may act on the delivery again, and the admins' queue no longer lists it.
    contract_page = client.get(f"/contracts/{deal.contract.id}").text
    assert "Accept delivery" in contract_page and "Dispute withdrawn by the buyer" in contract_page
    assert 'data-testid="open-dispute"' not in contract_page  # the buyer may not open another
    assert disputes.open_disputes(session, AdminFactory()) == []


def test_only_the_opener_withdraws_and_only_while_open(client, login_as, session, delivered, stranger):
    deal, milestone = delivered
    dispute = open_as(session, deal.vendor, deal, milestone)
    address = f"/disputes/{dispute.id}/withdraw"
    login_as(deal.buyer)
    assert "Withdraw the dispute" not in client.get(f"/disputes/{dispute.id}").text
    assert client.post(address, data={"reason": "Not mine to withdraw."}).status_code == 403
    login_as(AdminFactory())
    assert client.post(address, data={"reason": "An admin does not withdraw."}).status_code == 403
    login_as(stranger)
    assert client.post(address, data={"reason": "Who?"}).status_code == 404
    session.refresh(dispute)
    assert dispute.status == DisputeStatus.OPEN

    disputes.withdraw_dispute(session, deal.vendor, dispute.id, "Paid outside the platform.")
    session.commit()
    login_as(deal.vendor)
    again = client.post(address, data={"reason": "Twice."})
    assert again.status_code == 400 and "withdrawn already" in again.text
    with pytest.raises(disputes.DisputeError, match="nothing to decide"):
        disputes.decide(session, AdminFactory(), None, dispute.id, "refund", None, None, "Late.")


def test_the_side_that_withdrew_may_not_open_another_but_the_other_side_may(session, delivered):
    deal, milestone = delivered
    first = open_as(session, deal.vendor, deal, milestone)
    disputes.withdraw_dispute(session, deal.vendor, first.id, "Opened by mistake.")
    session.commit()
    with pytest.raises(disputes.DisputeError, match="You withdrew your dispute"):
        open_as(session, deal.vendor, deal, milestone)
    session.rollback()
    second = open_as(session, deal.buyer, deal, milestone, reason="The labels are wrong after all.")
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.DISPUTED and second.opened_by_side == "buyer"
    assert (
        disputes.disputes_of_contract(session, deal.buyer, deal.contract, [milestone]).latest[milestone.id].id
        == second.id
    )
    # One open or decided dispute per milestone, whatever the code checks first: the database holds it too.
    assert session.execute(select(Dispute).where(Dispute.milestone_id == milestone.id)).scalars().all() == [
        first,
        second,
    ]


def test_the_database_keeps_one_live_dispute_per_milestone(session, delivered):
    deal, milestone = delivered
    live = open_as(session, deal.buyer, deal, milestone)
    copy = Dispute(
        contract_id=live.contract_id,
        milestone_id=live.milestone_id,
        opened_by_side="vendor",
        reason="A second at once.",
        milestone_status_before="delivered",
        held_minor=live.held_minor,
        currency=live.currency,
        respond_by=live.respond_by,
        evidence_until=live.evidence_until,
    )
    session.add(copy)
    with pytest.raises(Exception, match="(?i)unique"):
        session.flush()
    session.rollback()


@pytest.fixture
def stranger(session):
    return VendorFactory()


def test_a_member_reads_the_dispute_with_no_form_it_may_not_send(client, login_as, session, delivered):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    login_as(BuyerFactory(org_id=deal.buyer.org_id, org_role=OrgRole.MEMBER))
    page = client.get(f"/disputes/{dispute.id}").text
    assert f'action="/disputes/{dispute.id}/withdraw"' not in page
    assert f'action="/disputes/{dispute.id}/statements"' not in page
    assert "can withdraw a dispute: ask them" in page and "can add statements to a dispute: ask them" in page
    refused = client.post(f"/disputes/{dispute.id}/withdraw", data={"reason": "A member tries."})
    assert refused.status_code == 403


def test_the_contract_page_offers_a_dispute_exactly_where_the_form_would_take_it(client, login_as, session, delivered):
    """The page's "Open a dispute" button and the form's own check are one rule: after each step of a milestone's
    disputes, each side sees the button exactly when opening one would not be refused. The case that differed: the
    lab withdrew, the vendor opened and withdrew too; the latest dispute was the vendor's, so the page offered the lab
    a button its form refused."""
    deal, milestone = delivered

    def agree_for_both_sides() -> None:
        for user in (deal.buyer, deal.vendor):
            preview = disputes.open_preview(session, user, deal.contract.id, milestone.id, DEADLINES)
            login_as(user)
            shown = 'data-testid="open-dispute"' in client.get(f"/contracts/{deal.contract.id}").text
            assert shown == (preview.refusal is None), (user.role, preview.refusal)

    agree_for_both_sides()  # both may
    first = open_as(session, deal.buyer, deal, milestone)
    agree_for_both_sides()  # neither: disputed
    disputes.withdraw_dispute(session, deal.buyer, first.id, "Settled between us.")
    session.commit()
    agree_for_both_sides()  # the vendor alone
    second = open_as(session, deal.vendor, deal, milestone)
    disputes.withdraw_dispute(session, deal.vendor, second.id, "Settled after all.")
    session.commit()
    for user in (deal.buyer, deal.vendor):
        assert disputes.open_preview(session, user, deal.contract.id, milestone.id, DEADLINES).refusal
    agree_for_both_sides()  # neither: both withdrew one
