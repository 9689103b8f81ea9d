"""marketplace.errors: one refusal class with its field, and one way onto a form."""

import pytest
from wtforms import Form, StringField

from marketplace.accounts.two_factor import SecondFactorError
from marketplace.bids.service import BidError
from marketplace.errors import Refusal, show_on_form
from marketplace.jobs.service import JobError
from marketplace.screening.services.rivals import RivalError


class NameForm(Form):
    name = StringField("Name")


def test_a_refusal_keeps_its_field_or_its_areas_usual_one():
    assert BidError("Too late.").field is None
    assert BidError("Enter a total.", "total").field == "total"
    assert RivalError("Name a rival.").field == "name"
    assert RivalError("Already a rival.", None).field is None
    assert SecondFactorError("Wrong code.").field == "code"
    assert JobError("Pick a date.", "delivery_date").errors == {"delivery_date": "Pick a date."}
    assert all(issubclass(cls, Refusal) for cls in (BidError, RivalError, SecondFactorError, JobError))


@pytest.mark.parametrize(
    ("field", "beside", "above"),
    [
        ("name", ["Taken."], []),
        (None, [], ["Taken."]),
        ("no_such_field", [], ["Taken."]),
    ],
)
def test_a_refusal_goes_beside_its_field_or_above_the_form(field, beside, above):
    form = NameForm(data={"name": "Cobalt"})
    form.validate()
    form.form_errors = []
    show_on_form(form, Refusal("Taken.", field))
    assert (list(form.name.errors), form.form_errors) == (beside, above)
    assert form.name.data == "Cobalt"  # what was typed stays
