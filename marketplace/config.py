"""Configuration read from the environment, with safe defaults for development."""

import os
import secrets
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = f"sqlite:///{PROJECT_ROOT / 'instance' / 'marketplace.db'}"
INSTANCE_DIR = PROJECT_ROOT / "instance"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a key)
DEFAULT_PLATFORM_FEE_BPS = 1000
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the app safely."""


def instance_secret_key(instance_dir: Path) -> str:
    """This instance's own random session key, made on first use and kept in the instance folder (owner-only).

    Never a constant: a key anyone can read in the source lets anyone sign a session cookie. Workers starting
    together agree on one key: the first to create the file writes it, the others read it.
    """
    path = instance_dir / SECRET_KEY_FILE
    instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)  # another worker is writing it
        raise ConfigError(f"{path} is empty: delete it, or set SECRET_KEY.") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as file:
        file.write(key)
    return key


def load_config(environ=os.environ, instance_dir: Path = INSTANCE_DIR) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = environ.get("MARKETPLACE_ENV", "development")
    secret = environ.get("SECRET_KEY")
    if env == "production" and not secret:
        raise ConfigError("SECRET_KEY must be set when MARKETPLACE_ENV=production.")
    production = env == "production"
    if production and environ.get("WEBHOOKS_ALLOW_PRIVATE") == "1":
        raise ConfigError("WEBHOOKS_ALLOW_PRIVATE is for tests and the demo: it is refused in production.")
    stripe_key = environ.get("STRIPE_SECRET_KEY", "")
    if stripe_key.startswith(LIVE_KEY_PREFIXES) and not production:
        raise ConfigError("A live Stripe key is refused unless MARKETPLACE_ENV=production: use a test key (sk_test_…).")
    return {
        "ENV_NAME": env,
        # Logs (marketplace/logs.py): one JSON object per line on standard error, or `text` for a terminal.
        "LOG_LEVEL": environ.get("LOG_LEVEL", "INFO").upper(),
        "LOG_FORMAT": environ.get("LOG_FORMAT", "json"),
        "SECRET_KEY": secret or instance_secret_key(instance_dir),
        # Earlier keys, after a rotation (comma-separated): sessions they signed stay valid (Flask checks them),
        # while everything new is signed with SECRET_KEY.
        "SECRET_KEY_FALLBACKS": [k.strip() for k in environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()],
        # The key each vendor's codename tag and a brief's leak mark are derived from; unset, SECRET_KEY. Rotating
        # SECRET_KEY changes every tag and mark unless this is set (to the old key, or its own value, kept).
        "MARKING_KEY": environ.get("MARKING_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": environ.get("DATABASE_URL", DEFAULT_SQLITE),
        # SQLite: the pool pings each connection it gives out. PostgreSQL checks it without a round trip instead
        # (marketplace._postgresql_connections).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # PostgreSQL only: how long a connection may take to open. A database host that drops packets would
        # otherwise hold a request until the server's worker timeout, instead of answering the 503 page.
        "DATABASE_CONNECT_TIMEOUT": _whole_number(environ, "DATABASE_CONNECT_TIMEOUT", 5),
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
        # How many proxies forward each request (1 behind nginx or Caddy): the visitor's address is then read from
        # X-Forwarded-For, as the throttles per network address need. 0 believes no forwarded header.
        "PROXY_COUNT": _whole_number(environ, "PROXY_COUNT", 0),
        # The task queue (marketplace/tasks.py): unset, every task runs inline in the request that asks for it.
        "REDIS_URL": environ.get("REDIS_URL", ""),
        "TASK_QUEUE": environ.get("TASK_QUEUE", "marketplace"),
        # With the queue: how many vendors without a stored verdict for a lab one page screens live, at most; more
        # (a lab that has just joined a large platform) are left out of its lists until the queue has stored them.
        "SCREENED_LIVE_UP_TO": _whole_number(environ, "SCREENED_LIVE_UP_TO", 200),
        # The admins' audit trail counts the records a filter matches up to this many, then says "more than": an
        # exact count of a trail of millions would read every record on every view.
        "AUDIT_TRAIL_COUNTS_UP_TO": _whole_number(environ, "AUDIT_TRAIL_COUNTS_UP_TO", 10_000),
        # With the queue: how often the workers send disclosure reminders (hours; 0: never, cron runs them).
        "REMINDER_INTERVAL_HOURS": _whole_number(environ, "REMINDER_INTERVAL_HOURS", 24),
        "RATELIMIT_ENABLED": True,
        # Per account (the email typed), tight; per network address, loose enough for a whole office behind one.
        "LOGIN_RATE_LIMIT": environ.get("LOGIN_RATE_LIMIT", "10 per minute; 50 per hour"),
        "LOGIN_IP_RATE_LIMIT": environ.get("LOGIN_IP_RATE_LIMIT", "300 per hour"),
        # Sign-ups and mailed links (password reset, confirmation again), per network address and per address mailed.
        "SIGNUP_RATE_LIMIT": environ.get("SIGNUP_RATE_LIMIT", "10 per hour"),
        "MAIL_RATE_LIMIT": environ.get("MAIL_RATE_LIMIT", "5 per hour"),
        # Invitations, per inviting user: the form says whether an address already has an account.
        "INVITE_RATE_LIMIT": environ.get("INVITE_RATE_LIMIT", "20 per hour"),
        "MAIL_SERVER": environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _whole_number(environ, "MAIL_PORT", 25),
        "MAIL_FROM": environ.get("MAIL_FROM", "Arm's Length <no-reply@armslength.example>"),
        "MAIL_USERNAME": environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD", ""),
        "MAIL_STARTTLS": environ.get("MAIL_STARTTLS", "0") == "1",
        # The demo's mail catcher writes each message here; /dev/mail lists them while DEMO_LOGINS is on.
        "MAIL_CATCH_DIR": environ.get("MAIL_CATCH_DIR", ""),
        "DEMO_LOGINS": environ.get("DEMO_LOGINS", "1" if not production else "0") == "1",
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_WEBHOOK_SECRET": environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # Empty: Stripe itself. Set to the local simulator's address (dev/stripe_sim) for the demo and tests.
        "STRIPE_API_BASE": environ.get("STRIPE_API_BASE", ""),
        "PLATFORM_FEE_BPS": _platform_fee_bps(environ),
        # The Ed25519 key that signs neutrality statements (PEM, owner-only), made on first use when missing.
        "NEUTRALITY_KEY_FILE": environ.get("NEUTRALITY_KEY_FILE", str(instance_dir / "neutrality-ed25519.pem")),
        # Days the lab has to accept or reject a delivery before the payment is released by itself, and how many
        # days before that both sides are reminded (marketplace/contracts/deadlines.py, run with the reminders).
        "ACCEPTANCE_DAYS": _whole_number(environ, "ACCEPTANCE_DAYS", 14),
        "ACCEPTANCE_REMINDER_DAYS": _whole_number(environ, "ACCEPTANCE_REMINDER_DAYS", 3),
        # A dispute: days the other side has to answer, and days from opening until the evidence closes.
        "DISPUTE_RESPONSE_DAYS": _whole_number(environ, "DISPUTE_RESPONSE_DAYS", 7),
        "DISPUTE_EVIDENCE_DAYS": _whole_number(environ, "DISPUTE_EVIDENCE_DAYS", 14),
        # Webhooks may call private and loopback addresses, and plain http there (tests, the demo): never in
        # production, where only public https addresses are called (marketplace/webhooks/addresses.py).
        "WEBHOOKS_ALLOW_PRIVATE": environ.get("WEBHOOKS_ALLOW_PRIVATE", "0") == "1",
        "WEBHOOKS_CONNECT_TIMEOUT": _whole_number(environ, "WEBHOOKS_CONNECT_TIMEOUT", 3),
        "WEBHOOKS_READ_TIMEOUT": _whole_number(environ, "WEBHOOKS_READ_TIMEOUT", 10),
        # Days a delivered webhook stays in its endpoint's log; pending and failed ones stay until sent or deleted.
        "WEBHOOKS_RETENTION_DAYS": _webhook_retention_days(environ),
    }


def _webhook_retention_days(environ) -> int:
    days = _whole_number(environ, "WEBHOOKS_RETENTION_DAYS", 90)
    if days < 1:
        raise ConfigError(f"WEBHOOKS_RETENTION_DAYS must be at least 1, not {days}.")
    return days


def _whole_number(environ, name: str, default: int) -> int:
    text = environ.get(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {text!r}.") from None


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
