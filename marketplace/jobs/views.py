"""jobs views (being built)."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.get("/index")
def index():
    return "todo"


@bp.get("/new")
def new():
    return "todo"
