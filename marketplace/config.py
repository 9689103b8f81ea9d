"""Configuration read from the environment, with safe defaults for development."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = f"sqlite:///{PROJECT_ROOT / 'instance' / 'marketplace.db'}"
INSECURE_DEV_KEY = "dev-only-not-secret"


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the app safely."""


def load_config(environ=os.environ) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = environ.get("MARKETPLACE_ENV", "development")
    secret = environ.get("SECRET_KEY")
    if env == "production" and not secret:
        raise ConfigError("SECRET_KEY must be set when MARKETPLACE_ENV=production.")
    production = env == "production"
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
    }
