"""The API's blueprint and the one decorator every endpoint is declared with.

`operation` authenticates the bearer token (never the browser's session cookie: see `forget_browser_session`),
checks the scope and the organisation's kind, parses the query and the JSON body with pydantic models, runs the
endpoint (which calls the pages' own service functions), commits, replays or stores an idempotent answer, and
records what it declared for the OpenAPI document (marketplace.api.spec).
"""

import hashlib
import json as std_json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, cast

from flask import Blueprint, Response, current_app, json, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from werkzeug.datastructures import FileStorage

from marketplace.accounts.models import User
from marketplace.accounts.suspension import ensure_may_act
from marketplace.api import tokens
from marketplace.api.models import IdempotentResponse
from marketplace.api.problems import ApiProblem
from marketplace.extensions import csrf, db, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Tokens in a header, never cookies: a cross-site form cannot send one, so there is no CSRF to guard against.
csrf.exempt(bp)

PREFIX = "/api/v1/"
TOKEN_KEY = "marketplace.api_token"  # noqa: S105 (the environ key the token row is kept under)
MAX_IDEMPOTENCY_KEY = 255
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


class _ForgetBrowserSession:
    """WSGI middleware: a request to the API arrives without its cookies, so neither Flask-Login nor any hook can
    take the browser's session for the caller, and no session cookie is ever set on an API answer."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if str(environ.get("PATH_INFO", "")).startswith(PREFIX.rstrip("/")):
            environ.pop("HTTP_COOKIE", None)
        return self.wsgi_app(environ, start_response)


@bp.record_once
def forget_browser_session(state) -> None:
    state.app.wsgi_app = _ForgetBrowserSession(state.app.wsgi_app)


def _rate_key() -> str:
    """Each token has its own allowance (keyed by its digest, never the secret); no token: the caller's address."""
    secret = _bearer()
    return "api-token:" + tokens.digest(secret)[:32] if secret else "api-ip:" + (request.remote_addr or "")


def _rate_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT", "600 per minute"))


limiter.limit(_rate_limit, key_func=_rate_key, error_message="Too many requests for this token: slow down.")(bp)


def _bearer() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


# --- the declared operations -----------------------------------------------------------------------------------


