"""Contra settings. Everything that differs between machines comes from the environment.

Embedded default (no server needed): SQLite in ``var/`` and Celery's ``filesystem://``
broker. Set ``DATABASE_URL`` and ``CELERY_BROKER_URL`` to use PostgreSQL and Redis.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTRA_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "y"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "config.apps.ContraAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "djmoney",
    "rangefilter",
    "django_fsm",
    "django_celery_beat",
    "django_celery_results",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "orders",
    "revenue",
    "returns",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RejectNulMiddleware",  # bad input: 400, not a DataError on PostgreSQL
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation: the product's queries are index lookups and short lists. On
        # tables of millions of rows their cost estimates pass the JIT threshold, and
        # compiling then takes longer than running (600 ms of a 1.2 s admin list).
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "contra.sqlite3",
            "OPTIONS": {
                # web, worker and beat share the file: WAL + a busy timeout + IMMEDIATE
                # transactions make writers queue instead of failing with "locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Tests use a file too: the in-memory shared-cache database Django uses by
            # default takes table locks that ignore the busy timeout, so a worker thread
            # writing while the test reads fails with "database table is locked".
            # One file per test run (its processes inherit the name), so two runs on one
            # machine never share it.
            "TEST": {
                "NAME": os.environ.setdefault(
                    "CONTRA_TEST_SQLITE", str(VAR_DIR / f"test-{os.getpid()}.sqlite3")
                )
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("CONTRA_TIME_ZONE", "UTC")
USE_I18N = True
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"  # GL transfer files; served only through the admin
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Money ----------------------------------------------------------------------------
CURRENCIES = tuple(
    c.strip() for c in os.environ.get("CONTRA_CURRENCIES", "USD,EUR,GBP,CAD,JPY").split(",")
)
DEFAULT_CURRENCY = os.environ.get("CONTRA_DEFAULT_CURRENCY", "USD")

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    _control = VAR_DIR / "celery" / "control"
    for _folder in (_queue, _processed, _control):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "control_folder": str(_control),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True


def env_seconds(name: str, default: int) -> int:
    """A whole number of seconds (at least 1) from the environment; anything else stops
    the start with a message naming the variable."""
    from django.core.exceptions import ImproperlyConfigured

    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and int(value) >= 1):
        raise ImproperlyConfigured(f"{name}={value!r}: give a whole number of seconds, e.g. 60")
    return int(value)


# I9: a Running collection run whose worker shows no sign of life (no heartbeat) for this
# long, where its lease cannot tell, is marked FAILED ("worker lost") by the next run or
# beat tick, which takes over its remaining lines. Read at call time (tests override it).
CONTRA_RUN_STALE_SECONDS = env_seconds("CONTRA_RUN_STALE_SECONDS", 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CONTRA_LOG_LEVEL", "INFO")},
}


# --- HTTP API (interchange.md "HTTP API"; api/) -----------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("CONTRA_API_RATE", "600/minute")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contra API",
    "DESCRIPTION": "Orders, returns and the revenue sub-ledger (interchange.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # the docs page's JavaScript and CSS from static files: it works offline
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # one name per choice set (several models have a "status"): the schema's enums read
    # as the documents they belong to
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "OrderKindEnum": "orders.models.OrderKind",
        "InvoiceStatusEnum": "orders.models.InvoiceStatus",
        "CreditMemoStatusEnum": "orders.models.CreditMemoStatus",
        "BillingRunStatusEnum": "orders.models.billing.BillingRun.Status",
        "ReturnStatusEnum": "returns.models.ReturnStatus",
        "ReturnLineStatusEnum": "returns.models.LineStatus",
        "FeeAmountTypeEnum": "returns.models.FeeAmountType",
        "RefundStatusEnum": "returns.models.RefundStatus",
        "InboundLineStatusEnum": "revenue.models.choices.LineStatus",
        "CollectionRunStatusEnum": "revenue.models.runs.CollectionRun.Status",
        "PeriodStatusEnum": "revenue.models.periods.Period.Status",
    },
}
