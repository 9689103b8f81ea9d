"""SCIM 2.0 (RFC 7643/7644) Users endpoint for an organisation's identity provider: list (filter `userName eq`),
read, create, PATCH `active`, DELETE (deactivates: a user's name stays on what it did). Authenticated by the
organisation's bearer token (no session, no CSRF token); a token sees its own organisation's users only."""

from typing import Any

from flask import Blueprint, g, jsonify, request, url_for

from marketplace.accounts.models import User
from marketplace.errors import NotVisible
from marketplace.extensions import csrf, db
from marketplace.sso import provisioning

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
csrf.exempt(bp)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MEDIA_TYPE = "application/scim+json"


def _answer(body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None):
    if body is None:
        return "", status, headers or {}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    response.headers.update(headers or {})
    return response


def _error(status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None):
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _answer(body, status, headers)


@bp.before_request
def bearer_token_only():
    """Every request carries a live token of the organisation: otherwise 401, whatever the address."""
    token = provisioning.token_from_header(db.session, request.headers.get("Authorization", ""))
    if token is None:
        return _error(
            401, "A valid SCIM bearer token is required.", headers={"WWW-Authenticate": 'Bearer realm="scim"'}
        )
    g.scim_token = token
    db.session.commit()  # last used: shown to the owner
    return None


def _resource(user: User) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "id": str(user.id),
        "userName": user.email,
        "displayName": user.name,
        "name": {"formatted": user.name},
        "emails": [{"value": user.email, "primary": True}],
        "active": user.removed_at is None,
        "meta": {
            "resourceType": "User",
            "created": user.created_at.isoformat(),
            "location": url_for("scim.user", user_id=user.id, _external=True),
        },
    }


def _user_name_filter(text: str) -> str | None:
    """The address in `userName eq "..."`; ValueError for any other filter (the one providers send to match)."""
    attribute, _, rest = text.strip().partition(" ")
    operator, _, value = rest.strip().partition(" ")
    value = value.strip()
    if attribute.lower() != "username" or operator.lower() != "eq" or len(value) < 2 or value[0] != '"' != value[-1]:
        raise ValueError(text)
    return value[1:-1]


@bp.get("/Users")
def users():
    """The organisation's users, all or the one `filter=userName eq "address"` names."""
    text = request.args.get("filter")
    try:
        user_name = _user_name_filter(text) if text else None
    except ValueError:
        return _error(400, 'Only the filter userName eq "address" is supported.', "invalidFilter")
    found = provisioning.org_users(db.session, g.scim_token, user_name)
    return _answer(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": [_resource(user) for user in found],
        }
    )


def _payload() -> dict[str, Any] | None:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/Users")
def create_user():
    """Create a member at one of the organisation's verified domains."""
    body = _payload()
    if body is None or not isinstance(body.get("userName"), str):
        return _error(400, "Send a SCIM User with a userName (the work email address).", "invalidValue")
    name_parts = body.get("name")
    name = body.get("displayName") or (name_parts.get("formatted") if isinstance(name_parts, dict) else None) or ""
    active = _boolean(body.get("active", True))
    if active is None:
        return _error(400, "active must be true or false.", "invalidValue")
    try:
        user = provisioning.provision_user(
            db.session, g.scim_token, email=body["userName"], name=str(name or ""), active=active
        )
    except provisioning.ProvisioningError as error:
        return _error(error.status, str(error), error.scim_type)
    db.session.commit()
    return _answer(_resource(user), 201, {"Location": url_for("scim.user", user_id=user.id, _external=True)})


@bp.get("/Users/<int:user_id>")
def user(user_id: int):
    """One user of the organisation."""
    try:
        return _answer(_resource(provisioning.org_user(db.session, g.scim_token, user_id)))
    except NotVisible:
        return _error(404, "No such user.")


def _boolean(value: Any) -> bool | None:
    """SCIM's boolean, also as some providers send it ("False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _wanted_active(body: dict[str, Any]) -> bool | None:
    """The `active` value a PatchOp sets (`path: active`, or a value object holding it); None when it sets none."""
    wanted = None
    for operation in body.get("Operations") or []:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in ("replace", "add"):
            continue
        value = operation.get("value")
        if str(operation.get("path") or "").lower() == "active":
            wanted = _boolean(value)
        elif not operation.get("path") and isinstance(value, dict) and "active" in value:
            wanted = _boolean(value["active"])
    return wanted


@bp.patch("/Users/<int:user_id>")
def patch_user(user_id: int):
    """Deactivate (`active: false`) or reactivate a user; deactivation ends its sessions at once."""
    body = _payload()
    if body is None or PATCH_SCHEMA not in (body.get("schemas") or []):
        return _error(400, "Send a SCIM PatchOp.", "invalidSyntax")
    active = _wanted_active(body)
    if active is None:
        return _error(400, "Only replacing active (true or false) is supported.", "noTarget")
    try:
        target = provisioning.org_user(db.session, g.scim_token, user_id)
        if active:
            provisioning.reactivate_user(db.session, g.scim_token, target)
        else:
            provisioning.deactivate_user(db.session, g.scim_token, target)
    except NotVisible:
        return _error(404, "No such user.")
    except provisioning.ProvisioningError as error:
        return _error(error.status, str(error), error.scim_type)
    db.session.commit()
    return _answer(_resource(target))


@bp.delete("/Users/<int:user_id>")
def delete_user(user_id: int):
    """Deprovision a user: deactivated (its sessions end at once), its name kept on what it did."""
    try:
        target = provisioning.org_user(db.session, g.scim_token, user_id)
        provisioning.deactivate_user(db.session, g.scim_token, target)
    except NotVisible:
        return _error(404, "No such user.")
    except provisioning.ProvisioningError as error:
        return _error(error.status, str(error), error.scim_type)
    db.session.commit()
    return _answer(None, 204)
