"""Idempotency-Key handling as Stripe does it, which localstripe ignores.

A POST with a key already used by the same API key gets the first response again (with the header
`Idempotent-Replayed: true`); the same key with other parameters gets Stripe's 400 `idempotency_error`.
As at Stripe, a request refused before it ran (400, 401, 409, 429) leaves no saved result.
"""

import hashlib
from urllib.parse import parse_qsl

from aiohttp import web
from localstripe.errors import UserError

NOT_SAVED = {400, 401, 409, 429}
_saved: dict[tuple[str, str], tuple[str, int, bytes, str]] = {}


def _fingerprint(request: web.Request, body: bytes) -> str:
    params = sorted(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return hashlib.sha256(repr((request.path, params)).encode()).hexdigest()


@web.middleware
async def idempotency_middleware(request: web.Request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    body = await request.read()
    saved_key = (request.headers.get("Authorization", ""), key)
    fingerprint = _fingerprint(request, body)
    if saved_key in _saved:
        first_fingerprint, status, payload, content_type = _saved[saved_key]
        if first_fingerprint != fingerprint:
            return web.json_response(
                {
                    "error": {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{key}' if you meant to execute a "
                        "different request.",
                    }
                },
                status=400,
            )
        return web.Response(
            status=status,
            body=payload,
            content_type=content_type,
            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
        )
    try:
        response = await handler(request)
    except UserError as error:
        response = error.to_response()
    if response.status not in NOT_SAVED and response.body is not None:
        _saved[saved_key] = (fingerprint, response.status, bytes(response.body), response.content_type)
    response.headers["Idempotency-Key"] = key
    return response
