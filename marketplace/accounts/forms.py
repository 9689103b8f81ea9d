"""Forms for signing up, signing in, inviting colleagues and the vendor profile."""

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, Email, EqualTo, InputRequired, Length, NumberRange, Optional

from marketplace.dates import ALL_TIMEZONES
from marketplace.jobs.models import CERTIFICATIONS, HOSTING_OPTIONS, MODALITY_LABELS, TASK_TYPES

TIMEZONES = ALL_TIMEZONES
PASSWORD_RULES = [InputRequired(), Length(min=12, max=200, message="Use at least 12 characters.")]


def timezone_field():
    """A time zone typed with suggestions (a datalist of every IANA zone: type "Par" for Europe/Paris), which the
    browser's own zone fills in on a new form (static/js/app.js); the server accepts only a real zone."""
    return StringField(
        "Time zone",
        default="UTC",
        validators=[
            InputRequired(message="Choose your time zone, e.g. Europe/Paris."),
            AnyOf(TIMEZONES, message="Choose a time zone from the list, e.g. Europe/Paris or America/New_York."),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"list": "timezones", "autocomplete": "off", "spellcheck": "false"},
    )


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email()])
    password = PasswordField("Password", validators=[InputRequired()])


class SignUpForm(FlaskForm):
    kind = RadioField(
        "I am",
        choices=[("buyer", "An AI lab buying labeling work"), ("vendor", "A labeling company")],
        validators=[InputRequired()],
    )
    org_name = StringField("Organisation name", validators=[InputRequired(), Length(max=200)])
    name = StringField("Your name", validators=[InputRequired(), Length(max=200)])
    email = EmailField("Work email", validators=[InputRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=PASSWORD_RULES)
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "The passwords differ.")])
    timezone = timezone_field()


class InviteForm(FlaskForm):
    email = EmailField("Colleague's email", validators=[InputRequired(), Email(), Length(max=254)])


class AcceptInviteForm(FlaskForm):
    name = StringField("Your name", validators=[InputRequired(), Length(max=200)])
    password = PasswordField("Password", validators=PASSWORD_RULES)
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "The passwords differ.")])
    timezone = timezone_field()


class SettingsForm(FlaskForm):
    name = StringField("Your name", validators=[InputRequired(), Length(max=200)])
    timezone = timezone_field()


class ProfileForm(FlaskForm):
    summary = TextAreaField("What you do", validators=[Length(max=4000)])
    modalities = SelectMultipleField("Modalities", choices=list(MODALITY_LABELS.items()))
    task_types = SelectMultipleField("Task types", choices=list(TASK_TYPES.items()))
    certifications = SelectMultipleField("Certifications", choices=list(CERTIFICATIONS.items()))
    languages = StringField("Languages (comma-separated)", validators=[Length(max=500)])
    workforce_size = IntegerField("Workforce size", validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    workforce_locations = StringField("Workforce locations (comma-separated)", validators=[Length(max=500)])
    data_handling = SelectMultipleField("Data handling you support", choices=list(HOSTING_OPTIONS.items()))


def split_list(text: str | None) -> list[str]:
    """'English, French ,, German' -> ['English', 'French', 'German']."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class EmailOnlyForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email(), Length(max=254)])


class ResendConfirmationForm(FlaskForm):
    """Just the button (and its CSRF token): the address is the signed-in user's."""


class ConfirmEmailForm(FlaskForm):
    """Just the button: following the link shows it; pressing it confirms (no change on GET)."""


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=PASSWORD_RULES)
    confirm = PasswordField("Repeat new password", validators=[EqualTo("password", "The passwords differ.")])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired()])
    password = PasswordField("New password", validators=PASSWORD_RULES)
    confirm = PasswordField("Repeat new password", validators=[EqualTo("password", "The passwords differ.")])


CODE_RULES = [InputRequired(), Length(max=40)]


class SecondFactorForm(FlaskForm):
    code = StringField("Authentication code", validators=CODE_RULES)


class EnableTwoFactorForm(FlaskForm):
    code = StringField("Code from your app", validators=CODE_RULES)


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField("Your password", validators=[InputRequired()])
    code = StringField("Authentication code", validators=CODE_RULES)


class RenewRecoveryCodesForm(FlaskForm):
    code = StringField("Authentication code", validators=CODE_RULES)


class EndSessionForm(FlaskForm):
    """Just the button: ends one of your sessions."""
