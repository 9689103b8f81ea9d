"""Money for milestones: fund through Checkout, hold, release to the vendor less the fee, refund.

Every step is written to the ledger with the Stripe object that carried it, in the same transaction as the
milestone's new state and the audit record. Each step that creates something at Stripe sends an idempotency
key derived from the milestone's own key, and the milestone row is locked first: a retry, a double click or a
webhook racing a page never moves money twice. Every function here takes the gateway as an argument.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, User
from marketplace.audit.service import record_event
from marketplace.contracts.lifecycle import contract_link, lock_with_contract, settle
from marketplace.contracts.models import (
    HELD_STATES,
    Contract,
    ContractStatus,
    Milestone,
    MilestoneStatus,
)
from marketplace.db_types import utcnow
from marketplace.errors import Refusal
from marketplace.jobs.models import Job
from marketplace.locking import lock_row
from marketplace.money import format_money
from marketplace.notifications.service import notify_org
from marketplace.payments.fees import split_payout
from marketplace.payments.gateway import GatewayError, PaymentInfo, StripeGateway
from marketplace.payments.models import BillingCustomer, EntryKind, LedgerEntry, PayoutAccount

# Who the audit trail names for what Stripe tells us through a webhook.
STRIPE = SimpleNamespace(id=None, email="Stripe (signed webhook)")


class PaymentError(Refusal):
    """A refusal the user can understand; `field` names the form field it belongs to, if any, and `code` Stripe's
    error code when Stripe refused (e.g. resource_missing: an id Stripe does not know)."""

    def __init__(self, message: str, field: str | None = None, code: str | None = None):
        super().__init__(message, field)
        self.code = code


def stripe_failure(error: GatewayError) -> PaymentError:
    """Stripe's refusal, in words, keeping its code."""
    return PaymentError(f"Stripe: {error}", code=error.code)


_fail = stripe_failure


def _metadata(contract: Contract, milestone: Milestone) -> dict[str, str]:
    return {"milestone_key": milestone.key, "milestone_id": str(milestone.id), "contract_id": str(contract.id)}


def _transfer_group(contract: Contract) -> str:
    return f"contract-{contract.id}"


def _money(milestone: Milestone, amount: int | None = None) -> str:
    return format_money(milestone.amount_minor if amount is None else amount, milestone.currency)


def _audit(
    session: Session, actor, action: str, contract: Contract, milestone: Milestone, before: str, **after
) -> None:
    record_event(
        session,
        actor,
        action,
        "milestone",
        milestone.id,
        before={"status": before},
        after={"status": str(milestone.status), **after},
        buyer_org_id=contract.buyer_org_id,
        vendor_org_id=contract.vendor_org_id,
    )


# ------------------------------------------------------------------------------------------------ the ledger


def entries_for_milestone(session: Session, milestone_id: int) -> list[LedgerEntry]:
    return list(
        session.execute(
            select(LedgerEntry).where(col(LedgerEntry.milestone_id) == milestone_id).order_by(col(LedgerEntry.id))
        ).scalars()
    )


def _recorded(session: Session, kind: EntryKind, stripe_object_id: str) -> bool:
    return (
        session.execute(
            select(col(LedgerEntry.id)).where(
                col(LedgerEntry.kind) == kind, col(LedgerEntry.stripe_object_id) == stripe_object_id
            )
        ).first()
        is not None
    )


def _record(
    session: Session,
    contract: Contract,
    milestone: Milestone,
    kind: EntryKind,
    amount: int,
    stripe_object_id: str,
    *,
    source: str | None = None,
    fee_bps: int | None = None,
    note: str = "",
) -> LedgerEntry:
    entry = LedgerEntry(
        contract_id=contract.id,
        milestone_id=milestone.id,
        buyer_org_id=contract.buyer_org_id,
        vendor_org_id=contract.vendor_org_id,
        kind=kind,
        amount_minor=amount,
        currency=milestone.currency,
        stripe_object_id=stripe_object_id,
        source_object_id=source,
        fee_bps=fee_bps,
        note=note[:500],
    )
    session.add(entry)
    session.flush()
    return entry


