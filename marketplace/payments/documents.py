"""Documents money needs: the lab's receipt for each milestone payment, the vendor's payout statement for each
release, the purchase-order number a lab puts on its contract, and each side's statement as CSV.

Every figure comes from the ledger (payments.models.LedgerEntry) as it stands when the document is asked for, and a
document's number is its ledger entry's: R-000042 is the receipt of charge 42, P-000051 the payout statement of the
release whose platform fee is entry 51, C-000047 the credit note of refund 47. Who may have which is decided by
visibility.get_money_document_entry.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, User
from marketplace.audit.service import record_event
from marketplace.contracts import service as contracts
from marketplace.contracts.models import Contract, Milestone
from marketplace.db_types import in_ids
from marketplace.errors import Refusal
from marketplace.jobs.models import Job
from marketplace.money import to_major
from marketplace.payments import service as payments
from marketplace.payments.fees import split_payout
from marketplace.payments.models import EntryKind, LedgerEntry

RECEIPT, PAYOUT, CREDIT = "R", "P", "C"
PURCHASE_ORDER_MAX = 40
# What purchasing systems (SAP, Coupa, Oracle) put in a PO number: letters, digits and a few separators.
_PURCHASE_ORDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./#_-]*")


class DocumentError(Refusal):
    """A refusal about a document or a purchase-order number, in words; `field` names the form field."""


def document_number(prefix: str, entry_id: int) -> str:
    return f"{prefix}-{entry_id:06d}"


# ------------------------------------------------------------------------------------------------ receipts, payouts


@dataclass(frozen=True)
class Credit:
    """A refund on the payment, as a credit note."""

    number: str
    issued_at: datetime
    amount_minor: int
    note: str
    stripe_id: str


@dataclass(frozen=True)
class MoneyDocument:
    """What a receipt (kind "receipt", for the lab) or a payout statement (kind "payout", for the vendor) says."""

    kind: str
    number: str
    issued_at: datetime
    buyer: str
    vendor: str
    contract_id: int
    job_title: str
    milestone_number: int
    milestone_title: str
    currency: str
    paid_minor: int  # the lab's payment for the milestone
    fee_bps: int
    fee_minor: int  # the platform fee: taken at release (payout), or to be taken at release (receipt)
    vendor_minor: int  # what the vendor is (payout) or will be (receipt) paid: the rest
    fee_taken: bool  # the fee is in the ledger (the milestone was released), not a forecast
    purchase_order: str
    stripe_reference: str
    credits: list[Credit] = field(default_factory=list)

    @property
    def refunded_minor(self) -> int:
        return sum(credit.amount_minor for credit in self.credits)

    @property
    def net_paid_minor(self) -> int:
        """What the lab paid, less what was refunded to it."""
        return self.paid_minor - self.refunded_minor

    @property
    def filename(self) -> str:
        word = "receipt" if self.kind == "receipt" else "payout-statement"
        return f"{word}-{self.number}.pdf"


def _entries(session: Session, milestone_id: int, kind: EntryKind) -> list[LedgerEntry]:
    return [entry for entry in payments.entries_for_milestone(session, milestone_id) if entry.kind == kind]


def _credits(session: Session, milestone_id: int, payment_intent_id: str) -> list[Credit]:
    return [
        Credit(document_number(CREDIT, r.id), r.created_at, r.amount_minor, r.note, r.stripe_object_id)
        for r in _entries(session, milestone_id, EntryKind.REFUND)
        if r.source_object_id == payment_intent_id
    ]


def _names(session: Session, entry: LedgerEntry) -> tuple[str, str]:
    buyer = cast(Organization, session.get(Organization, entry.buyer_org_id))
    vendor = cast(Organization, session.get(Organization, entry.vendor_org_id))
    return buyer.name, vendor.name


def _document(
    session: Session, kind: str, number: str, entry: LedgerEntry, paid: LedgerEntry | None, **figures
) -> MoneyDocument:
    contract = cast(Contract, session.get(Contract, entry.contract_id))
    milestone = cast(Milestone, session.get(Milestone, entry.milestone_id))
    job = cast(Job, session.get(Job, contract.job_id))
    buyer, vendor = _names(session, entry)
    payment_intent = paid.stripe_object_id if paid is not None else (milestone.payment_intent_id or "")
    return MoneyDocument(
        kind=kind,
        number=number,
        issued_at=entry.created_at,
        buyer=buyer,
        vendor=vendor,
        contract_id=contract.id,
        job_title=job.title,
        milestone_number=milestone.number,
        milestone_title=milestone.title,
        currency=entry.currency,
        paid_minor=paid.amount_minor if paid is not None else 0,
        purchase_order=contract.purchase_order,
        credits=_credits(session, milestone.id, payment_intent),
        **figures,
    )


def receipt(session: Session, user: User, entry_id: int) -> MoneyDocument:
    """The lab's receipt for one payment (a CHARGE entry). NotVisible (404) to all but the lab and admins."""
    charge = visibility.get_money_document_entry(session, user, entry_id, EntryKind.CHARGE)
    milestone = cast(Milestone, session.get(Milestone, charge.milestone_id))
    fees = [
        f
        for f in _entries(session, milestone.id, EntryKind.PLATFORM_FEE)
        if f.source_object_id == charge.stripe_object_id
    ]
    transfers = _entries(session, milestone.id, EntryKind.TRANSFER)
    if fees:
        fee_bps, fee_minor = fees[0].fee_bps or 0, fees[0].amount_minor
        vendor_minor = sum(t.amount_minor for t in transfers if t.stripe_object_id == fees[0].stripe_object_id)
    else:
        # Not released yet: the fee release will take from what is still held, at the rate fixed when the milestone
        # was funded (a refund takes its share of the fee with it). A payment the milestone was not waiting for
        # (refunded at once) carries no fee.
        funded_by_it = milestone.payment_intent_id == charge.stripe_object_id
        fee_bps = (milestone.fee_bps or 0) if funded_by_it else 0
        held = payments.refundable_on(session, charge.stripe_object_id) if funded_by_it else 0
        split = split_payout(held, fee_bps)
        fee_minor, vendor_minor = split.fee_minor, split.vendor_minor
    return _document(
        session,
        "receipt",
        document_number(RECEIPT, charge.id),
        charge,
        charge,
        fee_bps=fee_bps,
        fee_minor=fee_minor,
        vendor_minor=vendor_minor,
        fee_taken=bool(fees),
        stripe_reference=charge.stripe_object_id,
    )


