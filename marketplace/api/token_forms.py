"""The owner's form for a new API token."""

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length

from marketplace.api.tokens import EXPIRY_DAYS, NAME_LIMIT, SCOPES


class NewTokenForm(FlaskForm):
    name = StringField(
        "Name (the tool that will use it)",
        validators=[InputRequired("Name the token after the tool that will use it."), Length(max=NAME_LIMIT)],
    )
    scopes = SelectMultipleField(
        "What it may do", choices=[(scope, f"{scope}: {words}") for scope, words in SCOPES.items()]
    )
    expires_in_days = SelectField(
        "Expires after", choices=[(days, f"{days} days") for days in EXPIRY_DAYS], coerce=int, default=90
    )