def refundable_on(session: Session, payment_intent_id: str) -> int:
    """What is left to refund of one payment: charged, less refunds already made on it."""

    def total(kind: EntryKind, column) -> int:
        return session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
                col(LedgerEntry.kind) == kind, column == payment_intent_id
            )
        ).scalar_one()

    return total(EntryKind.CHARGE, LedgerEntry.stripe_object_id) - total(EntryKind.REFUND, LedgerEntry.source_object_id)


# ------------------------------------------------------------------------------------------------ funding


def _customer_for(session: Session, gateway: StripeGateway, org_id: int) -> str:
    """The buyer organisation's Stripe Customer, made once: its row is found or made, then locked while Stripe is
    asked. Not the organisation's row: funding holds a contract and a milestone already, and a change to the
    buyer's screening locks the organisation first and may then flag that contract (docs/concurrency.md)."""
    customer = session.execute(
        select(BillingCustomer).where(col(BillingCustomer.org_id) == org_id)
    ).scalar_one_or_none()
    if customer is None:
        try:
            with session.begin_nested():
                customer = BillingCustomer(org_id=org_id)
                session.add(customer)
                session.flush()
        except IntegrityError:  # another funding made it a moment ago
            customer = session.execute(
                select(BillingCustomer).where(col(BillingCustomer.org_id) == org_id)
            ).scalar_one()
    customer = lock_row(session, BillingCustomer, customer.id)
    org = cast(Organization, session.get(Organization, org_id))
    if customer.stripe_customer_id is None:
        customer.stripe_customer_id = gateway.create_customer(
            name=org.name, metadata={"organization_id": str(org.id)}, idempotency_key=f"customer-{customer.key}"
        )
        session.flush()
    return customer.stripe_customer_id


def checkout_url(
    session: Session,
    gateway: StripeGateway,
    actor: User,
    contract: Contract,
    milestone: Milestone,
    *,
    success_url: str,
    cancel_url: str,
    fee_bps: int,
) -> str | None:
    """Where the buyer pays for the (locked, pending) milestone: its open Checkout Session, or a new one.

    Returns None when Stripe says the milestone was already paid (it is recorded as funded now).
    """
    try:
        if milestone.checkout_session_id:
            existing = gateway.retrieve_checkout_session(milestone.checkout_session_id)
            if existing.status == "open":
                return existing.url
            if existing.status == "complete" and existing.payment_intent_id:
                record_payment(session, gateway, actor, existing.payment_intent_id, fee_bps)
                return None
        customer_id = _customer_for(session, gateway, contract.buyer_org_id)
        job = cast(Job, session.get(Job, contract.job_id))
        milestone.checkout_attempt += 1
        created = gateway.create_checkout_session(
            amount=milestone.amount_minor,
            currency=milestone.currency,
            title=f"{job.title} — milestone {milestone.number}: {milestone.title}"[:250],
            customer_id=customer_id,
            success_url=success_url,
            cancel_url=cancel_url,
            metadata=_metadata(contract, milestone),
            transfer_group=_transfer_group(contract),
            idempotency_key=f"checkout-{milestone.key}-{milestone.checkout_attempt}",
        )
    except GatewayError as error:
        raise _fail(error) from error
    milestone.checkout_session_id, milestone.last_payment_error = created.id, ""
    milestone.updated_at = utcnow()
    _audit(
        session,
        actor,
        "milestone.checkout_started",
        contract,
        milestone,
        str(milestone.status),
        checkout_session=created.id,
        amount=_money(milestone),
    )
    return created.url


def close_checkout(session: Session, gateway: StripeGateway, actor, milestone: Milestone, fee_bps: int) -> None:
    """Before a pending milestone is cancelled or re-planned: expire its open Checkout Session, so that it can
    no longer be paid, and record a payment that Stripe already took."""
    if not milestone.checkout_session_id:
        return
    try:
        found = gateway.retrieve_checkout_session(milestone.checkout_session_id)
        if found.status == "open":
            found = gateway.expire_checkout_session(found.id)
    except GatewayError as error:
        raise _fail(error) from error
    if found.status == "complete" and found.payment_intent_id:
        record_payment(session, gateway, actor, found.payment_intent_id, fee_bps)


def _milestone_by_key(session: Session, key: str | None) -> Milestone | None:
    if not key:
        return None
    found = session.execute(select(col(Milestone.id)).where(col(Milestone.key) == key)).scalar_one_or_none()
    return lock_with_contract(session, found)[1] if found is not None else None


