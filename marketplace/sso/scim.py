"""SCIM 2.0 (RFC 7643/7644) Users endpoint for an organisation's identity provider: list (paged, filter
`userName eq`), read, create, PATCH (address, name, `active`), PUT, DELETE (deactivates: a user's name stays on what
it did); and the discovery endpoints (ServiceProviderConfig, ResourceTypes, Schemas). Authenticated by the
organisation's bearer token (no session, no CSRF token); a token sees its own organisation's users only. Every
error, 404 and 405 included, is a SCIM error (RFC 7644 3.12)."""

import re
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for

from marketplace import outages
from marketplace.accounts.models import User
from marketplace.errors import NotVisible, answer_http_errors
from marketplace.extensions import csrf, db
from marketplace.guards import methods_served_here
from marketplace.sso import provisioning, scim_changes
from marketplace.sso.scim_changes import PATCH_SCHEMA, USER_SCHEMA

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
csrf.exempt(bp)

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
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


# The filters identity providers send to find a user before creating it: `userName eq "a@b"` (Okta, Entra ID),
# or the same on the address. A quoted value may hold \" and \\ (RFC 7644 3.4.2.2, JSON string rules).
FILTER = re.compile(
    r'^\s*(?:userName|emails(?:\.value|\[type eq "work"\]\.value)?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE
)
MAX_RESULTS = 100  # per page, as ServiceProviderConfig says


def _user_name_filter(text: str) -> str:
    """The address in `userName eq "..."`; ValueError for any other filter."""
    found = FILTER.match(text)
    if found is None:
        raise ValueError(text)
    return re.sub(r"\\(.)", r"\1", found.group(1))


def _page_argument(name: str, default: int, lowest: int) -> int:
    """startIndex or count: a number below `lowest` counts as `lowest` (RFC 7644 3.4.2.4). ValueError otherwise."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise ValueError(text)
    return max(lowest, int(text))


@bp.get("/Users")
def users():
    """The organisation's users, all or the one `filter=userName eq "address"` names, a page at a time
    (`startIndex` from 1, `count` up to 100)."""
    text = request.args.get("filter")
    try:
        user_name = _user_name_filter(text) if text else None
    except ValueError:
        return _error(400, 'Only the filter userName eq "address" is supported.', "invalidFilter")
    try:
        start_index = _page_argument("startIndex", 1, 1)
        count = min(_page_argument("count", MAX_RESULTS, 0), MAX_RESULTS)
    except ValueError:
        return _error(400, "startIndex and count must be whole numbers.", "invalidValue")
    page = provisioning.org_users(db.session, g.scim_token, user_name, offset=start_index - 1, limit=count)
    return _answer(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": page.total,
            "startIndex": start_index,
            "itemsPerPage": len(page.users),
            "Resources": [_resource(user) for user in page.users],
        }
    )


def _payload() -> dict[str, Any] | None:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/Users")
def create_user():
    """Create a member at one of the organisation's verified domains."""
    body = _payload()
    try:
        if body is None:
            raise scim_changes.BadScimRequest("Send a JSON object.", "invalidSyntax")
        changes = scim_changes.changes_from_user(body)
        user = provisioning.provision_user(
            db.session,
            g.scim_token,
            email=changes.address() or "",
            name=changes.name() or "",
            active=True if changes.active is None else changes.active,
        )
    except (scim_changes.BadScimRequest, provisioning.ProvisioningError) as error:
        db.session.rollback()
        return _refusal(error)
    db.session.commit()
    return _answer(_resource(user), 201, {"Location": url_for("scim.user", user_id=user.id, _external=True)})


@bp.get("/Users/<int:user_id>")
def user(user_id: int):
    """One user of the organisation."""
    try:
        return _answer(_resource(provisioning.org_user(db.session, g.scim_token, user_id)))
    except NotVisible:
        return _error(404, "No such user.")


def _apply(user_id: int, read_changes):
    """Read the request's changes, apply them to the organisation's user, answer with it (or a SCIM error)."""
    body = _payload()
    try:
        target = provisioning.org_user(db.session, g.scim_token, user_id)
        if body is None:
            raise scim_changes.BadScimRequest("Send a JSON object.", "invalidSyntax")
        changes = read_changes(body)
        address = changes.address()
        provisioning.update_user(
            db.session, g.scim_token, target, email=address, name=changes.name(), active=changes.active
        )
    except (scim_changes.BadScimRequest, NotVisible, provisioning.ProvisioningError) as error:
        # All or nothing: what the refused request changed before the refusal goes, whatever it flushed.
        db.session.rollback()
        return _refusal(error)
    db.session.commit()
    return _answer(_resource(target))


def _refusal(error: Exception):
    """The SCIM error for a request that could not be read, a user not the organisation's, or a refused change."""
    if isinstance(error, scim_changes.BadScimRequest):
        return _error(400, str(error), error.scim_type)
    if isinstance(error, provisioning.ProvisioningError):
        return _error(error.status, str(error), error.scim_type)
    return _error(404, "No such user.")


