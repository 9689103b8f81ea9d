"""The money flow through the services, against the local Stripe: fund, hold, release less the fee, refund."""

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.contracts import service as contracts
from marketplace.contracts.models import ContractStatus, MilestoneStatus
from marketplace.jobs.models import Job, JobStatus
from marketplace.notifications.models import Notification
from marketplace.payments import service as payments
from marketplace.payments.models import EntryKind, LedgerEntry
from tests.functional.payments.stripe_support import (
    FEE_BPS,
    URLS,
    connect_vendor,
    deliver,
    fund,
    ledger,
    make_deal,
    only_milestone,
    transfers_for,
)


@pytest.fixture
def deal(session):
    return make_deal(session, total_minor=1_000_000)


def test_an_award_makes_a_contract_with_one_milestone_for_the_whole_amount(session, deal):
    milestone = only_milestone(session, deal)
    assert (milestone.number, milestone.amount_minor, milestone.currency) == (1, 1_000_000, "USD")
    assert milestone.status == MilestoneStatus.PENDING


def test_funding_holds_the_money_and_starts_the_job(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    paid, checkout = fund(session, deal, gateway, stripe_sim, milestone)
    assert paid.status_code == 303
    assert milestone.status == MilestoneStatus.FUNDED
    assert milestone.payment_intent_id == checkout.payment_intent_id
    assert milestone.fee_bps == FEE_BPS
    assert ledger(session, deal) == [("charge", 1_000_000)]
    assert session.get(Job, deal.contract.job_id).status == JobStatus.IN_PROGRESS
    assert session.execute(
        select(Notification).where(Notification.user_id == deal.vendor.id, Notification.kind == "milestone_funded")
    ).first()
    assert session.execute(
        select(AuditRecord).where(AuditRecord.action == "milestone.funded", AuditRecord.subject_id == milestone.id)
    ).first()
    payment = gateway.retrieve_payment_intent(checkout.payment_intent_id)
    assert (payment.status, payment.amount, payment.metadata["milestone_key"]) == (
        "succeeded",
        1_000_000,
        milestone.key,
    )


def test_a_double_click_on_fund_opens_the_same_checkout(session, deal, gateway):
    milestone = only_milestone(session, deal)
    first = contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)
    second = contracts.funding_url(
        session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS
    )
    assert first == second
    assert milestone.checkout_attempt == 1


def test_a_payment_recorded_twice_is_one_ledger_entry(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    _, checkout = fund(session, deal, gateway, stripe_sim, milestone)
    payments.record_payment(session, gateway, payments.STRIPE, checkout.payment_intent_id, FEE_BPS)
    assert contracts.check_payment(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS)
    assert ledger(session, deal) == [("charge", 1_000_000)]


def test_a_declined_card_funds_nothing(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    paid, checkout = fund(session, deal, gateway, stripe_sim, milestone, card="4000 0000 0000 0341")
    assert paid.status_code == 400 and "declined" in paid.text
    assert checkout.status == "open"
    assert milestone.status == MilestoneStatus.PENDING
    assert ledger(session, deal) == []


def test_accepting_pays_the_vendor_less_the_fee(session, deal, gateway, stripe_sim):
    account = connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    assert session.get(Job, deal.contract.job_id).status == JobStatus.DELIVERED
    assert contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id) is True
    assert milestone.status == MilestoneStatus.RELEASED
    assert ledger(session, deal) == [("charge", 1_000_000), ("transfer", 900_000), ("platform_fee", 100_000)]
    assert deal.contract.status == ContractStatus.COMPLETED
    assert session.get(Job, deal.contract.job_id).status == JobStatus.COMPLETED
    transfers = transfers_for(stripe_sim, milestone)
    assert [(t.amount, t.destination, t.source_transaction) for t in transfers] == [
        (900_000, account.stripe_account_id, milestone.charge_id)
    ]


def test_accepting_twice_pays_once(session, deal, gateway, stripe_sim):
    connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id)
    with pytest.raises(contracts.ContractError, match="completed"):
        contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id)
    assert payments.release(session, gateway, deal.buyer, deal.contract, milestone) is False
    assert len(transfers_for(stripe_sim, milestone)) == 1


def test_a_payout_retried_after_a_crash_reuses_the_first_transfer(session, deal, gateway, stripe_sim):
    """Stripe answered but we failed before writing it down: the idempotency key brings back the same transfer."""
    account = connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    milestone.status = MilestoneStatus.ACCEPTED
    lost = gateway.create_transfer(
        amount=900_000,
        currency="USD",
        destination=account.stripe_account_id,
        source_charge_id=milestone.charge_id,
        transfer_group=f"contract-{deal.contract.id}",
        metadata={
            "milestone_key": milestone.key,
            "milestone_id": str(milestone.id),
            "contract_id": str(deal.contract.id),
        },
        idempotency_key=f"release-{milestone.key}",
    )
    assert payments.release(session, gateway, deal.buyer, deal.contract, milestone) is True
    entry = session.execute(
        select(LedgerEntry).where(LedgerEntry.kind == EntryKind.TRANSFER, LedgerEntry.milestone_id == milestone.id)
    ).scalar_one()
    assert entry.stripe_object_id == lost.id
    assert len(transfers_for(stripe_sim, milestone)) == 1


