"""The landing page and each role's home."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """The landing page, or the signed-in user's home."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


@bp.get("/home")
@login_required
def dashboard():
    """Send each role to the page it works from."""
    if current_user.is_admin:
        return redirect(url_for("admin.queue"))
    return redirect(url_for("jobs.index"))
