"""Settings, read from the environment with embedded defaults.

With no environment at all the platform runs on a SQLite file and kombu's file-system
broker under ``var/``, so ``make run`` needs nothing but Python. Production points
DATABASE_URL at PostgreSQL and CELERY_BROKER_URL at RabbitMQ; the code is the same.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean environment variable ("1", "true", "yes", "on" are true)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Use SECRET_KEY when given; otherwise generate one once and keep it under var/.

    A generated key that changed on every start would log everyone out on each restart.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "campaigns",
    "smpp_transport",
    "mms_transport",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; the busy timeout turns
    # "database is locked" into a short wait; IMMEDIATE avoids lock upgrades deadlocking.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# --- Domain defaults -------------------------------------------------------------------
# Region used to read national-format numbers (e.g. "07700 900123" with GB).
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "US")
# A part on the wire when its worker died may or may not have reached the SMSC.
# "unknown" (default) never risks a duplicate; "resend" never risks a loss.
SUBMIT_AMBIGUOUS_POLICY = os.environ.get("SUBMIT_AMBIGUOUS_POLICY", "unknown")

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem"):
    # kombu's file-system transport: one folder shared by every local process.
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "queue").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
elif CELERY_BROKER_URL.startswith("amqp"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BEAT_SCHEDULE = {
    # The one clock of the platform: start due campaigns, hand out batches, apply receipts.
    "tick": {"task": "campaigns.tick", "schedule": float(os.environ.get("TICK_INTERVAL_S", "1.0"))},
    "housekeeping": {"task": "campaigns.housekeeping", "schedule": 300.0},
    # Receipts for parts whose submit answer was lost: match them by handset (see receipts.py).
    "adopt-ambiguous": {"task": "campaigns.adopt_ambiguous", "schedule": 10.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How many seconds of sending each account is handed per tick (backpressure).
DISPATCH_HORIZON_S = float(os.environ.get("DISPATCH_HORIZON_S", "2.0"))
# The rate assumed for a bind of an account paced at 0 (rate_per_bind = 0, no provider cap).
DISPATCH_UNPACED_RATE_PER_BIND = float(os.environ.get("DISPATCH_UNPACED_RATE_PER_BIND", "10000"))
# A batch that vanished (a broker without redelivery lost it) is recovered from the
# database: queued messages no live batch holds after QUEUED_STALL_S; a batch silent for
# SUBMITTING_STALL_S is taken over (its on-wire parts settled by SUBMIT_AMBIGUOUS_POLICY).
# Keep the latter above SMPP_BATCH_TIMEOUT_S so a slow but live batch keeps its parts.
QUEUED_STALL_S = int(os.environ.get("QUEUED_STALL_S", "30"))
SUBMITTING_STALL_S = int(os.environ.get("SUBMITTING_STALL_S", "300"))
# Pending receipts that never match a message become "orphaned" after this long.
RECEIPT_ORPHAN_TTL_S = int(os.environ.get("RECEIPT_ORPHAN_TTL_S", str(48 * 3600)))

# --- REST framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "campaigns.api.schema.ApiAutoSchema",
    # JSON in (bounded, UTF-8, storable strings); JSON out, and the browsable API for people.
    "DEFAULT_PARSER_CLASSES": ["campaigns.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "campaigns.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    # Every error as {"errors": [{"field", "code", "message"}]}, ApplicationError included.
    "EXCEPTION_HANDLER": "campaigns.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Campaign dispatch API",
    "DESCRIPTION": (
        "Recipient lists, contacts, opt-outs, campaigns and their actions, messages, and single sends. "
        "Authenticate with 'Authorization: Token <key>' (manage.py drf_create_token <user>). "
        'Every error is {"errors": [{"field", "code", "message"}]}. See docs/api.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Separate request and response components: read-only fields are not offered as input.
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable component names for the enums that share a field name (status, source).
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.campaigns.CampaignStatus",
        "MessageStatusEnum": "campaigns.statuses.MessageStatus",
        "ChannelEnum": "campaigns.models.campaigns.Channel",
        "OptOutSourceEnum": "campaigns.models.audience.OptOutSource",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "campaigns.api.schema.strict_request_bodies",
    ],
}

# Replies that opt a number out / back in (case-insensitive, punctuation ignored).
_OPT_OUT_DEFAULT = "STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT"
OPT_OUT_KEYWORDS = [k for k in os.environ.get("OPT_OUT_KEYWORDS", _OPT_OUT_DEFAULT).split(",") if k]
OPT_IN_KEYWORDS = [k for k in os.environ.get("OPT_IN_KEYWORDS", "START,UNSTOP").split(",") if k]

# MMS: the most an MMS (media + text + subject) may weigh, as providers commonly accept.
MMS_MAX_BYTES = int(os.environ.get("MMS_MAX_BYTES", str(600 * 1024)))

# /metrics is open unless a token is set (then: Authorization: Bearer <token>).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Error pages and mails never show a secret: URL passwords masked, secret-named values hidden.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.SecretMaskingFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
