"""The form of a message in a bid's thread."""

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, TextAreaField
from wtforms.validators import Length

from marketplace.messages.service import MAX_BODY


class MessageForm(FlaskForm):
    body = TextAreaField(
        "Message", validators=[Length(max=MAX_BODY, message=f"Keep a message to {MAX_BODY} characters.")]
    )
    files = MultipleFileField("Files (at most 5, 10 MB each)")
