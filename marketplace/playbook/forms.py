"""The playbook's forms: the lab's defaults, one contract's playbook, a grant, going on, the attestation."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.playbook.models import DEFAULT_DELETION_DAYS
from marketplace.playbook.service import MAX_DELETION_DAYS, MAX_GRANT_DAYS

DAYS = "Give the days for the deletion: a whole number from 1 to 90."


class PlaybookForm(FlaskForm):
    wind_down = BooleanField("Wind down when the vendor becomes tied to a rival (excluded)", default=True)
    deletion_days = IntegerField(
        "Days the vendor has to attest deletion",
        default=DEFAULT_DELETION_DAYS,
        validators=[InputRequired(DAYS), NumberRange(1, MAX_DELETION_DAYS, DAYS)],
    )


class GrantForm(FlaskForm):
    resource = StringField(
        "Data", validators=[InputRequired("Name the data: a bucket, a folder or a dataset."), Length(max=500)]
    )
    access = RadioField(
        "Access",
        choices=[("read", "Read"), ("read-write", "Read and write")],
        default="read",
        validators=[InputRequired("Choose read, or read and write.")],
    )
    days = IntegerField(
        "Days of access",
        default=30,
        validators=[
            InputRequired(f"Give the days of access: a whole number from 1 to {MAX_GRANT_DAYS}."),
            NumberRange(1, MAX_GRANT_DAYS, f"Give the days of access: a whole number from 1 to {MAX_GRANT_DAYS}."),
        ],
    )


class GoOnForm(FlaskForm):
    reason = TextAreaField(
        "Your reason to go on with the contract (kept in the audit trail)",
        validators=[InputRequired("Give your reason to go on."), Length(max=2000)],
    )


class AttestForm(FlaskForm):
    officer_name = StringField(
        "Your full name", validators=[InputRequired("Give your full name, as the officer attesting."), Length(max=200)]
    )
    officer_title = StringField(
        "Your title", validators=[InputRequired("Give your title in your organisation."), Length(max=200)]
    )
    deleted_on = DateField(
        "The data was deleted on", validators=[InputRequired("Give the date the data was deleted: today or earlier.")]
    )
    details = TextAreaField("What was deleted, and how (systems, backups)", validators=[Optional(), Length(max=2000)])
    confirmed = BooleanField(
        "I attest that every copy of the lab's data for this contract, backups included, is deleted, and that I may "
        "attest it for my organisation."
    )
