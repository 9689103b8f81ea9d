"""The vendor's request for a statement, and the verification form anyone may use."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.neutrality.service import MAX_ENTRIES, MAX_ENTRY, VALIDITY_DAYS

MAX_DOCUMENT = 64 * 1024


class StatementRequestForm(FlaskForm):
    parties = TextAreaField(
        "The parties, one per line",
        validators=[InputRequired("List at least one party, one per line."), Length(max=MAX_ENTRIES * (MAX_ENTRY + 1))],
    )
    days = SelectField("Valid for", choices=[(str(d), f"{d} days") for d in VALIDITY_DAYS], default="30", coerce=int)


class VerifyForm(FlaskForm):
    document = TextAreaField("The statement (its JSON)", validators=[Optional(), Length(max=MAX_DOCUMENT)])
    upload = FileField("Or its file")
    parties = TextAreaField(
        "Your list, to check it is the one the statement covers (optional; it is not kept)",
        validators=[Optional(), Length(max=MAX_ENTRIES * (MAX_ENTRY + 1))],
    )

    def statement_text(self) -> str:
        if self.upload.data and getattr(self.upload.data, "filename", ""):
            return self.upload.data.stream.read(MAX_DOCUMENT + 1).decode("utf-8", "replace")
        return self.document.data or ""
