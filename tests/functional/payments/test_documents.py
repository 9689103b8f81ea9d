"""Receipts, payout statements, the purchase-order number and the statement's CSV, against the local Stripe.

The PDFs are read back with pypdf, and every figure is checked against the ledger the payment wrote.
"""

import csv
import io
import re
from collections import defaultdict
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.contracts import service as contracts
from marketplace.contracts.lifecycle import milestones_of
from marketplace.contracts.models import Contract
from marketplace.contracts.service import PlannedMilestone
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job
from marketplace.money import format_money, to_minor
from marketplace.payments.models import EntryKind, LedgerEntry
from tests.factories import AdminFactory, BuyerFactory, VendorFactory
from tests.functional.payments.stripe_support import connect_vendor, fund, make_deal, only_milestone


@pytest.fixture
def deal(session, stripe_config):
    return make_deal(session, total_minor=1_250_000)


def entries(session, deal, kind=None) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.contract_id == deal.contract.id).order_by(LedgerEntry.id)
    return [e for e in session.execute(query).scalars() if kind is None or e.kind == kind]


def one(session, deal, kind) -> LedgerEntry:
    (entry,) = entries(session, deal, kind)
    return entry


def org_name(session, org_id) -> str:
    return session.get(Organization, org_id).name


def released(session, deal, gateway, stripe_sim):
    """Funded, delivered, accepted and paid out through the services the pages call."""
    connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    contracts.deliver(session, deal.vendor, deal.contract.id, milestone.id, "All boxed.", [], None)
    contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id)
    session.commit()
    return milestone


def pdf_text(response) -> str:
    """The PDF's text, as a PDF reader copies it out, with its white space folded."""
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return " ".join(text.split())


def receipt_url(entry) -> str:
    return f"/payments/receipts/{entry.id}.pdf"


def payout_url(entry) -> str:
    return f"/payments/payout-statements/{entry.id}.pdf"


def usd(minor: int) -> str:
    return format_money(minor, "USD")


# ------------------------------------------------------------------------------------------------ receipts


def test_the_labs_receipt_shows_the_payment_the_fee_and_its_po_number_as_the_ledger_has_them(
    client, login_as, deal, session, gateway, stripe_sim
):
    milestone = released(session, deal, gateway, stripe_sim)
    login_as(deal.buyer)
    saved = client.post(f"/contracts/{deal.contract.id}/purchase-order", data={"purchase_order": "PO-2026/0042"})
    assert saved.status_code == 303
    charge = one(session, deal, EntryKind.CHARGE)
    fee = one(session, deal, EntryKind.PLATFORM_FEE)
    transfer = one(session, deal, EntryKind.TRANSFER)
    assert (charge.amount_minor, fee.amount_minor, transfer.amount_minor) == (1_250_000, 125_000, 1_125_000)
    page = client.get(f"/contracts/{deal.contract.id}")
    assert f'href="{receipt_url(charge)}"' in page.text
    assert "PO-2026/0042" in page.text
    assert payout_url(fee) not in page.text  # the vendor's document, not the lab's

    response = client.get(receipt_url(charge))
    assert f'filename="receipt-R-{charge.id:06d}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response)
    assert f"Receipt R-{charge.id:06d}" in text
    assert "Purchase order PO-2026/0042" in text
    assert f"#{deal.contract.id}:" in text and f"Milestone 1: {milestone.title}" in text
    assert f"Total paid {usd(charge.amount_minor)}" in text
    assert f"of which the platform fee (10%) {usd(fee.amount_minor)}" in text
    assert f"of which for the vendor {usd(transfer.amount_minor)}" in text
    assert charge.stripe_object_id in text
    assert org_name(session, deal.buyer.org_id) in text and org_name(session, deal.vendor.org_id) in text


def test_a_receipt_before_release_shows_the_fee_that_release_will_take(
    client, login_as, deal, session, gateway, stripe_sim
):
    fund(session, deal, gateway, stripe_sim, only_milestone(session, deal))
    login_as(deal.buyer)
    text = pdf_text(client.get(receipt_url(one(session, deal, EntryKind.CHARGE))))
    assert f"Total paid {usd(1_250_000)}" in text
    assert f"of which the platform fee (10%, taken when the payment is released) {usd(125_000)}" in text
    assert "Purchase order" not in text  # none set