@dataclass
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    scope: str | None
    kinds: tuple[str, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    creates: bool
    tag: str
    errors: list[int] = field(default_factory=list)
    upload: str | None = None  # the multipart form field of an uploaded file, when the operation takes one
    download: bool = False  # answers with a file's bytes (the function returns the Response), not JSON


OPERATIONS: list[Operation] = []


@dataclass
class Created:
    """What a creating endpoint returns: the new thing, and its address."""

    body: BaseModel
    location: str


def _actor(session) -> tokens.TokenActor:
    secret = _bearer()
    if not secret:
        raise ApiProblem(
            401,
            "Send an API token: Authorization: Bearer <token>.",
            "unauthenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        actor = tokens.authenticate(session, secret)
    except tokens.TokenRefused as refused:
        raise ApiProblem(
            401, str(refused), "unauthenticated", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None
    request.environ[TOKEN_KEY] = actor.token
    return actor


def _parse(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = [
            {"field": ".".join(str(part) for part in item["loc"]) or "body", "message": item["msg"]}
            for item in error.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise ApiProblem(422, errors[0]["message"], "validation", errors=errors) from None


def _json_body() -> Any:
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise ApiProblem(400, "Send a JSON object as the body (Content-Type: application/json).", "invalid-json")
    return data


def _uploaded(field_name: str) -> FileStorage:
    """The file sent in the multipart form field; a 422 problem naming the field when there is none."""
    file = request.files.get(field_name) if request.mimetype == "multipart/form-data" else None
    if file is None or not file.filename:
        raise ApiProblem(
            422,
            f"Send the file as multipart/form-data, in the field “{field_name}”.",
            "validation",
            errors=[{"field": field_name, "message": "A file is required."}],
        )
    return file


KIND_WORDS = {"buyer": "labs", "vendor": "vendors", "admin": "platform admins"}


def kinds_words(kinds: tuple[str, ...]) -> str:
    return " and ".join(KIND_WORDS[kind] for kind in kinds)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":  # an upload: the same files under the same names
        for name, file in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest.update(f"{name}={file.filename}\n".encode())
            file.stream.seek(0)
            digest.update(hashlib.sha256(file.stream.read()).digest())
            file.stream.seek(0)
        return digest.hexdigest()
    try:  # the same JSON object, whatever its spacing or key order
        digest.update(std_json.dumps(request.get_json(force=True, silent=True), sort_keys=True).encode())
    except (TypeError, ValueError):
        digest.update(request.get_data())
    return digest.hexdigest()


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiProblem(422, f"An Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} characters.", "validation")
    return key


def _replay(token_id: int, key: str, fingerprint: str) -> Response | None:
    stored = db.session.execute(
        select(IdempotentResponse).where(
            col(IdempotentResponse.token_id) == token_id, col(IdempotentResponse.key) == key
        )
    ).scalar_one_or_none()
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise ApiProblem(
            422,
            "This Idempotency-Key was already used with another request: use a new key for a new request.",
            "idempotency-conflict",
        )
    headers = {"Idempotent-Replayed": "true"}
    if stored.location:
        headers["Location"] = stored.location
    return _json(stored.status_code, stored.body, headers)


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    scope: str | None,
    response: type[BaseModel] | None,
    tag: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    kinds: tuple[str, ...] = ("buyer", "vendor"),
    creates: bool = False,
    errors: tuple[int, ...] = (),
    upload: str | None = None,
    download: bool = False,
):
    """Declare one endpoint. The function takes the acting user (the token's actor), its path values, and `query`
    and `body` when declared (`file`, a FileStorage, for an `upload`); it returns a pydantic model, a Created, or
    None (204), or for a `download` the file's Response. `kinds` are the account kinds it serves: "buyer" and
    "vendor" organisations' tokens, "admin" a platform admin's own token."""

    def decorator(function: Callable[..., Any]):
        OPERATIONS.append(
            Operation(
                method,
                rule,
                function.__name__,
                summary,
                (function.__doc__ or "").strip(),
                scope,
                kinds,
                body,
                query,
                response,
                status,
                creates,
                tag,
                list(errors),
                upload,
                download,
            )
        )

        @wraps(function)
        def view(**path):
            session = db.session
            actor = _actor(session)
            if scope is not None and scope not in actor.token.scopes:
                raise ApiProblem(403, f"This token lacks the {scope} scope.", "missing-scope")
            if str(actor.role) not in kinds:
                raise ApiProblem(403, f"Only {kinds_words(kinds)} use this.", "wrong-kind")
            if method != "GET":
                ensure_may_act(session, cast(User, actor))
            if session.dirty:  # the token's last use, written at most once a minute
                session.commit()
            arguments: dict[str, Any] = dict(path)
            if query is not None:
                arguments["query"] = _parse(query, request.args.to_dict())
            key = _idempotency_key() if creates else None
            # Taken before the endpoint runs: an upload's file is read to its end once it is kept.
            fingerprint = _fingerprint() if key is not None else ""
            if key is not None:
                replayed = _replay(actor.token.id, key, fingerprint)
                if replayed is not None:
                    return replayed
            if body is not None:
                arguments["body"] = _parse(body, _json_body())
            if upload is not None:
                arguments["file"] = _uploaded(upload)
            result = function(cast(User, actor), **arguments)
            answer = _answer(result, status)
            if key is not None and answer.status_code < 300:
                session.add(
                    IdempotentResponse(
                        token_id=actor.token.id,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=answer.status_code,
                        body=answer.get_json(),
                        location=answer.headers.get("Location", ""),
                    )
                )
            if method != "GET":
                try:
                    session.commit()
                except IntegrityError:  # the same key, sent twice at once: the other request is answered
                    session.rollback()
                    raise ApiProblem(
                        409, "A request with this Idempotency-Key is in progress: retry in a moment.", "refused"
                    ) from None
            return answer

        bp.add_url_rule(rule, endpoint=function.__name__, view_func=view, methods=[method])
        return function

    return decorator


def _answer(result: Any, status: int) -> Response:
    if isinstance(result, Response):  # a download: the file as it is served
        return result
    if result is None:
        return Response(status=204)
    if isinstance(result, Created):
        return _json(201, result.body.model_dump(mode="json"), {"Location": result.location})
    return _json(status, cast(BaseModel, result).model_dump(mode="json"))


# --- cursor pagination ------------------------------------------------------------------------------------------


def cursors(endpoint: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"api-cursor:{endpoint}")


def page_of(statement, id_column, cursor: str | None, limit: int, endpoint: str, **path) -> tuple[list, str | None]:
    """One page of the statement's rows, newest (highest id) first, and the address of the next page (None at the
    end). The cursor is signed and opaque: a changed or foreign one is a 400 problem."""
    if cursor:
        try:
            after = cursors(endpoint).loads(cursor)
        except BadSignature:
            raise ApiProblem(
                400, "This cursor was not given by this list: start again without it.", "invalid-cursor"
            ) from None
        statement = statement.where(id_column < int(after))
    rows = list(db.session.execute(statement.order_by(id_column.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    token = cursors(endpoint).dumps(rows[-1].id)
    return rows, url_for(f"api.{endpoint}", cursor=token, limit=limit, **path)


def slice_of(rows: list, cursor: str | None, limit: int, endpoint: str, **params) -> tuple[list, str | None]:
    """One page of a list a service ordered itself (the review queue: the longest-waiting first), and the next
    page's address. The cursor is a signed position in that order: a changed or foreign one is a 400 problem."""
    start = 0
    if cursor:
        try:
            start = int(cursors(endpoint).loads(cursor))
        except (BadSignature, TypeError, ValueError):
            raise ApiProblem(
                400, "This cursor was not given by this list: start again without it.", "invalid-cursor"
            ) from None
    page = rows[start : start + limit]
    if start + limit >= len(rows):
        return page, None
    return page, url_for(f"api.{endpoint}", cursor=cursors(endpoint).dumps(start + limit), limit=limit, **params)
