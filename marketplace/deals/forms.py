"""The admin's form for a pending deal."""

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.deals.service import DealInput


class DealForm(FlaskForm):
    acquirer = StringField("The acquirer", validators=[InputRequired("Name the acquirer."), Length(max=300)])
    target = StringField("The company it buys into", validators=[InputRequired("Name the target."), Length(max=300)])
    share_pct = DecimalField("Stake (%)", places=None, validators=[InputRequired("Give the stake, as a percentage.")])
    announced_on = DateField("Announced on", validators=[InputRequired("Give the date it was announced.")])
    expected_close = StringField("Expected to close", validators=[Optional(), Length(max=60)])
    source_url = StringField("Source (web address)", validators=[Optional(), Length(max=1000)])
    source_description = TextAreaField("Source, in words", validators=[Optional(), Length(max=1000)])

    def to_input(self) -> DealInput:
        return DealInput(
            acquirer=self.acquirer.data or "",
            target=self.target.data or "" if self.target is not None else "",
            share_pct=float(self.share_pct.data) if self.share_pct.data is not None else None,
            announced_on=self.announced_on.data,
            expected_close=self.expected_close.data or "",
            source_url=self.source_url.data or "",
            source_description=self.source_description.data or "",
        )


class VendorDealForm(DealForm):
    """A vendor reports a deal about itself: the target is its own organisation."""

    target = None  # type: ignore[assignment]
