"""Talking to an organisation's OpenID Connect provider with Authlib's Flask client: the authorization code flow
with state, nonce and PKCE (S256); the id token checked by Authlib for signature (the provider's JWKS), issuer,
audience, expiry and nonce, with the issuer and audience pinned here (Authlib's defaults check the audience only
through `azp`, and the issuer only against what the discovery document says). One client per organisation and
request, so that a changed setting counts at once."""

import re
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from joserfc.errors import JoseError
from requests import RequestException

from marketplace.sso.models import SsoConfig

# What a provider that is down, slow, misconfigured or answering with a bad token raises.
PROVIDER_ERRORS = (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError, TypeError)
TIMEOUT_SECONDS = 10
# Authlib keeps each sign-in's state in the session under "_state_<client name>_<state>".
STATE_KEY_PREFIX = "_state_sso"


def client_for(config: SsoConfig) -> FlaskOAuth2App:
    """Authlib's client for the organisation's provider; state and PKCE verifier live in the session cookie under a
    name of this organisation's own."""
    name = f"sso{config.org_id}"
    return FlaskOAuth2App(
        FlaskIntegration(name),
        name=name,
        client_id=config.client_id,
        client_secret=config.client_secret,
        server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )


class IdTokenRefused(Exception):
    """The provider answered, but its id token (or its discovery document) fails a check; the message says which,
    in words an IT team can act on."""


SIGNATURE = "its signature does not match the provider's published keys"
SIGNATURE_ERRORS = {
    "bad_signature",
    "invalid_key_id",
    "missing_key",
    "unsupported_algorithm",
    "invalid_key_type",
    "missing_algorithm",
}
# What a failed check on one claim means, for the claims a forged, misdirected or replayed token gets wrong.
CLAIM_REASONS = {
    "aud": "it was issued to another application (its audience is not our client id)",
    "azp": "it was issued to another application (its audience is not our client id)",
    "iss": "it names another issuer than the one configured",
    "nonce": "it was not issued for this sign-in (its nonce does not match)",
    "exp": "it has expired",
}


def expected_issuer(client: FlaskOAuth2App, config: SsoConfig) -> str:
    """The issuer the provider's discovery document names, when it is the configured one (OpenID Connect Discovery
    1.0, 4.3: otherwise one provider could pass off tokens in another's name). IdTokenRefused otherwise."""
    issuer = client.load_server_metadata().get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != config.issuer:
        raise IdTokenRefused(f"its discovery document names another issuer than {config.issuer}")
    return issuer


def verified_claims(client: FlaskOAuth2App, config: SsoConfig) -> dict[str, Any] | None:
    """Exchange the code of the request for tokens and return the id token's claims, each check passed; None when
    the provider sent no id token. IdTokenRefused when a check fails; PROVIDER_ERRORS for anything else."""
    issuer = expected_issuer(client, config)
    _refuse_unsigned_tokens(client)
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "values": [config.client_id]},
    }
    try:
        token = client.authorize_access_token(claims_options=options)
    except (AuthlibBaseError, JoseError) as error:
        reason = refusal_reason(error)
        if reason is None:
            raise
        raise IdTokenRefused(reason) from error
    claims = token.get("userinfo")
    return dict(claims) if claims else None


def _refuse_unsigned_tokens(client: FlaskOAuth2App) -> None:
    """Authlib accepts the algorithms the discovery document lists: never "none" (an unsigned token), whatever it
    says. With none left, joserfc's recommended algorithms apply."""
    metadata = client.load_server_metadata()
    listed = metadata.get("id_token_signing_alg_values_supported")
    if isinstance(listed, list):
        signed = [name for name in listed if isinstance(name, str) and name.lower() != "none"]
        if signed:
            metadata["id_token_signing_alg_values_supported"] = signed
        else:
            metadata.pop("id_token_signing_alg_values_supported")


def refusal_reason(error: Exception) -> str | None:
    """Why an id token failed its checks, or None for an error that is not about the token (a refused consent, a
    wrong state, a provider that is down). By error code: Authlib raises its own errors and joserfc's, which share
    codes (and importing Authlib's old `jose` package warns)."""
    code = getattr(error, "error", None)
    if code in SIGNATURE_ERRORS:
        return SIGNATURE
    if code == "expired_token":
        return CLAIM_REASONS["exp"]
    if code == "decode_error":
        return "it is not a well-formed signed token"
    if code in ("invalid_claim", "missing_claim"):
        claim = getattr(error, "claim", None) or getattr(error, "claim_name", None)
        if claim is None:
            found = re.search(r"'(\w+)'", str(error))
            claim = found.group(1) if found else "?"
        return CLAIM_REASONS.get(claim, f"its claim “{claim}” is missing or invalid")
    return None
