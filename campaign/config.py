"""Settings read from the environment (and `.env`), with safe one-machine defaults."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

SENDGRID_DEFAULT_HOST = "https://api.sendgrid.com"
#: Only our own assets: no third-party scripts, fonts or trackers, ever. Views that serve
#: a letter add its style block's hash to style-src (letters.look.csp_allowing_style).
DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
)


def _instance_secret(instance_path: Path) -> str:
    """Return the SECRET_KEY kept in instance/, creating it once on first start."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written with owner-only permissions: the key signs sessions and CSRF tokens.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _int(name: str, default: int) -> int:
    """Read an integer setting, naming the variable when it is not a number."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _number(name: str, default: float) -> float:
    """Read a decimal setting, naming the variable when it is not a number."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc


def _positive(name: str, default: float) -> float:
    """Read a number that must be above zero, naming the variable when it is not."""
    value = _number(name, default)
    if value <= 0:
        raise RuntimeError(f"{name} must be above zero, got {value:g}")
    return value


def load_settings(instance_path: Path) -> dict:
    """Build the Flask config mapping from the environment."""
    load_dotenv(override=False)
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'undersigned.db'}"
    if db_url.startswith("postgres://"):
        db_url = "postgresql://" + db_url.removeprefix("postgres://")
    if db_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; SQLAlchemy's bare scheme means psycopg2.
        db_url = "postgresql+psycopg://" + db_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "undersigned"),
        "SENDGRID_API_KEY": os.environ.get("SENDGRID_API_KEY") or None,
        "SENDGRID_API_HOST": os.environ.get("SENDGRID_API_HOST") or SENDGRID_DEFAULT_HOST,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": os.environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY") or None,
        "WEBHOOK_MAX_AGE_SECONDS": _int("WEBHOOK_MAX_AGE_SECONDS", 600),
        # Outbox: a worker's claim lease, the first retry delay, how long an unknown outcome
        # waits for SendGrid's 'processed' event before the email is sent again.
        "MAIL_LEASE_SECONDS": _int("MAIL_LEASE_SECONDS", 120),
        "MAIL_RETRY_BASE_SECONDS": _int("MAIL_RETRY_BASE_SECONDS", 30),
        "MAIL_RECONCILE_SECONDS": _int("MAIL_RECONCILE_SECONDS", 900),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "letters@undersigned.localhost"),
        "MAIL_FROM_NAME": os.environ.get("MAIL_FROM_NAME", "Undersigned"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
        "LOGO_MAX_BYTES": _int("LOGO_MAX_BYTES", 2 * 1024 * 1024),
        #: A public sign-up's confirmation email goes to one address at most this often.
        "PUBLIC_CONFIRM_INTERVAL_HOURS": _int("PUBLIC_CONFIRM_INTERVAL_HOURS", 24),
        "PDF_MAX_SECONDS": _int("PDF_MAX_SECONDS", 60),
        "PDF_MAX_PAGES": _int("PDF_MAX_PAGES", 300),
        "PDF_MAX_MEMORY_MB": _int("PDF_MAX_MEMORY_MB", 1024),
        # Caps on one letter template render (campaign.letters.sandbox.Limits).
        "TEMPLATE_MAX_BYTES": _int("TEMPLATE_MAX_BYTES", 100 * 1024),
        "TEMPLATE_MAX_OUTPUT": _int("TEMPLATE_MAX_OUTPUT", 2 * 1024 * 1024),
        "TEMPLATE_MAX_SECONDS": _number("TEMPLATE_MAX_SECONDS", 2.0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # A session ends this long after sign-in, however active (and at logout).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_positive("SESSION_LIFETIME_HOURS", 12)),
        # Per-IP request limits (Flask-Limiter syntax), against guessing links and passwords.
        "SIGNING_RATE_LIMIT": os.environ.get("SIGNING_RATE_LIMIT", "60/minute;600/hour"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10/minute;100/hour"),
        # Failed logins per account (by the address typed), from any number of IPs.
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5/minute;20/hour"),
        # Per signed-in user: live preview renders on every pause in typing, a PDF is costly.
        "PREVIEW_RATE_LIMIT": os.environ.get("PREVIEW_RATE_LIMIT", "120/minute"),
        "PREVIEW_PDF_RATE_LIMIT": os.environ.get("PREVIEW_PDF_RATE_LIMIT", "20/minute"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Targets' replies through SendGrid Inbound Parse. Without a domain, letters carry no
        # per-target Reply-To and replies go to the sender; without a secret the inbound
        # endpoint refuses every post.
        "INBOUND_DOMAIN": (os.environ.get("INBOUND_DOMAIN") or "").strip().lower() or None,
        "INBOUND_SECRET": os.environ.get("INBOUND_SECRET") or None,
        "INBOUND_MAX_BYTES": _int("INBOUND_MAX_BYTES", 20 * 1024 * 1024),
        # Evidence: the PAdES seal on exported PDFs (letters/seal.py) and the /verify page.
        "SEAL_PKCS12_PATH": os.environ.get("SEAL_PKCS12_PATH") or None,
        "SEAL_PKCS12_PASSWORD": os.environ.get("SEAL_PKCS12_PASSWORD") or None,
        "SEAL_TSA_URL": os.environ.get("SEAL_TSA_URL") or None,
        "VERIFY_RATE_LIMIT": os.environ.get("VERIFY_RATE_LIMIT", "30/minute;300/hour"),
        "VERIFY_MAX_BYTES": _int("VERIFY_MAX_BYTES", 5 * 1024 * 1024),
        # Letters with more signatories than this render their signatory pages in cached
        # chunks, in parallel, merged with pypdf (letters/chunked.py).
        "PDF_CHUNK_THRESHOLD": _int("PDF_CHUNK_THRESHOLD", 300),
        "EXPORT_KEEP_HOURS": _int("EXPORT_KEEP_HOURS", 24),
        "PDF_CHUNK_CACHE_DIR": os.environ.get("PDF_CHUNK_CACHE_DIR") or None,
        "PDF_MAX_CHUNKED_PAGES": _int("PDF_MAX_CHUNKED_PAGES", 3000),
        # Seconds after a change to the letter (a signature, a new version, the letterhead)
        # before its PDFs are rendered ahead of any click; negative: only `flask tick` does.
        "RENDER_AHEAD_SECONDS": _int("RENDER_AHEAD_SECONDS", 5),
        #: How many proxies in front of the app set X-Forwarded-For (0: none, use the peer).
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
    }
