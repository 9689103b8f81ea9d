"""Forms of a contract: the milestone plan, a delivery, a rejection, a rating. Amounts typed in major units."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, FieldList, Form, FormField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from marketplace.contracts.service import MAX_MILESTONES, PlannedMilestone
from marketplace.money import to_major, to_minor


class MilestoneRow(Form):
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    amount = StringField("Amount", validators=[Optional(), Length(max=40)])
    due_date = DateField("Due", validators=[Optional()])


class PlanForm(FlaskForm):
    milestones = FieldList(FormField(MilestoneRow), min_entries=1, max_entries=MAX_MILESTONES)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    @classmethod
    def for_milestones(cls, milestones, currency: str, blank_rows: int = 3) -> "PlanForm":
        rows = [
            {"title": m.title, "amount": str(to_major(m.amount_minor, currency)), "due_date": m.due_date}
            for m in milestones
            if m.status != "cancelled"
        ]
        rows += [{}] * min(blank_rows, MAX_MILESTONES - len(rows))
        return cls(formdata=None, currency=currency, data={"milestones": rows})

    def validate_milestones(self, field):
        for row in field:
            title, amount = (row.title.data or "").strip(), (row.amount.data or "").strip()
            if bool(title) != bool(amount):
                raise ValidationError("Give each milestone both a title and an amount (leave a row empty to drop it).")
            if amount:
                try:
                    to_minor(amount, self.currency)
                except ValueError as error:
                    raise ValidationError(str(error)) from error

    def plan(self) -> list[PlannedMilestone]:
        return [
            PlannedMilestone(row.title.data.strip(), to_minor(row.amount.data, self.currency), row.due_date.data)
            for row in self.milestones
            if (row.title.data or "").strip()
        ]


class DeliverForm(FlaskForm):
    note = TextAreaField(
        "What you deliver", validators=[InputRequired("Say what you are delivering."), Length(max=8000)]
    )
    files = MultipleFileField("Files (up to 10, 10 MB each)")


class RejectForm(FlaskForm):
    reason = TextAreaField(
        "Why you reject this delivery",
        validators=[InputRequired("Tell the vendor why you reject the delivery."), Length(max=4000)],
    )


class RatingForm(FlaskForm):
    stars = RadioField(
        "Rating",
        choices=[(str(n), "★" * n) for n in range(5, 0, -1)],
        validators=[InputRequired("Choose 1 to 5 stars.")],
    )
    comment = TextAreaField("Comment", validators=[Length(max=2000)])
