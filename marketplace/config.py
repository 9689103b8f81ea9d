"""Configuration read from the environment, with safe defaults for development."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = f"sqlite:///{PROJECT_ROOT / 'instance' / 'marketplace.db'}"
INSECURE_DEV_KEY = "dev-only-not-secret"
DEFAULT_PLATFORM_FEE_BPS = 1000
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the app safely."""


def load_config(environ=os.environ) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = environ.get("MARKETPLACE_ENV", "development")
    secret = environ.get("SECRET_KEY")
    if env == "production" and not secret:
        raise ConfigError("SECRET_KEY must be set when MARKETPLACE_ENV=production.")
    production = env == "production"
    stripe_key = environ.get("STRIPE_SECRET_KEY", "")
    if stripe_key.startswith(LIVE_KEY_PREFIXES) and not production:
        raise ConfigError("A live Stripe key is refused unless MARKETPLACE_ENV=production: use a test key (sk_test_…).")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": secret or INSECURE_DEV_KEY,
        "SQLALCHEMY_DATABASE_URI": environ.get("DATABASE_URL", DEFAULT_SQLITE),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or environ.get("SESSION_COOKIE_SECURE") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": environ.get("LOGIN_RATE_LIMIT", "10 per minute; 50 per hour"),
        "DEMO_LOGINS": environ.get("DEMO_LOGINS", "1" if not production else "0") == "1",
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_WEBHOOK_SECRET": environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # Empty: Stripe itself. Set to the local simulator's address (dev/stripe_sim) for the demo and tests.
        "STRIPE_API_BASE": environ.get("STRIPE_API_BASE", ""),
        "PLATFORM_FEE_BPS": _platform_fee_bps(environ),
    }


def _platform_fee_bps(environ) -> int:
    """The platform's fee in basis points (1000 = 10%), between 0 and 10000."""
    text = environ.get("PLATFORM_FEE_BPS", str(DEFAULT_PLATFORM_FEE_BPS))
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"PLATFORM_FEE_BPS must be a whole number of basis points, not {text!r}.") from None
    if not 0 <= value <= 10000:
        raise ConfigError("PLATFORM_FEE_BPS must be between 0 and 10000 (100%).")
    return value
