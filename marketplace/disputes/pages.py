"""A dispute's page, and what a form on it does, for the two sides' forms (marketplace.disputes.views) and the
admins' decision (marketplace.admin.dispute_views) alike."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from marketplace.disputes import service
from marketplace.disputes.forms import DecisionForm, StatementForm, WithdrawForm
from marketplace.errors import show_on_form
from marketplace.extensions import db


def page_response(dispute_id: int, status: int = 200, statement_form=None, decision_form=None, withdraw_form=None):
    """The dispute's page, with any form given in place of an empty one. 404 for strangers."""
    page = service.dispute_page(db.session, current_user, dispute_id)
    return render_template(
        "disputes/show.html",
        page=page,
        form=statement_form or StatementForm(formdata=None),
        decision_form=decision_form or DecisionForm(formdata=None, currency=page.dispute.currency),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
    ), status


def act_on_dispute(dispute_id: int, form, act, done: str, form_name: str):
    """A form on the dispute's page: done (committed, said, back to the page), or the page again with the refusal
    beside the form's field (nothing kept); 403 for whoever may see the dispute but not do this."""
    return attempt(form, act, done, dispute_id) or page_response(dispute_id, 400, **{form_name: form})


def attempt(form, act, done: str, dispute_id: int | None = None):
    """Runs `act` (the service's change) for a valid form, then commits, says `done` and answers the redirect to the
    dispute's page (`dispute_id`'s, or the id `act` returns). None when the form is not valid or the service
    refused: the refusal is beside the form's field and nothing is kept. 403 for a WrongSide."""
    if not form.validate_on_submit():
        return None
    try:
        answer = act()
    except service.WrongSide:
        abort(403)
    except service.DisputeError as error:
        db.session.rollback()
        show_on_form(form, error)
        return None
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("disputes.show", dispute_id=dispute_id or answer), 303)
