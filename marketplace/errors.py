"""The bottom layer of errors every area raises, and the one way a refusal reaches a form.

Nothing here imports the project's own modules: any area may import it without a cycle.
"""

from types import EllipsisType
from typing import Any


class NotVisible(LookupError):
    """The user may not know that this exists: answered as 404."""


class Refusal(ValueError):
    """A refusal a person can act on, in words they understand. `field` names the form field it belongs to (None:
    the whole form); an area's error class may set the field its refusals usually concern."""

    default_field: str | None = None

    def __init__(self, message: str, field: str | None | EllipsisType = ...):
        super().__init__(message)
        self.field = self.default_field if field is ... else field


def show_on_form(form: Any, error: Refusal) -> None:
    """Put a service's refusal beside its field, or above the form when it concerns the whole form (or names a
    field the form does not have). The form keeps what was typed."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        form.form_errors.append(str(error))
    else:
        target.errors = [*target.errors, str(error)]