def payout_statement(session: Session, user: User, entry_id: int) -> MoneyDocument:
    """The vendor's statement of one release (its PLATFORM_FEE entry: every release writes one, even when the fee
    is the whole amount). NotVisible (404) to all but the paid vendor and admins."""
    fee = visibility.get_money_document_entry(session, user, entry_id, EntryKind.PLATFORM_FEE)
    transfers = [
        t for t in _entries(session, fee.milestone_id, EntryKind.TRANSFER) if t.stripe_object_id == fee.stripe_object_id
    ]
    charges = [
        c for c in _entries(session, fee.milestone_id, EntryKind.CHARGE) if c.stripe_object_id == fee.source_object_id
    ]
    return _document(
        session,
        "payout",
        document_number(PAYOUT, fee.id),
        fee,
        charges[0] if charges else None,
        fee_bps=fee.fee_bps or 0,
        fee_minor=fee.amount_minor,
        vendor_minor=sum(t.amount_minor for t in transfers),
        fee_taken=True,
        stripe_reference=fee.stripe_object_id,
    )


def document_links(session: Session, user: User, entry_ids: list[int]) -> dict[int, tuple[str, str]]:
    """For each of these ledger entries that has a document this user may download: (kind, number), by entry id.
    A lab's receipts are its charges; a vendor's payout statements are its platform-fee entries; an admin has both.
    The same rule as visibility.get_money_document_entry, as one query for a page of lines."""
    if not entry_ids:
        return {}
    query = select(LedgerEntry).where(
        in_ids(session, col(LedgerEntry.id), entry_ids),
        col(LedgerEntry.kind).in_([EntryKind.CHARGE, EntryKind.PLATFORM_FEE]),
    )
    if not user.is_admin:
        if user.org_id is None:
            return {}
        query = query.where(
            ((col(LedgerEntry.kind) == EntryKind.CHARGE) & (col(LedgerEntry.buyer_org_id) == user.org_id))
            | ((col(LedgerEntry.kind) == EntryKind.PLATFORM_FEE) & (col(LedgerEntry.vendor_org_id) == user.org_id))
        )
    links = {}
    for entry in session.execute(query).scalars():
        if entry.kind == EntryKind.CHARGE:
            links[entry.id] = ("receipt", document_number(RECEIPT, entry.id))
        else:
            links[entry.id] = ("payout", document_number(PAYOUT, entry.id))
    return links


