"""admin views (being built)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/queue")
def queue():
    return "todo"