def record_payment(
    session: Session, gateway: StripeGateway, actor, payment_intent_id: str, fee_bps: int
) -> Milestone | None:
    """Record a buyer's payment as Stripe has it now (the event that told us may be stale or repeated).

    A succeeded payment funds its pending milestone. One that finds its milestone no longer waiting for money
    (paid already through another session, cancelled, or its contract ended) is recorded and refunded at once:
    nothing is held without a milestone to hold it for. Returns the milestone, or None if it is not ours.
    """
    try:
        payment = gateway.retrieve_payment_intent(payment_intent_id)
    except GatewayError as error:
        raise _fail(error) from error
    milestone = _milestone_by_key(session, payment.metadata.get("milestone_key"))
    if milestone is None:
        return None
    contract = cast(Contract, session.get(Contract, milestone.contract_id))
    if payment.status != "succeeded":
        if milestone.status == MilestoneStatus.PENDING and payment.status == "requires_payment_method":
            milestone.last_payment_error = (payment.error or "The payment failed.")[:500]
        return milestone
    if _recorded(session, EntryKind.CHARGE, payment.id):
        return milestone
    _record(session, contract, milestone, EntryKind.CHARGE, payment.amount, payment.id, source=payment.charge_id)
    waiting = (
        milestone.status == MilestoneStatus.PENDING
        and contract.status not in (ContractStatus.ENDED, ContractStatus.COMPLETED)
        and payment.amount == milestone.amount_minor
        and payment.currency == milestone.currency.upper()
    )
    if not waiting:
        if payment.amount_refunded:  # refunds already made in Stripe count: only the rest is returned here
            _record_stripe_refunds(session, gateway, actor, contract, milestone, payment.id)
        left = refundable_on(session, payment.id)
        if left > 0:
            _refund(
                session,
                gateway,
                actor,
                contract,
                milestone,
                payment.id,
                left,
                f"refund-extra-{payment.id}",
                "A payment the milestone was not waiting for, returned.",
            )
        return milestone
    _fund(session, actor, contract, milestone, payment, fee_bps)
    if payment.amount_refunded:
        # Refunded in Stripe before we heard of the payment (events come in any order): record that too.
        _apply_stripe_refunds(session, gateway, actor, contract, milestone, payment.id)
    return milestone


def _fund(
    session: Session, actor, contract: Contract, milestone: Milestone, payment: PaymentInfo, fee_bps: int
) -> None:
    before = str(milestone.status)
    now = utcnow()
    milestone.status, milestone.funded_at, milestone.updated_at = MilestoneStatus.FUNDED, now, now
    milestone.payment_intent_id, milestone.charge_id = payment.id, payment.charge_id
    milestone.fee_bps, milestone.last_payment_error = fee_bps, ""
    _audit(
        session,
        actor,
        "milestone.funded",
        contract,
        milestone,
        before,
        amount=_money(milestone),
        payment_intent=payment.id,
    )
    notify_org(
        session,
        contract.vendor_org_id,
        "milestone_funded",
        f"Milestone {milestone.number} “{milestone.title}” is funded ({_money(milestone)}): "
        "the platform holds the money until the buyer accepts your delivery.",
        contract_link(contract),
    )
    settle(session, actor, contract)


# ------------------------------------------------------------------------------------------------ refunds


def _refund(
    session: Session,
    gateway: StripeGateway,
    actor,
    contract: Contract,
    milestone: Milestone,
    payment_intent_id: str,
    amount: int,
    idempotency_key: str,
    note: str,
) -> None:
    if amount <= 0 or amount > refundable_on(session, payment_intent_id):
        raise PaymentError("Nothing is left to refund on this payment.")
    try:
        refund = gateway.create_refund(
            payment_intent_id=payment_intent_id,
            amount=amount,
            metadata=_metadata(contract, milestone),
            idempotency_key=idempotency_key,
        )
    except GatewayError as error:
        raise _fail(error) from error
    if not _recorded(session, EntryKind.REFUND, refund.id):  # a retry that Stripe answered with the same refund
        _book_refund(session, actor, contract, milestone, payment_intent_id, refund, note)