def test_acceptance_before_the_vendor_can_be_paid_waits_for_its_payout_account(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    assert contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id) is False
    assert milestone.status == MilestoneStatus.ACCEPTED
    assert ledger(session, deal) == [("charge", 1_000_000)]
    connect_vendor(session, deal, gateway, stripe_sim)
    session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RELEASED
    assert ledger(session, deal) == [("charge", 1_000_000), ("transfer", 900_000), ("platform_fee", 100_000)]


def test_a_rejected_delivery_keeps_the_money_held_and_can_be_delivered_again(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    with pytest.raises(contracts.ContractError, match="why"):
        contracts.reject_delivery(session, deal.buyer, deal.contract.id, milestone.id, "  ")
    contracts.reject_delivery(session, deal.buyer, deal.contract.id, milestone.id, "Boxes miss occluded cars.")
    assert milestone.status == MilestoneStatus.REJECTED
    deliver(session, deal, milestone, "Fixed the occluded cars.")
    assert milestone.status == MilestoneStatus.DELIVERED
    assert ledger(session, deal) == [("charge", 1_000_000)]


def test_nothing_is_delivered_before_it_is_funded(session, deal):
    milestone = only_milestone(session, deal)
    with pytest.raises(contracts.ContractError, match="not funded yet"):
        deliver(session, deal, milestone)


def test_cancelling_a_funded_milestone_refunds_the_buyer(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    _, checkout = fund(session, deal, gateway, stripe_sim, milestone)
    contracts.cancel_milestone(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS)
    assert milestone.status == MilestoneStatus.REFUNDED
    assert ledger(session, deal) == [("charge", 1_000_000), ("refund", 1_000_000)]
    assert gateway.retrieve_payment_intent(checkout.payment_intent_id).amount_refunded == 1_000_000
    assert deal.contract.status == ContractStatus.ENDED
    assert session.get(Job, deal.contract.job_id).status == JobStatus.CANCELLED
    with pytest.raises(contracts.ContractError):
        contracts.cancel_milestone(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS)
    assert gateway.retrieve_payment_intent(checkout.payment_intent_id).amount_refunded == 1_000_000


def test_cancelling_an_unfunded_milestone_closes_its_checkout(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    url = contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)
    contracts.cancel_milestone(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS)
    assert milestone.status == MilestoneStatus.CANCELLED
    assert gateway.retrieve_checkout_session(milestone.checkout_session_id).status == "expired"
    assert stripe_sim.pay(url).status_code == 404
    assert ledger(session, deal) == []


def test_a_delivered_milestone_cannot_be_cancelled(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    with pytest.raises(contracts.ContractError, match="accept or reject"):
        contracts.cancel_milestone(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS)


def test_a_second_payment_for_a_funded_milestone_is_refunded_at_once(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    # An old tab's Checkout, paid after the milestone was funded through another one.
    stale = gateway.create_checkout_session(
        amount=1_000_000,
        currency="USD",
        title="old tab",
        customer_id=None,
        **URLS,
        metadata={"milestone_key": milestone.key},
        transfer_group="x",
        idempotency_key=f"old-tab-{milestone.key}",
    )
    stripe_sim.pay(stale.url)
    second = gateway.retrieve_checkout_session(stale.id).payment_intent_id
    payments.record_payment(session, gateway, payments.STRIPE, second, FEE_BPS)
    assert milestone.status == MilestoneStatus.FUNDED
    assert ledger(session, deal) == [("charge", 1_000_000), ("charge", 1_000_000), ("refund", 1_000_000)]
    assert gateway.retrieve_payment_intent(second).amount_refunded == 1_000_000
    assert payments.refundable_on(session, milestone.payment_intent_id) == 1_000_000


def test_nothing_is_refunded_beyond_what_was_paid(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    payments.refund_milestone(session, gateway, deal.buyer, deal.contract, milestone, "test")
    with pytest.raises(payments.PaymentError):
        payments.refund_milestone(session, gateway, deal.buyer, deal.contract, milestone, "again")
    with pytest.raises(payments.PaymentError, match="Nothing is left"):
        payments._refund(
            session,
            gateway,
            deal.buyer,
            deal.contract,
            milestone,
            milestone.payment_intent_id,
            1,
            "refund-again",
            "again",
        )
    assert gateway.retrieve_payment_intent(milestone.payment_intent_id).amount_refunded == 1_000_000


def plan(session, deal, gateway, *rows):
    return contracts.plan_milestones(
        session,
        deal.buyer,
        gateway,
        deal.contract.id,
        [contracts.PlannedMilestone(title, amount) for title, amount in rows],
        fee_bps=FEE_BPS,
    )


def test_milestones_must_add_up_to_the_awarded_total(session, deal, gateway):
    with pytest.raises(contracts.ContractError, match=r"add up to \$9,000.00, not the awarded \$10,000.00"):
        plan(session, deal, gateway, ("Pilot", 100_000), ("Bulk", 800_000))
    created = plan(session, deal, gateway, ("Pilot", 100_000), ("Bulk", 900_000))
    assert [(m.number, m.title, m.amount_minor) for m in created] == [(1, "Pilot", 100_000), (2, "Bulk", 900_000)]


def test_milestones_cannot_change_once_one_is_funded(session, deal, gateway, stripe_sim):
    pilot, _bulk = plan(session, deal, gateway, ("Pilot", 100_000), ("Bulk", 900_000))
    fund(session, deal, gateway, stripe_sim, pilot)
    with pytest.raises(contracts.ContractError, match="can no longer change"):
        plan(session, deal, gateway, ("All", 1_000_000))


def test_replanning_closes_a_checkout_left_open(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    url = contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)
    plan(session, deal, gateway, ("Pilot", 100_000), ("Bulk", 900_000))
    assert stripe_sim.pay(url).status_code == 404


def test_ending_a_flagged_contract_refunds_what_was_not_released(session, deal, gateway, stripe_sim):
    connect_vendor(session, deal, gateway, stripe_sim)
    first, second, third = plan(session, deal, gateway, ("Pilot", 100_000), ("Bulk", 600_000), ("Audit", 300_000))
    fund(session, deal, gateway, stripe_sim, first)
    deliver(session, deal, first)
    contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, first.id)
    fund(session, deal, gateway, stripe_sim, second)
    contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, third.id, fee_bps=FEE_BPS, **URLS)
    deal.contract.status, deal.contract.flagged_reason = ContractStatus.FLAGGED, "Screening now says exclude."
    with pytest.raises(contracts.ContractError, match="on hold for the buyer.s review"):
        contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, third.id, fee_bps=FEE_BPS, **URLS)
    contracts.end_contract(session, deal.buyer, gateway, deal.contract.id, fee_bps=FEE_BPS)
    assert [m.status for m in (first, second, third)] == [
        MilestoneStatus.RELEASED,
        MilestoneStatus.REFUNDED,
        MilestoneStatus.CANCELLED,
    ]
    assert ledger(session, deal) == [
        ("charge", 100_000),
        ("transfer", 90_000),
        ("platform_fee", 10_000),
        ("charge", 600_000),
        ("refund", 600_000),
    ]
    assert deal.contract.status == ContractStatus.ENDED
    assert gateway.retrieve_checkout_session(third.checkout_session_id).status == "expired"
    assert session.get(Job, deal.contract.job_id).status == JobStatus.CANCELLED


def test_a_paused_contract_waits_for_the_buyer(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    with pytest.raises(contracts.ContractError, match="Only a contract flagged"):
        contracts.pause_contract(session, deal.buyer, deal.contract.id)
    deal.contract.status = ContractStatus.FLAGGED
    contracts.pause_contract(session, deal.buyer, deal.contract.id)
    with pytest.raises(contracts.ContractError, match="on hold for the buyer.s review"):
        deliver(session, deal, milestone)
    contracts.continue_contract(session, deal.buyer, deal.contract.id)
    deliver(session, deal, milestone)
    assert milestone.status == MilestoneStatus.DELIVERED


def test_the_vendor_cannot_act_for_the_buyer_nor_a_stranger_at_all(session, deal, gateway):
    milestone = only_milestone(session, deal)
    with pytest.raises(contracts.WrongRole):
        contracts.funding_url(session, deal.vendor, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)
    stranger = make_deal(session).buyer
    with pytest.raises(contracts.visibility.NotVisible):
        contracts.funding_url(session, stranger, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)


def test_ratings_come_after_completion(session, deal, gateway, stripe_sim):
    with pytest.raises(contracts.ContractError, match="once the contract is complete"):
        contracts.rate_vendor(session, deal.buyer, deal.contract.id, 5, "Great")
    connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id)
    with pytest.raises(contracts.ContractError, match="1 to 5"):
        contracts.rate_vendor(session, deal.buyer, deal.contract.id, 6, "")
    contracts.rate_vendor(session, deal.buyer, deal.contract.id, 4, "Careful work, a day late.")
    with pytest.raises(contracts.ContractError, match="already rated"):
        contracts.rate_vendor(session, deal.buyer, deal.contract.id, 5, "")
    summary = contracts.vendor_ratings(session, deal.vendor.org_id)
    assert (summary.count, summary.average, summary.recent[0].comment) == (1, 4.0, "Careful work, a day late.")
