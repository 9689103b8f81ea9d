"""Disputes: either side of a contract freezes a milestone's held money; both add statements and files within
deadlines; an admin decides where the money goes (all to the vendor, all back to the buyer, or a split).

Which milestones can be disputed: those whose money the platform holds and has not paid out, that is funded,
delivered (waiting for the buyer), rejected (waiting for another delivery) and accepted with the payout still
waiting. A pending milestone holds nothing; a released, refunded or cancelled one holds nothing any more.

While a dispute is open the milestone is DISPUTED: it is not delivered, accepted, rejected, cancelled, refunded,
released or released by the acceptance deadline, and its contract cannot be ended. Only the admin's decision moves
its money, through the same payment functions as everything else, each Stripe call with a key derived from the
milestone's key, so the money moves once whatever is retried.

Only the contract's two organisations and admins may know a dispute exists (visibility.get_dispute): anyone
else gets NotVisible (404). The other side's action, or an admin opening one, is WrongSide (403).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, User
from marketplace.audit.service import record_event
from marketplace.contracts import service as contracts
from marketplace.contracts.lifecycle import contract_link, lock_with_contract, settle
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    Milestone,
    MilestoneStatus,
)
from marketplace.db_types import utcnow
from marketplace.disputes.models import Dispute, DisputeFile, DisputeOutcome, DisputeStatement, DisputeStatus
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import Refusal
from marketplace.jobs.models import Job
from marketplace.money import MAX_AMOUNT_MINOR, format_money
from marketplace.notifications.service import notify_org
from marketplace.payments import service as payments
from marketplace.payments.gateway import StripeGateway
from marketplace.webhooks import events as webhook_events

# The states in which the platform holds a milestone's money and has not paid it out (see the module's docstring).
DISPUTABLE = (MilestoneStatus.FUNDED, MilestoneStatus.DELIVERED, MilestoneStatus.REJECTED, MilestoneStatus.ACCEPTED)
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_REASON = 4000
MAX_STATEMENT = 8000


class DisputeError(Refusal):
    """A refusal the user can understand; `field` names the form field it belongs to, if any."""


class WrongSide(DisputeError):
    """The user may know the dispute, but this is not theirs to do: answered as 403."""


@dataclass(frozen=True)
class Deadlines:
    """The platform's dispute deadlines, in days from the opening (config DISPUTE_RESPONSE_DAYS, …_EVIDENCE_DAYS)."""

    response_days: int
    evidence_days: int


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def _side_of(user: User, contract: Contract) -> str | None:
    """buyer or vendor: the user's side of the contract, if it is the user's own organisation's and role's."""
    if user.is_admin or user.org_id is None:
        return None
    if user.org_id == contract.buyer_org_id and user.is_buyer:
        return "buyer"
    if user.org_id == contract.vendor_org_id and user.is_vendor:
        return "vendor"
    return None


def _other(side: str) -> str:
    return "vendor" if side == "buyer" else "buyer"


def _org_of(contract: Contract, side: str) -> int:
    return contract.buyer_org_id if side == "buyer" else contract.vendor_org_id


def _link(dispute: Dispute) -> str:
    return f"/disputes/{dispute.id}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _label(milestone: Milestone) -> str:
    return f"milestone {milestone.number} “{milestone.title}”"


def _audit(session: Session, actor, action: str, contract: Contract, dispute: Dispute, before=None, after=None):
    record_event(
        session,
        actor,
        action,
        "dispute",
        dispute.id,
        before=before,
        after=after,
        buyer_org_id=contract.buyer_org_id,
        vendor_org_id=contract.vendor_org_id,
    )


def _tell_both(session: Session, contract: Contract, dispute: Dispute, kind: str, message: str) -> None:
    for org_id in (contract.buyer_org_id, contract.vendor_org_id):
        notify_org(session, org_id, kind, message, _link(dispute))


def _content_type(value: str) -> str:
    text = (value or "").split(";")[0].strip().lower()
    if not text or len(text) > 100 or text.count("/") != 1 or any(c.isspace() for c in text):
        return "application/octet-stream"
    return text


