"""Forms for posting and editing jobs, browsing them, inviting vendors, and questions and answers."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    Form,
    IntegerField,
    MultipleFileField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.accounts.forms import split_list
from marketplace.db_types import MAX_ID
from marketplace.jobs.models import (
    CERTIFICATIONS,
    CURRENCIES,
    HOSTING_OPTIONS,
    MODALITY_LABELS,
    TASK_TYPES,
    BiddingMode,
    Job,
    Visibility,
)
from marketplace.jobs.search import STATE_ORDER, JobSearch
from marketplace.jobs.service import JobInput, utc_to_local
from marketplace.money import to_major
from marketplace.scoring.service import CRITERIA, DEFAULT_WEIGHTS

VISIBILITY_CHOICES = [
    (Visibility.PUBLIC.value, "Public: every vendor not screened out"),
    (Visibility.CONFIDENTIAL.value, "Confidential: only vendors screened clear; your name hidden behind a codename"),
    (Visibility.INVITE_ONLY.value, "Invite-only: only vendors you invite (still screened)"),
]
BIDDING_CHOICES = [
    (BiddingMode.SEALED.value, "Sealed: you see amounts after the deadline"),
    (BiddingMode.OPEN.value, "Open: you see bids as they arrive"),
]
DEADLINE_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class JobForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired("Give the job a title."), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=20000)])
    modality = SelectField("Modality", choices=list(MODALITY_LABELS.items()))
    task_type = SelectField("Task type", choices=list(TASK_TYPES.items()))
    volume = IntegerField("Volume", validators=[InputRequired("Give the volume as a whole number.")])
    unit = StringField("Unit", validators=[InputRequired("Say what a unit is."), Length(max=60)])
    quality_metric = StringField("Quality metric", default="accuracy", validators=[Length(max=60)])
    quality_target_pct = DecimalField("Quality target (%)", validators=[Optional()])
    languages = StringField("Languages (comma-separated)", validators=[Length(max=2000)])
    certifications = SelectMultipleField("Required certifications", choices=list(CERTIFICATIONS.items()))
    data_residency = StringField("Data residency", validators=[Length(max=120)])
    labeler_locations = StringField("Labeler locations (comma-separated)", validators=[Length(max=2000)])
    hosting = RadioField("Where the data is hosted", choices=list(HOSTING_OPTIONS.items()), default="vendor_cloud")
    retention_days = IntegerField("Retention (days)", validators=[Optional()])
    deletion_terms = TextAreaField("Deletion terms", validators=[Length(max=2000)])
    budget_min = StringField("Budget from", validators=[InputRequired("Give the lowest budget.")])
    budget_max = StringField("Budget up to", validators=[InputRequired("Give the highest budget.")])
    currency = SelectField("Currency", choices=[(c, c) for c in CURRENCIES], default="USD")
    bid_deadline = DateTimeLocalField(
        "Bid deadline", format=DEADLINE_FORMATS, validators=[InputRequired("Give the bid deadline.")]
    )
    delivery_date = DateField("Delivery date", validators=[InputRequired("Give the delivery date.")])
    visibility = RadioField("Who can see it", choices=VISIBILITY_CHOICES, default=Visibility.PUBLIC.value)
    bidding_mode = RadioField("Bidding", choices=BIDDING_CHOICES, default=BiddingMode.SEALED.value)
    attachments = MultipleFileField("Attachments")
    pilot_scope = TextAreaField("Paid pilot: the batch (leave empty for no pilot)", validators=[Length(max=500)])
    pilot_criteria = TextAreaField("Pilot acceptance criteria", validators=[Length(max=2000)])
    weight_price = IntegerField("Price (%)", default=DEFAULT_WEIGHTS["price"], validators=[Optional()])
    weight_turnaround = IntegerField("Turnaround (%)", default=DEFAULT_WEIGHTS["turnaround"], validators=[Optional()])
    weight_quality = IntegerField("Quality guarantee (%)", default=DEFAULT_WEIGHTS["quality"], validators=[Optional()])
    weight_security = IntegerField("Security (%)", default=DEFAULT_WEIGHTS["security"], validators=[Optional()])
    weight_ratings = IntegerField("Past ratings (%)", default=DEFAULT_WEIGHTS["ratings"], validators=[Optional()])
    weight_pilot = IntegerField("Pilot (%)", default=DEFAULT_WEIGHTS["pilot"], validators=[Optional()])
    save_draft = SubmitField("Save draft")
    publish = SubmitField("Publish")

    def to_input(self) -> JobInput:
        """What the buyer typed, for the service to check and convert."""
        return JobInput(
            title=self.title.data or "",
            description=self.description.data or "",
            modality=self.modality.data,
            task_type=self.task_type.data,
            volume=self.volume.data,
            unit=self.unit.data or "",
            quality_metric=self.quality_metric.data or "",
            quality_target_pct=self.quality_target_pct.data,
            languages=split_list(self.languages.data),
            certifications=list(self.certifications.data or []),
            data_residency=self.data_residency.data or "",
            labeler_locations=split_list(self.labeler_locations.data),
            hosting=self.hosting.data,
            retention_days=self.retention_days.data,
            deletion_terms=self.deletion_terms.data or "",
            budget_min=self.budget_min.data or "",
            budget_max=self.budget_max.data or "",
            currency=self.currency.data,
            bid_deadline=self.bid_deadline.data,
            delivery_date=self.delivery_date.data,
            visibility=self.visibility.data,
            bidding_mode=self.bidding_mode.data,
            scoring_weights=self.scoring_weights(),
            pilot_scope=self.pilot_scope.data or "",
            pilot_criteria=self.pilot_criteria.data or "",
        )

    def scoring_weights(self) -> dict[str, int | None] | None:
        """The weights typed, or None when the form sent none of them (the job keeps its weights)."""
        weights = {key: self[f"weight_{key}"].data for key in CRITERIA}
        return None if all(value is None for value in weights.values()) else weights


class EditJobForm(JobForm):
    remove_attachments = SelectMultipleField("Remove attachments", coerce=int, choices=[])

    @classmethod
    def for_job(cls, job: Job, zone, attachments, weights: dict[str, int] | None = None) -> "EditJobForm":
        """The form filled in with the job as stored, times in the buyer's zone and money in major units."""
        form = cls(
            data={
                "title": job.title,
                "description": job.description,
                "modality": job.modality,
                "task_type": job.task_type,
                "volume": job.volume,
                "unit": job.unit,
                "quality_metric": job.quality_metric,
                "quality_target_pct": job.quality_target_pct,
                "languages": ", ".join(job.languages),
                "certifications": list(job.certifications),
                "data_residency": job.data_residency,
                "labeler_locations": ", ".join(job.labeler_locations),
                "hosting": job.hosting,
                "retention_days": job.retention_days,
                "deletion_terms": job.deletion_terms,
                "budget_min": str(to_major(job.budget_min_minor, job.currency)),
                "budget_max": str(to_major(job.budget_max_minor, job.currency)),
                "currency": job.currency,
                "bid_deadline": utc_to_local(job.bid_deadline, zone),
                "delivery_date": job.delivery_date,
                "visibility": str(job.visibility),
                "bidding_mode": str(job.bidding_mode),
                "pilot_scope": job.pilot_scope,
                "pilot_criteria": job.pilot_criteria,
                **{f"weight_{key}": value for key, value in (weights or DEFAULT_WEIGHTS).items()},
            }
        )
        form.set_attachment_choices(attachments)
        return form

    def set_attachment_choices(self, attachments) -> None:
        self.remove_attachments.choices = [(a.id, a.filename) for a in attachments]


