"""The OpenAPI 3.1 document, generated from the declared operations (marketplace.api.routing) and their pydantic
models: pydantic v2 writes JSON Schema 2020-12, which is OpenAPI 3.1's own schema dialect."""

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from marketplace.api.problems import PROBLEM_TYPE, TYPES, type_uri
from marketplace.api.routing import MAX_IDEMPOTENCY_KEY, OPERATIONS, Operation, kinds_words
from marketplace.api.schemas import Problem
from marketplace.api.tokens import ADMIN_SCOPES, SCOPES
from marketplace.db_types import MAX_ID

REF = "#/components/schemas/{model}"
ERROR_WORDS = {
    400: "Malformed: the body is not a JSON object, or the cursor is not this list's.",
    401: "No token, or one unknown, expired or revoked.",
    403: "The token lacks the scope, is of another kind of account (a lab's, a vendor's, an admin's), or its "
    "organisation is suspended.",
    404: "Nothing you may know of exists here.",
    409: "The marketplace refuses the action in the thing's present state.",
    413: "The file is larger than the marketplace accepts.",
    422: "A field is not valid (`errors` names each), or an Idempotency-Key was reused for another request.",
    429: "Too many requests for this token: wait for Retry-After seconds.",
}


def _path(rule: str) -> str:
    return "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_WORDS[status],
        "content": {PROBLEM_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _error_codes(op: Operation) -> list[int]:
    codes = {401, 403, 404, 429, *op.errors}
    if op.method != "GET":
        codes |= {409, 422}
    if op.body is not None:
        codes |= {400, 422}
    if op.upload is not None:
        codes |= {413, 422}
    if op.query is not None:
        codes |= {400, 422}
    return sorted(codes)


def _parameters(op: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in re.findall(r"<int:(\w+)>", op.rule)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        for name, property_schema in schema.get("properties", {}).items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "schema": property_schema,
                }
            )
    if op.creates:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "The same key and body give the stored answer again; another body, a 422 problem.",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY, "pattern": "^[!-~]+$"},
            }
        )
    return parameters


def _operation(op: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Done."}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": {"$ref": REF.format(model=op.response.__name__)}}}
    if op.download:
        success["description"] = "The file, as an attachment under the name it was uploaded with."
        success["content"] = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    if op.status == 201:
        success["headers"] = {"Location": {"schema": {"type": "string"}, "description": "The new thing's address."}}
    document: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "description": op.description
        + (f"\n\nScope: `{op.scope}`." if op.scope else "")
        + f"\n\nFor {kinds_words(op.kinds)}.",
        "tags": [op.tag],
        "security": [{"bearerAuth": []}],
        "responses": {str(op.status): success, **{str(code): _problem(code) for code in _error_codes(op)}},
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}},
        }
    if op.upload is not None:
        document["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {op.upload: {"type": "string", "contentMediaType": "application/octet-stream"}},
                        "required": [op.upload],
                    }
                }
            },
        }
    return document


def openapi_document() -> dict[str, Any]:
    """The whole document: every declared operation, every model it names, the problem types and the scopes."""
    models: set[type[BaseModel]] = {Problem}
    for op in OPERATIONS:
        models |= {m for m in (op.body, op.response) if m is not None}
    ordered = sorted(models, key=lambda m: m.__name__)
    _, definitions = models_json_schema(
        [(model, "validation" if model in {op.body for op in OPERATIONS} else "serialization") for model in ordered],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        entry = _operation(op)
        parameters = _parameters(op)
        if parameters:
            entry["parameters"] = parameters
        paths.setdefault(_path(op.rule), {})[op.method.lower()] = entry
    problems = "\n".join(f"- `{type_uri(kind)}`: {title}" for kind, title in TYPES.items())
    scopes = "\n".join(f"- `{scope}`: {words}" for scope, words in {**SCOPES, **ADMIN_SCOPES}.items())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Arm's Length marketplace API",
            "version": "1.0.0",
            "description": (
                "Jobs, bids, questions, contracts and notifications, over the same rules as the pages. "
                "Authenticate with an organisation's API token (Authorization: Bearer ...), made by its owner on "
                "the team page; a token acts as the organisation's owner, within its scopes. A platform admin's "
                "personal token (made on the admin's token page with a second-factor code; `admin:` scopes only) "
                "acts as that admin, on the admin endpoints.\n\n"
                f"Scopes:\n{scopes}\n\nErrors are RFC 9457 problem details; their types:\n{problems}"
            ),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
