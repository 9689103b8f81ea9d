"""The owner's forms on the team page: a member's role, handing ownership over, the lab's approval amount."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length

from marketplace.db_types import record_id
from marketplace.jobs.models import CURRENCIES

ROLE_CHOICES = [("manager", "Manager"), ("member", "Member")]


class MemberRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    approver = BooleanField("Approves awards")


class TransferForm(FlaskForm):
    # Any colleague's id (the service checks it is one); a number no row can have is refused here.
    new_owner = SelectField("New owner", coerce=record_id, validate_choice=False)


class ApprovalAmountForm(FlaskForm):
    amount = StringField("Awards above this total need an approver (empty: none do)", validators=[Length(max=40)])
    currency = SelectField("Currency", choices=[(c, c) for c in CURRENCIES], default="USD")
