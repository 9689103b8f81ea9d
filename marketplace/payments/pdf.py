"""A receipt or a payout statement as a PDF (fpdf2): a document in, bytes out; nothing read, nothing fetched.

The text is set in DejaVu Sans (fonts/, with its licence), embedded as a subset, so that names in Greek, Cyrillic
or accented Latin and signs such as ₹ print as written, and a PDF reader can copy the text back out.
"""

from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from marketplace.money import format_money
from marketplace.payments.documents import MoneyDocument
from marketplace.payments.fees import percent

FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
PLATFORM = "Arm's Length"
TITLES = {"receipt": "Receipt", "payout": "Payout statement"}


def _when(moment: datetime) -> str:
    return moment.strftime("%d %B %Y, %H:%M UTC")


class _Sheet:
    """An A4 page with the few kinds of line a money document has."""

    def __init__(self, title: str, number: str, issued_at: datetime):
        self.pdf = FPDF(format="A4")
        self.pdf.set_title(f"{title} {number}")
        self.pdf.set_author(PLATFORM)
        self.pdf.set_creator(PLATFORM)
        self.pdf.set_creation_date(issued_at)
        self.pdf.add_font("DejaVu", "", str(FONT))
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()

    def heading(self, text: str, size: int = 18) -> None:
        self.pdf.set_font("DejaVu", size=size)
        self.pdf.cell(0, size * 0.6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(2)

    def pair(self, label: str, value: str) -> None:
        self.pdf.set_font("DejaVu", size=10)
        self.pdf.cell(50, 6, label)
        self.pdf.multi_cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def amount(self, label: str, value: str, *, strong: bool = False) -> None:
        self.pdf.set_font("DejaVu", size=12 if strong else 10)
        self.pdf.cell(130, 7, label)
        self.pdf.cell(0, 7, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def note(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("DejaVu", size=8)
        self.pdf.multi_cell(0, 4.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def space(self) -> None:
        self.pdf.ln(4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def render(document: MoneyDocument) -> bytes:
    """The PDF of a receipt or a payout statement."""

    def money(minor: int) -> str:
        return format_money(minor, document.currency)

    title = TITLES[document.kind]
    receipt = document.kind == "receipt"
    sheet = _Sheet(title, document.number, document.issued_at)
    sheet.heading(f"{title} {document.number}")
    sheet.pair("Date", _when(document.issued_at))
    sheet.pair("Issued by", f"{PLATFORM}, the marketplace that holds and pays out the money")
    sheet.pair("Paid by (lab)" if receipt else "Lab", document.buyer)
    sheet.pair("Vendor" if receipt else "Paid to (vendor)", document.vendor)
    sheet.pair("Contract", f"#{document.contract_id}: {document.job_title}")
    sheet.pair("Milestone", f"{document.milestone_number}: {document.milestone_title}")
    if document.purchase_order:
        sheet.pair("Purchase order", document.purchase_order)
    sheet.pair("Stripe reference", document.stripe_reference)
    sheet.space()
    rate = percent(document.fee_bps)
    sheet.heading("Payment" if receipt else "Payout", 13)
    sheet.amount(
        "Paid for the milestone" if receipt else "The lab's payment for the milestone", money(document.paid_minor)
    )
    for credit in document.credits:
        sheet.amount(f"Credit note {credit.number}, {_when(credit.issued_at)}", f"−{money(credit.amount_minor)}")
    if receipt:
        label = "Total paid, after refunds" if document.credits else "Total paid"
        sheet.amount(label, money(document.net_paid_minor), strong=True)
        if document.fee_taken:
            fee_label = f"  of which the platform fee ({rate})"
        elif document.net_paid_minor == 0:
            fee_label = "  of which the platform fee (none: the payment was refunded)"
        else:
            fee_label = f"  of which the platform fee ({rate}, taken when the payment is released)"
        sheet.amount(fee_label, money(document.fee_minor))
        sheet.amount("  of which for the vendor", money(document.vendor_minor))
    else:
        if document.credits:
            sheet.amount("Released to the vendor", money(document.fee_minor + document.vendor_minor))
        sheet.amount(f"Platform fee ({rate})", f"−{money(document.fee_minor)}")
        sheet.amount("Paid to the vendor", money(document.vendor_minor), strong=True)
    if document.credits:
        sheet.note(
            "Credit notes: "
            + "; ".join(f"{c.number} ({c.stripe_id}){': ' + c.note if c.note else ''}" for c in document.credits)
        )
    sheet.note(
        "Amounts as recorded in the marketplace's ledger. The platform fee is deducted from the vendor's payout; "
        "the lab pays the milestone's amount and nothing more."
    )
    return sheet.output()