class JobSearchForm(Form):
    """The browse filters, read from the query string (a GET form: no CSRF token)."""

    q = SearchField("Search titles and descriptions", validators=[Optional(), Length(max=200)])
    modality = SelectField(
        "Modality", choices=[("", "Any modality"), *MODALITY_LABELS.items()], validators=[Optional()]
    )
    task_type = SelectField("Task type", choices=[("", "Any task"), *TASK_TYPES.items()], validators=[Optional()])
    currency = SelectField(
        "Currency", choices=[("", "Any currency"), *((c, c) for c in CURRENCIES)], validators=[Optional()]
    )
    language = StringField("Language", validators=[Optional(), Length(max=80)])
    certification = SelectField(
        "Certification", choices=[("", "Any certification"), *CERTIFICATIONS.items()], validators=[Optional()]
    )
    state = SelectField("State", validators=[Optional()])

    def __init__(self, formdata, *, include_drafts: bool, **kwargs):
        super().__init__(formdata, **kwargs)
        states = [s for s in STATE_ORDER if include_drafts or s.value != "draft"]
        self.state.choices = [("", "Any state"), *((s.value, s.value.replace("_", " ").capitalize()) for s in states)]

    def to_search(self, page: int) -> JobSearch:
        """The search, keeping only the filters that passed validation."""

        def valid(name: str) -> str:
            field = getattr(self, name)
            return "" if field.errors else (field.data or "").strip()

        return JobSearch(
            text=valid("q"),
            modality=valid("modality"),
            task_type=valid("task_type"),
            currency=valid("currency"),
            language=valid("language"),
            certification=valid("certification"),
            state=valid("state"),
            page=page,
        )


class InviteVendorsForm(FlaskForm):
    vendors = SelectMultipleField("Vendors to invite", coerce=int, choices=[])


class InviteOneForm(FlaskForm):
    """One vendor, from the buyer's vendor list, to one of its invite-only jobs."""

    job_id = IntegerField(
        "Invite to",
        validators=[
            InputRequired("Choose one of your invite-only jobs."),
            NumberRange(1, MAX_ID, "Choose one of your invite-only jobs."),
        ],
    )
    vendor_id = IntegerField(
        validators=[InputRequired("Choose a vendor."), NumberRange(1, MAX_ID, "Choose a vendor from the list.")]
    )


class AskForm(FlaskForm):
    text = TextAreaField("Your question", validators=[InputRequired("Write your question."), Length(max=4000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField("Answer", validators=[InputRequired("Write the answer."), Length(max=8000)])
