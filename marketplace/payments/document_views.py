"""Documents money needs: receipts and payout statements as PDF, a statement as CSV, the lab's purchase-order number.

A receipt is the paying lab's and a payout statement the paid vendor's (and every admin's): anyone else gets 404
(visibility.get_money_document_entry). The purchase-order number is the lab's to set: 404 for strangers, 403 for
the vendor and admins (contracts.service.check_side).
"""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.contracts.service import WrongRole, get_contract
from marketplace.db_types import utcnow
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required
from marketplace.payments import documents, pdf, service
from marketplace.payments.configured import fee_bps
from marketplace.payments.fees import percent
from marketplace.payments.forms import PurchaseOrderForm, StatementPeriodForm

bp = Blueprint("payment_documents", __name__)


@bp.app_template_global()
def money_documents(lines) -> dict[int, tuple[str, str]]:
    """The documents the signed-in user may download for these statement lines (templates/payments/_ledger.html)."""
    if not current_user.is_authenticated or not lines:
        return {}
    return documents.document_links(db.session, current_user, [line.entry.id for line in lines])


@bp.app_template_global()
def statement_period_form() -> StatementPeriodForm:
    return StatementPeriodForm(None)


def _pdf(document: documents.MoneyDocument) -> Response:
    response = Response(pdf.render(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/payments/receipts/<int:entry_id>.pdf")
@login_required
def receipt(entry_id: int):
    """The lab's receipt for one milestone payment, with its refunds as credit notes. 404 to all but the lab and
    admins."""
    return _pdf(documents.receipt(db.session, current_user, entry_id))


@bp.get("/payments/payout-statements/<int:entry_id>.pdf")
@login_required
def payout_statement(entry_id: int):
    """The vendor's statement of one payout: the amount, the platform fee and the net. 404 to all but the vendor
    and admins."""
    return _pdf(documents.payout_statement(db.session, current_user, entry_id))


@bp.get("/payments/statement.csv")
@login_required
def statement_csv():
    """The statement page's movements as CSV, for a period if asked; 400 on the statement page for a bad period."""
    if not (current_user.is_admin or current_user.org_id):
        abort(403)
    form = StatementPeriodForm(request.args)
    if form.validate():
        try:
            text = documents.statement_csv(db.session, current_user, form.start.data, form.end.data)
        except documents.DocumentError as error:
            show_on_form(form, error)
        else:
            filename = f"statement-{current_user.org_id or 'platform'}-{utcnow():%Y%m%d}.csv"
            return Response(
                text,
                mimetype="text/csv",
                headers={
                    "Content-Disposition": f'attachment; filename="{filename}"',
                    "Cache-Control": "private, no-store",
                },
            )
    page = render_template(
        "payments/statement.html",
        statement=service.statement(db.session, current_user),
        fee_label=percent(fee_bps()),
        period_form=form,
    )
    return page, 400


@bp.route("/contracts/<int:contract_id>/purchase-order", methods=["GET", "POST"])
@login_required
@org_role_required(OrgRole.MANAGER, "set purchase-order numbers", methods=frozenset({"POST"}))
def purchase_order(contract_id: int):
    """The lab sets, changes or clears its purchase-order number, shown on its receipts."""
    contract = get_contract(db.session, current_user, contract_id)
    if current_user.is_admin or not current_user.is_buyer or current_user.org_id != contract.buyer_org_id:
        abort(403)
    if request.method == "GET":
        form = PurchaseOrderForm(data={"purchase_order": contract.purchase_order})
        return render_template("payments/purchase_order.html", form=form, contract=contract)
    form = PurchaseOrderForm()
    if form.validate_on_submit():
        try:
            saved = documents.set_purchase_order(db.session, current_user, contract_id, form.purchase_order.data or "")
        except WrongRole:
            abort(403)
        except documents.DocumentError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(
                f"Purchase-order number {saved.purchase_order} saved: it is on your receipts."
                if saved.purchase_order
                else "Purchase-order number removed.",
                "success",
            )
            return redirect(url_for("contracts.show", contract_id=contract_id), 303)
    return render_template("payments/purchase_order.html", form=form, contract=contract), 400
