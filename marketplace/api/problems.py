"""Errors as RFC 9457 problem details (application/problem+json), the only shape an API error takes."""

from http import HTTPStatus
from typing import Any

from flask import Response, json, request

PROBLEM_TYPE = "application/problem+json"
# Our own problem types; anything else is "about:blank" with the HTTP status's title (RFC 9457, 4.2.1).
TYPES = {
    "validation": "Your request's fields are not valid",
    "invalid-json": "The body is not a JSON object",
    "invalid-cursor": "The cursor is not one this list gave",
    "idempotency-conflict": "This Idempotency-Key was used for another request",
    "unauthenticated": "A valid API token is needed",
    "missing-scope": "The token lacks the scope this needs",
    "wrong-kind": "This is for the other kind of organisation",
    "refused": "The marketplace refused this action",
    "suspended": "Your organisation is suspended",
}


class ApiProblem(Exception):
    """An error the API answers with a problem document: `kind` names one of TYPES (None: about:blank)."""

    def __init__(
        self, status: int, detail: str, kind: str | None = None, *, headers: dict[str, str] | None = None, **extra
    ):
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind
        self.headers = headers or {}
        self.extra: dict[str, Any] = extra


def type_uri(kind: str) -> str:
    return f"/api/v1/docs#problem-{kind}"


def problem_response(problem: ApiProblem) -> Response:
    body: dict[str, Any] = {
        "type": type_uri(problem.kind) if problem.kind else "about:blank",
        "title": TYPES[problem.kind] if problem.kind else HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
        **problem.extra,
    }
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def field_errors(errors: dict[str, str]) -> list[dict[str, str]]:
    """A service's {field: message} as the problem's `errors` member."""
    return [{"field": name, "message": message} for name, message in errors.items()]
