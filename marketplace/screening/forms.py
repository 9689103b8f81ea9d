"""Forms for the buyer's rival list, screening policy, waivers and vendor search."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    Form,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.db_types import MAX_ID
from marketplace.jobs.models import CERTIFICATIONS, MODALITY_LABELS
from marketplace.screening.services.vendor_search import VendorSearch


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

    party_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    q = HiddenField()


RULE_LABELS = {
    "control": "Control — a rival's group controls the vendor",
    "ownership": "Ownership — a rival's stake in the vendor",
    "board": "Board — a rival sits on the vendor's board, or one person sits on both",
    "people": "People — someone moved between the vendor and a rival",
    "contract": "Contract — contractual control, exclusivity or revenue from a rival",
    "unknown": "Unknown owners — an unnamed party holds a stake",
    "unverified": "Unverified — no approved disclosure, or a stale one",
    "possible_match": "Possible match — a rival may hold its ties under another name, not yet settled by an admin",
}
ACTION_CHOICES = [("exclude", "Exclude"), ("review", "Review"), ("ignore", "Ignore")]
OWNERSHIP_CHOICES = [("threshold", "By the thresholds above"), *ACTION_CHOICES]


class PercentField(FloatField):
    """A percentage as a person types it ("12.5", "12,5", "12.5%"); anything else is left for NumberRange to
    refuse in words, with the typed text kept in the field."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip().rstrip("%").strip().replace(",", ".") if valuelist else ""
        try:
            self.data = float(text) if text else None
        except ValueError:
            self.data = None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:g}" if self.data is not None else ""


class MonthsField(IntegerField):
    """A whole number of months; anything else is left for NumberRange to refuse in words."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = int(text) if text.isdigit() else None


def _percent(label: str, what: str):
    return PercentField(
        label,
        validators=[
            InputRequired(f"Give the {what} threshold as a percentage from 0 to 100."),
            NumberRange(0, 100, f"Give the {what} threshold as a percentage from 0 to 100."),
        ],
    )


def _action(rule: str):
    return SelectField(
        RULE_LABELS[rule],
        choices=OWNERSHIP_CHOICES if rule == "ownership" else ACTION_CHOICES,
        validators=[InputRequired(f"Choose what the {rule} rule does.")],
    )


class PolicyForm(FlaskForm):
    """The buyer's thresholds, what each rule does, and how long a move between companies counts."""

    exclude_at = _percent("Exclude at (%)", "exclude")
    review_at = _percent("Review at (%)", "review")
    people_window_months = MonthsField(
        "People window (months)",
        validators=[
            InputRequired("Give the people window in whole months, from 1 to 120."),
            NumberRange(1, 120, "Give the people window in whole months, from 1 to 120."),
        ],
    )
    control_action = _action("control")
    ownership_action = _action("ownership")
    board_action = _action("board")
    people_action = _action("people")
    contract_action = _action("contract")
    unknown_action = _action("unknown")
    unverified_action = _action("unverified")
    possible_match_action = _action("possible_match")

    RULES = tuple(RULE_LABELS)

    def action_fields(self):
        return [getattr(self, f"{rule}_action") for rule in self.RULES]

    def actions(self) -> dict[str, str]:
        return {rule: getattr(self, f"{rule}_action").data for rule in self.RULES}


class WaiveForm(FlaskForm):
    """Waive one review finding for one vendor; the reason goes to the audit trail."""

    rule = HiddenField(validators=[InputRequired("Choose a finding to waive.")])
    rival_party_id = HiddenField()
    reason = TextAreaField(
        "Why you accept this vendor despite the finding",
        validators=[
            InputRequired("Say why you accept this finding: the reason is kept in the audit trail."),
            Length(max=2000, message="Use at most 2000 characters."),
        ],
    )

    def rival(self) -> int | None:
        """The rival the finding names, or None for a finding without one (unknown owners, unverified)."""
        value = (self.rival_party_id.data or "").strip()
        return int(value) if value.isdigit() else None


class VendorSearchForm(Form):
    """The vendor search filters, read from the query string (a GET form: no CSRF token)."""

    q = SearchField("Name contains", validators=[Optional(), Length(max=200)])
    verdict = SelectField(
        "Verdict",
        choices=[("", "Any verdict"), ("clear", "Clear"), ("review", "Review"), ("exclude", "Exclude")],
        validators=[Optional()],
    )
    modality = SelectField(
        "Modality", choices=[("", "Any modality"), *MODALITY_LABELS.items()], validators=[Optional()]
    )
    certification = SelectField(
        "Certification", choices=[("", "Any certification"), *CERTIFICATIONS.items()], validators=[Optional()]
    )
    show_excluded = BooleanField("Show excluded vendors")

    def to_search(self, page: int) -> VendorSearch:
        """The search, keeping only the filters that passed validation."""

        def valid(name: str) -> str:
            field = getattr(self, name)
            return "" if field.errors else (field.data or "").strip()

        return VendorSearch(
            text=valid("q"),
            verdict=valid("verdict"),
            modality=valid("modality"),
            certification=valid("certification"),
            show_excluded=bool(self.show_excluded.data),
            page=page,
        )
