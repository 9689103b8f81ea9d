"""Route guards by role, for every area's pages; organisation-level checks live in marketplace.visibility."""

from functools import wraps

from flask import abort
from flask_login import current_user


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
