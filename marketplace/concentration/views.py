"""The lab's spend by owner, and its cap."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.concentration import service
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required

bp = Blueprint("concentration", __name__)


@bp.route("/spend-by-owner", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "change the spend cap", methods=frozenset({"POST"}))
def spend():
    error, typed = None, None
    if request.method == "POST":
        typed = (request.form.get("cap_pct") or "").strip()
        try:
            cap = int(typed) if typed else None
        except ValueError:
            error = "The cap is a whole percentage from 1 to 100, or empty for none."
        else:
            try:
                service.set_cap(db.session, current_user, cap)
            except service.CapError as refusal:
                error = str(refusal)
            else:
                db.session.commit()
                flash(f"Your cap is now {cap}%." if cap else "You have no cap now.", "success")
                return redirect(url_for("concentration.spend"), 303)
    cap = service.cap_of(db.session, current_user.org_id)
    spends = service.spend_by_owner(db.session, current_user.org_id)
    return render_template(
        "concentration/spend.html",
        spends=spends,
        cap=cap,
        typed=typed if typed is not None else (cap or ""),
        error=error,
        owner_at=service.OWNER_AT,
    ), (400 if error else 200)
