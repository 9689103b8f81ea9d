"""screening views (being built)."""

from flask import Blueprint

bp = Blueprint("screening", __name__)


@bp.get("/rivals")
def rivals():
    return "todo"
