"""A colleague's scores of one bid, on the criteria scored by hand."""

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, Optional

SCORE_CHOICES = [("", "Not scored"), *((str(n), str(n)) for n in range(11))]


def _score(value: str | int | None) -> int | None:
    return None if value in (None, "") else int(value)


class ScoreForm(FlaskForm):
    score_security = SelectField("Security (0 to 10)", choices=SCORE_CHOICES, coerce=_score, validators=[Optional()])
    score_pilot = SelectField("Pilot (0 to 10)", choices=SCORE_CHOICES, coerce=_score, validators=[Optional()])
    note = TextAreaField(
        "Why (your colleagues read it)",
        validators=[Length(max=1000, message="Keep the note under 1,000 characters.")],
    )
