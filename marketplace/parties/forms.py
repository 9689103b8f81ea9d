"""The admins' registry forms: merging two parties, marking two parties as not the same, uploading a BODS file."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from marketplace.db_types import MAX_ID

_A_PARTY = NumberRange(1, MAX_ID, "Choose a party from the registry.")


class MergeForm(FlaskForm):
    keep_id = IntegerField("Party to keep", validators=[InputRequired(message="Choose the party to keep."), _A_PARTY])
    merge_id = IntegerField(
        "Party to merge into it", validators=[InputRequired(message="Choose the party to merge."), _A_PARTY]
    )


class DistinctForm(FlaskForm):
    first_id = IntegerField("Party", validators=[InputRequired(message="Choose the first party."), _A_PARTY])
    second_id = IntegerField(
        "Not the same as", validators=[InputRequired(message="Choose the second party."), _A_PARTY]
    )
    reason = TextAreaField(
        "How you know they are not the same (kept in the audit trail)",
        validators=[
            InputRequired(message="Say how you know they are not the same: the reason is kept in the audit trail."),
            Length(max=1000, message="Use at most 1000 characters."),
        ],
    )


class BodsUploadForm(FlaskForm):
    file = FileField(
        'BODS file (JSON array, {"statements": [...]} or JSON Lines; at most 16 MB)',
        validators=[
            FileRequired(message="Choose a BODS file to import."),
            FileAllowed(["json", "jsonl", "ndjson"], message="Choose a .json, .jsonl or .ndjson file."),
        ],
    )
