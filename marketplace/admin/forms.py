"""The admins' decision on a disclosure version."""

from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

DECISION_CHOICES = [
    ("approved", "Approve"),
    ("changes_requested", "Request changes"),
    ("rejected", "Reject"),
]


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=DECISION_CHOICES,
                          validators=[InputRequired(message="Choose approve, request changes or reject.")])
    reason = TextAreaField("Reason (required to request changes or reject; the vendor sees it)",
                           validators=[Length(max=4000)])
