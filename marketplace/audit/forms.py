"""The filters of the admins' trail page, read from the query string (a GET form: no CSRF token)."""

from datetime import date

from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from marketplace.audit.service import TrailFilters
from marketplace.audit.wording import action_words

# The trail cannot hold a record outside these days; a date beyond them is a typing mistake, said beside the field.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


def _plausible_day(_form, field) -> None:
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(f"Give a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}.")


class TrailFilterForm(Form):
    action = SelectField("Action", validators=[Optional()], validate_choice=False)
    organisation = StringField("Organisation", validators=[Optional(), Length(max=200)])
    actor = StringField("Actor (email)", validators=[Optional(), Length(max=254)])
    date_from = DateField("From", validators=[Optional(), _plausible_day])
    date_to = DateField("To", validators=[Optional(), _plausible_day])

    def __init__(self, formdata, *, actions: list[str], **kwargs):
        super().__init__(formdata, **kwargs)
        self.action.choices = [
            ("", "Any action"),
            *sorted(((action, action_words(action).capitalize()) for action in actions), key=lambda c: c[1]),
        ]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.date_from.data and self.date_to.data and self.date_to.data < self.date_from.data:
            self.date_to.errors = [*self.date_to.errors, "The end date must be on or after the start date."]
            return False
        return valid

    def to_filters(self, before: int | None = None, after: int | None = None) -> TrailFilters:
        """The filters that passed validation (a field in error filters nothing), the page starting where the
        `before` or `after` record id says."""

        def valid(name: str):
            field = getattr(self, name)
            if field.errors:
                return None
            return field.data.strip() if isinstance(field.data, str) else field.data

        return TrailFilters(
            action=valid("action") or "",
            organisation=valid("organisation") or "",
            actor=valid("actor") or "",
            date_from=valid("date_from"),
            date_to=valid("date_to"),
            before=before,
            after=after,
        )
