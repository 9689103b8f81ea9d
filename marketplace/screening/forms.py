"""Forms for the buyer's rival list."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length


class AddRivalForm(FlaskForm):
    """Name a rival by typing its name; a new name joins the registry of parties."""

    name = StringField(
        "Company name",
        validators=[
            InputRequired("Enter the name of the company you compete with."),
            Length(max=300, message="Use at most 300 characters."),
        ],
    )


class AddFoundRivalForm(FlaskForm):
    """The "Add as rival" button beside a registry search result."""

    party_id = IntegerField(validators=[InputRequired()])
    q = HiddenField()