@bp.patch("/Users/<int:user_id>")
def patch_user(user_id: int):
    """Change a user by a PatchOp: its address (userName, emails), name, or `active` (deactivation ends its sessions
    at once)."""

    def read(body: dict[str, Any]) -> scim_changes.Changes:
        if PATCH_SCHEMA not in (body.get("schemas") or []):
            raise scim_changes.BadScimRequest("Send a SCIM PatchOp.", "invalidSyntax")
        return scim_changes.changes_from_patch(body)

    return _apply(user_id, read)


@bp.put("/Users/<int:user_id>")
def replace_user(user_id: int):
    """Replace a user with the User sent: its address, name and, when sent, `active`."""
    return _apply(user_id, scim_changes.changes_from_user)


@bp.delete("/Users/<int:user_id>")
def delete_user(user_id: int):
    """Deprovision a user: deactivated (its sessions end at once), its name kept on what it did."""
    try:
        target = provisioning.org_user(db.session, g.scim_token, user_id)
        provisioning.deactivate_user(db.session, g.scim_token, target)
    except (NotVisible, provisioning.ProvisioningError) as error:
        db.session.rollback()
        return _refusal(error)
    db.session.commit()
    return _answer(None, 204)


@bp.get("/ServiceProviderConfig")
def service_provider_config():
    """What this endpoint supports (RFC 7643 5), for providers that read it before provisioning."""
    unsupported = {"supported": False}
    return _answer(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {**unsupported, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_RESULTS},
            "changePassword": unsupported,
            "sort": unsupported,
            "etag": unsupported,
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "A token the organisation's owner creates on its single sign-on page.",
                }
            ],
            "meta": {"resourceType": "ServiceProviderConfig", "location": request.base_url},
        }
    )


RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def _attribute(name: str, description: str, **facets: Any) -> dict[str, Any]:
    """One attribute's definition (RFC 7643 7), with the defaults this endpoint keeps to."""
    return {
        "name": name,
        "type": "string",
        "multiValued": False,
        "description": description,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
        **facets,
    }


def _user_schema() -> dict[str, Any]:
    """The User attributes this endpoint reads and writes: what _resource returns and scim_changes accepts."""
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person of the organisation who signs in to the marketplace.",
        "attributes": [
            _attribute(
                "userName",
                "The person's email address: their sign-in name, unique across the marketplace.",
                required=True,
                uniqueness="server",
            ),
            _attribute("displayName", "The person's name as the marketplace shows it."),
            _attribute(
                "name",
                "The person's name.",
                type="complex",
                subAttributes=[
                    _attribute("formatted", "The whole name, as the marketplace shows it."),
                    # Taken when no formatted name is sent (joined, given name first), never returned.
                    _attribute("givenName", "The given name.", mutability="writeOnly", returned="never"),
                    _attribute("familyName", "The family name.", mutability="writeOnly", returned="never"),
                ],
            ),
            _attribute(
                "emails",
                "The person's address (one: the primary one, the same as userName).",
                type="complex",
                multiValued=True,
                subAttributes=[
                    _attribute("value", "The address."),
                    _attribute("primary", "Whether this is the primary address.", type="boolean"),
                ],
            ),
            _attribute("active", "False once the person is removed from the organisation.", type="boolean"),
        ],
        "meta": {"resourceType": "Schema", "location": url_for("scim.schema", schema_id=USER_SCHEMA, _external=True)},
    }


def _user_resource_type() -> dict[str, Any]:
    return {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "The organisation's people.",
        "schema": USER_SCHEMA,
        "schemaExtensions": [],
        "meta": {
            "resourceType": "ResourceType",
            "location": url_for("scim.resource_type", name="User", _external=True),
        },
    }


def _listed(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(resources),
        "startIndex": 1,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


@bp.get("/ResourceTypes")
def resource_types():
    """The kinds of resource served here (RFC 7644 4): User only (no groups)."""
    return _answer(_listed([_user_resource_type()]))


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str):
    if name != "User":
        return _error(404, "There is no such resource type: only User is served.")
    return _answer(_user_resource_type())


@bp.get("/Schemas")
def schemas():
    """The attributes of each resource served here (RFC 7643 7), for providers that map attributes from it."""
    return _answer(_listed([_user_schema()]))


@bp.get("/Schemas/<schema_id>")
def schema(schema_id: str):
    if schema_id != USER_SCHEMA:
        return _error(404, "There is no such schema: only the core User schema is served.")
    return _answer(_user_schema())


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    """Any other address under /scim/v2: a SCIM 405 when another method is served there, else a SCIM 404."""
    allowed = methods_served_here("scim.unknown")
    if allowed:
        return _error(405, f"Use {', '.join(allowed)} here.", headers={"Allow": ", ".join(allowed)})
    return _error(404, "There is nothing at this address.")


# The app answers HTTP errors with pages: SCIM clients get SCIM errors instead.
answer_http_errors(bp, lambda status, detail, headers: _error(status, detail, headers=headers))


@bp.errorhandler(NotVisible)
def not_visible(_exception):
    return _error(404, "No such user.")


@bp.errorhandler(500)
def server_error(exception):
    """A 503 with Retry-After when the database is away (an identity provider retries), else a 500; either says
    whether anything may be saved."""
    failure = outages.failure_of(exception, db.session, current_app.logger)
    return _error(failure.status, failure.detail, headers=failure.headers)