def _check_text(text: str | None, limit: int, missing: str, field_name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DisputeError(missing, field_name)
    if len(text) > limit:
        raise DisputeError(f"Keep it under {limit:,} characters.", field_name)
    return text


def _check_uploads(uploads: list[Upload]) -> None:
    if len(uploads) > MAX_FILES:
        raise DisputeError(f"Attach at most {MAX_FILES} files.", "files")
    for upload in uploads:
        if len(upload.data) > MAX_FILE_BYTES:
            raise DisputeError(f"“{display_name(upload.filename, 'evidence')}” is larger than 10 MB.", "files")


def _add_statement(
    session: Session,
    dispute: Dispute,
    side: str,
    user: User,
    body: str,
    uploads: list[Upload],
    folder: Path | None,
    at: datetime,
) -> DisputeStatement:
    """The statement is dated `at`, the instant its deadline was checked against, not when it is built after the
    files are stored: a statement let in before the evidence closed is never dated after it."""
    statement = DisputeStatement(dispute_id=dispute.id, side=side, author_id=user.id, body=body, created_at=at)
    session.add(statement)
    session.flush()
    for upload in uploads:
        session.add(
            DisputeFile(
                statement_id=statement.id,
                dispute_id=dispute.id,
                filename=display_name(upload.filename, "evidence"),
                stored_name=store_private_file(cast(Path, folder), upload.data),
                content_type=_content_type(upload.content_type),
                size_bytes=len(upload.data),
            )
        )
    session.flush()
    return statement


# ------------------------------------------------------------------------------------------------ opening


def _contract_for_party(session: Session, user: User, contract_id: int) -> tuple[Contract, str]:
    """The contract and the user's side of it. NotVisible (404) for strangers, WrongSide (403) for admins."""
    contract = contracts.get_contract(session, user, contract_id)
    side = _side_of(user, contract)
    if side is None:
        raise WrongSide("Only the contract's buyer or vendor can open a dispute.")
    return contract, side


def check_disputable(session: Session, contract: Contract, milestone: Milestone, side: str | None = None) -> None:
    """Raises DisputeError unless the milestone's money can be disputed now (by `side`: a side that withdrew its
    dispute on it may not open another, so that withdrawing and opening again cannot keep money frozen)."""
    earlier = session.execute(
        select(col(Dispute.status), col(Dispute.opened_by_side)).where(col(Dispute.milestone_id) == milestone.id)
    ).all()
    refusal = _refusal(contract, milestone, [(str(status), str(opener)) for status, opener in earlier], side)
    if refusal is not None:
        raise DisputeError(refusal)


def _refusal(contract: Contract, milestone: Milestone, earlier: list[tuple[str, str]], side: str | None) -> str | None:
    """Why the milestone's money cannot be disputed now by `side`, given its earlier disputes (status, opener), or
    None: the one rule for opening a dispute, and for the contract page's buttons."""
    if contract.status in (ContractStatus.ENDED, ContractStatus.COMPLETED):
        return f"This contract is {contract.status}: nothing is held on it to dispute."
    if milestone.status == MilestoneStatus.DISPUTED:
        return f"Milestone {milestone.number} is disputed already."
    if any(status != DisputeStatus.WITHDRAWN for status, _ in earlier):
        return f"Milestone {milestone.number}'s dispute was decided: the decision is final."
    if side is not None and any(opener == side for _, opener in earlier):
        return f"You withdrew your dispute on milestone {milestone.number}: only the other side may open one now."
    if milestone.status not in DISPUTABLE or not milestone.payment_intent_id:
        state = "not funded" if milestone.status == MilestoneStatus.PENDING else str(milestone.status)
        return (
            f"Milestone {milestone.number} is {state}: only a milestone whose money the platform holds can be disputed."
        )
    return None


@dataclass
class OpenPreview:
    contract: Contract
    milestone: Milestone
    job: Job
    side: str
    held_minor: int
    deadlines: Deadlines
    refusal: str | None


def open_preview(
    session: Session, user: User, contract_id: int, milestone_id: int, deadlines: Deadlines
) -> OpenPreview:
    """What opening a dispute on the milestone would do, or why it cannot be opened. 404/403 as open_dispute."""
    contract, side = _contract_for_party(session, user, contract_id)
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.contract_id != contract.id:
        raise visibility.NotVisible(f"milestone {milestone_id}")
    refusal, held = None, 0
    try:
        check_disputable(session, contract, milestone, side)
        held = payments.refundable_on(session, cast(str, milestone.payment_intent_id))
    except DisputeError as error:
        refusal = str(error)
    job = cast(Job, session.get(Job, contract.job_id))
    return OpenPreview(contract, milestone, job, side, held, deadlines, refusal)


def open_dispute(
    session: Session,
    user: User,
    contract_id: int,
    milestone_id: int,
    reason: str,
    uploads: list[Upload],
    folder: Path | None,
    *,
    deadlines: Deadlines,
) -> Dispute:
    """Either side opens a dispute on a milestone whose money the platform holds: the money freezes, the other
    side is told when it must answer by."""
    contract, side = _contract_for_party(session, user, contract_id)
    locked_contract, milestone = lock_with_contract(session, milestone_id)
    if milestone is None or milestone.contract_id != contract.id:
        raise visibility.NotVisible(f"milestone {milestone_id}")
    contract = cast(Contract, locked_contract)
    check_disputable(session, contract, milestone, side)
    reason = _check_text(reason, MAX_REASON, "Say what the dispute is about.", "reason")
    _check_uploads(uploads)
    now = utcnow()
    held = payments.refundable_on(session, cast(str, milestone.payment_intent_id))
    dispute = Dispute(
        contract_id=contract.id,
        milestone_id=milestone.id,
        opened_by_side=side,
        opened_by_id=user.id,
        reason=reason,
        milestone_status_before=str(milestone.status),
        held_minor=held,
        currency=milestone.currency,
        opened_at=now,
        respond_by=now + timedelta(days=deadlines.response_days),
        evidence_until=now + timedelta(days=max(deadlines.evidence_days, deadlines.response_days)),
    )
    session.add(dispute)
    session.flush()
    _add_statement(session, dispute, side, user, reason, uploads, folder, now)
    before = str(milestone.status)
    milestone.status, milestone.updated_at = MilestoneStatus.DISPUTED, now
    _audit(
        session,
        user,
        "dispute.opened",
        contract,
        dispute,
        {"milestone_status": before},
        {
            "milestone_status": str(MilestoneStatus.DISPUTED),
            "milestone_id": milestone.id,
            "opened_by": side,
            "held": format_money(held, milestone.currency),
            "respond_by": _when(dispute.respond_by),
            "evidence_until": _when(dispute.evidence_until),
            "files": len(uploads),
        },
    )
    notify_org(
        session,
        _org_of(contract, _other(side)),
        "dispute_opened",
        f"The {side} opened a dispute on {_label(milestone)}: its {format_money(held, milestone.currency)} is frozen "
        f"until an admin decides. Answer by {_when(dispute.respond_by)}.",
        _link(dispute),
    )
    notify_org(
        session,
        _org_of(contract, side),
        "dispute_opened",
        f"Your dispute on {_label(milestone)} is open: add evidence until {_when(dispute.evidence_until)}; "
        "then an admin decides.",
        _link(dispute),
    )
    webhook_events.dispute_opened(session, contract, dispute)
    settle(session, user, contract)
    return dispute


def withdraw_dispute(session: Session, user: User, dispute_id: int, reason: str) -> Dispute:
    """The side that opened a dispute withdraws it before a decision (the two sides settled, or it was a mistake):
    the milestone's money unfreezes and the milestone is as it was when the dispute froze it; both sides read why.
    That side may not open another dispute on it; the other side still may. NotVisible (404) for strangers,
    WrongSide (403) for the other side and admins."""
    dispute = visibility.get_dispute(session, user, dispute_id)
    contract, milestone = lock_with_contract(session, dispute.milestone_id)
    contract, milestone = cast(Contract, contract), cast(Milestone, milestone)
    session.refresh(dispute)
    side = _side_of(user, contract)
    if side != dispute.opened_by_side:
        raise WrongSide(f"Only the {dispute.opened_by_side}, who opened this dispute, may withdraw it.")
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeError(f"This dispute is {dispute.status} already: there is nothing to withdraw.", "reason")
    if milestone.status != MilestoneStatus.DISPUTED:
        raise DisputeError("This milestone's money is no longer held (refunded in Stripe meanwhile).", "reason")
    reason = _check_text(reason, MAX_REASON, "Say why you withdraw the dispute: both sides read it.", "reason")
    now = utcnow()
    milestone.status, milestone.updated_at = MilestoneStatus(dispute.milestone_status_before), now
    dispute.status, dispute.withdrawn_by_id, dispute.withdrawn_at = DisputeStatus.WITHDRAWN, user.id, now
    dispute.withdraw_reason = reason
    _audit(
        session,
        user,
        "dispute.withdrawn",
        contract,
        dispute,
        {"status": str(DisputeStatus.OPEN), "milestone_status": str(MilestoneStatus.DISPUTED)},
        {"status": str(DisputeStatus.WITHDRAWN), "milestone_status": str(milestone.status), "reason": reason},
    )
    _tell_both(
        session,
        contract,
        dispute,
        "dispute_withdrawn",
        f"The {side} withdrew its dispute on {_label(milestone)}: its "
        f"{format_money(dispute.held_minor, dispute.currency)} is no longer frozen, and the milestone is "
        f"{milestone.status} again. {reason}",
    )
    webhook_events.dispute_withdrawn(session, contract, dispute)
    settle(session, user, contract)
    return dispute


# ------------------------------------------------------------------------------------------------ evidence


def _answered(session: Session, dispute: Dispute) -> bool:
    """Whether the side that did not open the dispute has said anything yet."""
    return (
        session.execute(
            select(col(DisputeStatement.id)).where(
                col(DisputeStatement.dispute_id) == dispute.id,
                col(DisputeStatement.side) == _other(dispute.opened_by_side),
            )
        ).first()
        is not None
    )


def remind_other_side(session: Session, dispute: Dispute) -> bool:
    """Tell the side that did not open the dispute when its answer is due, unless it has answered. True if told."""
    if _answered(session, dispute):
        return False
    contract = cast(Contract, session.get(Contract, dispute.contract_id))
    milestone = cast(Milestone, session.get(Milestone, dispute.milestone_id))
    notify_org(
        session,
        _org_of(contract, _other(dispute.opened_by_side)),
        "dispute_answer_due",
        f"Your answer to the dispute on {_label(milestone)} is due by {_when(dispute.respond_by)}: after that the "
        "evidence closes and an admin decides without it.",
        _link(dispute),
    )
    return True


def evidence_closes_at(session: Session, dispute: Dispute, now: datetime | None = None) -> datetime:
    """When no more statements are taken: the evidence deadline, or the answer's deadline if no answer came."""
    if not _answered(session, dispute) and (now or utcnow()) >= dispute.respond_by:
        return dispute.respond_by
    return dispute.evidence_until


def evidence_open(session: Session, dispute: Dispute) -> bool:
    return dispute.status == DisputeStatus.OPEN and utcnow() < evidence_closes_at(session, dispute)


def add_statement(
    session: Session, user: User, dispute_id: int, body: str, uploads: list[Upload], folder: Path | None
) -> DisputeStatement:
    """One side adds a statement (and files) while the evidence is open. 404 for strangers, 403 for admins."""
    dispute = visibility.get_dispute(session, user, dispute_id)
    contract, milestone = lock_with_contract(session, dispute.milestone_id)
    contract, milestone = cast(Contract, contract), cast(Milestone, milestone)
    side = _side_of(user, contract)
    if side is None:
        raise WrongSide("Only the contract's buyer or vendor add statements; an admin decides.")
    session.refresh(dispute)
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeError("This dispute is decided: no more statements are taken.", "body")
    now = utcnow()
    if side != dispute.opened_by_side and not _answered(session, dispute) and now >= dispute.respond_by:
        raise DisputeError(
            f"Your answer was due by {_when(dispute.respond_by)}: the evidence is closed and an admin decides.", "body"
        )
    closes = evidence_closes_at(session, dispute, now)
    if now >= closes:
        raise DisputeError(f"The evidence closed on {_when(closes)}: an admin decides now.", "body")
    body = _check_text(body, MAX_STATEMENT, "Write your statement.", "body")
    _check_uploads(uploads)
    statement = _add_statement(session, dispute, side, user, body, uploads, folder, now)
    _audit(
        session,
        user,
        "dispute.statement_added",
        contract,
        dispute,
        None,
        {"side": side, "statement_id": statement.id, "files": len(uploads)},
    )
    notify_org(
        session,
        _org_of(contract, _other(side)),
        "dispute_statement",
        f"The {side} added a statement to the dispute on {_label(milestone)}.",
        _link(dispute),
    )
    return statement


# ------------------------------------------------------------------------------------------------ the decision


@dataclass(frozen=True)
class Decision:
    outcome: DisputeOutcome
    vendor_minor: int
    buyer_minor: int
    explanation: str


def parts_of(outcome: str, held: int, vendor_minor: int | None, buyer_minor: int | None) -> tuple[int, int]:
    """The vendor's and the buyer's parts of the held money for an outcome; raises DisputeError when a split does
    not add up to what is held (on the field to correct)."""
    if outcome == DisputeOutcome.RELEASE:
        return held, 0
    if outcome == DisputeOutcome.REFUND:
        return 0, held
    if outcome != DisputeOutcome.SPLIT:
        raise DisputeError("Choose release, refund or split.", "outcome")
    if vendor_minor is None or not 0 < vendor_minor <= MAX_AMOUNT_MINOR:
        raise DisputeError("Give the vendor's part: an amount above zero.", "vendor_amount")
    if buyer_minor is None or not 0 < buyer_minor <= MAX_AMOUNT_MINOR:
        raise DisputeError("Give the buyer's part: an amount above zero.", "buyer_amount")
    return vendor_minor, buyer_minor


def decide(
    session: Session,
    admin: User,
    gateway: StripeGateway | None,
    dispute_id: int,
    outcome: str,
    vendor_minor: int | None,
    buyer_minor: int | None,
    explanation: str,
) -> Dispute:
    """An admin decides a dispute once its evidence is closed, and the money moves: all to the vendor (less the
    platform fee), all back to the buyer, or a split (the buyer's part refunded, the vendor's paid out less the
    fee). Decided once: a second decision is refused, and every Stripe call has a key derived from the milestone."""
    if not admin.is_admin:
        raise WrongSide("Only an admin decides a dispute.")
    dispute = visibility.get_dispute(session, admin, dispute_id)
    contract, milestone = lock_with_contract(session, dispute.milestone_id)
    contract, milestone = cast(Contract, contract), cast(Milestone, milestone)
    session.refresh(dispute)
    if dispute.status == DisputeStatus.WITHDRAWN:
        raise DisputeError("This dispute was withdrawn by the side that opened it: there is nothing to decide.")
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeError("This dispute is decided already: the decision is final.")
    if evidence_open(session, dispute):
        raise DisputeError(
            f"The evidence is open until {_when(evidence_closes_at(session, dispute))}: decide once it closes.",
            "outcome",
        )
    if milestone.status != MilestoneStatus.DISPUTED or not milestone.payment_intent_id:
        raise DisputeError("This milestone's money is no longer held (refunded in Stripe meanwhile).")
    if gateway is None:
        raise DisputeError("Payments are not configured: no money can move now.")
    explanation = _check_text(explanation, MAX_REASON, "Explain the decision to both sides.", "explanation")
    held = payments.refundable_on(session, milestone.payment_intent_id)
    vendor_part, buyer_part = parts_of(outcome, held, vendor_minor, buyer_minor)
    if vendor_part + buyer_part != held:
        money = dispute.currency
        raise DisputeError(
            f"The two parts add up to {format_money(vendor_part + buyer_part, money)}, not the "
            f"{format_money(held, money)} held.",
            "vendor_amount",
        )
    _move_money(session, admin, gateway, contract, milestone, dispute, vendor_part, buyer_part, explanation)
    now = utcnow()
    contracts.close_waiting_deliveries(
        session, admin, milestone, accepted=vendor_part > 0, reason="Decided by an admin in a dispute.", now=now
    )
    dispute.status, dispute.outcome, dispute.explanation = DisputeStatus.DECIDED, DisputeOutcome(outcome), explanation
    dispute.vendor_minor, dispute.buyer_minor = vendor_part, buyer_part
    dispute.decided_by_id, dispute.decided_at = admin.id, now
    _audit(
        session,
        admin,
        "dispute.decided",
        contract,
        dispute,
        {"status": str(DisputeStatus.OPEN)},
        {
            "status": str(DisputeStatus.DECIDED),
            "outcome": str(outcome),
            "to_vendor": format_money(vendor_part, dispute.currency),
            "to_buyer": format_money(buyer_part, dispute.currency),
            "explanation": explanation,
            "milestone_status": str(milestone.status),
        },
    )
    _tell_both(
        session,
        contract,
        dispute,
        "dispute_decided",
        f"An admin decided the dispute on {_label(milestone)}: {format_money(vendor_part, dispute.currency)} to the "
        f"vendor (before the platform fee), {format_money(buyer_part, dispute.currency)} back to the buyer. "
        f"{explanation}",
    )
    settle(session, admin, contract)
    return dispute


def _move_money(
    session: Session,
    admin: User,
    gateway: StripeGateway,
    contract: Contract,
    milestone: Milestone,
    dispute: Dispute,
    vendor_part: int,
    buyer_part: int,
    explanation: str,
) -> None:
    reason = f"Dispute decided by an admin: {explanation}"[:400]
    try:
        released = payments.split_held(session, gateway, admin, contract, milestone, vendor_part, buyer_part, reason)
    except payments.PaymentError as error:
        raise DisputeError(str(error)) from error
    if vendor_part > 0 and not released:
        notify_org(
            session,
            contract.vendor_org_id,
            "payout_waiting",
            f"Payment for {_label(milestone)} is waiting: "
            f"{milestone.last_payment_error or 'connect or finish your payout account to receive it.'}",
            contract_link(contract),
        )


# ------------------------------------------------------------------------------------------------ reading


@dataclass
class StatementView:
    statement: DisputeStatement
    files: list[DisputeFile]
    author: str = ""  # who wrote it, for their own organisation only (visibility.shows_names_of); else ""


@dataclass
class DisputePage:
    dispute: Dispute
    contract: Contract
    milestone: Milestone
    job: Job
    buyer: str
    vendor: str
    side: str  # buyer, vendor or admin
    statements: list[StatementView]
    evidence_closes_at: datetime
    may_add: bool
    may_decide: bool
    answered: bool
    refusal: str | None = None
    reasons: list[str] = field(default_factory=list)
    may_withdraw: bool = False  # the side that opened it, while it is open


def dispute_page(session: Session, user: User, dispute_id: int) -> DisputePage:
    """Everything a dispute's page shows. NotVisible (404) for anyone but the two organisations and admins."""
    dispute = visibility.get_dispute(session, user, dispute_id)
    contract = cast(Contract, session.get(Contract, dispute.contract_id))
    milestone = cast(Milestone, session.get(Milestone, dispute.milestone_id))
    statements = list(
        session.execute(
            select(DisputeStatement)
            .where(col(DisputeStatement.dispute_id) == dispute.id)
            .order_by(col(DisputeStatement.created_at), col(DisputeStatement.id))
        ).scalars()
    )
    files = list(
        session.execute(
            select(DisputeFile).where(col(DisputeFile.dispute_id) == dispute.id).order_by(col(DisputeFile.id))
        ).scalars()
    )
    names = dict(
        session.execute(
            select(col(Organization.id), col(Organization.name)).where(
                col(Organization.id).in_([contract.buyer_org_id, contract.vendor_org_id])
            )
        ).all()
    )
    people = visibility.names_of(session, [s.author_id for s in statements])
    side = "admin" if user.is_admin else (_side_of(user, contract) or "")
    closes = evidence_closes_at(session, dispute)
    is_open = dispute.status == DisputeStatus.OPEN
    now = utcnow()
    may_add = is_open and side in ("buyer", "vendor") and now < closes
    if may_add and side != dispute.opened_by_side and not _answered(session, dispute) and now >= dispute.respond_by:
        may_add = False
    return DisputePage(
        dispute,
        contract,
        milestone,
        cast(Job, session.get(Job, contract.job_id)),
        names[contract.buyer_org_id],
        names[contract.vendor_org_id],
        side,
        [
            StatementView(
                s,
                [f for f in files if f.statement_id == s.id],
                people.get(s.author_id or 0, "") if visibility.shows_names_of(user, _org_of(contract, s.side)) else "",
            )
            for s in statements
        ],
        closes,
        may_add,
        is_open and side == "admin" and now >= closes,
        _answered(session, dispute),
        may_withdraw=is_open and side == dispute.opened_by_side,
    )


@dataclass(frozen=True)
class ContractDisputes:
    """A contract's disputes as its page shows them."""

    latest: dict[int, Dispute]  # by milestone id: the live one, if a withdrawn one came before
    openable: frozenset[int]  # the milestones on which the user's side may open a dispute now


def disputes_of_contract(
    session: Session, user: User, contract: Contract, milestones: list[Milestone]
) -> ContractDisputes:
    """The contract's disputes the user may see, and where the user's side may open one (for the contract's page):
    one read, and the rule `check_disputable` applies, so the page offers no button the form would refuse."""
    found = session.execute(
        select(Dispute)
        .where(col(Dispute.contract_id) == contract.id, visibility.dispute_filter(user))
        .order_by(col(Dispute.id))
    ).scalars()
    latest: dict[int, Dispute] = {}
    earlier: dict[int, list[tuple[str, str]]] = {}
    for dispute in found:
        latest[dispute.milestone_id] = dispute
        earlier.setdefault(dispute.milestone_id, []).append((str(dispute.status), str(dispute.opened_by_side)))
    side = _side_of(user, contract)
    openable = frozenset(
        m.id for m in milestones if side is not None and _refusal(contract, m, earlier.get(m.id, []), side) is None
    )
    return ContractDisputes(latest, openable)


@dataclass
class DisputeRow:
    dispute: Dispute
    job_title: str
    milestone_number: int
    buyer: str
    vendor: str
    ready: bool  # the evidence is closed: the admin may decide


def open_disputes(session: Session, admin: User) -> list[DisputeRow]:
    """Every open dispute, oldest first, for the admins' list; the ones ready for a decision say so."""
    if not admin.is_admin:
        raise WrongSide("Only admins list every dispute.")
    rows = session.execute(
        select(Dispute, Contract, col(Job.title), col(Milestone.number))
        .join(Contract, col(Contract.id) == Dispute.contract_id)
        .join(Job, col(Job.id) == Contract.job_id)
        .join(Milestone, col(Milestone.id) == Dispute.milestone_id)
        .where(col(Dispute.status) == DisputeStatus.OPEN)
        .order_by(col(Dispute.opened_at), col(Dispute.id))
    ).all()
    org_ids = {c.buyer_org_id for _, c, _, _ in rows} | {c.vendor_org_id for _, c, _, _ in rows}
    names = (
        dict(
            session.execute(
                select(col(Organization.id), col(Organization.name)).where(col(Organization.id).in_(org_ids))
            ).all()
        )
        if org_ids
        else {}
    )
    now = utcnow()
    return [
        DisputeRow(
            d, title, number, names[c.buyer_org_id], names[c.vendor_org_id], now >= evidence_closes_at(session, d)
        )
        for d, c, title, number in rows
    ]


def get_dispute_file(session: Session, user: User, dispute_id: int, file_id: int) -> DisputeFile:
    """A file added to the dispute. NotVisible (404) for anyone but the two organisations and admins."""
    dispute = visibility.get_dispute(session, user, dispute_id)
    found = session.get(DisputeFile, file_id)
    if found is None or found.dispute_id != dispute.id:
        raise visibility.NotVisible(f"dispute file {file_id}")
    return found
