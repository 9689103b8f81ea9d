"""Talking to an organisation's OpenID Connect provider with Authlib's Flask client: the authorization code flow
with state, nonce and PKCE (S256); the id token checked for signature (the provider's JWKS), issuer, audience,
expiry and nonce by Authlib. One client per organisation and request, so that a changed setting counts at once."""

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
