"""Forms of a dispute: opening one, a statement, and the admin's decision (amounts typed in major units)."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from marketplace.disputes.models import DisputeOutcome
from marketplace.money import to_minor


class OpenDisputeForm(FlaskForm):
    reason = TextAreaField(
        "What the dispute is about", validators=[InputRequired("Say what the dispute is about."), Length(max=4000)]
    )
    files = MultipleFileField("Evidence (up to 5 files, 10 MB each)")


class StatementForm(FlaskForm):
    body = TextAreaField("Your statement", validators=[InputRequired("Write your statement."), Length(max=8000)])
    files = MultipleFileField("Evidence (up to 5 files, 10 MB each)")


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why you withdraw it (both sides read it)",
        validators=[InputRequired("Say why you withdraw the dispute: both sides read it."), Length(max=4000)],
    )


class DecisionForm(FlaskForm):
    outcome = RadioField(
        "Decision",
        choices=[
            (DisputeOutcome.RELEASE.value, "Release in full to the vendor (less the platform fee)"),
            (DisputeOutcome.REFUND.value, "Refund in full to the buyer"),
            (DisputeOutcome.SPLIT.value, "Split: a part to each"),
        ],
        validators=[InputRequired("Choose release, refund or split.")],
    )
    vendor_amount = StringField("Vendor's part (a split)", validators=[Optional(), Length(max=40)])
    buyer_amount = StringField("Buyer's part (a split)", validators=[Optional(), Length(max=40)])
    explanation = TextAreaField(
        "Explanation, shown to both sides",
        validators=[InputRequired("Explain the decision to both sides."), Length(max=4000)],
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def _amount(self, field) -> int | None:
        text = (field.data or "").strip()
        return to_minor(text, self.currency) if text else None

    def validate_vendor_amount(self, field):
        try:
            self._amount(field)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    validate_buyer_amount = validate_vendor_amount

    def vendor_minor(self) -> int | None:
        return self._amount(self.vendor_amount)

    def buyer_minor(self) -> int | None:
        return self._amount(self.buyer_amount)
