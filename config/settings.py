"""Settings, read from the environment with embedded defaults.

With no environment at all the platform runs on a SQLite file and kombu's file-system
broker under ``var/``, so ``make run`` needs nothing but Python. Production points
DATABASE_URL at PostgreSQL and CELERY_BROKER_URL at RabbitMQ; the code is the same.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF

from config import fs_broker, security
from config.database import default_database
from config.env import env_base_url, env_bool, env_count, env_count_per_days, env_credentials, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Security (docs/security.md) -------------------------------------------------------
# DEBUG is off unless asked for. With it off a weak SECRET_KEY refuses to start; a key
# generated into var/ (the demo's, no SECRET_KEY given) is strong and keeps working.
DEBUG = env_bool("DEBUG", False)
# HTTPS=on: production behind a TLS-terminating proxy that sets X-Forwarded-Proto. Turns on
# the redirect, secure cookies, HSTS and trust of that header; needs SECRET_KEY and
# METRICS_TOKEN from the environment. Then `manage.py check --deploy` passes.
HTTPS = env_bool("HTTPS", False)
SECRET_KEY = security.secret_key(var_dir=VAR_DIR, debug=DEBUG, https=HTTPS)
# Fernet keys for the secrets stored in the database (Account.SECRET_FIELDS): the first
# encrypts, all decrypt (rotation: manage.py rotate_secrets_key). Required with DEBUG off,
# except on a local machine whose SECRET_KEY was generated into var/ (the demo, the tests),
# where a key is derived from SECRET_KEY.
SECRETS_KEYS = security.secrets_keys(
    secret_key=SECRET_KEY, debug=DEBUG, derive=not HTTPS and not os.environ.get("SECRET_KEY")
)
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600))) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preload is a commitment (the browsers' list is slow to leave): opt in. Left off, the
# deploy check's reminder to consider it (security.W021) is a decision taken, not a gap.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# /metrics names campaigns and binds: with HTTPS=on it needs a bearer token to start.
METRICS_TOKEN = security.require_metrics_token(os.environ.get("METRICS_TOKEN", ""), https=HTTPS)
# Reverse proxies in front of the web app that append X-Forwarded-For (the compose stack's
# Caddy: 1). 0 trusts no header: the client is the peer. Used by the API throttles and the
# login lockout alike (security.client_ip).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("PASSWORD_MIN_LENGTH", "12"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes, attempts kept in the database): AXES_FAILURE_LIMIT wrong
# passwords for one username from one address lock that pair out for AXES_COOLOFF_MINUTES.
# A right password resets the count. Unlock early: `manage.py axes_reset_username <name>`.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_VERBOSE = False  # no start-up banner in every process; failures and lockouts still log
# API throttles per client address (anonymous) and per user (token or session); generous
# defaults, so integrations and benches are not slowed by accident; "off" turns one off.
API_THROTTLE_ANON = security.throttle_rate("API_THROTTLE_ANON", "100/minute")
API_THROTTLE_USER = security.throttle_rate("API_THROTTLE_USER", "3000/minute")
# Content-Security-Policy (django-csp): scripts, styles, fonts and data from this origin
# only, no inline script, no plugins, no framing. The admin, the campaign builder's script
# and /api/docs/ (Swagger UI served from this app by drf-spectacular-sidecar) fit in it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

INSTALLED_APPS = [
    "campaigns.admin_config.CampaignsAdminConfig",  # django.contrib.admin with the landing page
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "campaigns",
    "smpp_transport",
    "mms_transport",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
# Connection budget (docs/operations.md): a process whose DB_POOL_MAX_SIZE > 0 shares that
# many PostgreSQL connections among all its threads (config/database.py). The supervisors
# set it for their children (BIND_WORKER_DB_POOL_MAX_SIZE, ...).
DB_POOL_MIN_SIZE = int(os.environ.get("DB_POOL_MIN_SIZE", "1"))
DB_POOL_MAX_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE", "0"))
DB_POOL_TIMEOUT_S = float(os.environ.get("DB_POOL_TIMEOUT_S", "30"))
BIND_WORKER_DB_POOL_MAX_SIZE = int(os.environ.get("BIND_WORKER_DB_POOL_MAX_SIZE", "1"))
MM4_WORKER_DB_POOL_MAX_SIZE = int(os.environ.get("MM4_WORKER_DB_POOL_MAX_SIZE", "2"))
DATABASES = {
    "default": default_database(
        DATABASE_URL,
        var_dir=VAR_DIR,
        pool_min_size=DB_POOL_MIN_SIZE,
        pool_max_size=DB_POOL_MAX_SIZE,
        pool_timeout_s=DB_POOL_TIMEOUT_S,
    )
}
# How often run_bind_workers / run_mm4_workers re-read the accounts to run (seconds).
SUPERVISOR_REFRESH_S = float(os.environ.get("SUPERVISOR_REFRESH_S", "30"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
# Tracked short links (docs/links.md): the public address of the web app's /r/<code>, how
# long a code stays valid (0: for ever) and whether a click keeps the client's address.
LINK_DOMAIN = env_base_url("LINK_DOMAIN", f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}")
if (_link_host := urlsplit(LINK_DOMAIN).hostname) and _link_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_link_host)  # the short links' domain is served by this app
LINK_CODE_TTL_DAYS = int(os.environ.get("LINK_CODE_TTL_DAYS", "0"))
LINK_CLICK_STORE_IP = env_bool("LINK_CLICK_STORE_IP", False)

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem"):
    # kombu's file-system transport: one folder shared by every local process.
    CELERY_BROKER_TRANSPORT_OPTIONS = fs_broker.transport_options(VAR_DIR / "broker")
elif CELERY_BROKER_URL.startswith("amqp"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache holds the API throttles' counters and the reports' short-lived aggregates: in
# Redis when REDIS_URL is set (shared by every web process), else in each process's memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "cd"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_BEAT_SCHEDULE = {
    # The one clock of the platform: start due campaigns, hand out batches, apply receipts.
    "tick": {"task": "campaigns.tick", "schedule": float(os.environ.get("TICK_INTERVAL_S", "1.0"))},
    "housekeeping": {"task": "campaigns.housekeeping", "schedule": 300.0},
    # Receipts for parts whose submit answer was lost: match them by handset (see receipts.py).
    "adopt-ambiguous": {"task": "campaigns.adopt_ambiguous", "schedule": 10.0},
}

# --- Status webhooks (config/webhook_settings.py; docs/api.md "Webhooks") ---------------
from config.webhook_settings import *  # noqa: E402, F403 - the WEBHOOKS_* settings, by name (its __all__)

CELERY_BEAT_SCHEDULE["webhooks"] = WEBHOOKS_BEAT_ENTRY  # noqa: F405
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How many seconds of sending each account is handed per tick (backpressure).
DISPATCH_HORIZON_S = float(os.environ.get("DISPATCH_HORIZON_S", "2.0"))
# Routes (campaigns.services.routing): an account with no bound bind for ROUTE_UNBOUND_S, or
# whose every bind has only been throttled for ROUTE_THROTTLED_S, gets no new messages and
# its unsent ones move to the next account of the route. 10 s: with the heartbeat (5 s), a
# tick and the batches already on the dead bind timing out, the rest moves within 30 s.
ROUTE_UNBOUND_S = float(os.environ.get("ROUTE_UNBOUND_S", "10"))
ROUTE_THROTTLED_S = float(os.environ.get("ROUTE_THROTTLED_S", "60"))
# Submit errors that mean "this provider does not serve the number": a routed message so
# refused is retried once on the next account of its route. SMPP 3.4: ESME_RINVDSTADR
# (0x0B), ESME_RINVDSTTON (0x50), ESME_RINVDSTNPI (0x51).
ROUTE_ERROR_CODES = tuple(
    int(c, 0) for c in os.environ.get("ROUTE_ERROR_CODES", "0x0B,0x50,0x51").split(",") if c.strip()
)
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
# A part accepted this long ago with no delivery receipt becomes "unknown" ("no delivery
# receipt within 48 h"), so its campaign can complete. A campaign's validity period, when
# shorter, wins, plus the grace: the time the provider takes to send its own EXPIRED receipt
# once the validity runs out (see campaigns/services/receipt_deadline.py).
RECEIPT_DEADLINE_S = int(os.environ.get("RECEIPT_DEADLINE_S", str(48 * 3600)))
RECEIPT_DEADLINE_GRACE_S = int(os.environ.get("RECEIPT_DEADLINE_GRACE_S", "600"))
if RECEIPT_DEADLINE_S <= 0 or RECEIPT_DEADLINE_GRACE_S < 0:
    raise ValueError("RECEIPT_DEADLINE_S must be a positive number of seconds, RECEIPT_DEADLINE_GRACE_S not negative")
# A batch rides out a database restart this long before it gives up (its answers exist only
# in the worker's memory until they are recorded).
SUBMIT_DB_RETRY_S = float(os.environ.get("SUBMIT_DB_RETRY_S", "120"))
IDEMPOTENCY_KEY_TTL_DAYS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_DAYS", "7"))
# Platform-wide frequency cap, "N/D": a recipient gets at most N marketing messages in D days
# across every account's campaigns (an account's own cap replaces it). Empty: no cap.
# See campaigns/services/frequency_cap.py and docs/marketers.md.
FREQUENCY_CAP = env_count_per_days("FREQUENCY_CAP")
# Campaigns with more than this many recipients need an approver's approval before they are
# scheduled, sent or resumed (0: every campaign; unset: no approval). See docs/approval.md.
APPROVAL_REQUIRED_ABOVE = env_count("APPROVAL_REQUIRED_ABOVE")

# --- Transport workers -----------------------------------------------------------------
# Which account (and bind mode) this process binds for: set per child by run_bind_workers /
# run_mm4_workers; empty in every other process.
SMPP_BIND_SYSTEM_ID = os.environ.get("SMPP_BIND_SYSTEM_ID", "")
SMPP_BIND_MODE = os.environ.get("SMPP_BIND_MODE", "trx")
# The bind slot (0..binds-1) this process leases before it binds (run_bind_workers sets it;
# empty: no lease). The lease is a PostgreSQL session advisory lock on a direct connection:
# behind PgBouncer in transaction pooling, point SLOT_LEASE_DATABASE_URL at PostgreSQL itself.
SMPP_BIND_SLOT = os.environ.get("SMPP_BIND_SLOT", "")
SLOT_LEASE_DATABASE_URL = os.environ.get("SLOT_LEASE_DATABASE_URL", "")
SLOT_LEASE_HEARTBEAT_S = float(os.environ.get("SLOT_LEASE_HEARTBEAT_S", "5"))
# The longest a chunk waits for its submit_sm answers before its parts come back as "retry".
SMPP_BATCH_TIMEOUT_S = float(os.environ.get("SMPP_BATCH_TIMEOUT_S", "120"))
# Margin for the provider's time between stamping a submit and answering it (costs guard × rate).
SMPP_PACING_GUARD_S = float(os.environ.get("SMPP_PACING_GUARD_S", "0.001"))
# The bind's reader thread gets the GIL back this quickly after each recv.
SMPP_GIL_SWITCH_S = float(os.environ.get("SMPP_GIL_SWITCH_S", "0.0005"))
# How long a bind's receipt writer collects deliver_sm before one commit (their resps wait
# that long): at 50 receipts/s, 50 ms groups two or three per transaction instead of one.
SMPP_RECEIPT_GROUP_S = float(os.environ.get("SMPP_RECEIPT_GROUP_S", "0.05"))
SMPP_METRICS_PORT = os.environ.get("SMPP_METRICS_PORT", "")
SMPP_METRICS_ADDR = os.environ.get("SMPP_METRICS_ADDR", "127.0.0.1")
MM4_WORKER_SYSTEM_ID = os.environ.get("MM4_WORKER_SYSTEM_ID", "")
MM4_TIMEOUT_S = float(os.environ.get("MM4_TIMEOUT_S", "30"))
MM4_CONNECT_WAIT_S = float(os.environ.get("MM4_CONNECT_WAIT_S", "20"))
# A warm shutdown waits this long for the batches in progress (an SMPP bind worker: its
# batch timeout + 30 s).
MM4_DRAIN_S = float(os.environ.get("MM4_DRAIN_S", "60"))
MM4_TLS_CA_FILE = os.environ.get("MM4_TLS_CA_FILE", "")

# --- REST framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "campaigns.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "user": API_THROTTLE_USER},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
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
# API tokens (django-rest-knox): stored as a SHA-512 digest, shown once when made
# (manage.py create_api_token). API_TOKEN_TTL_S: how long a new token lasts, 0 = until
# revoked (the default: tokens are for integrations, which a silent expiry would break).
KNOX_TOKEN_MODEL = "campaigns.ApiToken"
# knox's own token table is never made: its model is swapped for ours (whose table migration
# 0015_hash_api_tokens makes), and an unused table with a key to auth_user would stop a flush.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_TTL_S = int(os.environ.get("API_TOKEN_TTL_S", "0"))
if API_TOKEN_TTL_S < 0:
    raise ValueError("API_TOKEN_TTL_S must be a number of seconds, 0 for tokens that last until revoked")
REST_KNOX = {
    "TOKEN_TTL": timedelta(seconds=API_TOKEN_TTL_S) if API_TOKEN_TTL_S else None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
from config.api_schema_settings import SPECTACULAR_SETTINGS  # noqa: E402, F401 - the OpenAPI schema's settings

# Replies that opt a number out / back in (case-insensitive, punctuation ignored).
_OPT_OUT_DEFAULT = "STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT"
OPT_OUT_KEYWORDS = [k for k in os.environ.get("OPT_OUT_KEYWORDS", _OPT_OUT_DEFAULT).split(",") if k]
OPT_IN_KEYWORDS = [k for k in os.environ.get("OPT_IN_KEYWORDS", "START,UNSTOP").split(",") if k]

# CSV imports: the most one line may hold (characters, its line break included) and the most
# fields one row may have. They bound an import's memory per line; a longer or wider row is
# refused alone, with its reason (campaigns/services/contacts_import/limits.py).
IMPORT_MAX_LINE_CHARS = int(os.environ.get("IMPORT_MAX_LINE_CHARS", str(64 * 1024)))
IMPORT_MAX_FIELDS = int(os.environ.get("IMPORT_MAX_FIELDS", "200"))

# The inbound MM4 receiver (manage.py mm4_receiver; docs/mms.md "Who may deliver reports").
# The provider's logins, user:password[,user:password...]: they may report for every account
# (per-account logins are set in the admin). Never on a command line, where ps shows them.
MM4_RECEIVER_AUTH = env_credentials("MM4_RECEIVER_AUTH")
# Peer networks allowed to connect (CIDRs, comma-separated); empty = any peer.
MM4_RECEIVER_ALLOW = env_list("MM4_RECEIVER_ALLOW")
# Implicit TLS: the receiver's certificate chain and key (PEM files).
MM4_RECEIVER_TLS_CERT = os.environ.get("MM4_RECEIVER_TLS_CERT", "")
MM4_RECEIVER_TLS_KEY = os.environ.get("MM4_RECEIVER_TLS_KEY", "")
# AUTH without TLS, for peers on this host (127.0.0.1, ::1) only: the demo's simulator.
MM4_RECEIVER_PLAIN_AUTH_LOOPBACK = env_bool("MM4_RECEIVER_PLAIN_AUTH_LOOPBACK", False)
# After this many failed AUTHs within the cool-off, a peer address is refused (421) for the
# cool-off after its last failure; 0 = no throttle.
MM4_RECEIVER_AUTH_FAILURE_LIMIT = int(os.environ.get("MM4_RECEIVER_AUTH_FAILURE_LIMIT", "5"))
MM4_RECEIVER_AUTH_COOLOFF_S = float(os.environ.get("MM4_RECEIVER_AUTH_COOLOFF_S", "900"))
# How often the receiver re-reads the accounts' inbound logins (a change applies within it).
MM4_RECEIVER_CREDENTIALS_REFRESH_S = float(os.environ.get("MM4_RECEIVER_CREDENTIALS_REFRESH_S", "30"))

# MMS: the most an MMS (media + text + subject) may weigh, as providers commonly accept.
MMS_MAX_BYTES = int(os.environ.get("MMS_MAX_BYTES", str(600 * 1024)))

# Error pages and mails never show a secret: URL passwords masked, secret-named values hidden.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.SecretMaskingFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A 403/404/400 is one line, not a traceback (config/log_filters.py).
    "filters": {"client_errors": {"()": "config.log_filters.NoTracebackForClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes says "successful login" and "reset 0 attempts" at INFO on every login:
    # keep its warnings (failed logins, lockouts) only.
    "loggers": {"axes": {"level": "WARNING"}},
}
