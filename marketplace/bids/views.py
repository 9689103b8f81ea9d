"""bids views (being built)."""

from flask import Blueprint

bp = Blueprint("bids", __name__, url_prefix="/bids")


@bp.get("/mine")
def mine():
    return "todo"