def _book_refund(
    session: Session, actor, contract: Contract, milestone: Milestone, payment_intent_id: str, refund, note: str
) -> None:
    """A refund Stripe made, written once: to the ledger, the audit trail, and the lab's notifications."""
    _record(
        session, contract, milestone, EntryKind.REFUND, refund.amount, refund.id, source=payment_intent_id, note=note
    )
    record_event(
        session,
        actor,
        "payment.refunded",
        "milestone",
        milestone.id,
        after={"refund": refund.id, "amount": _money(milestone, refund.amount), "reason": note},
        buyer_org_id=contract.buyer_org_id,
        vendor_org_id=contract.vendor_org_id,
    )
    notify_org(
        session,
        contract.buyer_org_id,
        "payment_refunded",
        f"{_money(milestone, refund.amount)} refunded for milestone {milestone.number}: {note}",
        contract_link(contract),
    )


def refund_milestone(
    session: Session, gateway: StripeGateway, actor, contract: Contract, milestone: Milestone, reason: str
) -> None:
    """Return what the platform holds for a (locked) milestone to the buyer; the milestone is closed."""
    if milestone.status not in HELD_STATES or not milestone.payment_intent_id:
        raise PaymentError("This milestone holds no money to refund.")
    before = str(milestone.status)
    _refund(
        session,
        gateway,
        actor,
        contract,
        milestone,
        milestone.payment_intent_id,
        refundable_on(session, milestone.payment_intent_id),
        f"refund-{milestone.key}",
        reason,
    )
    now = utcnow()
    milestone.status, milestone.closed_at, milestone.updated_at = MilestoneStatus.REFUNDED, now, now
    milestone.last_payment_error = ""
    _audit(session, actor, "milestone.refunded", contract, milestone, before, amount=_money(milestone))
    notify_org(
        session,
        contract.vendor_org_id,
        "milestone_refunded",
        f"Milestone {milestone.number} “{milestone.title}” was refunded to the buyer: {reason}",
        contract_link(contract),
    )


def refund_part(
    session: Session, gateway: StripeGateway, actor, contract: Contract, milestone: Milestone, amount: int, reason: str
) -> None:
    """Return part of what the platform holds for a (locked) milestone to the buyer, once: the key is the
    milestone's, so a retry after a lost answer gets the same Refund. The milestone stays held for the rest."""
    if milestone.status not in HELD_STATES or not milestone.payment_intent_id:
        raise PaymentError("This milestone holds no money to refund.")
    _refund(
        session,
        gateway,
        actor,
        contract,
        milestone,
        milestone.payment_intent_id,
        amount,
        f"refund-part-{milestone.key}",
        reason,
    )


def split_held(
    session: Session,
    gateway: StripeGateway,
    actor,
    contract: Contract,
    milestone: Milestone,
    vendor_part: int,
    buyer_part: int,
    reason: str,
) -> bool:
    """Divide what the platform holds for a (locked) milestone: the buyer's part refunded, the vendor's paid out
    through the acceptance's release, less the platform fee (a dispute's decision, a contract wound down). True when
    the vendor's part was paid now; False when it waits for the vendor's payout account (or nothing goes to it)."""
    if vendor_part == 0:
        refund_milestone(session, gateway, actor, contract, milestone, reason)
        return False
    if buyer_part > 0:
        refund_part(session, gateway, actor, contract, milestone, buyer_part, reason)
    now = utcnow()
    milestone.payout_minor = vendor_part
    milestone.status, milestone.accepted_at, milestone.updated_at = MilestoneStatus.ACCEPTED, now, now
    return release(session, gateway, actor, contract, milestone)


# Refunds Stripe reports that count as money returned: "pending" ones are on their way (Stripe may still fail
# them, and `payments reconcile` then names the entry); "failed" and "canceled" ones returned nothing.
COUNTED_REFUND_STATES = ("succeeded", "pending")
OUTSIDE_REFUND_NOTE = "Refunded in Stripe, outside the platform."


def _charge_entry(session: Session, payment_intent_id: str) -> LedgerEntry | None:
    return session.execute(
        select(LedgerEntry).where(
            col(LedgerEntry.kind) == EntryKind.CHARGE, col(LedgerEntry.stripe_object_id) == payment_intent_id
        )
    ).scalar_one_or_none()


