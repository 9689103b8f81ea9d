"""Forms of the money documents: the lab's purchase-order number, and the period of a statement's CSV."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, Form, StringField
from wtforms.validators import Optional, ValidationError

from marketplace.payments.documents import PURCHASE_ORDER_MAX

# No ledger entry falls outside these days; a date beyond them is a typing mistake, said beside the field.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


class PurchaseOrderForm(FlaskForm):
    # The length and the characters are checked by payments.documents.check_purchase_order, one place for both
    # this form and any other caller; the browser gets the length as a hint.
    purchase_order = StringField(
        "Purchase-order number", render_kw={"maxlength": PURCHASE_ORDER_MAX, "autocomplete": "off"}
    )


def _plausible_day(_form, field) -> None:
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(f"Give a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}.")


class StatementPeriodForm(Form):
    """Read from the query string (a GET form that changes nothing: no CSRF token)."""

    start = DateField("From", validators=[Optional(), _plausible_day])
    end = DateField("To", validators=[Optional(), _plausible_day])
