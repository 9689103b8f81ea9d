"""Structured logs: one JSON object per line on standard error, each carrying the request it was written in.

Every record written while a request is served carries `request_id` (the caller's `X-Request-ID` when it is a
plain token, else a new one, sent back in the response header), `user_id` and `org_id` (when someone is signed in)
and the method and path. One `request` line per response adds its status and duration. Stripe calls are logged by
marketplace.payments.gateway with the operation and the object ids, never a key or a client secret.

`LOG_LEVEL` (default INFO) and `LOG_FORMAT` (`json`, the default, or `text` for a terminal) configure it. The
context is read without touching the database: a log line must never need the database that may have just failed.
"""

import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept only as a plain token, so that a log line can never be forged through it.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Whatever is named like one of these never reaches a log line, whoever passed it in `extra`.
_SECRET_WORDS = ("password", "secret", "token", "api_key", "authorization", "cookie", "totp", "recovery")
_REDACTED = "[redacted]"
# The attributes every record has (none named like a secret): only the others, from `extra`, are looked at.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({})))
_HANDLER_NAME = "marketplace-structured"
# Kept in the request's WSGI environment, not in `g`: `g` belongs to the app context, which a test client (or a
# script) may keep across many requests.
_ID_KEY = "marketplace.request_id"
_STARTED_KEY = "marketplace.request_started"

request_log = logging.getLogger("marketplace.request")


class RequestContext(logging.Filter):
    """Adds the request's id, user, organisation, method and path to every record; redacts secret-named fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in vars(record).keys() - _RECORD_FIELDS:
            if any(word in name.lower() for word in _SECRET_WORDS):
                setattr(record, name, _REDACTED)
        if has_request_context():
            record.request_id = request.environ.get(_ID_KEY) or "-"
            record.method = request.method
            record.path = request.path
            user_id, org_id = _signed_in()
            if user_id is not None:
                record.user_id = user_id
                record.org_id = org_id
        return True


def _new_request_id() -> str:
    return uuid.uuid4().hex


def _signed_in() -> tuple[int | None, int | None]:
    """The signed-in user's id and organisation from what Flask-Login already loaded, never loading anything."""
    user = g.get("_login_user")
    if user is None or not user.is_authenticated:  # nobody, or Flask-Login's anonymous user
        return None, None
    loaded = inspect(user).dict  # a User row's attributes in memory: reading them issues no query
    return loaded.get("id"), loaded.get("org_id")


def _formatter(kind: str) -> logging.Formatter:
    if kind == "text":
        return logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s", defaults={"request_id": "-"}
        )
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def configure(app: Flask) -> None:
    """Send the app's records (the `marketplace` logger and every module logger under it) through one handler."""
    logger = logging.getLogger("marketplace")
    logger.removeHandler(default_handler)
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_formatter(app.config.get("LOG_FORMAT", "json")))
    handler.addFilter(RequestContext())
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))

    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    if _ID_KEY in request.environ:  # what runs before a view ran again (marketplace.retry): the same request
        return
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request.environ[_ID_KEY] = given if _PLAIN_ID.fullmatch(given) else _new_request_id()
    request.environ[_STARTED_KEY] = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = request.environ.get(_ID_KEY)
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = request.environ.get(_STARTED_KEY)
    if started is not None and request.endpoint != "static":
        request_log.info(
            "request",
            extra={"status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
        )
    return response
