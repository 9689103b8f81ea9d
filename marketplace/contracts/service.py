"""Contracts after an award: milestones, funding, delivery, acceptance, cancellation, flags, ratings.

Only the contract's buyer organisation and vendor organisation (and admins, read-only) may know a contract
exists: anyone else gets NotVisible (404). A party acting outside its role gets WrongRole (403). Money moves
through marketplace.payments.service; this module decides when it may.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache, visibility
from marketplace.accounts.models import User
from marketplace.audit.service import record_event
from marketplace.contracts.deadlines import lab_decides_by, silence_accepted
from marketplace.contracts.lifecycle import (
    contract_link,
    lock_contract,
    lock_milestone,
    milestones_of,
    settle,
)
from marketplace.contracts.models import (
    HELD_STATES,
    Contract,
    ContractKind,
    ContractStatus,
    Delivery,
    DeliveryDecision,
    DeliveryFile,
    Milestone,
    MilestoneStatus,
    Rating,
)
from marketplace.db_types import utcnow
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import Refusal
from marketplace.jobs.models import Job
from marketplace.money import MAX_AMOUNT_MINOR, format_money
from marketplace.notifications.service import notify_org
from marketplace.payments import service as payments
from marketplace.payments.fees import split_payout
from marketplace.payments.gateway import GatewayError, StripeGateway
from marketplace.playbook.models import ContractPlaybook, PlaybookStatus
from marketplace.webhooks import events as webhook_events

MAX_MILESTONES = 12
MAX_DELIVERY_FILES = 10
MAX_DELIVERY_FILE_BYTES = 10 * 1024 * 1024
OPEN_CONTRACT = (ContractStatus.ACTIVE, ContractStatus.FLAGGED, ContractStatus.PAUSED)


class ContractError(Refusal):
    """A refusal the user can understand; `field` names the form field it belongs to, if any."""


class WrongRole(ContractError):
    """The user is a party to the contract, but this is the other side's action: answered as 403."""


def _as_contract_error(error: payments.PaymentError) -> ContractError:
    return ContractError(str(error), error.field)


# ------------------------------------------------------------------------------------------------ access


def contract_filter(user: User):
    """SQL condition for the contracts this user may know exist."""
    if user.is_admin:
        return col(Contract.id).is_not(None)
    if user.org_id is None:
        return col(Contract.id).is_(None)
    return (Contract.buyer_org_id == user.org_id) | (Contract.vendor_org_id == user.org_id)


def get_contract(session: Session, user: User, contract_id: int) -> Contract:
    """The contract, if the user's organisation is a party to it (or the user is an admin). 404 otherwise."""
    contract = session.execute(
        select(Contract).where(col(Contract.id) == contract_id, contract_filter(user))
    ).scalar_one_or_none()
    if contract is None:
        raise visibility.NotVisible(f"contract {contract_id}")
    return contract


def _on_side(session: Session, user: User, contract_id: int, side: str) -> Contract:
    """The contract, unlocked, if this is the user's side of it. 404 for strangers, 403 for the other side or
    admins."""
    contract = get_contract(session, user, contract_id)
    org_id = contract.buyer_org_id if side == "buyer" else contract.vendor_org_id
    if user.is_admin or user.org_id != org_id or str(user.role) != side:
        raise WrongRole(f"Only the contract's {side} can do this.")
    return contract


def _as_party(session: Session, user: User, contract_id: int, side: str) -> Contract:
    """The contract, locked, for an action of one side. 404 for strangers, 403 for the other side or admins."""
    return cast(Contract, lock_contract(session, _on_side(session, user, contract_id, side).id))


def check_side(session: Session, user: User, contract_id: int, side: str) -> Contract:
    """The contract, if this is the user's side of it: NotVisible (404) for strangers, WrongRole (403) else."""
    return _as_party(session, user, contract_id, side)


def _milestone_of(session: Session, contract: Contract, milestone_id: int) -> Milestone:
    milestone = lock_milestone(session, milestone_id)
    if milestone is None or milestone.contract_id != contract.id:
        raise visibility.NotVisible(f"milestone {milestone_id}")
    return milestone


def _require_open(contract: Contract, *, active: bool = True) -> None:
    if contract.status in (ContractStatus.ENDED, ContractStatus.COMPLETED):
        raise ContractError(f"This contract is {contract.status}.")
    if active and contract.status in (ContractStatus.FLAGGED, ContractStatus.PAUSED):
        # The same words to both sides: the vendor may not learn why (the buyer's page shows the finding).
        raise ContractError(
            "This contract is on hold for the buyer's review: nothing is funded, delivered or paid "
            "until the buyer decides whether it goes on."
        )


def _tell(session: Session, contract: Contract, side: str, kind: str, message: str) -> None:
    org_id = contract.buyer_org_id if side == "buyer" else contract.vendor_org_id
    notify_org(session, org_id, kind, message, contract_link(contract))


