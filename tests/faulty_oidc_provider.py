"""A small OpenID provider of our own for the tests, on 127.0.0.1 in a thread: discovery, JWKS, authorize and token
endpoints, with id tokens signed by its own RSA key (joserfc). Unlike oidc-provider-mock it can be told to answer
with a faulty id token (`fault`), so that the tests prove the marketplace refuses each one.

The authorize endpoint asks nobody: it sends the browser straight back with a code for `person`."""

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.mailbox import free_port

# Each fault makes one thing about the id token (or the discovery document) wrong; None answers correctly.
FAULTS = (
    "wrong_audience",  # issued to another client of the provider
    "audience_elsewhere_azp_ours",  # aud names another client, azp names ours
    "wrong_issuer",  # the iss claim names another issuer
    "foreign_key",  # signed by a key the JWKS does not hold (another kid)
    "foreign_key_same_kid",  # signed by another key under the JWKS key's kid
    "expired",  # expired five minutes ago (beyond the two minutes of clock leeway)
    "wrong_nonce",  # the nonce of another sign-in
    "no_nonce",  # no nonce at all
    "unsigned",  # alg "none", with "none" advertised in discovery
    "discovery_names_another_issuer",  # the discovery document's issuer is not the configured one (and the token's)
)


class _QuietHandler(WSGIRequestHandler):
    """No line per request in the tests' output."""

    def log(self, *args, **kwargs) -> None:
        pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FaultyProvider:
    """Start with `start()`; set `fault` and `person` per test; `stop()` at the end."""

    def __init__(self, client_id: str, client_secret: str):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "provider-key", "use": "sig", "alg": "RS256"})
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "foreign-key", "alg": "RS256"})
        self.fault: str | None = None
        self.person: dict[str, Any] = {}
        self.tokens_issued = 0
        self._codes: dict[str, dict[str, str]] = {}
        self._server = make_server("127.0.0.1", self.port, self._app(), threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FaultyProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)

    def reset(self, person: dict[str, Any], fault: str | None = None) -> None:
        assert fault is None or fault in FAULTS, fault
        self.person, self.fault, self.tokens_issued = person, fault, 0

    def _app(self) -> Flask:
        app = Flask("faulty_oidc_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            issuer = self.issuer
            if self.fault == "discovery_names_another_issuer":
                issuer = "http://127.0.0.1:1/another"
            algorithms = ["RS256", "none"] if self.fault == "unsigned" else ["RS256"]
            return jsonify(
                issuer=issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                jwks_uri=f"{self.issuer}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=algorithms,
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
                code_challenge_methods_supported=["S256"],
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                return "unknown client or response type", 400
            code = secrets.token_urlsafe(16)
            self._codes[code] = {
                "redirect_uri": args["redirect_uri"],
                "nonce": args.get("nonce", ""),
                "challenge": args.get("code_challenge", ""),
            }
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")

        @app.post("/token")
        def token():
            auth = request.authorization  # client_secret_basic, Authlib's default
            form = request.form
            client = (auth.username, auth.password) if auth else (form.get("client_id"), form.get("client_secret"))
            if client != (self.client_id, self.client_secret):
                return jsonify(error="invalid_client"), 401
            grant = self._codes.pop(request.form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
                return jsonify(error="invalid_grant"), 400
            verifier = request.form.get("code_verifier", "")
            if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            self.tokens_issued += 1
            return jsonify(
                access_token=secrets.token_urlsafe(16),
                token_type="Bearer",
                expires_in=300,
                id_token=self._id_token(grant["nonce"]),
            )

        return app

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.person,
        }
        key, header = self.key, {"alg": "RS256", "kid": "provider-key"}
        match self.fault:
            case "wrong_audience":
                claims["aud"] = "another-client"
            case "audience_elsewhere_azp_ours":
                claims["aud"], claims["azp"] = ["another-client", "a-third-client"], self.client_id
            case "wrong_issuer":
                claims["iss"] = "http://127.0.0.1:1/another"
            case "foreign_key":
                key, header = self.foreign_key, {"alg": "RS256", "kid": "foreign-key"}
            case "foreign_key_same_kid":
                key = self.foreign_key
            case "expired":
                claims["iat"], claims["exp"] = now - 900, now - 300
            case "wrong_nonce":
                claims["nonce"] = secrets.token_urlsafe(16)
            case "no_nonce":
                del claims["nonce"]
            case "unsigned":
                parts = [json.dumps({"alg": "none"}).encode(), json.dumps(claims).encode()]
                return ".".join(_b64(part) for part in parts) + "."
            case "discovery_names_another_issuer":
                claims["iss"] = "http://127.0.0.1:1/another"
        return jwt.encode(header, claims, key)
