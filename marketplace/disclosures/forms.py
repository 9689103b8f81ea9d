"""Forms for adding a tie to a draft disclosure, attaching evidence, and attesting and submitting it."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from marketplace.disclosures.service import TieInput, kind_choices

PERCENT_HINT = "Percent, 0–100."


class TieForm(FlaskForm):
    kind = SelectField("Kind of tie", choices=kind_choices(), validators=[InputRequired()])
    # Picked from the registry search; without one, the name typed (required then: the service says so).
    party_id = IntegerField("Party found in the registry", validators=[Optional()])
    party_name = StringField("Name of the person or organisation", validators=[Length(max=300)])
    new_party = BooleanField("None of these: add it as a new party")
    party_kind = RadioField(
        "This is",
        choices=[("entity", "an organisation"), ("person", "a person")],
        default="entity",
        validators=[InputRequired()],
    )
    share_exact = FloatField("Exact share %", validators=[Optional()])
    share_min = FloatField("Share at least %", validators=[Optional()])
    share_min_exclusive = BooleanField("more than (exclusive)")
    share_max = FloatField("Share at most %", validators=[Optional()])
    share_max_exclusive = BooleanField("less than (exclusive)")
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
    role_title = StringField("Role title", validators=[Length(max=200)])
    other_org = StringField("Organisation where they hold the role", validators=[Length(max=300)])
    revenue_share_pct = FloatField("Share of your revenue %", validators=[Optional()])
    note = TextAreaField("Note", validators=[Length(max=2000)])

    def to_input(self) -> TieInput:
        return TieInput(
            kind=self.kind.data or "",
            party_name=self.party_name.data or "",
            party_kind=self.party_kind.data or "",
            share_exact=self.share_exact.data,
            share_min=self.share_min.data,
            share_max=self.share_max.data,
            share_min_exclusive=bool(self.share_min_exclusive.data),
            share_max_exclusive=bool(self.share_max_exclusive.data),
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            role_title=self.role_title.data or "",
            other_org=self.other_org.data or "",
            revenue_share_pct=self.revenue_share_pct.data,
            note=self.note.data or "",
            party_id=self.party_id.data,
            new_party=bool(self.new_party.data),
        )


class AttestForm(FlaskForm):
    attester_name = StringField(
        "Officer's name", validators=[InputRequired(message="Give the officer's name."), Length(max=200)]
    )
    attester_title = StringField(
        "Officer's title", validators=[InputRequired(message="Give the officer's title."), Length(max=200)]
    )
    summary = TextAreaField("What changed since the last version", validators=[Length(max=4000)])
    attest = BooleanField(
        "I attest that this disclosure is complete and true",
        validators=[InputRequired(message="Tick the box to attest that the disclosure is complete and true.")],
    )


class EvidenceForm(FlaskForm):
    file = FileField(
        "Document (PDF, PNG, JPEG, GIF or WebP; at most 10 MB)",
        validators=[FileRequired(message="Choose a file to attach.")],
    )
    description = StringField("What it shows", validators=[Length(max=300)])