def _record_stripe_refunds(
    session: Session, gateway: StripeGateway, actor, contract: Contract, milestone: Milestone, payment_intent_id: str
) -> int:
    """Write to the ledger each refund Stripe made on the payment that it lacks; returns how many.

    Our own refunds are recorded when we make them, under their Stripe id, so they are never written twice;
    the ones found here were made in Stripe's Dashboard (or ours, whose recording was rolled back).
    """
    try:
        refunds = gateway.list_refunds(payment_intent_id)
    except GatewayError as error:
        raise _fail(error) from error
    added = 0
    for refund in sorted(refunds, key=lambda found: found.id):
        if refund.status not in COUNTED_REFUND_STATES or _recorded(session, EntryKind.REFUND, refund.id):
            continue
        _book_refund(session, actor, contract, milestone, payment_intent_id, refund, OUTSIDE_REFUND_NOTE)
        added += 1
    return added


def record_refunds(
    session: Session, gateway: StripeGateway, actor, payment_intent_id: str, fee_bps: int
) -> Milestone | None:
    """Record the refunds Stripe has made on one of our payments, as Stripe has them now.

    A held milestone whose payment is refunded in full is closed as refunded, as if the buyer had cancelled it;
    one refunded in part stays held but is not paid out until the rest is settled (release checks). News of a
    refund that comes before the news of its payment records the payment first. Returns the milestone, or
    None if the payment is not ours.
    """
    if _charge_entry(session, payment_intent_id) is None:
        record_payment(session, gateway, actor, payment_intent_id, fee_bps)
    charge = _charge_entry(session, payment_intent_id)
    if charge is None:
        return None
    contract, milestone = cast(tuple[Contract, Milestone], lock_with_contract(session, charge.milestone_id))
    _apply_stripe_refunds(session, gateway, actor, contract, milestone, payment_intent_id)
    return milestone


def _apply_stripe_refunds(
    session: Session, gateway: StripeGateway, actor, contract: Contract, milestone: Milestone, payment_intent_id: str
) -> None:
    """Record the payment's refunds the ledger lacks, and close or hold back the (locked) milestone they hit."""
    if not _record_stripe_refunds(session, gateway, actor, contract, milestone, payment_intent_id):
        return
    if milestone.payment_intent_id != payment_intent_id or milestone.status not in HELD_STATES:
        return  # an extra payment, or money no longer held for it: the ledger says what happened
    left = refundable_on(session, payment_intent_id)
    if left > 0:
        milestone.last_payment_error = (
            f"{_money(milestone, milestone.amount_minor - left)} of this milestone's payment was refunded in "
            "Stripe, outside the platform: it cannot be paid out as agreed. Cancel the milestone to refund the rest."
        )[:500]
        milestone.updated_at = utcnow()
        return
    before = str(milestone.status)
    now = utcnow()
    milestone.status, milestone.closed_at, milestone.updated_at = MilestoneStatus.REFUNDED, now, now
    milestone.last_payment_error = ""
    _audit(
        session,
        actor,
        "milestone.refunded",
        contract,
        milestone,
        before,
        amount=_money(milestone),
        reason=OUTSIDE_REFUND_NOTE,
    )
    notify_org(
        session,
        contract.vendor_org_id,
        "milestone_refunded",
        f"Milestone {milestone.number} “{milestone.title}” was refunded to the buyer: {OUTSIDE_REFUND_NOTE}",
        contract_link(contract),
    )
    settle(session, actor, contract)


# ------------------------------------------------------------------------------------------------ payouts


def payout_account_of(session: Session, org_id: int) -> PayoutAccount | None:
    return session.execute(select(PayoutAccount).where(col(PayoutAccount.org_id) == org_id)).scalar_one_or_none()


def payouts_ready(session: Session, org_id: int) -> bool:
    """Whether the vendor's payout account takes payouts (the contract page says so), kept between transactions until
    a payout account changes (under that table's own counter); a transaction that wrote one reads it afresh."""

    def read() -> bool:
        account = payout_account_of(session, org_id)
        return bool(account and account.payouts_ready)

    return transaction_cache.shared_unless_written(session, ("payments.payouts_ready", org_id), {"payoutaccount"}, read)


