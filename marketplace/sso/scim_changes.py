"""What a SCIM request asks to change in a User, read from its JSON: a PatchOp's operations (RFC 7644 3.5.2) or a
whole User (POST, PUT). Pure: BadScimRequest says what cannot be read, and the view answers it with a SCIM 400."""

import re
from dataclasses import dataclass
from typing import Any

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _boolean(value: Any) -> bool | None:
    """SCIM's boolean, also as some providers send it ("False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


class BadScimRequest(Exception):
    """A request this endpoint cannot read: answered 400 with its SCIM error type."""

    def __init__(self, detail: str, scim_type: str):
        super().__init__(detail)
        self.scim_type = scim_type


KEPT = "userName, name, displayName, emails and active"
WORK_EMAIL = re.compile(r'^emails\[\s*(type\s+eq\s+"work"|primary\s+eq\s+true)\s*\]\.value$', re.IGNORECASE)
# What a full User (POST, PUT) may carry that is the server's to set: ignored, as RFC 7644 3.5.1 says.
READ_ONLY = {"schemas", "id", "meta", "groups"}
# The User schema's other attributes (RFC 7643 4.1) and the enterprise extension: identity providers send them
# with every user (Okta, Entra ID), the marketplace keeps none of them, and refusing them would stop provisioning.
NOT_KEPT = {
    "externalid",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "password",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509certificates",
    "emails",  # an address other than the work or primary one (emails[type eq "home"].value)
    "name",  # name.middleName, name.honorificPrefix ...
}
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@dataclass
class Changes:
    """What a PatchOp or a PUT asks to change, gathered attribute by attribute."""

    user_name: str | None = None
    email: str | None = None
    formatted: str | None = None
    given: str | None = None
    family: str | None = None
    active: bool | None = None

    def set(self, attribute: str, value: Any) -> None:
        """Take one attribute's new value (a path such as `name.givenName`, or a key of a value object)."""
        path = attribute.strip()
        if path.lower().startswith(USER_SCHEMA.lower() + ":"):
            path = path[len(USER_SCHEMA) + 1 :]
        key = path.lower()
        if key == "active":
            self.active = _boolean(value)
            if self.active is None:
                raise BadScimRequest("active must be true or false.", "invalidValue")
        elif key == "username":
            self.user_name = _text(value, "userName")
        elif key in ("displayname", "name.formatted"):
            self.formatted = _text(value, path)
        elif key == "name.givenname":
            self.given = _text(value, path)
        elif key == "name.familyname":
            self.family = _text(value, path)
        elif key == "name":
            if not isinstance(value, dict):
                raise BadScimRequest("name must be an object (formatted, givenName, familyName).", "invalidValue")
            for part in ("formatted", "givenName", "familyName"):
                if value.get(part) is not None:
                    self.set(f"name.{part}", value[part])
        elif key == "emails":
            self.email = _primary_email(value)
        elif key == "emails.value" or WORK_EMAIL.match(path):
            self.email = _text(value, "emails value")
        elif re.split(r"[.\[]", key, maxsplit=1)[0] in NOT_KEPT or key.startswith(ENTERPRISE_SCHEMA.lower()):
            return  # the identity provider's to keep, not the marketplace's
        else:
            raise BadScimRequest(f"{path} is not an attribute of a User: the marketplace keeps {KEPT}.", "invalidPath")

    def address(self) -> str | None:
        """The one address the user gets: userName and the primary email must agree when both are sent."""
        if self.user_name and self.email and self.user_name.strip().lower() != self.email.strip().lower():
            raise BadScimRequest(
                "userName and the primary email must be the same address: the marketplace keeps one.", "invalidValue"
            )
        return self.user_name or self.email

    def name(self) -> str | None:
        if self.formatted:
            return self.formatted
        parts = [part for part in (self.given, self.family) if part]
        return " ".join(parts) or None


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadScimRequest(f"{what} must be a non-empty string.", "invalidValue")
    return value.strip()


def _primary_email(value: Any) -> str:
    """The primary address of an `emails` list (or the first, or the one object sent)."""
    entries = value if isinstance(value, list) else [value]
    entries = [entry for entry in entries if isinstance(entry, dict) and entry.get("value")]
    if not entries:
        raise BadScimRequest("emails must hold at least one {value: address}.", "invalidValue")
    primary = next((entry for entry in entries if _boolean(entry.get("primary")) is True), entries[0])
    return _text(primary["value"], "emails value")


def changes_from_patch(body: dict[str, Any]) -> Changes:
    """The changes a PatchOp's `add` and `replace` operations make (RFC 7644 3.5.2); `remove` is refused, since
    every attribute kept here is required."""
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise BadScimRequest("Send at least one operation in Operations.", "invalidSyntax")
    changes = Changes()
    for operation in operations:
        if not isinstance(operation, dict):
            raise BadScimRequest("Each operation is an object with op, path and value.", "invalidSyntax")
        kind = str(operation.get("op", "")).lower()
        if kind == "remove":
            raise BadScimRequest(f"Attributes cannot be removed here ({KEPT} are all required).", "mutability")
        if kind not in ("add", "replace"):
            raise BadScimRequest(f"Unknown operation {operation.get('op')!r}: use add or replace.", "invalidSyntax")
        path, value = operation.get("path"), operation.get("value")
        if path is None or path == "":
            if not isinstance(value, dict):
                raise BadScimRequest("An operation without a path takes an object as its value.", "invalidValue")
            for attribute, item in value.items():
                changes.set(attribute, item)
        elif isinstance(path, str):
            changes.set(path, value)
        else:
            raise BadScimRequest("path must be a string.", "invalidPath")
    return changes


def changes_from_user(body: dict[str, Any]) -> Changes:
    """The changes a full User (PUT) makes: userName is required; the attributes kept here are replaced."""
    if not isinstance(body.get("userName"), str):
        raise BadScimRequest("Send the whole User, with its userName (the work email address).", "invalidValue")
    changes = Changes()
    for attribute, value in body.items():
        if attribute.lower() not in READ_ONLY:
            changes.set(attribute, value)
    return changes