# ------------------------------------------------------------------------------------------------ purchase orders


def check_purchase_order(text: str) -> str:
    """The PO number as it will be stored ("" clears it); DocumentError beside the field when it cannot be one."""
    value = " ".join((text or "").split())
    if not value:
        return ""
    if len(value) > PURCHASE_ORDER_MAX:
        raise DocumentError(
            f"A purchase-order number has at most {PURCHASE_ORDER_MAX} characters; this one has {len(value)}.",
            "purchase_order",
        )
    if _PURCHASE_ORDER.fullmatch(value) is None:
        raise DocumentError(
            "Use letters, digits, spaces and . / # _ - only, starting with a letter or a digit.", "purchase_order"
        )
    return value


def set_purchase_order(session: Session, user: User, contract_id: int, text: str) -> Contract:
    """The lab sets, changes or clears its purchase-order number on the contract; written to the audit trail.

    NotVisible (404) for strangers; contracts.WrongRole (403) for the vendor and admins; DocumentError (400)
    for a number that cannot be one.
    """
    contract = contracts.check_side(session, user, contract_id, "buyer")
    value = check_purchase_order(text)
    before = contract.purchase_order
    if value == before:
        return contract
    contract.purchase_order = value
    record_event(
        session,
        user,
        "contract.purchase_order_set",
        "contract",
        contract.id,
        before={"purchase_order": before},
        after={"purchase_order": value},
        buyer_org_id=contract.buyer_org_id,
        vendor_org_id=contract.vendor_org_id,
    )
    session.flush()
    return contract


# ------------------------------------------------------------------------------------------------ statements as CSV

CSV_COLUMNS = (
    "date (UTC)",
    "movement",
    "contract",
    "job",
    "milestone",
    "buyer",
    "vendor",
    "purchase order",
    "amount",
    "currency",
    "stripe object",
    "document",
    "note",
)
MOVEMENTS = {
    EntryKind.CHARGE: "paid by the buyer",
    EntryKind.REFUND: "refunded to the buyer",
    EntryKind.TRANSFER: "paid to the vendor",
    EntryKind.PLATFORM_FEE: "platform fee",
}
# A cell a spreadsheet would run as a formula (OWASP "CSV injection") is written as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise DocumentError("The end of the period is before its start.", "end")


def statement_csv(session: Session, user: User, start: date | None = None, end: date | None = None) -> str:
    """The user's statement (payments.service.statement: its organisation's side, or everything for an admin) as
    CSV, oldest first, from `start` to `end` inclusive (UTC dates). Amounts are positive in major units; the
    movement says which way the money went, as on the ledger."""
    check_period(start, end)
    lines = [
        line
        for line in reversed(payments.statement(session, user).lines)
        if (start is None or line.entry.created_at.date() >= start)
        and (end is None or line.entry.created_at.date() <= end)
    ]
    orders = (
        dict(
            session.execute(
                select(col(Contract.id), col(Contract.purchase_order)).where(
                    in_ids(session, col(Contract.id), {line.entry.contract_id for line in lines})
                )
            ).all()
        )
        if lines
        else {}
    )
    links = document_links(session, user, [line.entry.id for line in lines])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        entry = line.entry
        writer.writerow(
            [
                entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                MOVEMENTS[EntryKind(entry.kind)],
                entry.contract_id,
                _cell(line.job_title),
                line.milestone_number,
                _cell(line.buyer),
                _cell(line.vendor),
                _cell(orders.get(entry.contract_id, "")),
                f"{to_major(entry.amount_minor, entry.currency):f}",
                entry.currency,
                entry.stripe_object_id,
                links[entry.id][1] if entry.id in links else "",
                _cell(entry.note),
            ]
        )
    return out.getvalue()
