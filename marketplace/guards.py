"""Route guards by role, for every area's pages; organisation-level checks live in marketplace.visibility."""

from functools import wraps

from flask import abort, request
from flask_login import current_user

from marketplace.accounts.models import OrgRole
from marketplace.accounts.org_roles import ensure_org_role


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

        return wrapper

    return decorator
