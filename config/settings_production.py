"""Production settings: the embedded defaults of ``config.settings`` hardened for a server.

Select them with ``DJANGO_SETTINGS_MODULE=config.settings_production`` (web, Celery
worker and beat alike). They refuse to start without a real ``DJANGO_SECRET_KEY`` and
``DJANGO_ALLOWED_HOSTS``; DEBUG is off unless ``DJANGO_DEBUG=1``; cookies are sent over
HTTPS only and the browser is told to stay on HTTPS (HSTS). ``manage.py check --deploy``
reports no issue with them.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import env_bool

# the development key of config.settings: never accepted here
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY_MIN_LENGTH = 50  # what `check --deploy` asks for (security.W009)
SECRET_KEY_MIN_UNIQUE = 5


def secret_key_from_env() -> str:
    """DJANGO_SECRET_KEY, refused when missing, the development key or too weak."""
    key = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if not key:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: production settings need a secret key of at "
            f"least {SECRET_KEY_MIN_LENGTH} random characters, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(64))"`.'
        )
    if key == DEV_SECRET_KEY or key.startswith(("dev-only", "django-insecure")):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is the development key: set a random secret for production."
        )
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is too weak: use at least {SECRET_KEY_MIN_LENGTH} "
            f"characters with at least {SECRET_KEY_MIN_UNIQUE} different ones."
        )
    return key


def allowed_hosts_from_env() -> list[str]:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
    hosts = [h for h in hosts if h]
    if not hosts:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS is not set: list the host names this server answers "
            "to, comma-separated (e.g. contra.example.com)."
        )
    wildcards = [h for h in hosts if h == "*" or h.strip(".*") == ""]
    if wildcards:
        raise ImproperlyConfigured(
            f"DJANGO_ALLOWED_HOSTS may not be {wildcards[0]!r}: a server that answers to any "
            "host name trusts forged Host headers (password-reset links, cache keys); list "
            "the names it serves, e.g. contra.example.com,.contra.example.com"
        )
    return hosts


SECRET_KEY = secret_key_from_env()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = allowed_hosts_from_env()

# --- HTTPS ----------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy, name the header it sets (and overwrites) for the scheme,
# e.g. X-Forwarded-Proto. Unset: the request's own scheme is trusted, no header is.
_proxy_header = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None
)

# --- cookies and headers --------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # the admin reads the token from the form, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
