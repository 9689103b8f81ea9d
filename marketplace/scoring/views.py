"""A colleague scores a bid from its proposal page."""

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required

from marketplace.extensions import db
from marketplace.guards import role_required
from marketplace.scoring import service
from marketplace.scoring.forms import ScoreForm

bp = Blueprint("scoring", __name__)


@bp.app_template_global()
def scoring_criteria() -> dict[str, str]:
    return service.CRITERIA


@bp.app_template_global()
def score_form_for(bid_id: int) -> ScoreForm:
    """The signed-in colleague's own scores of the bid, ready to change."""
    own = service.own_scores(db.session, current_user, bid_id)
    note = next((row.note for row in own.values() if row.note), "")
    return ScoreForm(
        formdata=None,
        **{f"score_{key}": own[key].score if key in own else None for key in service.BY_HAND},
        note=note,
    )


@bp.post("/jobs/<int:job_id>/bids/<int:bid_id>/scores")
@login_required
@role_required("buyer")
def score(job_id: int, bid_id: int):
    """Keep the colleague's scores; the comparison's totals follow. 404 for a bid the lab may not read yet."""
    form = ScoreForm()
    target = url_for("bids.proposal", job_id=job_id, bid_id=bid_id, _anchor="scores")
    if not form.validate_on_submit():
        flash(next(iter(error for errors in form.errors.values() for error in errors), "Check the scores."), "error")
        return redirect(target, 303)
    try:
        service.score_bid(
            db.session,
            current_user,
            job_id,
            bid_id,
            {key: form[f"score_{key}"].data for key in service.BY_HAND},
            form.note.data or "",
        )
    except service.ScoringError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Your scores are saved: the comparison's totals include them.", "success")
    return redirect(target, 303)
