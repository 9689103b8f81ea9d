"""Disputes: either side freezes a milestone's held money, both add evidence within deadlines, an admin decides;
the money moves through the local Stripe once, and the ledger and `payments reconcile` agree."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.contracts import service as contracts
from marketplace.contracts.models import ContractStatus, DeliveryDecision, MilestoneStatus
from marketplace.db_types import utcnow
from marketplace.disputes import service as disputes
from marketplace.disputes.models import Dispute, DisputeStatus
from marketplace.payments.models import LedgerEntry
from tests.factories import AdminFactory, BuyerFactory, VendorFactory
from tests.functional.disputes.helpers import actions, agrees, delivered_deal, notices, run_reminders
from tests.functional.payments.stripe_support import (
    FEE_BPS,
    connect_vendor,
    ledger,
    make_deal,
    only_milestone,
    transfers_for,
)
from tests.slow_server import sweep_deadline

RESPONSE_DAYS, EVIDENCE_DAYS = 7, 14
DEADLINES = disputes.Deadlines(RESPONSE_DAYS, EVIDENCE_DAYS)


@pytest.fixture
def dispute_config(stripe_config):
    stripe_config.update(DISPUTE_RESPONSE_DAYS=RESPONSE_DAYS, DISPUTE_EVIDENCE_DAYS=EVIDENCE_DAYS)
    return stripe_config


@pytest.fixture
def delivered(session, gateway, stripe_sim, dispute_config):
    return delivered_deal(session, gateway, stripe_sim)


@pytest.fixture
def admin(session):
    return AdminFactory()


def open_as(session, user, deal, milestone, reason="Half the boxes are missing.") -> Dispute:
    dispute = disputes.open_dispute(
        session, user, deal.contract.id, milestone.id, reason, [], None, deadlines=DEADLINES
    )
    session.commit()
    return dispute


def after_evidence(dispute):
    return time_machine.travel(dispute.evidence_until + timedelta(minutes=1), tick=False)


def stripe_refunds(gateway, milestone):
    return gateway.list_refunds(milestone.payment_intent_id)


# ------------------------------------------------------------------------------------------------ opening


def test_the_vendor_opens_a_dispute_from_the_contract_and_the_money_freezes(client, login_as, session, delivered):
    deal, milestone = delivered
    login_as(deal.vendor)
    page = client.get(f"/contracts/{deal.contract.id}")
    assert 'data-testid="open-dispute"' in page.text
    form = client.get(f"/contracts/{deal.contract.id}/milestones/{milestone.id}/dispute")
    assert form.status_code == 200 and "$10,000.00" in form.text and "7 days to answer" in form.text
    response = client.post(
        f"/contracts/{deal.contract.id}/milestones/{milestone.id}/dispute",
        data={
            "reason": "The buyer uses the data but neither accepts nor rejects.",
            "files": (io.BytesIO(b"%PDF-1.4 proof"), "proof.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    dispute = session.execute(select(Dispute).where(Dispute.milestone_id == milestone.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/disputes/{dispute.id}")
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.DISPUTED
    assert (dispute.opened_by_side, dispute.held_minor, dispute.milestone_status_before) == (
        "vendor",
        1_000_000,
        "delivered",
    )
    assert dispute.respond_by - dispute.opened_at == timedelta(days=RESPONSE_DAYS)
    [told] = notices(session, deal.buyer, "dispute_opened")
    assert "The vendor opened a dispute" in told and "$10,000.00 is frozen" in told and "Answer by" in told
    assert notices(session, deal.vendor, "dispute_opened")
    assert actions(session, "dispute", dispute.id) == ["dispute.opened"]
    shown = client.get(f"/disputes/{dispute.id}")
    assert "The buyer uses the data" in shown.text and "proof.pdf" in shown.text
    file_id = re.search(rf"/disputes/{dispute.id}/files/(\d+)", shown.text)[1]
    download = client.get(f"/disputes/{dispute.id}/files/{file_id}")
    assert download.data == b"%PDF-1.4 proof" and download.headers["Content-Disposition"].startswith("attachment;")
    download.close()
    login_as(deal.buyer)
    buyer_view = client.get(f"/contracts/{deal.contract.id}")
    assert "Disputed — frozen until an admin decides" in buyer_view.text
    assert f"/disputes/{dispute.id}" in buyer_view.text
    assert "Accept delivery" not in buyer_view.text


def test_a_dispute_needs_a_reason_and_the_form_says_so_beside_the_field(client, login_as, delivered):
    deal, milestone = delivered
    login_as(deal.buyer)
    response = client.post(f"/contracts/{deal.contract.id}/milestones/{milestone.id}/dispute", data={"reason": "  "})
    assert response.status_code == 400
    assert re.search(
        r'name="reason".*?</textarea>\s*(<small class="hint">[^<]*</small>\s*)?'
        r'<p class="error" role="alert">Say what the dispute is about.',
        response.text,
        re.S,
    )


def test_an_unfunded_milestone_cannot_be_disputed(client, login_as, session, dispute_config):
    deal = make_deal(session)
    milestone = only_milestone(session, deal)
    login_as(deal.buyer)
    url = f"/contracts/{deal.contract.id}/milestones/{milestone.id}/dispute"
    page = client.get(url)
    assert page.status_code == 403
    assert "is not funded: only a milestone whose money the platform holds can be disputed" in page.text
    response = client.post(url, data={"reason": "We changed our mind."})
    assert response.status_code == 400
    assert "only a milestone whose money the platform holds can be disputed" in response.text
    assert session.execute(select(Dispute)).first() is None


@pytest.mark.parametrize("stranger", [BuyerFactory, VendorFactory], ids=["other buyer", "other vendor"])
def test_strangers_cannot_know_a_dispute_exists(client, login_as, session, delivered, stranger):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    login_as(stranger())
    assert client.get(f"/contracts/{deal.contract.id}/milestones/{milestone.id}/dispute").status_code == 404
    assert (
        client.post(
            f"/contracts/{deal.contract.id}/milestones/{milestone.id}/dispute", data={"reason": "x"}
        ).status_code
        == 404
    )
    assert client.get(f"/disputes/{dispute.id}").status_code == 404
    assert client.post(f"/disputes/{dispute.id}/statements", data={"body": "x"}).status_code == 404
    assert client.get(f"/disputes/{dispute.id}/files/1").status_code == 404
    assert client.post(f"/admin/disputes/{dispute.id}/decision", data={}).status_code == 403


def test_an_admin_reads_but_does_not_open_a_dispute(client, login_as, session, delivered, admin):
    deal, milestone = delivered
    login_as(admin)
    assert client.get(f"/contracts/{deal.contract.id}/milestones/{milestone.id}/dispute").status_code == 403
    dispute = open_as(session, deal.vendor, deal, milestone)
    assert client.get(f"/disputes/{dispute.id}").status_code == 200
    listing = client.get("/admin/disputes")
    assert f"/disputes/{dispute.id}" in listing.text and "Evidence open" in listing.text


def test_a_milestone_is_disputed_once(session, delivered):
    deal, milestone = delivered
    open_as(session, deal.buyer, deal, milestone)
    with pytest.raises(disputes.DisputeError, match="disputed already"):
        open_as(session, deal.vendor, deal, milestone)


# ------------------------------------------------------------------------------------------------ frozen


def test_nothing_moves_the_frozen_money(session, gateway, stripe_sim, delivered):
    deal, milestone = delivered
    open_as(session, deal.vendor, deal, milestone)
    c, m = deal.contract.id, milestone.id
    with pytest.raises(contracts.ContractError, match="no delivery waiting"):
        contracts.accept_delivery(session, deal.buyer, gateway, c, m)
    session.rollback()
    with pytest.raises(contracts.ContractError, match="no delivery waiting"):
        contracts.reject_delivery(session, deal.buyer, c, m, "No.")
    session.rollback()
    with pytest.raises(contracts.ContractError, match="disputed: its money is frozen"):
        contracts.cancel_milestone(session, deal.buyer, gateway, c, m, fee_bps=FEE_BPS)
    session.rollback()
    with pytest.raises(contracts.ContractError, match="cannot be delivered: it is disputed"):
        contracts.deliver(session, deal.vendor, c, m, "Again", [], None)
    session.rollback()
    deal.contract.status = ContractStatus.FLAGGED
    session.commit()
    with pytest.raises(contracts.ContractError, match="Milestone 1 is disputed: an admin decides"):
        contracts.end_contract(session, deal.buyer, gateway, c, fee_bps=FEE_BPS)
    session.rollback()
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.DISPUTED
    assert ledger(session, deal) == [("charge", 1_000_000)]
    assert stripe_refunds(gateway, milestone) == [] and transfers_for(stripe_sim, milestone) == []
    assert agrees(session, gateway)


def test_the_cancel_page_says_why_the_disputed_milestone_cannot_be_cancelled(client, login_as, session, delivered):
    deal, milestone = delivered
    open_as(session, deal.vendor, deal, milestone)
    login_as(deal.buyer)
    page = client.get(f"/contracts/{deal.contract.id}/milestones/{milestone.id}/cancel")
    assert page.status_code == 403 and "disputed: its money is frozen until an admin decides" in page.text


# ------------------------------------------------------------------------------------------------ evidence


def test_both_sides_add_evidence_until_it_closes(client, login_as, session, delivered):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    with time_machine.travel(dispute.respond_by - timedelta(hours=1), tick=False):
        login_as(deal.vendor)
        answer = client.post(f"/disputes/{dispute.id}/statements", data={"body": "Every box is there: see the log."})
        assert answer.status_code == 303
    with time_machine.travel(dispute.evidence_until - timedelta(hours=1), tick=False):
        login_as(deal.buyer)
        assert client.post(f"/disputes/{dispute.id}/statements", data={"body": "Counted again."}).status_code == 303
    with after_evidence(dispute):
        login_as(deal.buyer)
        late = client.post(f"/disputes/{dispute.id}/statements", data={"body": "One more thing."})
    assert late.status_code == 400
    assert "The evidence closed on" in late.text
    assert notices(session, deal.buyer, "dispute_statement") and notices(session, deal.vendor, "dispute_statement")
    assert actions(session, "dispute", dispute.id).count("dispute.statement_added") == 2


def test_the_other_side_answers_by_its_deadline_or_the_evidence_closes(client, login_as, session, delivered, admin):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    with time_machine.travel(dispute.respond_by + timedelta(minutes=1), tick=False):
        login_as(deal.vendor)
        late = client.post(f"/disputes/{dispute.id}/statements", data={"body": "Sorry, we were away."})
        assert late.status_code == 400
        assert "Your answer was due by" in late.text
        login_as(deal.buyer)
        assert (
            "The evidence closed on"
            in client.post(f"/disputes/{dispute.id}/statements", data={"body": "And more."}).text
        )
        login_as(admin)
        assert "Ready for a decision" in client.get("/admin/disputes").text


def test_the_admin_decides_only_once_the_evidence_is_closed(session, gateway, delivered, admin):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    disputes.add_statement(session, deal.vendor, dispute.id, "We delivered.", [], None)
    session.commit()
    with (
        time_machine.travel(dispute.respond_by + timedelta(days=1), tick=False),
        pytest.raises(disputes.DisputeError, match="The evidence is open until"),
    ):
        disputes.decide(session, admin, gateway, dispute.id, "refund", None, None, "Too early.")
    session.rollback()
    assert stripe_refunds(gateway, milestone) == []


# ------------------------------------------------------------------------------------------------ outcomes


def decide(session, gateway, admin, dispute, outcome, vendor=None, buyer=None, why="Both sides were heard."):
    with after_evidence(dispute):
        decided = disputes.decide(session, admin, gateway, dispute.id, outcome, vendor, buyer, why)
    session.commit()
    return decided


def test_release_in_full_pays_the_vendor_less_the_fee(session, gateway, stripe_sim, delivered, admin):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    decide(session, gateway, admin, dispute, "release", why="The delivery meets the quality target.")
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RELEASED
    assert ledger(session, deal) == [("charge", 1_000_000), ("transfer", 900_000), ("platform_fee", 100_000)]
    assert [t.amount for t in transfers_for(stripe_sim, milestone)] == [900_000]
    assert (dispute.status, dispute.vendor_minor, dispute.buyer_minor) == (DisputeStatus.DECIDED, 1_000_000, 0)
    session.refresh(deal.extra["delivery"])
    assert deal.extra["delivery"].decision == DeliveryDecision.ACCEPTED  # no longer waiting for the lab
    session.refresh(deal.contract)
    assert deal.contract.status == ContractStatus.COMPLETED
    for user in (deal.buyer, deal.vendor):
        [told] = notices(session, user, "dispute_decided")
        assert "The delivery meets the quality target." in told
    assert actions(session, "dispute", dispute.id) == ["dispute.opened", "dispute.decided"]
    assert agrees(session, gateway)


def test_refund_in_full_returns_the_money_to_the_buyer(session, gateway, stripe_sim, delivered, admin):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    decide(session, gateway, admin, dispute, "refund", why="Nothing usable was delivered.")
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.REFUNDED
    assert ledger(session, deal) == [("charge", 1_000_000), ("refund", 1_000_000)]
    session.refresh(deal.extra["delivery"])
    assert deal.extra["delivery"].decision == DeliveryDecision.REJECTED
    assert [r.amount for r in stripe_refunds(gateway, milestone)] == [1_000_000]
    assert transfers_for(stripe_sim, milestone) == []
    session.refresh(deal.contract)
    assert deal.contract.status == ContractStatus.ENDED
    assert agrees(session, gateway)


def test_a_split_refunds_the_buyers_part_and_pays_the_vendors_less_the_fee(
    session, gateway, stripe_sim, delivered, admin
):
    deal, milestone = delivered
    dispute = open_as(session, deal.vendor, deal, milestone)
    decide(session, gateway, admin, dispute, "split", vendor=600_000, buyer=400_000, why="60% was usable.")
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RELEASED
    assert ledger(session, deal) == [
        ("charge", 1_000_000),
        ("refund", 400_000),
        ("transfer", 540_000),
        ("platform_fee", 60_000),
    ]
    assert [r.amount for r in stripe_refunds(gateway, milestone)] == [400_000]
    assert [t.amount for t in transfers_for(stripe_sim, milestone)] == [540_000]
    assert agrees(session, gateway)


def test_a_split_waits_for_the_vendors_payout_account_and_still_agrees(
    session, gateway, stripe_sim, admin, dispute_config
):
    deal, milestone = delivered_deal(session, gateway, stripe_sim, connected=False)
    dispute = open_as(session, deal.buyer, deal, milestone)
    decide(session, gateway, admin, dispute, "split", vendor=250_000, buyer=750_000)
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.ACCEPTED
    assert ledger(session, deal) == [("charge", 1_000_000), ("refund", 750_000)]
    assert agrees(session, gateway)
    connect_vendor(session, deal, gateway, stripe_sim)
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RELEASED
    assert [t.amount for t in transfers_for(stripe_sim, milestone)] == [225_000]
    assert agrees(session, gateway)


def test_a_decision_is_made_once_and_a_retry_moves_no_more_money(session, gateway, stripe_sim, delivered, admin):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    # The first attempt reaches Stripe, then its transaction is lost: the retry gets the same Refund and Transfer.
    with after_evidence(dispute):
        disputes.decide(session, admin, gateway, dispute.id, "split", 500_000, 500_000, "Half each.")
        session.rollback()
        decide(session, gateway, admin, dispute, "split", 500_000, 500_000, "Half each.")
        with pytest.raises(disputes.DisputeError, match="decided already"):
            disputes.decide(session, admin, gateway, dispute.id, "refund", None, None, "Changed my mind.")
    session.rollback()
    assert [r.amount for r in stripe_refunds(gateway, milestone)] == [500_000]
    assert [t.amount for t in transfers_for(stripe_sim, milestone)] == [450_000]
    assert ledger(session, deal) == [
        ("charge", 1_000_000),
        ("refund", 500_000),
        ("transfer", 450_000),
        ("platform_fee", 50_000),
    ]
    assert agrees(session, gateway)


def test_a_split_that_does_not_add_up_comes_back_filled_in(client, login_as, session, gateway, delivered, admin):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    with after_evidence(dispute):
        login_as(admin)
        page = client.get(f"/disputes/{dispute.id}")
        assert 'action="/admin/disputes/' in page.text
        response = client.post(
            f"/admin/disputes/{dispute.id}/decision",
            data={"outcome": "split", "vendor_amount": "6,000", "buyer_amount": "3,000", "explanation": "Part."},
        )
    assert response.status_code == 400
    assert re.search(
        r'name="vendor_amount"[^>]*value="6,000".*?<p class="error" role="alert">The two parts add up to '
        r"\$9,000.00, not the \$10,000.00 held.",
        response.text,
        re.S,
    )
    assert 'value="3,000"' in response.text and "Part.</textarea>" in response.text
    assert 'value="split" checked' in response.text or re.search(r'checked[^>]*value="split"', response.text)
    assert session.execute(select(LedgerEntry).where(LedgerEntry.kind == "refund")).first() is None
    assert stripe_refunds(gateway, milestone) == []


def test_the_admin_decides_on_the_page_and_both_sides_read_why(client, login_as, session, gateway, delivered, admin):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    with after_evidence(dispute):
        login_as(admin)
        response = client.post(
            f"/admin/disputes/{dispute.id}/decision",
            data={"outcome": "refund", "explanation": "The labels were for another dataset."},
        )
    assert response.status_code == 303
    for user in (deal.buyer, deal.vendor):
        login_as(user)
        page = client.get(f"/disputes/{dispute.id}")
        assert "refunded in full to the buyer" in page.text
        assert "The labels were for another dataset." in page.text
    assert agrees(session, gateway)


def test_who_wrote_a_statement_is_named_to_their_own_colleagues_only(client, login_as, session, delivered, admin):
    deal, milestone = delivered
    deal.vendor.name, deal.buyer.name = "Vera Vendorperson", "Lars Labperson"
    session.commit()
    dispute = open_as(session, deal.vendor, deal, milestone)
    disputes.add_statement(session, deal.buyer, dispute.id, "Half were boxed twice.", [], None)
    session.commit()

    def page_of(user) -> str:
        login_as(user)
        return client.get(f"/disputes/{dispute.id}").text

    vendors = page_of(VendorFactory(org_id=deal.vendor.org_id))
    assert "by Vera Vendorperson" in vendors and "Lars Labperson" not in vendors
    labs = page_of(BuyerFactory(org_id=deal.buyer.org_id))
    assert "by Lars Labperson" in labs and "Vera Vendorperson" not in labs
    admins = page_of(admin)
    assert "Half were boxed twice." in admins and 'data-testid="statement-author"' not in admins


def test_a_decided_milestone_cannot_be_disputed_again(session, gateway, stripe_sim, admin, dispute_config):
    deal, milestone = delivered_deal(session, gateway, stripe_sim, connected=False)
    dispute = open_as(session, deal.buyer, deal, milestone)
    decide(session, gateway, admin, dispute, "release")
    assert milestone.status == MilestoneStatus.ACCEPTED  # the payout waits for the vendor's account
    with pytest.raises(disputes.DisputeError, match="decided: the decision is final"):
        open_as(session, deal.buyer, deal, milestone)


def test_the_buyers_audit_export_has_the_dispute(client, login_as, session, delivered):
    deal, milestone = delivered
    open_as(session, deal.vendor, deal, milestone)
    login_as(deal.buyer)
    assert '"action":"dispute.opened"' in client.get("/audit/export.jsonl").text
    assert utcnow()  # the clock is real again


def test_the_other_side_is_reminded_once_before_its_answer_is_due(app, session, delivered):
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    with time_machine.travel(dispute.respond_by - timedelta(days=3), tick=False):
        assert "Dispute answers due: 0 reminded." in run_reminders(app)
    with time_machine.travel(dispute.respond_by - timedelta(days=1), tick=False):
        assert "Dispute answers due: 1 reminded." in run_reminders(app)
        assert "Dispute answers due: 0 reminded." in run_reminders(app)
    [told] = notices(session, deal.vendor, "dispute_answer_due")
    assert "is due by" in told
    assert notices(session, deal.buyer, "dispute_answer_due") == []


def test_a_side_that_answered_is_not_reminded(app, session, delivered):
    deal, milestone = delivered
    dispute = open_as(session, deal.vendor, deal, milestone)
    disputes.add_statement(session, deal.buyer, dispute.id, "We rejected it for a reason.", [], None)
    session.commit()
    with time_machine.travel(dispute.respond_by - timedelta(days=1), tick=False):
        assert "Dispute answers due: 0 reminded." in run_reminders(app)
    assert notices(session, deal.buyer, "dispute_answer_due") == []


@pytest.mark.parametrize("side", ["buyer", "vendor"])
def test_a_statement_let_in_before_the_evidence_closed_is_dated_before_it_wherever_the_deadline_falls(
    session, delivered, side
):
    """A statement is let in or refused at one instant and dated with it: the clock moves a second per SQL
    statement (tests/slow_server.py) and the closing is swept through the request, one second at a time."""
    deal, milestone = delivered
    dispute = open_as(session, deal.buyer, deal, milestone)
    author = deal.buyer if side == "buyer" else deal.vendor

    def arrange(closes):
        dispute.respond_by = dispute.evidence_until = closes
        return closes

    with time_machine.travel(utcnow().replace(microsecond=0), tick=False) as traveller:
        outcomes = sweep_deadline(
            traveller,
            session,
            30,
            arrange=arrange,
            act=lambda _: disputes.add_statement(session, author, dispute.id, "One more count.", [], None),
            refusal=disputes.DisputeError,
            dates=lambda _, statement: [statement.created_at],
        )
    assert outcomes == {"refused", "let in"}  # the sweep crossed the request
