"""The bottom layer of errors every area raises, and the one way a refusal reaches a form.

Nothing here imports the project's own modules: any area may import it without a cycle.
"""

from collections.abc import Callable
from types import EllipsisType
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound

# The codes the app answers with its own pages (marketplace/__init__.py). Flask looks for a handler of an error's code,
# in the blueprint and then in the app, before one of its class: a blueprint whose clients are programs names each.
PAGE_CODES = (400, 403, 404, 405, 413, 429)


class NotVisible(LookupError):
    """The user may not know that this exists: answered as 404."""


class Refusal(ValueError):
    """A refusal a person can act on, in words they understand. `field` names the form field it belongs to (None:
    the whole form); an area's error class may set the field its refusals usually concern."""

    default_field: str | None = None

    def __init__(self, message: str, field: str | None | EllipsisType = ...):
        super().__init__(message)
        self.field: str | None = self.default_field if isinstance(field, EllipsisType) else field


def show_on_form(form: Any, error: Refusal) -> None:
    """Put a service's refusal beside its field, or above the form when it concerns the whole form (or names a
    field the form does not have). The form keeps what was typed."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        form.form_errors.append(str(error))
    else:
        target.errors = [*target.errors, str(error)]


def answer_http_errors(blueprint: Any, answer: Callable[[int, str, dict[str, str]], Any]) -> None:
    """The blueprint answers every HTTP error (each of PAGE_CODES, and any other) with `answer(status, detail,
    headers)`, in its clients' own format: a 404 says there is nothing at the address, a 429 when to try again."""

    def http_error(error: HTTPException) -> Any:
        detail = "There is nothing at this address." if isinstance(error, NotFound) else str(error.description)
        headers = {}
        if error.code == 429:
            headers["Retry-After"] = error.get_response().headers.get("Retry-After") or "60"
        return answer(error.code or 500, detail, headers)

    for code in PAGE_CODES:
        blueprint.register_error_handler(code, http_error)
    blueprint.register_error_handler(HTTPException, http_error)
