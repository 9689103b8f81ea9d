"""The lab's endpoint form, and the small forms behind each button (their CSRF tokens)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField, URLField, widgets
from wtforms.validators import Length

from marketplace.webhooks.service import EVENT_LABELS


class EndpointForm(FlaskForm):
    url = URLField("Address to call (https://…)", validators=[Length(max=2000, message="Keep the address shorter.")])
    description = StringField(
        "What it is (for your colleagues)", validators=[Length(max=200, message="Keep it under 200 characters.")]
    )
    events = SelectMultipleField(
        "Events",
        choices=[(kind.value, label) for kind, label in EVENT_LABELS.items()],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
        validate_choice=False,  # the service refuses unknown events, in words, beside the field
    )


class EndpointEditForm(EndpointForm):
    """The endpoint's address, description and events, and whether it is on (off: paused, nothing is sent)."""

    enabled = BooleanField("On: send deliveries to this address (off pauses it: nothing is sent until it is on)")


class ButtonForm(FlaskForm):
    """Rotate, delete, replay: nothing but the CSRF token."""


class EnableForm(FlaskForm):
    enabled = HiddenField()