def release(session: Session, gateway: StripeGateway, actor, contract: Contract, milestone: Milestone) -> bool:
    """Pay the (locked) accepted milestone to the vendor, less the platform fee. False when it must wait.

    It waits while the vendor has no payout account ready; the buyer's acceptance stands meanwhile.
    """
    if milestone.status != MilestoneStatus.ACCEPTED:
        return False
    # After a dispute an admin may have given the vendor a part (the rest refunded): that part is paid out.
    base = milestone.amount_minor if milestone.payout_minor is None else milestone.payout_minor
    if milestone.payment_intent_id and refundable_on(session, milestone.payment_intent_id) != base:
        # Part of the payment was refunded in Stripe: paying the vendor and the fee now would pay out money
        # the platform no longer holds.
        milestone.last_payment_error = (
            milestone.last_payment_error or "The platform no longer holds this milestone's whole payment."
        )
        return False
    account = payout_account_of(session, contract.vendor_org_id)
    if account is None or not account.payouts_ready or not account.stripe_account_id:
        return False
    payout = split_payout(base, milestone.fee_bps or 0)
    transfer_id = cast(str, milestone.payment_intent_id)
    # A decided dispute's payout has its own key: an earlier attempt for the whole amount may be on record at Stripe.
    release_key = f"release-{milestone.key}" if milestone.payout_minor is None else f"release-decided-{milestone.key}"
    try:
        if payout.vendor_minor > 0:
            transfer = gateway.create_transfer(
                amount=payout.vendor_minor,
                currency=milestone.currency,
                destination=account.stripe_account_id,
                source_charge_id=milestone.charge_id,
                transfer_group=_transfer_group(contract),
                metadata=_metadata(contract, milestone),
                idempotency_key=release_key,
            )
            transfer_id = transfer.id
            if not _recorded(session, EntryKind.TRANSFER, transfer.id):
                _record(
                    session,
                    contract,
                    milestone,
                    EntryKind.TRANSFER,
                    transfer.amount,
                    transfer.id,
                    source=milestone.charge_id,
                )
    except GatewayError as error:
        milestone.last_payment_error = f"The payout failed: {error}"[:500]
        return False
    if not _recorded(session, EntryKind.PLATFORM_FEE, transfer_id):
        _record(
            session,
            contract,
            milestone,
            EntryKind.PLATFORM_FEE,
            payout.fee_minor,
            transfer_id,
            source=milestone.payment_intent_id,
            fee_bps=milestone.fee_bps,
        )
    now = utcnow()
    milestone.status, milestone.released_at, milestone.closed_at = MilestoneStatus.RELEASED, now, now
    milestone.updated_at, milestone.last_payment_error = now, ""
    _audit(
        session,
        actor,
        "milestone.released",
        contract,
        milestone,
        str(MilestoneStatus.ACCEPTED),
        paid_to_vendor=_money(milestone, payout.vendor_minor),
        platform_fee=_money(milestone, payout.fee_minor),
        transfer=transfer_id,
    )
    notify_org(
        session,
        contract.vendor_org_id,
        "milestone_paid",
        f"Paid: {_money(milestone, payout.vendor_minor)} for milestone {milestone.number} "
        f"({_money(milestone, base)} less the platform fee of {_money(milestone, payout.fee_minor)}).",
        contract_link(contract),
    )
    settle(session, actor, contract)
    return True


def release_waiting(session: Session, gateway: StripeGateway, actor, vendor_org_id: int) -> int:
    """Pay every accepted milestone of the vendor that waited for its payout account; returns how many."""
    waiting = (
        session.execute(
            select(col(Milestone.id))
            .join(Contract, col(Contract.id) == Milestone.contract_id)
            .where(col(Contract.vendor_org_id) == vendor_org_id, col(Milestone.status) == MilestoneStatus.ACCEPTED)
            .order_by(col(Milestone.id))
        )
        .scalars()
        .all()
    )
    paid = 0
    for milestone_id in waiting:
        contract, milestone = cast(tuple[Contract, Milestone], lock_with_contract(session, milestone_id))
        paid += release(session, gateway, actor, contract, milestone)
    return paid


# ------------------------------------------------------------------------------------------------ payout accounts