def audit_contract(
    session: Session,
    user,
    action: str,
    contract: Contract,
    milestone: Milestone | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """An audit record about a contract (or one of its milestones), visible to both its sides."""
    subject = ("milestone", milestone.id) if milestone is not None else ("contract", contract.id)
    record_event(
        session,
        user,
        action,
        *subject,
        before=before,
        after=after,
        buyer_org_id=contract.buyer_org_id,
        vendor_org_id=contract.vendor_org_id,
    )


def _label(milestone: Milestone) -> str:
    return f"milestone {milestone.number} “{milestone.title}”"


# ------------------------------------------------------------------------------------------------ reading


# A vendor learns only what it must to act: that the buyer holds the contract for review, never why.
ON_HOLD = "on_hold"


def status_seen_by(contract: Contract, side: str) -> str:
    """The contract's state as one side may know it: a flagged or paused contract is only "on hold" to the
    vendor (screening's findings, rivals and policy are the buyer's)."""
    if side == "vendor" and contract.status in (ContractStatus.FLAGGED, ContractStatus.PAUSED):
        return ON_HOLD
    return str(contract.status)


@dataclass
class ContractRow:
    contract: Contract
    job: Job
    buyer: str
    vendor: str
    status: str = ""


def contracts_for(session: Session, user: User) -> list[ContractRow]:
    """The contracts of the user's organisation (every contract for an admin), newest first."""
    rows = session.execute(
        select(Contract, Job)
        .join(Job, col(Job.id) == Contract.job_id)
        .where(contract_filter(user))
        .order_by(col(Contract.created_at).desc(), col(Contract.id).desc())
    ).all()
    org_ids = {c.buyer_org_id for c, _ in rows} | {c.vendor_org_id for c, _ in rows}
    names = visibility.organization_names(session, org_ids)
    side = "vendor" if user.is_vendor else "buyer"
    return [
        ContractRow(c, job, names[c.buyer_org_id], names[c.vendor_org_id], status_seen_by(c, side)) for c, job in rows
    ]


@dataclass
class DeliveryView:
    delivery: Delivery
    files: list[DeliveryFile]
    # Who delivered (for the vendor) and who decided (for the lab), by name: colleagues only (visibility).
    delivered_by: str = ""
    decided_by: str = ""


@dataclass
class MilestoneView:
    milestone: Milestone
    deliveries: list[DeliveryView]
    actions: set[str]
    payout_vendor_minor: int | None = None
    payout_fee_minor: int | None = None


@dataclass
class ContractPage:
    contract: Contract
    job: Job
    buyer: str
    vendor: str
    side: str  # buyer, vendor or admin
    milestones: list[MilestoneView]
    statement: payments.Statement
    contract_actions: set[str] = field(default_factory=set)
    rating: Rating | None = None
    payouts_ready: bool = False

    @property
    def status(self) -> str:
        return status_seen_by(self.contract, self.side)


def _milestone_actions(
    contract: Contract, milestone: Milestone, side: str, waiting: Delivery | None = None
) -> set[str]:
    """What the side may do to the milestone now; `waiting`, the delivery awaiting the lab's decision: past its
    deadline the lab may still accept it, no longer reject it (reject_delivery)."""
    if contract.status in (ContractStatus.ENDED, ContractStatus.COMPLETED):
        return set()
    status, active = milestone.status, contract.status == ContractStatus.ACTIVE
    if side == "buyer":
        actions = set()
        if status == MilestoneStatus.PENDING and active:
            actions |= {"fund", "cancel"} | ({"check_payment"} if milestone.checkout_session_id else set())
        if status in (MilestoneStatus.FUNDED, MilestoneStatus.REJECTED):
            actions.add("cancel")
        if status == MilestoneStatus.DELIVERED and active:
            actions.add("accept")
            if waiting is None or not silence_accepted(waiting):
                actions.add("reject")
        return actions
    if side == "vendor":
        if status in (MilestoneStatus.FUNDED, MilestoneStatus.REJECTED) and active:
            return {"deliver"}
        if status == MilestoneStatus.ACCEPTED:
            return {"retry_payout"}
    return set()


def _contract_actions(contract: Contract, milestones: list[Milestone], side: str) -> set[str]:
    if side != "buyer":
        return set()
    actions = set()
    if contract.status == ContractStatus.ACTIVE and all(
        m.status in (MilestoneStatus.PENDING, MilestoneStatus.CANCELLED) for m in milestones
    ):
        actions.add("plan")
    if contract.status == ContractStatus.FLAGGED:
        actions |= {"continue", "pause", "end"}
    if contract.status == ContractStatus.PAUSED:
        actions |= {"resume", "end"}
    if contract.status == ContractStatus.COMPLETED:
        actions.add("rate")
    return actions


def _side(user: User, contract: Contract) -> str:
    if user.is_admin:
        return "admin"
    return "buyer" if user.org_id == contract.buyer_org_id else "vendor"


# What a contract's page is built from besides the contract itself: kept between requests until one of these tables
# changes (marketplace.transaction_cache), as plain values. Who may see the contract, and what either side may do now
# (which the clock decides too), are decided on every request.
CONTRACT_PAGE_TABLES = ("milestone", "delivery", "deliveryfile", "rating", "job")


@dataclass(frozen=True)
class _PageRows:
    milestones: tuple
    deliveries: tuple  # the newest first
    files: tuple
    rating: Any  # a plain Rating, or None
    job: Any  # a plain Job


def _page_rows(session: Session, contract: Contract) -> _PageRows:
    return transaction_cache.shared_unless_written(
        session, ("contracts.page", contract.id), CONTRACT_PAGE_TABLES, lambda: _read_page_rows(session, contract)
    )


def _read_page_rows(session: Session, contract: Contract) -> _PageRows:
    milestones = milestones_of(session, contract.id)
    deliveries = (
        session.execute(
            select(Delivery)
            .where(col(Delivery.milestone_id).in_([m.id for m in milestones]))
            .order_by(col(Delivery.delivered_at).desc(), col(Delivery.id).desc())
        )
        .scalars()
        .all()
        if milestones
        else []
    )
    files = (
        session.execute(
            select(DeliveryFile)
            .where(col(DeliveryFile.delivery_id).in_([d.id for d in deliveries]))
            .order_by(col(DeliveryFile.id))
        )
        .scalars()
        .all()
        if deliveries
        else []
    )
    rating = session.execute(select(Rating).where(col(Rating.contract_id) == contract.id)).scalar_one_or_none()
    plain = transaction_cache.plain
    return _PageRows(
        tuple(map(plain, milestones)),
        tuple(map(plain, deliveries)),
        tuple(map(plain, files)),
        plain(rating),
        plain(session.get(Job, contract.job_id)),
    )


def contract_page(session: Session, user: User, contract_id: int) -> ContractPage:
    """Everything the contract's page shows the user. Raises NotVisible (404) for strangers."""
    contract = get_contract(session, user, contract_id)
    side = _side(user, contract)
    rows = _page_rows(session, contract)
    milestones, deliveries, files = rows.milestones, rows.deliveries, rows.files
    people = visibility.names_of(
        session, [d.delivered_by_id for d in deliveries] + [d.decided_by_id for d in deliveries]
    )
    vendor_names = visibility.shows_names_of(user, contract.vendor_org_id)
    lab_names = visibility.shows_names_of(user, contract.buyer_org_id)
    waiting: dict[int, Delivery] = {}
    for delivery in deliveries:  # the newest first: the one a decision is about
        if delivery.decision == DeliveryDecision.WAITING:
            waiting.setdefault(delivery.milestone_id, delivery)
    views = []
    for milestone in milestones:
        view = MilestoneView(
            milestone,
            [
                DeliveryView(
                    d,
                    [f for f in files if f.delivery_id == d.id],
                    delivered_by=people.get(d.delivered_by_id or 0, "") if vendor_names else "",
                    decided_by=people.get(d.decided_by_id or 0, "") if lab_names else "",
                )
                for d in deliveries
                if d.milestone_id == milestone.id
            ],
            _milestone_actions(contract, milestone, side, waiting.get(milestone.id)),
        )
        if milestone.fee_bps is not None:
            base = milestone.amount_minor if milestone.payout_minor is None else milestone.payout_minor
            split = split_payout(base, milestone.fee_bps)
            view.payout_vendor_minor, view.payout_fee_minor = split.vendor_minor, split.fee_minor
        views.append(view)
    names = visibility.organization_names(session, {contract.buyer_org_id, contract.vendor_org_id})
    rating = rows.rating
    actions = _contract_actions(contract, list(milestones), side)
    if rating is not None:
        actions.discard("rate")
    return ContractPage(
        contract,
        cast(Job, rows.job),
        names[contract.buyer_org_id],
        names[contract.vendor_org_id],
        side,
        views,
        payments.statement(session, user, contract.id),
        actions,
        rating,
        payments.payouts_ready(session, contract.vendor_org_id),
    )


def contract_for_job(session: Session, user: User, job_id: int) -> Contract | None:
    """The contract made by the job's award, if the user may see it."""
    return session.execute(
        select(Contract).where(
            col(Contract.job_id) == job_id, col(Contract.kind) == ContractKind.FULL, contract_filter(user)
        )
    ).scalar_one_or_none()


def get_delivery_file(session: Session, user: User, contract_id: int, file_id: int) -> DeliveryFile:
    """A file delivered on the contract. Raises NotVisible (404) for anyone but its parties and admins."""
    contract = get_contract(session, user, contract_id)
    found = session.execute(
        select(DeliveryFile)
        .join(Delivery, col(Delivery.id) == DeliveryFile.delivery_id)
        .join(Milestone, col(Milestone.id) == Delivery.milestone_id)
        .where(col(DeliveryFile.id) == file_id, col(Milestone.contract_id) == contract.id)
    ).scalar_one_or_none()
    if found is None:
        raise visibility.NotVisible(f"file {file_id}")
    return found


# ------------------------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class PlannedMilestone:
    title: str
    amount_minor: int
    due_date: date | None = None


def plan_milestones(
    session: Session,
    user: User,
    gateway: StripeGateway | None,
    contract_id: int,
    plan: list[PlannedMilestone],
    *,
    fee_bps: int,
) -> list[Milestone]:
    """Replace the contract's milestones with the buyer's plan; the amounts must add up to the total.

    Allowed while nothing is funded; an unpaid Checkout started for an old milestone is closed first.
    """
    contract = _as_party(session, user, contract_id, "buyer")
    _require_open(contract)
    if not plan:
        raise ContractError("Give at least one milestone.", "milestones")
    if len(plan) > MAX_MILESTONES:
        raise ContractError(f"A contract has at most {MAX_MILESTONES} milestones.", "milestones")
    for row in plan:
        if not row.title.strip():
            raise ContractError("Give each milestone a title.", "milestones")
        if not 0 < row.amount_minor <= MAX_AMOUNT_MINOR:
            raise ContractError("Each milestone needs an amount above zero.", "milestones")
    total = sum(row.amount_minor for row in plan)
    if total != contract.total_minor:
        difference = format_money(abs(contract.total_minor - total), contract.currency)
        raise ContractError(
            f"The milestones add up to {format_money(total, contract.currency)}, not the awarded "
            f"{format_money(contract.total_minor, contract.currency)} ({difference} "
            f"{'short' if total < contract.total_minor else 'over'}).",
            "milestones",
        )
    old = milestones_of(session, contract.id)
    for milestone in old:
        lock_milestone(session, milestone.id)
        if milestone.checkout_session_id and milestone.status == MilestoneStatus.PENDING:
            if gateway is None:
                raise ContractError("Payments are not configured, so the started payment cannot be closed.")
            try:
                payments.close_checkout(session, gateway, user, milestone, fee_bps)
            except payments.PaymentError as error:
                raise _as_contract_error(error) from error
        if milestone.status not in (
            MilestoneStatus.PENDING,
            MilestoneStatus.CANCELLED,
        ) or payments.entries_for_milestone(session, milestone.id):
            raise ContractError("Milestones can no longer change: money has moved on one of them.", "milestones")
    before = [{"title": m.title, "amount": format_money(m.amount_minor, m.currency)} for m in old]
    for milestone in old:
        session.delete(milestone)
    session.flush()
    created = []
    for number, row in enumerate(plan, start=1):
        milestone = Milestone(
            contract_id=contract.id,
            number=number,
            title=row.title.strip()[:200],
            amount_minor=row.amount_minor,
            currency=contract.currency,
            due_date=row.due_date,
        )
        session.add(milestone)
        created.append(milestone)
    session.flush()
    audit_contract(
        session,
        user,
        "contract.milestones_planned",
        contract,
        None,
        before={"milestones": before},
        after={"milestones": [{"title": m.title, "amount": format_money(m.amount_minor, m.currency)} for m in created]},
    )
    _tell(
        session,
        contract,
        "vendor",
        "milestones_planned",
        f"The buyer split the contract into {len(created)} milestone{'s' if len(created) != 1 else ''}.",
    )
    session.flush()
    return created


# ------------------------------------------------------------------------------------------------ funding


def funding_url(
    session: Session,
    user: User,
    gateway: StripeGateway,
    contract_id: int,
    milestone_id: int,
    *,
    success_url: str,
    cancel_url: str,
    fee_bps: int,
) -> str | None:
    """Where the buyer pays the milestone (Stripe Checkout); None when Stripe says it is already paid."""
    contract = _as_party(session, user, contract_id, "buyer")
    milestone = _milestone_of(session, contract, milestone_id)
    _require_open(contract)
    if milestone.status != MilestoneStatus.PENDING:
        raise ContractError(f"Milestone {milestone.number} is {milestone.status}: it needs no funding.")
    try:
        return payments.checkout_url(
            session, gateway, user, contract, milestone, success_url=success_url, cancel_url=cancel_url, fee_bps=fee_bps
        )
    except payments.PaymentError as error:
        raise _as_contract_error(error) from error


def check_payment(
    session: Session, user: User, gateway: StripeGateway, contract_id: int, milestone_id: int, *, fee_bps: int
) -> bool:
    """Ask Stripe whether the milestone's Checkout was paid, in case its webhook is late. True once funded."""
    contract = _as_party(session, user, contract_id, "buyer")
    milestone = _milestone_of(session, contract, milestone_id)
    if milestone.status == MilestoneStatus.PENDING and milestone.checkout_session_id:
        try:
            found = gateway.retrieve_checkout_session(milestone.checkout_session_id)
            if found.status == "complete" and found.payment_intent_id:
                payments.record_payment(session, gateway, user, found.payment_intent_id, fee_bps)
        except (GatewayError, payments.PaymentError) as error:
            raise ContractError(f"Stripe: {error}") from error
    return milestone.status != MilestoneStatus.PENDING


# ------------------------------------------------------------------------------------------------ delivery


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def _display_name(filename: str) -> str:
    return display_name(filename, "delivery")


def _content_type(value: str) -> str:
    text = (value or "").split(";")[0].strip().lower()
    if not text or len(text) > 100 or text.count("/") != 1 or any(c.isspace() for c in text):
        return "application/octet-stream"
    return text


def deliver(
    session: Session,
    user: User,
    contract_id: int,
    milestone_id: int,
    note: str,
    uploads: list[Upload],
    folder: Path | None,
) -> Delivery:
    """The vendor marks a funded milestone delivered, with a note and files; the buyer then decides."""
    contract = _as_party(session, user, contract_id, "vendor")
    milestone = _milestone_of(session, contract, milestone_id)
    _require_open(contract)
    if milestone.status not in (MilestoneStatus.FUNDED, MilestoneStatus.REJECTED):
        reason = "it is not funded yet" if milestone.status == MilestoneStatus.PENDING else f"it is {milestone.status}"
        raise ContractError(f"Milestone {milestone.number} cannot be delivered: {reason}.")
    note = (note or "").strip()
    if not note:
        raise ContractError("Say what you are delivering.", "note")
    if len(note) > 8000:
        raise ContractError("Keep the note under 8,000 characters.", "note")
    if len(uploads) > MAX_DELIVERY_FILES:
        raise ContractError(f"Attach at most {MAX_DELIVERY_FILES} files.", "files")
    for upload in uploads:
        if len(upload.data) > MAX_DELIVERY_FILE_BYTES:
            raise ContractError(f"“{_display_name(upload.filename)}” is larger than 10 MB.", "files")
    delivery = Delivery(milestone_id=milestone.id, note=note, delivered_by_id=user.id)
    session.add(delivery)
    session.flush()
    for upload in uploads:
        stored_name = store_private_file(cast(Path, folder), upload.data)
        session.add(
            DeliveryFile(
                delivery_id=delivery.id,
                filename=_display_name(upload.filename),
                stored_name=stored_name,
                content_type=_content_type(upload.content_type),
                size_bytes=len(upload.data),
            )
        )
    before = str(milestone.status)
    milestone.status, milestone.updated_at = MilestoneStatus.DELIVERED, utcnow()
    audit_contract(
        session,
        user,
        "milestone.delivered",
        contract,
        milestone,
        {"status": before},
        {"status": str(milestone.status), "delivery_id": delivery.id, "files": len(uploads)},
    )
    _tell(
        session,
        contract,
        "buyer",
        "milestone_delivered",
        f"The vendor delivered {_label(milestone)}: accept it to pay the vendor, or reject it with a reason.",
    )
    webhook_events.delivery_made(session, contract, milestone, delivery)
    settle(session, user, contract)
    return delivery


def _waiting_delivery(session: Session, milestone: Milestone) -> Delivery:
    return cast(
        Delivery,
        session.execute(
            select(Delivery)
            .where(col(Delivery.milestone_id) == milestone.id, col(Delivery.decision) == DeliveryDecision.WAITING)
            .order_by(col(Delivery.id).desc())
        )
        .scalars()
        .first(),
    )


def _delivery_to_decide(
    session: Session, user: User, contract_id: int, milestone_id: int
) -> tuple[Contract, Milestone]:
    """The buyer's open contract and its milestone whose delivery waits for the buyer's decision."""
    contract = _as_party(session, user, contract_id, "buyer")
    milestone = _milestone_of(session, contract, milestone_id)
    _require_open(contract)
    if milestone.status != MilestoneStatus.DELIVERED:
        raise ContractError(f"Milestone {milestone.number} has no delivery waiting for your decision.")
    return contract, milestone


def accept_delivery(
    session: Session, user: User, gateway: StripeGateway | None, contract_id: int, milestone_id: int
) -> bool:
    """The buyer accepts the delivery; the vendor is paid less the platform fee. False when the payout waits
    for the vendor's payout account (the acceptance stands)."""
    contract, milestone = _delivery_to_decide(session, user, contract_id, milestone_id)
    if gateway is None:
        raise ContractError("Payments are not configured: the vendor could not be paid.")
    delivery = _waiting_delivery(session, milestone)
    now = utcnow()
    delivery.decision, delivery.decided_by_id, delivery.decided_at = DeliveryDecision.ACCEPTED, user.id, now
    milestone.status, milestone.accepted_at, milestone.updated_at = MilestoneStatus.ACCEPTED, now, now
    audit_contract(
        session,
        user,
        "milestone.accepted",
        contract,
        milestone,
        {"status": str(MilestoneStatus.DELIVERED)},
        {"status": str(MilestoneStatus.ACCEPTED), "delivery_id": delivery.id},
    )
    _tell(session, contract, "vendor", "delivery_accepted", f"The buyer accepted your delivery of {_label(milestone)}.")
    paid = payments.release(session, gateway, user, contract, milestone)
    if not paid and milestone.last_payment_error:
        _tell(
            session,
            contract,
            "vendor",
            "payout_held",
            f"Payment for {_label(milestone)} is on hold: {milestone.last_payment_error}",
        )
    elif not paid:
        _tell(
            session,
            contract,
            "vendor",
            "payout_waiting",
            f"Payment for {_label(milestone)} is waiting: connect or finish your payout account to receive it.",
        )
    settle(session, user, contract)
    return paid


def reject_delivery(session: Session, user: User, contract_id: int, milestone_id: int, reason: str) -> Delivery:
    """The buyer rejects the delivery with a reason; the money stays held and the vendor can deliver again."""
    contract, milestone = _delivery_to_decide(session, user, contract_id, milestone_id)
    reason = (reason or "").strip()
    if not reason:
        raise ContractError("Tell the vendor why you reject the delivery.", "reason")
    if len(reason) > 4000:
        raise ContractError("Keep the reason under 4,000 characters.", "reason")
    delivery = _waiting_delivery(session, milestone)
    now = utcnow()
    if silence_accepted(delivery, now):
        raise ContractError(
            f"The time to decide on this delivery ended {lab_decides_by(delivery):%Y-%m-%d %H:%M} UTC: your silence "
            "accepted it, and its payment is released to the vendor by itself. You can still accept it now."
        )
    delivery.decision, delivery.reason, delivery.decided_by_id, delivery.decided_at = (
        DeliveryDecision.REJECTED,
        reason,
        user.id,
        now,
    )
    milestone.status, milestone.updated_at = MilestoneStatus.REJECTED, now
    audit_contract(
        session,
        user,
        "milestone.rejected",
        contract,
        milestone,
        {"status": str(MilestoneStatus.DELIVERED)},
        {"status": str(MilestoneStatus.REJECTED), "reason": reason},
    )
    _tell(
        session,
        contract,
        "vendor",
        "delivery_rejected",
        f"The buyer rejected your delivery of {_label(milestone)}: {reason} You can deliver again.",
    )
    settle(session, user, contract)
    return delivery


def retry_payout(session: Session, user: User, gateway: StripeGateway, contract_id: int, milestone_id: int) -> bool:
    """The vendor asks again for the payout of an accepted milestone (after fixing its payout account).

    The payout account is refreshed (and locked) before the contract and the milestone are: Stripe's webhook
    about the account locks it first too, then the contracts and milestones it pays (docs/concurrency.md).
    """
    contract = get_contract(session, user, contract_id)
    if user.is_admin or user.org_id != contract.vendor_org_id or not user.is_vendor:
        raise WrongRole("Only the contract's vendor can do this.")
    waiting = session.get(Milestone, milestone_id)
    if waiting is None or waiting.contract_id != contract.id:
        raise visibility.NotVisible(f"milestone {milestone_id}")
    if waiting.status == MilestoneStatus.RELEASED:  # paid meanwhile (Stripe's webhook, or a first click)
        raise ContractError(f"Milestone {waiting.number} is paid already.")
    if waiting.status != MilestoneStatus.ACCEPTED:
        raise ContractError(f"Milestone {waiting.number} is not waiting for a payout.")
    account = payments.payout_account_of(session, contract.vendor_org_id)
    if account is not None and account.stripe_account_id:
        payments.refresh_payout_account(session, gateway, user, account.stripe_account_id)
    contract = _as_party(session, user, contract_id, "vendor")
    milestone = _milestone_of(session, contract, milestone_id)
    if milestone.status == MilestoneStatus.ACCEPTED and not payments.release(
        session, gateway, user, contract, milestone
    ):
        raise ContractError(
            milestone.last_payment_error or "Connect your payout account first: the payment waits for it."
        )
    return True


# ------------------------------------------------------------------------------------------------ cancelling


def cancel_milestone(
    session: Session, user: User, gateway: StripeGateway | None, contract_id: int, milestone_id: int, *, fee_bps: int
) -> Milestone:
    """The buyer cancels a milestone before delivery: unfunded, it is dropped; funded, it is refunded."""
    contract = _as_party(session, user, contract_id, "buyer")
    milestone = _milestone_of(session, contract, milestone_id)
    _check_cancellable(contract, milestone, gateway is not None)
    try:
        _close(
            session, user, gateway, contract, milestone, "The buyer cancelled the milestone before delivery.", fee_bps
        )
    except payments.PaymentError as error:
        raise _as_contract_error(error) from error
    settle(session, user, contract)
    return milestone


def _check_cancellable(contract: Contract, milestone: Milestone, payments_on: bool) -> None:
    """Raises ContractError unless the buyer may cancel the milestone now."""
    _require_open(contract, active=False)
    if milestone.status == MilestoneStatus.DELIVERED:
        raise ContractError("The vendor has delivered this milestone: accept or reject the delivery first.")
    if milestone.status == MilestoneStatus.DISPUTED:
        raise ContractError(f"Milestone {milestone.number} is disputed: its money is frozen until an admin decides.")
    if milestone.status not in (MilestoneStatus.PENDING, MilestoneStatus.FUNDED, MilestoneStatus.REJECTED):
        raise ContractError(f"Milestone {milestone.number} is {milestone.status}: it can no longer be cancelled.")
    if not payments_on and (milestone.checkout_session_id or milestone.status != MilestoneStatus.PENDING):
        raise ContractError("Payments are not configured, so this milestone's money cannot be returned now.")


def _close(
    session: Session,
    user,
    gateway: StripeGateway | None,
    contract: Contract,
    milestone: Milestone,
    reason: str,
    fee_bps: int,
) -> None:
    """Cancel a pending milestone (closing its Checkout first) or refund a funded one."""
    if milestone.status == MilestoneStatus.PENDING and gateway is not None:
        payments.close_checkout(session, gateway, user, milestone, fee_bps)
    if milestone.status == MilestoneStatus.PENDING:
        now = utcnow()
        milestone.status, milestone.closed_at, milestone.updated_at = MilestoneStatus.CANCELLED, now, now
        audit_contract(
            session,
            user,
            "milestone.cancelled",
            contract,
            milestone,
            {"status": str(MilestoneStatus.PENDING)},
            {"status": str(MilestoneStatus.CANCELLED), "reason": reason},
        )
        _tell(session, contract, "vendor", "milestone_cancelled", f"{_label(milestone).capitalize()} was cancelled.")
    elif milestone.status in HELD_STATES:
        payments.refund_milestone(session, cast(StripeGateway, gateway), user, contract, milestone, reason)


# ------------------------------------------------------------------------------------------------ flagged contracts


def _set_status(session: Session, user: User, contract: Contract, status: ContractStatus, message: str) -> None:
    before = contract.status
    contract.status = status
    audit_contract(
        session,
        user,
        f"contract.{status}",
        contract,
        None,
        {"status": str(before)},
        {"status": str(status), "flagged_reason": contract.flagged_reason},
    )
    _tell(session, contract, "vendor", f"contract_{status}", message)
    session.flush()


def pause_contract(session: Session, user: User, contract_id: int) -> Contract:
    """The buyer pauses a contract screening flagged: nothing is funded, delivered or paid meanwhile."""
    contract = _as_party(session, user, contract_id, "buyer")
    if contract.status != ContractStatus.FLAGGED:
        raise ContractError("Only a contract flagged by screening can be paused.")
    _set_status(
        session,
        user,
        contract,
        ContractStatus.PAUSED,
        "The buyer put the contract on hold for review. Held money stays held.",
    )
    return contract


PLAYBOOK_RUNNING = (
    "This contract's change-of-control playbook is running: settle it, or go on with the contract giving your "
    "reason, on the playbook's page."
)


def _check_no_playbook_running(session: Session, contract: Contract) -> None:
    running = session.execute(
        select(col(ContractPlaybook.id)).where(
            col(ContractPlaybook.contract_id) == contract.id, col(ContractPlaybook.status) == PlaybookStatus.RUNNING
        )
    ).first()
    if running is not None:
        raise ContractError(PLAYBOOK_RUNNING)


def continue_contract(session: Session, user: User, contract_id: int) -> Contract:
    """The buyer goes on with a flagged or paused contract, knowing the screening finding."""
    contract = _as_party(session, user, contract_id, "buyer")
    if contract.status not in (ContractStatus.FLAGGED, ContractStatus.PAUSED):
        raise ContractError("This contract is not flagged or paused.")
    _check_no_playbook_running(session, contract)
    _set_status(session, user, contract, ContractStatus.ACTIVE, "The buyer continues the contract.")
    return contract


def _check_endable(contract: Contract) -> None:
    if contract.status not in (ContractStatus.FLAGGED, ContractStatus.PAUSED):
        raise ContractError("Only a contract flagged by screening can be ended here.")


def _check_refundable(milestones: list[Milestone], payments_on: bool) -> None:
    disputed = next((m for m in milestones if m.status == MilestoneStatus.DISPUTED), None)
    if disputed is not None:  # its money is frozen until an admin decides (marketplace/disputes)
        raise ContractError(f"Milestone {disputed.number} is disputed: an admin decides where its money goes first.")
    if not payments_on and any(m.checkout_session_id or m.status in HELD_STATES for m in milestones):
        raise ContractError("Payments are not configured, so held money cannot be returned now.")


def end_contract(
    session: Session, user: User, gateway: StripeGateway | None, contract_id: int, *, fee_bps: int
) -> Contract:
    """The buyer ends a flagged or paused contract: what was not yet released is refunded."""
    contract = _as_party(session, user, contract_id, "buyer")
    _check_endable(contract)
    _check_no_playbook_running(session, contract)
    milestones = [cast(Milestone, lock_milestone(session, m.id)) for m in milestones_of(session, contract.id)]
    _check_refundable(milestones, gateway is not None)
    try:
        for milestone in milestones:
            if milestone.status == MilestoneStatus.PENDING or milestone.status in HELD_STATES:
                _close(session, user, gateway, contract, milestone, "The buyer ended the contract.", fee_bps)
    except payments.PaymentError as error:
        raise _as_contract_error(error) from error
    before = contract.status
    contract.status, contract.ended_at = ContractStatus.ENDED, utcnow()
    audit_contract(
        session,
        user,
        "contract.ended",
        contract,
        None,
        {"status": str(before)},
        {"status": str(ContractStatus.ENDED), "flagged_reason": contract.flagged_reason},
    )
    _tell(
        session,
        contract,
        "vendor",
        "contract_ended",
        "The buyer ended the contract; money not yet paid to you was refunded to the buyer.",
    )
    settle(session, user, contract)
    return contract


def close_waiting_deliveries(
    session: Session, user: User, milestone: Milestone, *, accepted: bool, reason: str, now
) -> None:
    """A delivery that waited for the lab's decision when its milestone's money was divided (a dispute decided, a
    contract wound down) is decided with it, not left waiting: accepted when the vendor was paid a part."""
    waiting = session.execute(
        select(Delivery).where(
            col(Delivery.milestone_id) == milestone.id, col(Delivery.decision) == DeliveryDecision.WAITING
        )
    ).scalars()
    for delivery in waiting:
        delivery.decision = DeliveryDecision.ACCEPTED if accepted else DeliveryDecision.REJECTED
        delivery.reason, delivery.decided_by_id, delivery.decided_at = reason[:2000], user.id, now


# Held money a wind-down divides: an accepted milestone is the vendor's already (paid out, or waiting for its payout
# account) and stays as it is.
DIVIDED_STATES = (MilestoneStatus.FUNDED, MilestoneStatus.DELIVERED, MilestoneStatus.REJECTED)


def wind_down(
    session: Session,
    user: User,
    gateway: StripeGateway | None,
    contract: Contract,
    vendor_parts: dict[int, int],
    reason: str,
    *,
    fee_bps: int,
) -> None:
    """End a (locked) contract paying the vendor for the work done (marketplace.playbook): each held milestone is
    divided as `vendor_parts` says (milestone id -> the vendor's part of what is held; the rest refunded to the
    buyer), unfunded ones are dropped, and the contract ends. ContractError when a milestone is disputed (an admin
    decides its money first) or money is held while payments are not configured."""
    milestones = [cast(Milestone, lock_milestone(session, m.id)) for m in milestones_of(session, contract.id)]
    _check_refundable(milestones, gateway is not None)
    now = utcnow()
    try:
        for milestone in milestones:
            if milestone.status == MilestoneStatus.PENDING:
                _close(session, user, gateway, contract, milestone, reason, fee_bps)
            elif milestone.status in DIVIDED_STATES:
                held = _refundable(session, milestone)
                vendor_part = min(max(vendor_parts.get(milestone.id, 0), 0), held)
                close_waiting_deliveries(session, user, milestone, accepted=vendor_part > 0, reason=reason, now=now)
                payments.split_held(
                    session,
                    cast(StripeGateway, gateway),
                    user,
                    contract,
                    milestone,
                    vendor_part,
                    held - vendor_part,
                    reason,
                )
    except payments.PaymentError as error:
        raise _as_contract_error(error) from error
    before = contract.status
    contract.status, contract.ended_at = ContractStatus.ENDED, now
    audit_contract(
        session, user, "contract.ended", contract, None, {"status": str(before)}, {"status": "ended", "reason": reason}
    )
    settle(session, user, contract)


# ------------------------------------------------------------------------------------------------ confirming
# The pages that ask the buyer to confirm cancelling a milestone or ending the contract: they reach the contract
# and milestone as the action does (404 for strangers, WrongRole for the other side), lock nothing and change
# nothing; what the action would refuse now is returned as `refusal`.


def held_minor(session: Session, milestone: Milestone) -> int:
    """What the platform holds for a milestone that holds money (what refunding it would return to the buyer)."""
    return _refundable(session, milestone)


def _refundable(session: Session, milestone: Milestone) -> int:
    """What refunding a milestone that holds money returns to the buyer."""
    if milestone.payment_intent_id:
        return payments.refundable_on(session, milestone.payment_intent_id)
    return milestone.amount_minor


@dataclass
class MilestoneCancelPreview:
    contract: Contract
    milestone: Milestone
    job: Job
    vendor: str
    refusal: str | None
    # What goes back to the buyer: nothing for a milestone never funded.
    refund_minor: int = 0


def cancel_milestone_preview(
    session: Session, user: User, contract_id: int, milestone_id: int, *, payments_on: bool
) -> MilestoneCancelPreview:
    contract = _on_side(session, user, contract_id, "buyer")
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.contract_id != contract.id:
        raise visibility.NotVisible(f"milestone {milestone_id}")
    refusal, refund = None, 0
    try:
        _check_cancellable(contract, milestone, payments_on)
    except ContractError as error:
        refusal = str(error)
    else:
        if milestone.status in HELD_STATES:
            refund = _refundable(session, milestone)
    return MilestoneCancelPreview(
        contract,
        milestone,
        cast(Job, session.get(Job, contract.job_id)),
        visibility.organization_names(session, {contract.vendor_org_id})[contract.vendor_org_id],
        refusal,
        refund,
    )


@dataclass
class EndPreview:
    contract: Contract
    job: Job
    vendor: str
    refusal: str | None
    # Each milestone holding money, with what is refunded of it; the unfunded ones dropped; the ones already paid
    # to the vendor (or closed before), which stay as they are.
    refunded: list[tuple[Milestone, int]] = field(default_factory=list)
    dropped: list[Milestone] = field(default_factory=list)
    kept: list[Milestone] = field(default_factory=list)

    @property
    def refund_minor(self) -> int:
        return sum(amount for _, amount in self.refunded)


def end_preview(session: Session, user: User, contract_id: int, *, payments_on: bool) -> EndPreview:
    contract = _on_side(session, user, contract_id, "buyer")
    job = cast(Job, session.get(Job, contract.job_id))
    vendor = visibility.organization_names(session, {contract.vendor_org_id})[contract.vendor_org_id]
    milestones = milestones_of(session, contract.id)
    try:
        _check_endable(contract)
        _check_no_playbook_running(session, contract)
        _check_refundable(milestones, payments_on)
    except ContractError as error:
        return EndPreview(contract, job, vendor, str(error))
    preview = EndPreview(contract, job, vendor, None)
    for milestone in milestones:
        if milestone.status in HELD_STATES:
            preview.refunded.append((milestone, _refundable(session, milestone)))
        elif milestone.status == MilestoneStatus.PENDING:
            preview.dropped.append(milestone)
        else:
            preview.kept.append(milestone)
    return preview


# ------------------------------------------------------------------------------------------------ ratings


def rate_vendor(session: Session, user: User, contract_id: int, stars: int, comment: str) -> Rating:
    """The buyer rates the vendor once the contract is complete (1 to 5 stars and a comment)."""
    contract = _as_party(session, user, contract_id, "buyer")
    if contract.status != ContractStatus.COMPLETED:
        raise ContractError("You can rate the vendor once the contract is complete.")
    if session.execute(select(col(Rating.id)).where(col(Rating.contract_id) == contract.id)).first():
        raise ContractError("You have already rated this contract.")
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ContractError("Choose 1 to 5 stars.", "stars")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ContractError("Keep the comment under 2,000 characters.", "comment")
    rating = Rating(
        contract_id=contract.id,
        vendor_org_id=contract.vendor_org_id,
        buyer_org_id=contract.buyer_org_id,
        stars=stars,
        comment=comment,
        rated_by_id=user.id,
    )
    session.add(rating)
    session.flush()
    audit_contract(session, user, "vendor.rated", contract, None, None, {"stars": stars, "rating_id": rating.id})
    _tell(session, contract, "vendor", "rated", f"The buyer rated your work {stars} out of 5.")
    return rating


@dataclass
class VendorRatings:
    count: int
    average: float | None
    recent: list[Rating]


def vendor_ratings(session: Session, vendor_org_id: int, limit: int = 10) -> VendorRatings:
    """The ratings a vendor received, for its profile; buyers are not named (a contract can be confidential)."""
    ratings = (
        session.execute(
            select(Rating)
            .where(col(Rating.vendor_org_id) == vendor_org_id)
            .order_by(col(Rating.created_at).desc(), col(Rating.id).desc())
        )
        .scalars()
        .all()
    )
    average = round(sum(r.stars for r in ratings) / len(ratings), 1) if ratings else None
    return VendorRatings(len(ratings), average, list(ratings[:limit]))