def test_a_refund_is_a_credit_note_on_the_receipt(client, login_as, deal, session, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    login_as(deal.buyer)
    assert client.post(f"/contracts/{deal.contract.id}/milestones/{milestone.id}/cancel").status_code == 303
    charge, refund = one(session, deal, EntryKind.CHARGE), one(session, deal, EntryKind.REFUND)
    text = pdf_text(client.get(receipt_url(charge)))
    assert f"Credit note C-{refund.id:06d}" in text
    assert f"−{usd(refund.amount_minor)}" in text
    assert f"Total paid, after refunds {usd(charge.amount_minor - refund.amount_minor)}" in text
    assert f"of which the platform fee (none: the payment was refunded) {usd(0)}" in text
    assert refund.stripe_object_id in text


def test_names_and_currency_signs_beyond_latin_1_print_as_written(
    client, login_as, session, stripe_config, gateway, stripe_sim
):
    deal = make_deal(session, total_minor=5_000_000, currency="INR")
    session.get(Organization, deal.buyer.org_id).name = "Лаборатория Ωmega Société"
    session.commit()
    fund(session, deal, gateway, stripe_sim, only_milestone(session, deal))
    login_as(deal.buyer)
    text = pdf_text(client.get(receipt_url(one(session, deal, EntryKind.CHARGE))))
    assert "Лаборатория Ωmega Société" in text
    assert "₹50,000.00" in text


# ------------------------------------------------------------------------------------------------ payout statements


def test_the_vendors_payout_statement_shows_the_amount_the_fee_and_the_net_as_the_ledger_has_them(
    client, login_as, deal, session, gateway, stripe_sim
):
    released(session, deal, gateway, stripe_sim)
    deal.contract.purchase_order = "4500012345"
    session.commit()
    charge = one(session, deal, EntryKind.CHARGE)
    fee = one(session, deal, EntryKind.PLATFORM_FEE)
    transfer = one(session, deal, EntryKind.TRANSFER)
    login_as(deal.vendor)
    statement = client.get("/payments/statement")
    assert f'href="{payout_url(fee)}"' in statement.text
    assert receipt_url(charge) not in statement.text  # the lab's document, not the vendor's
    response = client.get(payout_url(fee))
    assert f'filename="payout-statement-P-{fee.id:06d}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response)
    assert f"Payout statement P-{fee.id:06d}" in text
    assert f"The lab's payment for the milestone {usd(charge.amount_minor)}" in text
    assert f"Platform fee (10%) −{usd(fee.amount_minor)}" in text
    assert f"Paid to the vendor {usd(transfer.amount_minor)}" in text
    assert charge.amount_minor == fee.amount_minor + transfer.amount_minor
    assert transfer.stripe_object_id in text
    assert "Purchase order 4500012345" in text


# ------------------------------------------------------------------------------------------------ who may download


@pytest.mark.parametrize(
    ("who", "document", "status"),
    [
        ("buyer", "receipt", 200),
        ("admin", "receipt", 200),
        ("vendor", "receipt", 404),
        ("other_buyer", "receipt", 404),
        ("excluded_vendor", "receipt", 404),
        ("vendor", "payout", 200),
        ("admin", "payout", 200),
        ("buyer", "payout", 404),
        ("other_vendor", "payout", 404),
        ("excluded_vendor", "payout", 404),
    ],
)
def test_only_the_documents_own_organisation_and_admins_may_download_it(
    client, login_as, deal, session, gateway, stripe_sim, exclude_vendor, who, document, status
):
    released(session, deal, gateway, stripe_sim)
    excluded = VendorFactory()
    exclude_vendor(deal.buyer.org_id, excluded.org_id)
    users = {
        "buyer": deal.buyer,
        "vendor": deal.vendor,
        "admin": AdminFactory(),
        "other_buyer": BuyerFactory(),
        "other_vendor": VendorFactory(),
        "excluded_vendor": excluded,
    }
    session.commit()
    entry = one(session, deal, EntryKind.CHARGE if document == "receipt" else EntryKind.PLATFORM_FEE)
    login_as(users[who])
    url = receipt_url(entry) if document == "receipt" else payout_url(entry)
    assert client.get(url).status_code == status


def test_an_address_of_the_wrong_kind_or_no_entry_is_not_found(client, login_as, deal, session, gateway, stripe_sim):
    released(session, deal, gateway, stripe_sim)
    login_as(AdminFactory())
    fee, transfer = one(session, deal, EntryKind.PLATFORM_FEE), one(session, deal, EntryKind.TRANSFER)
    assert client.get(receipt_url(fee)).status_code == 404
    assert client.get(payout_url(transfer)).status_code == 404
    assert client.get("/payments/receipts/999999999.pdf").status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(client, deal, session, gateway, stripe_sim):
    fund(session, deal, gateway, stripe_sim, only_milestone(session, deal))
    response = client.get(receipt_url(one(session, deal, EntryKind.CHARGE)))
    assert response.status_code in (302, 303) and response.headers["Location"].startswith("/sign-in")


# ------------------------------------------------------------------------------------------------ the PO number


def po_url(deal) -> str:
    return f"/contracts/{deal.contract.id}/purchase-order"


def test_the_lab_sets_changes_and_clears_its_po_number_each_step_audited(client, login_as, deal, session):
    login_as(deal.buyer)
    form = client.get(po_url(deal))
    assert form.status_code == 200 and 'name="purchase_order"' in form.text
    assert client.post(po_url(deal), data={"purchase_order": "  PO 7731  "}).status_code == 303
    assert session.get(Contract, deal.contract.id).purchase_order == "PO 7731"
    assert 'value="PO 7731"' in client.get(po_url(deal)).text
    assert client.post(po_url(deal), data={"purchase_order": "PO 7732"}).status_code == 303
    assert client.post(po_url(deal), data={"purchase_order": ""}).status_code == 303
    assert session.get(Contract, deal.contract.id).purchase_order == ""
    trail = session.execute(
        select(AuditRecord)
        .where(AuditRecord.action == "contract.purchase_order_set", AuditRecord.subject_id == deal.contract.id)
        .order_by(AuditRecord.id)
    ).scalars()
    changes = [(r.before["purchase_order"], r.after["purchase_order"], r.actor_id) for r in trail]
    assert changes == [
        ("", "PO 7731", deal.buyer.id),
        ("PO 7731", "PO 7732", deal.buyer.id),
        ("PO 7732", "", deal.buyer.id),
    ]
    assert "Purchase order: none" in " ".join(client.get(f"/contracts/{deal.contract.id}").text.split())


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("P" * 41, "at most 40 characters; this one has 41"),
        ("=HYPERLINK(1)", "Use letters, digits, spaces and . / # _ - only"),
        ("PO<script>", "Use letters, digits, spaces and . / # _ - only"),
        ("-7731", "starting with a letter or a digit"),
        ("ПО-7731", "Use letters, digits, spaces and . / # _ - only"),
    ],
)
def test_a_po_number_that_cannot_be_one_is_refused_beside_the_field_and_kept(
    client, login_as, deal, session, typed, message
):
    login_as(deal.buyer)
    response = client.post(po_url(deal), data={"purchase_order": typed})
    assert response.status_code == 400
    assert message in response.text.replace("&#34;", '"')
    beside = re.search(r'<div class="field\s+has-error">(.*?)</div>', response.text, re.S)
    assert beside and 'name="purchase_order"' in beside[1] and message in beside[1].replace("&#34;", '"')
    assert typed.replace("<", "&lt;").replace(">", "&gt;") in response.text
    assert session.get(Contract, deal.contract.id).purchase_order == ""
    assert not session.execute(select(AuditRecord).where(AuditRecord.action == "contract.purchase_order_set")).first()


