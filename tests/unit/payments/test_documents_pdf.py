"""The PDF of a receipt or a payout statement, from a document made by hand: what a reader copies out of it."""

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from marketplace.payments.documents import Credit, DocumentError, MoneyDocument, check_purchase_order
from marketplace.payments.pdf import render

ISSUED = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def document(**changes) -> MoneyDocument:
    fields = {
        "kind": "payout",
        "number": "P-000051",
        "issued_at": ISSUED,
        "buyer": "Northwind AI",
        "vendor": "Scalewise Data",
        "contract_id": 7,
        "job_title": "Boxes for 10,000 street images",
        "milestone_number": 2,
        "milestone_title": "Second batch",
        "currency": "JPY",
        "paid_minor": 1_000_000,
        "fee_bps": 250,
        "fee_minor": 20_000,
        "vendor_minor": 780_000,
        "fee_taken": True,
        "purchase_order": "",
        "stripe_reference": "tr_1",
        "credits": [Credit("C-000047", ISSUED, 200_000, "Split by an admin.", "re_1")],
    }
    return MoneyDocument(**{**fields, **changes})


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_a_payout_after_a_partial_refund_shows_what_was_released_the_fee_and_the_net():
    text = text_of(render(document()))
    assert "Payout statement P-000051" in text
    assert "The lab's payment for the milestone ¥1,000,000" in text
    assert "Credit note C-000047, 06 December 2026, 04:00 UTC −¥200,000" in text
    assert "Released to the vendor ¥800,000" in text
    assert "Platform fee (2.5%) −¥20,000" in text
    assert "Paid to the vendor ¥780,000" in text
    assert "Purchase order" not in text


def test_a_pdf_is_the_same_bytes_each_time_it_is_made():
    assert render(document()) == render(document())


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("PO-2026/0042", "PO-2026/0042"),
        ("  4500 0123  ", "4500 0123"),
        ("", ""),
        ("   ", ""),
        ("A" * 40, "A" * 40),
        ("PO\n1", "PO 1"),
    ],
)
def test_a_po_number_is_stored_trimmed_with_its_spaces_folded(typed, stored):
    assert check_purchase_order(typed) == stored


@pytest.mark.parametrize("typed", ["A" * 41, "PO;DROP", "=1+1", "#1", "ПО-1"])
def test_a_po_number_that_cannot_be_one_is_refused_on_its_field(typed):
    with pytest.raises(DocumentError) as refused:
        check_purchase_order(typed)
    assert refused.value.field == "purchase_order"
