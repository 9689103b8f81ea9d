"""disclosures views (being built)."""

from flask import Blueprint

bp = Blueprint("disclosures", __name__, url_prefix="/disclosure")


@bp.get("/index")
def index():
    return "todo"