def test_only_the_labs_users_set_the_po_number(client, login_as, deal, session):
    login_as(deal.vendor)
    assert client.get(po_url(deal)).status_code == 403
    assert client.post(po_url(deal), data={"purchase_order": "X1"}).status_code == 403
    login_as(AdminFactory())
    assert client.post(po_url(deal), data={"purchase_order": "X1"}).status_code == 403
    login_as(BuyerFactory())
    assert client.get(po_url(deal)).status_code == 404
    assert client.post(po_url(deal), data={"purchase_order": "X1"}).status_code == 404
    assert session.get(Contract, deal.contract.id).purchase_order == ""


def test_the_po_form_needs_its_csrf_token(app, client, login_as, deal, session):
    app.config["WTF_CSRF_ENABLED"] = True
    login_as(deal.buyer)
    response = client.post(po_url(deal), data={"purchase_order": "X1"})
    assert response.status_code == 400
    assert session.get(Contract, deal.contract.id).purchase_order == ""


# ------------------------------------------------------------------------------------------------ CSV


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def ledger_totals(found: list[LedgerEntry]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for entry in found:
        totals[str(entry.kind)] += entry.amount_minor
    return dict(totals)


MOVEMENT_KINDS = {
    "paid by the buyer": "charge",
    "refunded to the buyer": "refund",
    "paid to the vendor": "transfer",
    "platform fee": "platform_fee",
}


def csv_totals(rows: list[dict]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[MOVEMENT_KINDS[row["movement"]]] += to_minor(row["amount"], row["currency"])
    return dict(totals)


def two_milestones(session, deal, gateway, stripe_sim):
    """The contract in two milestones: the first released, the second funded then cancelled (refunded)."""
    contracts.plan_milestones(
        session,
        deal.buyer,
        gateway,
        deal.contract.id,
        [PlannedMilestone("Images", 916_667, None), PlannedMilestone("Video", 333_333, None)],
        fee_bps=1000,
    )
    session.commit()
    connect_vendor(session, deal, gateway, stripe_sim)
    first, second = milestones_of(session, deal.contract.id)
    for milestone in (first, second):
        fund(session, deal, gateway, stripe_sim, milestone)
    contracts.deliver(session, deal.vendor, deal.contract.id, first.id, "All boxed.", [], None)
    contracts.accept_delivery(session, deal.buyer, gateway, deal.contract.id, first.id)
    contracts.cancel_milestone(session, deal.buyer, gateway, deal.contract.id, second.id, fee_bps=1000)
    session.commit()


def test_each_sides_csv_adds_up_to_the_ledger(client, login_as, deal, session, gateway, stripe_sim):
    two_milestones(session, deal, gateway, stripe_sim)
    everything = entries(session, deal)
    login_as(deal.buyer)
    rows = csv_rows(client.get("/payments/statement.csv"))
    assert len(rows) == len(everything) == 5
    assert csv_totals(rows) == ledger_totals(everything)
    assert csv_totals(rows) == {"charge": 1_250_000, "transfer": 825_000, "platform_fee": 91_667, "refund": 333_333}
    receipts = [row["document"] for row in rows if row["movement"] == "paid by the buyer"]
    assert sorted(receipts) == [f"R-{e.id:06d}" for e in everything if e.kind == EntryKind.CHARGE]
    assert {row["stripe object"] for row in rows} == {e.stripe_object_id for e in everything}
    assert [row["date (UTC)"] for row in rows] == sorted(row["date (UTC)"] for row in rows)

    login_as(deal.vendor)
    vendor_rows = csv_rows(client.get("/payments/statement.csv"))
    assert csv_totals(vendor_rows) == ledger_totals(entries(session, deal))
    assert [row["document"] for row in vendor_rows if row["document"]] == [
        f"P-{one(session, deal, EntryKind.PLATFORM_FEE).id:06d}"
    ]


def test_the_csv_keeps_to_the_period_asked(client, login_as, deal, session, gateway, stripe_sim):
    released(session, deal, gateway, stripe_sim)
    today = utcnow().date()
    login_as(deal.buyer)
    within = csv_rows(client.get(f"/payments/statement.csv?start={today}&end={today}"))
    assert csv_totals(within) == ledger_totals(entries(session, deal))
    before = csv_rows(client.get(f"/payments/statement.csv?end={today - timedelta(days=1)}"))
    after = csv_rows(client.get(f"/payments/statement.csv?start={today + timedelta(days=1)}"))
    assert before == [] and after == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-05-02&end=2026-05-01", "The end of the period is before its start."),
        ("start=yesterday", "Not a valid date value."),
        ("end=1066-10-14", "Give a date between 2000-01-01 and 2999-12-31."),
    ],
)
def test_a_bad_period_is_refused_on_the_statement_page(client, login_as, deal, query, message):
    login_as(deal.buyer)
    response = client.get(f"/payments/statement.csv?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in response.text


def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text(client, login_as, deal, session, gateway, stripe_sim):
    session.get(Job, deal.contract.job_id).title = '=HYPERLINK("http://evil.example")'
    session.commit()
    fund(session, deal, gateway, stripe_sim, only_milestone(session, deal))
    login_as(deal.buyer)
    (row,) = csv_rows(client.get("/payments/statement.csv"))
    assert row["job"] == '\'=HYPERLINK("http://evil.example")'


def test_the_csv_is_for_organisations_and_admins(client, login_as, deal, session, gateway, stripe_sim):
    released(session, deal, gateway, stripe_sim)
    login_as(BuyerFactory())
    assert csv_rows(client.get("/payments/statement.csv")) == []
    login_as(AdminFactory())
    assert csv_totals(csv_rows(client.get("/payments/statement.csv"))) == ledger_totals(
        list(session.execute(select(LedgerEntry)).scalars())
    )
