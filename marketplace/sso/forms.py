"""The owner's single sign-on forms, and the sign-in page's "through your organisation" form."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SsoConfigForm(FlaskForm):
    issuer = StringField("Issuer URL", validators=[DataRequired(), Length(max=300)])
    client_id = StringField("Client id", validators=[DataRequired(), Length(max=200)])
    # Never filled back in: the stored secret is not shown.
    client_secret = PasswordField("Client secret (leave empty to keep the stored one)", validators=[Length(max=500)])
    enabled = BooleanField("Let people sign in through our identity provider")
    required = BooleanField("Require sign-in through our identity provider (no passwords at our domains)")


class DomainClaimForm(FlaskForm):
    domain = StringField("Email domain", validators=[DataRequired(), Length(max=253)])


class ScimTokenForm(FlaskForm):
    label = StringField("Token name", validators=[DataRequired(), Length(max=100)])


class SsoStartForm(FlaskForm):
    """Sent by GET (the provider's page is reached by redirects a form's POST may not follow under our CSP): it
    changes nothing but this browser's sign-in state, so it carries no CSRF token."""

    class Meta:
        csrf = False

    email = StringField("Work address", validators=[Length(max=254)])
    organization = StringField("Or your organisation's name", validators=[Length(max=200)])
