"""The admins' forms: the decision on a disclosure version, a fact from another source, and a suspension."""

from dataclasses import asdict

from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.accounts.suspension import REASON_LIMIT
from marketplace.api.tokens import ADMIN_EXPIRY_DAYS, ADMIN_SCOPES, NAME_LIMIT
from marketplace.disclosures.facts import FACT_LEVELS, FactInput
from marketplace.disclosures.forms import TieForm

DECISION_CHOICES = [
    ("approved", "Approve"),
    ("changes_requested", "Request changes"),
    ("rejected", "Reject"),
]


class DecisionForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=DECISION_CHOICES,
        validators=[InputRequired(message="Choose approve, request changes or reject.")],
    )
    reason = TextAreaField(
        "Reason (required to request changes or reject; the vendor sees it)", validators=[Length(max=4000)]
    )


class FactForm(TieForm):
    vendor_org_id = SelectField(
        "Vendor", coerce=int, choices=[], validators=[InputRequired(message="Choose the vendor this fact is about.")]
    )
    revenue_share_pct = FloatField("Share of the vendor's revenue %", validators=[Optional()])
    verification_level = RadioField(
        "Verified by",
        choices=[(level.value, level.value.capitalize()) for level in FACT_LEVELS],
        validators=[InputRequired(message="Choose how the fact was verified.")],
    )
    source_url = StringField(
        "Source address", validators=[InputRequired(message="Give the address of the source."), Length(max=1000)]
    )
    source_date = DateField("Source date", validators=[InputRequired(message="Give the date of the source.")])
    source_description = StringField("Source", validators=[Length(max=1000)])

    def to_fact(self) -> FactInput:
        tie = self.to_input()
        return FactInput(
            **asdict(tie),
            verification_level=self.verification_level.data or "",
            source_url=self.source_url.data or "",
            source_date=self.source_date.data,
            source_description=self.source_description.data or "",
        )


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        "Reason (the organisation's users are told it)",
        validators=[
            InputRequired(message="Give the reason: the organisation's users are told it."),
            Length(max=REASON_LIMIT),
        ],
    )


class AdminTokenForm(FlaskForm):
    """A platform admin's personal API token: a current second-factor code makes it."""

    name = StringField(
        "Name (the tool that will use it)",
        validators=[InputRequired("Name the token after the tool that will use it."), Length(max=NAME_LIMIT)],
    )
    scopes = SelectMultipleField(
        "What it may do", choices=[(scope, f"{scope}: {words}") for scope, words in ADMIN_SCOPES.items()]
    )
    expires_in_days = SelectField(
        "Expires after", choices=[(days, f"{days} days") for days in ADMIN_EXPIRY_DAYS], coerce=int, default=30
    )
    code = StringField(
        "Code from your authenticator app (or a recovery code)",
        validators=[InputRequired("Enter the code your authenticator app shows."), Length(max=40)],
    )
