"""The bid form: amounts typed in major units of the job's currency, kept as typed when refused."""

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import DateTimeLocalField, FloatField, IntegerField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from marketplace.bids.service import MAX_ANSWER, MAX_BID_FILE_BYTES, REQUIREMENTS, NewBidFile, Offer
from marketplace.money import to_major, to_minor

_ANSWER_LENGTH = Length(max=MAX_ANSWER, message=f"Keep each answer under {MAX_ANSWER:,} characters.")


class BidForm(FlaskForm):
    price_per_unit = StringField("Price per unit", validators=[InputRequired(), Length(max=40)])
    total = StringField("Total price", validators=[InputRequired(), Length(max=40)])
    turnaround_days = IntegerField("Turnaround (days)", validators=[InputRequired()])
    quality_guarantee_pct = FloatField("Quality guarantee (%)", validators=[Optional()])
    pilot_price = StringField("Price of the paid pilot", validators=[Optional(), Length(max=40)])
    proposal = TextAreaField("Proposal", validators=[Length(max=20000)])
    answer_certifications = TextAreaField("Certifications", validators=[_ANSWER_LENGTH])
    answer_data_residency = TextAreaField("Data residency", validators=[_ANSWER_LENGTH])
    answer_labeler_locations = TextAreaField("Labeler locations", validators=[_ANSWER_LENGTH])
    answer_hosting = TextAreaField("Hosting", validators=[_ANSWER_LENGTH])
    answer_retention = TextAreaField("Retention and deletion", validators=[_ANSWER_LENGTH])
    data_handling_response = TextAreaField("Anything else about data handling", validators=[Length(max=8000)])
    files = MultipleFileField("Files for the lab (methodology, sample, security questionnaire; 10 MB each)")

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    @classmethod
    def for_bid(cls, bid) -> "BidForm":
        """A form filled in with the bid's current terms, for revising it."""
        form = cls(
            currency=bid.currency,
            formdata=None,
            turnaround_days=bid.turnaround_days,
            quality_guarantee_pct=bid.quality_guarantee_pct,
            proposal=bid.proposal,
            data_handling_response=bid.data_handling_response,
            **{f"answer_{key}": answer for key, answer in bid.requirement_answers.items() if key in REQUIREMENTS},
        )
        form.price_per_unit.data = str(to_major(bid.price_per_unit_minor, bid.currency))
        form.total.data = str(to_major(bid.total_minor, bid.currency))
        if bid.pilot_price_minor is not None:
            form.pilot_price.data = str(to_major(bid.pilot_price_minor, bid.currency))
        return form

    def _minor(self, field) -> int:
        try:
            return to_minor(field.data, self.currency)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def validate_price_per_unit(self, field):
        self._minor(field)

    def validate_total(self, field):
        self._minor(field)

    def validate_pilot_price(self, field):
        if (field.data or "").strip():
            self._minor(field)

    def offer(self) -> Offer:
        """The validated form as an offer in minor units."""
        return Offer(
            price_per_unit_minor=self._minor(self.price_per_unit),
            total_minor=self._minor(self.total),
            turnaround_days=self.turnaround_days.data,
            quality_guarantee_pct=self.quality_guarantee_pct.data,
            proposal=(self.proposal.data or "").strip(),
            data_handling_response=(self.data_handling_response.data or "").strip(),
            pilot_price_minor=self._minor(self.pilot_price) if (self.pilot_price.data or "").strip() else None,
            requirement_answers={key: self[f"answer_{key}"].data or "" for key in REQUIREMENTS},
            files=[
                NewBidFile(storage.filename, storage.mimetype or "", storage.stream.read(MAX_BID_FILE_BYTES + 1))
                for storage in self.files.data or []
                if isinstance(storage, FileStorage) and storage.filename  # a text field of that name is no file
            ],
        )


class FinalOffersForm(FlaskForm):
    """The lab asks its shortlist for best and final offers by a time of its own zone."""

    due = DateTimeLocalField(
        "Final offers due", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[InputRequired()]
    )
    note = TextAreaField(
        "A note to the shortlisted bidders (optional)",
        validators=[Length(max=1000, message="Keep the note under 1,000 characters.")],
    )


class DeclineForm(FlaskForm):
    """An approver declines a waiting award, saying why (the service refuses an empty reason in words)."""

    reason = StringField("Why you decline", validators=[Length(max=1000)])
