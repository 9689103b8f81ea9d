"""Route guards by role, for every area's pages; organisation-level checks live in marketplace.visibility."""

from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from marketplace.accounts.models import OrgRole
from marketplace.accounts.org_roles import WHO, ensure_org_role, has_org_role


def role_required(*roles: str):
    """Allow only users with one of these roles; others get 403 (the page itself is no secret)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated or str(current_user.role) not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def org_role_required(least: OrgRole, action: str, *, methods: frozenset[str] | None = None):
    """Allow only users whose role in their organisation is `least` or above (for `methods` only, when given);
    others get 403 with RoleTooLow's message, before the view looks anything up. Admins pass."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.is_authenticated and (methods is None or request.method in methods):
                ensure_org_role(current_user, least, action)
            return view(*args, **kwargs)

        # What the pages ask before they offer the action (may_send): the guard's own rule, not a copy.
        wrapper.role_guard = (least, methods, action)  # type: ignore[attr-defined]
        return wrapper

    return decorator


def _guard_of(endpoint: str) -> tuple[OrgRole, frozenset[str] | None, str] | None:
    return getattr(current_app.view_functions.get(endpoint), "role_guard", None)


def may_send(endpoint: str) -> bool:
    """Whether the signed-in user's role lets it POST to the endpoint: a page offers a form only when it does, so
    that nobody is shown a button that answers 403."""
    guard = _guard_of(endpoint)
    if guard is None or not current_user.is_authenticated:
        return True
    least, methods, _action = guard
    return (methods is not None and "POST" not in methods) or has_org_role(current_user, least)


def may_post_to(url: str) -> bool:
    """may_send for the route a form's address reaches (post_button is given addresses, not endpoints)."""
    try:
        endpoint, _args = current_app.url_map.bind("").match(url.split("?")[0], method="POST")
    except (NotFound, MethodNotAllowed):
        return True
    return may_send(endpoint)


def who_may(endpoint: str) -> str:
    """Whom a member asks, in words: "a manager or the owner" or "the owner"."""
    guard = _guard_of(endpoint)
    return WHO[guard[0]] if guard is not None else ""


def methods_served_here(catch_all: str) -> list[str]:
    """The methods the request's address is served with by a route other than `catch_all` (the blueprint's
    catch-all for unknown addresses): what a 405 lists in its Allow header; empty for a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != catch_all:
            allowed.append(method)
    return allowed
