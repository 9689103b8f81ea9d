"""The buyer's rival list: search the registry, name a rival, remove one."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.roles import role_required
from marketplace.extensions import db
from marketplace.screening import rivals as service
from marketplace.screening.forms import AddFoundRivalForm, AddRivalForm

bp = Blueprint("screening", __name__)


@bp.route("/rivals", methods=["GET", "POST"])
@login_required
@role_required("buyer")
def rivals():
    """The buyer organisation's rivals; `q` searches the registry; POST names a rival (403 if not a buyer)."""
    form = AddRivalForm()
    query = (request.values.get("q") or "").strip()
    found_error = None
    if request.method == "POST":
        adding_found = "party_id" in request.form
        try:
            party = _add_found() if adding_found else _add_named(form)
        except service.RivalError as error:
            if adding_found:
                found_error = str(error)
            else:
                form.name.errors = [*form.name.errors, str(error)]
        else:
            if party is not None:
                db.session.commit()
                flash(f"{party.name} is now on your rival list; your vendors were screened again.", "success")
                return redirect(url_for("screening.rivals"), 303)
    return render_template(
        "screening/rivals.html",
        form=form,
        query=query,
        found_error=found_error,
        entries=service.rivals_of(db.session, current_user),
        matches=service.find_candidates(db.session, current_user, query) if query else None,
    ), 400 if request.method == "POST" else 200


@bp.post("/rivals/<int:rival_id>/remove")
@login_required
@role_required("buyer")
def remove_rival(rival_id: int):
    """Take a rival off the list (404 for another organisation's rival, 403 if not a buyer)."""
    party = service.remove_rival(db.session, current_user, rival_id)
    db.session.commit()
    flash(f"{party.name} is no longer on your rival list; your vendors were screened again.", "success")
    return redirect(url_for("screening.rivals"), 303)


def _add_named(form: AddRivalForm):
    """The typed name added as a rival, or None when the form itself is invalid."""
    if not form.validate():
        return None
    return service.add_rival_by_name(db.session, current_user, form.name.data)


def _add_found():
    """The search result whose "Add as rival" button was pressed, added as a rival."""
    found = AddFoundRivalForm()
    if not found.validate():
        raise service.RivalError("Choose a company from the search results.")
    return service.add_rival_by_party(db.session, current_user, found.party_id.data)