def start_onboarding(session: Session, gateway: StripeGateway, user: User, *, refresh_url: str, return_url: str) -> str:
    """The Stripe onboarding link for the vendor's Express account, made once per organisation."""
    if not user.is_vendor or user.org_id is None:
        raise PaymentError("Only vendors connect a payout account.")
    org = session.execute(
        select(Organization).where(col(Organization.id) == user.org_id).with_for_update()
    ).scalar_one()
    account = payout_account_of(session, org.id)
    if account is None:
        account = PayoutAccount(org_id=org.id)
        session.add(account)
        session.flush()
    try:
        if account.stripe_account_id is None:
            created = gateway.create_express_account(
                email=user.email,
                metadata={"organization_id": str(org.id)},
                idempotency_key=f"payout-account-{account.key}",
            )
            account.stripe_account_id = created.id
            record_event(
                session,
                user,
                "payout_account.created",
                "organization",
                org.id,
                after={"stripe_account": created.id},
                vendor_org_id=org.id,
            )
            session.flush()
        return gateway.create_onboarding_link(
            account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
        )
    except GatewayError as error:
        raise _fail(error) from error


def refresh_payout_account(session: Session, gateway: StripeGateway, actor, stripe_account_id: str) -> int:
    """Update our copy of a vendor's payout account from Stripe; once ready, pay what waited for it.

    Returns how many milestones were paid. An account that is not ours changes nothing.
    """
    account = session.execute(
        select(PayoutAccount).where(col(PayoutAccount.stripe_account_id) == stripe_account_id).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        return 0
    try:
        found = gateway.retrieve_account(stripe_account_id)
    except GatewayError as error:
        raise _fail(error) from error
    if (account.details_submitted, account.payouts_ready) != (found.details_submitted, found.payouts_ready):
        before = {"payouts_ready": account.payouts_ready}
        account.details_submitted, account.payouts_ready = found.details_submitted, found.payouts_ready
        account.updated_at = utcnow()
        record_event(
            session,
            actor,
            "payout_account.updated",
            "organization",
            account.org_id,
            before=before,
            after={"payouts_ready": found.payouts_ready},
            vendor_org_id=account.org_id,
        )
    session.flush()
    return release_waiting(session, gateway, actor, account.org_id) if account.payouts_ready else 0


# ------------------------------------------------------------------------------------------------ statements


@dataclass
class StatementLine:
    entry: LedgerEntry
    job_title: str
    milestone_number: int
    buyer: str
    vendor: str


@dataclass
class Totals:
    currency: str
    charged: int = 0
    refunded: int = 0
    paid_out: int = 0
    fees: int = 0

    @property
    def held(self) -> int:
        return self.charged - self.refunded - self.paid_out - self.fees


@dataclass
class Statement:
    lines: list[StatementLine]
    totals: list[Totals] = field(default_factory=list)


def statement(session: Session, user: User, contract_id: int | None = None) -> Statement:
    """Every money movement on the user's organisation's contracts (an admin: on all), newest first."""
    query = (
        select(LedgerEntry, col(Job.title), col(Milestone.number))
        .join(Contract, col(Contract.id) == LedgerEntry.contract_id)
        .join(Job, col(Job.id) == Contract.job_id)
        .join(Milestone, col(Milestone.id) == LedgerEntry.milestone_id)
        .order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
    )
    if not user.is_admin:
        query = query.where((col(LedgerEntry.buyer_org_id) == user.org_id) | (LedgerEntry.vendor_org_id == user.org_id))
    if contract_id is not None:
        query = query.where(col(LedgerEntry.contract_id) == contract_id)
    rows = session.execute(query).all()
    org_ids = {r[0].buyer_org_id for r in rows} | {r[0].vendor_org_id for r in rows}
    names = (
        dict(
            session.execute(
                select(col(Organization.id), col(Organization.name)).where(col(Organization.id).in_(org_ids))
            ).all()
        )
        if org_ids
        else {}
    )
    totals: dict[str, Totals] = defaultdict(lambda: Totals(""))
    lines = []
    for entry, title, number in rows:
        lines.append(StatementLine(entry, title, number, names[entry.buyer_org_id], names[entry.vendor_org_id]))
        total = totals[entry.currency]
        total.currency = entry.currency
        attribute = {
            EntryKind.CHARGE: "charged",
            EntryKind.REFUND: "refunded",
            EntryKind.TRANSFER: "paid_out",
            EntryKind.PLATFORM_FEE: "fees",
        }[EntryKind(entry.kind)]
        setattr(total, attribute, getattr(total, attribute) + entry.amount_minor)
    return Statement(lines, [totals[c] for c in sorted(totals)])
