"""The API's own pages: the OpenAPI document, its rendered reference (Swagger UI, served from the installed
flask-swagger-ui package: no CDN), and every error as a problem document. Importing this module declares every
endpoint."""

from importlib.resources import files
from pathlib import Path

from flask import current_app, jsonify, render_template, send_from_directory

from marketplace import outages
from marketplace.accounts.org_roles import RoleTooLow
from marketplace.accounts.suspension import OrganizationSuspended

# Importing each endpoint module declares its endpoints on the blueprint.
from marketplace.api import (  # noqa: F401
    audit,
    bids,
    bods,
    contracts,
    disclosures,
    jobs,
    notifications,
    questions,
    review,
    screening,
)
from marketplace.api.problems import ApiProblem, field_errors, problem_response
from marketplace.api.routing import bp
from marketplace.api.spec import openapi_document
from marketplace.errors import NotVisible, Refusal, answer_http_errors
from marketplace.extensions import db, limiter
from marketplace.guards import methods_served_here

# Swagger UI 5 (it renders OpenAPI 3.1), as the flask-swagger-ui package ships it; only its files are used.
SWAGGER_UI = Path(str(files("flask_swagger_ui"))) / "dist"
OWN_ASSETS = Path(__file__).parent / "static"
SWAGGER_FILES = {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}


@bp.get("/openapi.json")
@limiter.exempt
def openapi():
    """The OpenAPI 3.1 document of this API (no token needed)."""
    return jsonify(openapi_document())


@bp.get("/docs")
@limiter.exempt
def reference():
    """The API reference, rendered by Swagger UI from /api/v1/openapi.json."""
    return render_template("api/reference.html")


@bp.get("/docs/assets/<path:filename>")
@limiter.exempt
def reference_asset(filename: str):
    """Swagger UI's files, from the installed package, and the page's own start-up script."""
    if filename in SWAGGER_FILES:
        return send_from_directory(SWAGGER_UI, filename, max_age=3600)
    if filename == "reference.js":
        return send_from_directory(OWN_ASSETS, filename, max_age=3600)
    raise ApiProblem(404, "No such file.")


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    """Any other address under /api/v1: a 405 problem when another method is declared there, else a 404 one."""
    allowed = methods_served_here("api.unknown")
    if allowed:
        raise ApiProblem(405, f"Use {', '.join(allowed)} here.", headers={"Allow": ", ".join(allowed)})
    raise ApiProblem(404, "There is nothing at this address.")


# No handler but the 500's rolls back: an API request commits only when it succeeds, and what a refused one
# flushed is discarded with its session at the request's end.
@bp.errorhandler(ApiProblem)
def problem(error: ApiProblem):
    return problem_response(error)


@bp.errorhandler(NotVisible)
def not_visible(_error):
    return problem_response(ApiProblem(404, "There is nothing at this address."))


@bp.errorhandler(RoleTooLow)
def role_too_low(error):
    return problem_response(ApiProblem(403, str(error), "refused"))


@bp.errorhandler(OrganizationSuspended)
def suspended(error):
    return problem_response(ApiProblem(403, str(error), "suspended"))


@bp.errorhandler(Refusal)
def refused(error: Refusal):
    """A service's refusal: beside a field (422, each field named), or of the action as things stand (409)."""
    errors = dict(getattr(error, "errors", None) or ({error.field: str(error)} if error.field else {}))
    if errors:
        return problem_response(ApiProblem(422, str(error), "validation", errors=field_errors(errors)))
    return problem_response(ApiProblem(409, str(error), "refused"))


# The app answers HTTP errors with pages: the API's clients get problem documents instead.
answer_http_errors(bp, lambda status, detail, headers: problem_response(ApiProblem(status, detail, headers=headers)))


@bp.errorhandler(500)
def server_error(error):
    """A 503 with Retry-After when the database is away, else a 500; either says whether anything may be saved."""
    failure = outages.failure_of(error, db.session, current_app.logger)
    return problem_response(ApiProblem(failure.status, failure.detail, headers=failure.headers))
