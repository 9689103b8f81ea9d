"""The in-app notification list."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.extensions import db
from marketplace.notifications import service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    """The user's notifications, newest first."""
    return render_template(
        "notifications/index.html", notifications=service.notifications_for(db.session, current_user)
    )


@bp.post("/read")
@login_required
def mark_read():
    """Mark every notification read."""
    service.mark_all_read(db.session, current_user)
    db.session.commit()
    flash("All notifications marked read.", "info")
    return redirect(url_for("notifications.index"), 303)
