"""The lab's NDA form and a vendor's acceptance."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.ndas.service import MAX_TEXT


class NdaForm(FlaskForm):
    text = TextAreaField(
        "The NDA vendors accept",
        validators=[Length(max=MAX_TEXT, message=f"Keep the NDA under {MAX_TEXT:,} characters.")],
    )
    pdf = FileField(
        "The signed-form PDF, if you have one (at most 10 MB)",
        validators=[FileAllowed(["pdf"], message="Choose a PDF file.")],
    )


class AcceptForm(FlaskForm):
    version = IntegerField(validators=[InputRequired(message="Reload the page and read the NDA again.")])
    agree = BooleanField(
        "I accept this NDA on behalf of my organisation",
        validators=[InputRequired(message="Tick the box to accept the NDA for your organisation.")],
    )


class RequireForm(FlaskForm):
    required = HiddenField()
