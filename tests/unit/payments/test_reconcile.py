"""`payments reconcile`: the ledger against Stripe and the contracts; every difference named, exit non-zero."""

import pytest
from sqlalchemy import select

from marketplace.contracts.models import MilestoneStatus
from marketplace.payments.models import EntryKind, LedgerEntry
from marketplace.payments.reconcile import reconcile
from tests.functional.payments.stripe_support import (
    FEE_BPS,
    URLS,
    connect_vendor,
    deliver,
    fund,
    make_deal,
    only_milestone,
)


@pytest.fixture
def paid_deal(session, gateway, stripe_sim):
    """A contract funded, delivered, accepted and paid out, as it should be."""
    from marketplace.contracts import service as contracts

    deal = make_deal(session, total_minor=250_000)
    connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id)
    return deal


def entry(session, deal, kind):
    return session.execute(
        select(LedgerEntry).where(LedgerEntry.contract_id == deal.contract.id, LedgerEntry.kind == kind)
    ).scalar_one()


def test_a_ledger_that_agrees_has_no_differences(session, gateway, paid_deal):
    differences, checked = reconcile(session, gateway)
    assert differences == []
    assert checked == 3


def test_an_amount_that_differs_from_stripe_is_named(session, gateway, paid_deal):
    transfer = entry(session, paid_deal, EntryKind.TRANSFER)
    transfer.amount_minor += 1
    differences, _ = reconcile(session, gateway)
    assert (
        f"ledger entry {transfer.id} (transfer {transfer.stripe_object_id}, $2,250.01): Stripe has $2,250.00"
        in differences
    )
    assert any("was paid out $2,250.01 with a fee of $250.00, not $2,250.00 with $250.00" in d for d in differences)


def test_an_object_stripe_does_not_know_is_named(session, gateway, paid_deal):
    charge = entry(session, paid_deal, EntryKind.CHARGE)
    charge.stripe_object_id = "pi_made_up"
    differences, _ = reconcile(session, gateway)
    assert any(
        d.startswith(f"ledger entry {charge.id} (charge pi_made_up") and "does not confirm" in d for d in differences
    )


def test_a_refund_made_at_stripe_but_not_in_the_ledger_is_named(session, gateway, paid_deal):
    charge = entry(session, paid_deal, EntryKind.CHARGE)
    gateway.create_refund(
        payment_intent_id=charge.stripe_object_id,
        amount=100,
        metadata={},
        idempotency_key=f"refund-behind-our-back-{charge.stripe_object_id}",
    )
    differences, _ = reconcile(session, gateway)
    assert any("Stripe has refunded $1.00 of it, the ledger $0.00" in d for d in differences)


def test_a_milestone_state_the_ledger_does_not_bear_out_is_named(session, gateway, stripe_sim):
    deal = make_deal(session, total_minor=80_000)
    milestone = only_milestone(session, deal)
    milestone.status = MilestoneStatus.FUNDED
    differences, _ = reconcile(session, gateway)
    assert differences == [
        f"contract {deal.contract.id}, milestone 1 (id {milestone.id}) is funded but the ledger "
        "holds $0.00 for it, not $800.00"
    ]


def test_a_payment_stripe_took_but_the_ledger_lacks_is_named(session, gateway, stripe_sim):
    from marketplace.contracts import service as contracts

    deal = make_deal(session, total_minor=80_000)
    milestone = only_milestone(session, deal)
    url = contracts.funding_url(session, deal.buyer, gateway, deal.contract.id, milestone.id, fee_bps=FEE_BPS, **URLS)
    stripe_sim.pay(url)  # the webhook never came
    differences, _ = reconcile(session, gateway)
    assert len(differences) == 1
    assert "is pending, but Stripe took its payment pi_" in differences[0]


def test_the_command_says_when_all_agrees(app, paid_deal):
    clean = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert clean.exit_code == 0, clean.output
    assert "agrees with Stripe and with the contracts (3 ledger entries checked)" in clean.output


def test_the_command_exits_non_zero_naming_each_difference(app, session, paid_deal):
    entry(session, paid_deal, EntryKind.PLATFORM_FEE).amount_minor = 0
    session.flush()
    found = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert found.exit_code == 1
    assert "DIFFERENCE: contract" in found.output and "with a fee of $0.00" in found.output


def test_the_command_needs_a_stripe_key(app, session):
    app.config["STRIPE_SECRET_KEY"] = ""
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code != 0
    assert "STRIPE_SECRET_KEY" in result.output
