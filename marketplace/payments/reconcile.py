"""Comparing the ledger with Stripe, and with the contracts: every difference, named in words."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.contracts.models import (
    CLOSED_STATES,
    HELD_STATES,
    Contract,
    ContractStatus,
    Milestone,
    MilestoneStatus,
)
from marketplace.money import format_money
from marketplace.payments.fees import split_payout
from marketplace.payments.gateway import GatewayError, StripeGateway
from marketplace.payments.models import EntryKind, LedgerEntry, PayoutAccount


def _name(milestone: Milestone) -> str:
    return f"contract {milestone.contract_id}, milestone {milestone.number} (id {milestone.id})"


def _against_stripe(
    entry: LedgerEntry, gateway: StripeGateway, payout_accounts: dict[int, str | None], refunded: dict[str, int]
) -> list[str]:
    """What Stripe says differently about one ledger entry."""
    here = (
        f"ledger entry {entry.id} ({entry.kind} {entry.stripe_object_id}, "
        f"{format_money(entry.amount_minor, entry.currency)})"
    )
    found: Any  # a PaymentInfo, RefundInfo or TransferInfo, by the entry's kind
    try:
        if entry.kind == EntryKind.CHARGE:
            found = gateway.retrieve_payment_intent(entry.stripe_object_id)
            status_ok = found.status == "succeeded"
        elif entry.kind == EntryKind.REFUND:
            found = gateway.retrieve_refund(entry.stripe_object_id)
            status_ok = found.status in ("succeeded", "pending")
        elif entry.kind == EntryKind.TRANSFER:
            found = gateway.retrieve_transfer(entry.stripe_object_id)
            status_ok = found.amount_reversed == 0
        else:
            return []
    except GatewayError as error:
        return [f"{here}: Stripe does not confirm it ({error})"]
    problems = []
    if not status_ok:
        state = getattr(found, "status", None) or f"reversed {found.amount_reversed}"
        problems.append(f"{here}: Stripe says it is {state}")
    if (found.amount, found.currency.upper()) != (entry.amount_minor, entry.currency.upper()):
        problems.append(f"{here}: Stripe has {format_money(found.amount, found.currency.upper())}")
    if entry.kind == EntryKind.TRANSFER and found.destination != payout_accounts.get(entry.vendor_org_id):
        problems.append(f"{here}: Stripe paid it to {found.destination}, not the vendor's payout account")
    if entry.kind == EntryKind.CHARGE:
        ours = refunded.get(entry.stripe_object_id, 0)
        if found.amount_refunded != ours:
            problems.append(
                f"{here}: Stripe has refunded {format_money(found.amount_refunded, entry.currency)} "
                f"of it, the ledger {format_money(ours, entry.currency)}"
            )
    return problems


def _against_milestone(milestone: Milestone, entries: list[LedgerEntry]) -> list[str]:
    """What the milestone's state says the ledger should hold, and where it does not."""
    sums: dict[EntryKind, int] = defaultdict(int)
    for entry in entries:
        sums[EntryKind(entry.kind)] += entry.amount_minor
    net = sums[EntryKind.CHARGE] - sums[EntryKind.REFUND]
    paid, fees = sums[EntryKind.TRANSFER], sums[EntryKind.PLATFORM_FEE]
    amount, money = milestone.amount_minor, (lambda value: format_money(value, milestone.currency))
    status = MilestoneStatus(milestone.status)
    problems = []
    if status in (MilestoneStatus.PENDING, MilestoneStatus.CANCELLED, MilestoneStatus.REFUNDED) and net != 0:
        problems.append(f"is {status} but the ledger holds {money(net)} for it")
    # A dispute decided in part for each side: the buyer's part was refunded, the vendor's is paid out.
    amount = amount if milestone.payout_minor is None else milestone.payout_minor
    if status in HELD_STATES + (MilestoneStatus.RELEASED,) and net != amount:
        problems.append(f"is {status} but the ledger holds {money(net)} for it, not {money(amount)}")
    if status != MilestoneStatus.RELEASED and paid + fees:
        problems.append(f"is {status} but the ledger shows {money(paid)} paid out and {money(fees)} in fees")
    if status == MilestoneStatus.RELEASED:
        expected = split_payout(amount, milestone.fee_bps or 0)
        if (paid, fees) != (expected.vendor_minor, expected.fee_minor):
            problems.append(
                f"was paid out {money(paid)} with a fee of {money(fees)}, not "
                f"{money(expected.vendor_minor)} with {money(expected.fee_minor)}"
            )
    return [f"{_name(milestone)} {problem}" for problem in problems]


def _against_contract(contract: Contract, milestones: Sequence[Milestone]) -> list[str]:
    problems = []
    planned = sum(m.amount_minor for m in milestones)
    if planned != contract.total_minor:
        problems.append(
            f"contract {contract.id}: its milestones add up to {format_money(planned, contract.currency)}"
            f", not {format_money(contract.total_minor, contract.currency)}"
        )
    open_ones = [m for m in milestones if m.status not in CLOSED_STATES]
    if contract.status in (ContractStatus.COMPLETED, ContractStatus.ENDED) and open_ones:
        problems.append(
            f"contract {contract.id} is {contract.status} but milestone {open_ones[0].number} is {open_ones[0].status}"
        )
    return problems


def _missed_payments(milestone: Milestone, gateway: StripeGateway) -> list[str]:
    """A pending milestone whose Checkout Stripe says was paid: the ledger lacks a payment."""
    if milestone.status != MilestoneStatus.PENDING or not milestone.checkout_session_id:
        return []
    try:
        found = gateway.retrieve_checkout_session(milestone.checkout_session_id)
    except GatewayError as error:
        return [f"{_name(milestone)}: Stripe does not confirm its Checkout Session ({error})"]
    if found.status == "complete":
        return [
            f"{_name(milestone)} is pending, but Stripe took its payment {found.payment_intent_id} "
            "and the ledger does not have it"
        ]
    return []


def reconcile(session: Session, gateway: StripeGateway) -> tuple[list[str], int]:
    """Every difference between the ledger, Stripe and the contracts, and how many entries were checked."""
    entries = session.execute(select(LedgerEntry).order_by(col(LedgerEntry.id))).scalars().all()
    payout_accounts = dict(
        session.execute(select(col(PayoutAccount.org_id), col(PayoutAccount.stripe_account_id))).all()
    )
    refunded: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.kind == EntryKind.REFUND and entry.source_object_id:
            refunded[entry.source_object_id] += entry.amount_minor
    differences = []
    for entry in entries:
        differences += _against_stripe(entry, gateway, payout_accounts, refunded)
    by_milestone: dict[int, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        by_milestone[entry.milestone_id].append(entry)
    contracts = session.execute(select(Contract).order_by(col(Contract.id))).scalars().all()
    for contract in contracts:
        milestones = (
            session.execute(
                select(Milestone).where(col(Milestone.contract_id) == contract.id).order_by(col(Milestone.number))
            )
            .scalars()
            .all()
        )
        differences += _against_contract(contract, milestones)
        for milestone in milestones:
            differences += _against_milestone(milestone, by_milestone.get(milestone.id, []))
            differences += _missed_payments(milestone, gateway)
    return differences, len(entries)
