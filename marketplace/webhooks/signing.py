"""Signing outgoing calls the way Stripe signs its webhooks, so receivers can reuse what they know.

The header is `Arms-Length-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
A receiver recomputes the HMAC with its copy of the secret, compares in constant time, and refuses a timestamp
older than its tolerance (a replayed call). `verify` is that receiver's side, used by the tests and by anyone
writing a receiver in Python.
"""

import hashlib
import hmac
import secrets
import time

HEADER = "Arms-Length-Signature"
TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The call was not signed by the holder of the secret, or was signed too long ago."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_mac(secret, moment, body)}"


def verify(secret: str, body: bytes, header: str, *, now: int | None = None, tolerance: int = TOLERANCE_SECONDS) -> int:
    """The call's timestamp, if `header` signs `body` under `secret` within `tolerance` seconds; else BadSignature."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as error:
        raise BadSignature("no timestamp") from error
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise BadSignature("the signature does not match")
    moment = int(time.time()) if now is None else now
    if abs(moment - timestamp) > tolerance:
        raise BadSignature("the timestamp is outside the tolerance")
    return timestamp
