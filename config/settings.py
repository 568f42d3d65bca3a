"""The one settings module: every value can come from the environment, and the defaults run on a
bare machine (SQLite, a broker in files under var/, localhost URLs, test-mode keys)."""

import base64
import hashlib
import importlib.util
import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from config import production

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # git-ignored: the SQLite file and the embedded broker
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()


def _secret(name: str, default: str) -> str:
    """A secret exactly as set: django-environ would take a value starting with `$` for the name
    of another variable, and a random SECRET_KEY may well start with one."""
    return os.environ.get(name) or default


# Off unless set: a deployment that forgets it runs with the checks below, not with a debug page
# and the development secrets. `make demo` and the tests turn it on.
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = _secret("SECRET_KEY", production.DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])

# Partners' OCPI tokens are encrypted at rest with this Fernet key (32 url-safe base64 bytes).
_derived_key = base64.urlsafe_b64encode(hashlib.sha256(f"fernet:{SECRET_KEY}".encode()).digest())
FIELD_ENCRYPTION_KEY = _secret("FIELD_ENCRYPTION_KEY", _derived_key.decode())

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "ocpi_peer",
    "stations",
    "payments",
]
# The CPO simulator sits beside the product in a checkout and is left out of the wheel: where it
# can be imported, its app adds `manage.py simulate_cpo`; an installed product just lacks it.
if importlib.util.find_spec("cpo_simulator") is not None:
    INSTALLED_APPS.append("cpo_simulator")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.csp.StripeCSPMiddleware",
    "ocpi_peer.middleware.OcpiTrafficMiddleware",
    # Django's own, passed by for OCPI requests (`config.browser`)
    "config.browser.SessionMiddleware",
    "config.browser.LocaleMiddleware",
    "config.browser.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.browser.AuthenticationMiddleware",
    "config.browser.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # the deploy check names it
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A new PostgreSQL connection per request costs more than most of our requests do.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["ENGINE"] = "config.postgresql"  # checks only idle connections
    # Parameters bound by the server, and each statement prepared from its fifth run on a
    # connection: the hot paths' statements are planned once a connection instead of once a
    # request, which took nearly half of the database's CPU off an EVSE status push.
    # `?server_side_binding=false` in DATABASE_URL goes back to binding in the client, for a
    # pooler in transaction mode that cannot keep prepared statements.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["server_side_binding"] = (
        str(_options.get("server_side_binding", True)).lower() != "false"
    )
    _options.setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and simulator share the file: wait for a lock rather than fail at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
    # A transaction that reads first and writes later cannot wait for the lock when another
    # holds it (SQLite answers "database is locked" at once): take the write lock at BEGIN.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    # Write-ahead log: readers (the live page's polls) no longer block the writer (a worker's
    # task), nor the writer them; what is left of "database is locked" the tasks retry
    # (config.celery.PatientTask). NORMAL syncing is safe under WAL and spares an fsync a commit.
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # Tests too: a file, not the shared in-memory database, which fails a read at once
    # (instead of waiting) while a live server thread writes; one per test run.
    DATABASES["default"]["TEST"].setdefault("NAME", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The operators' time zone: the admin shows times in it (with its name), and a settlement
# export's days run from its midnight to midnight. Times are stored in UTC regardless.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the driver pages' scripts and styles
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ChargePay API",
    "VERSION": "1",
    "DESCRIPTION": "The driver API (`/api/v1/`, public) and the OCPI 2.3.0, 2.2.1 and 2.1.1 "
    "endpoints we serve (`/ocpi/`, with the token a partner got from us).",
    "SERVE_INCLUDE_SCHEMA": False,  # the schema does not describe itself
    # Request bodies apart from answers: what we require of a request (non-blank strings) is
    # not what every answer of ours must hold.
    "COMPONENT_SPLIT_REQUEST": True,
    # `check --deploy` builds the whole schema and reports any view it had to guess about: every
    # view is described (`ocpi_peer.openapi`, `payments.api`), so a new one that is not shows.
    "ENABLE_DJANGO_DEPLOY_CHECK": True,
}

# Celery: the embedded default needs no server (kombu's filesystem transport under var/).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # `filesystem:///some/dir` keeps the queue there; bare, under var/.
    _broker_dir = Path(CELERY_BROKER_URL.removeprefix("filesystem://") or VAR_DIR / "broker")
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "schedule-pulls": {
        "task": "ocpi_peer.tasks.schedule_pulls",
        "schedule": timedelta(minutes=5),
    },
    "sweep-deadlines": {
        "task": "payments.tasks.sweep_deadlines",
        "schedule": timedelta(seconds=15),
    },
    "provide-terminals": {
        "task": "payments.tasks.provide_terminals",
        "schedule": timedelta(minutes=1),
    },
    "erase-old-emails": {
        "task": "payments.tasks.erase_old_emails",
        "schedule": timedelta(hours=6),
    },
    "purge-traffic-log": {
        "task": "ocpi_peer.tasks.purge_traffic_log",
        "schedule": timedelta(hours=6),
    },
}

# Who we are in OCPI.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
OCPI_COUNTRY_CODE = env.str("OCPI_COUNTRY_CODE", default="DE")
OCPI_PARTY_ID = env.str("OCPI_PARTY_ID", default="CPY")
OCPI_BUSINESS_NAME = env.str("OCPI_BUSINESS_NAME", default="ChargePay")
# Who we are on a receipt when we sell the charge (a CPO party's terms: merchant of record
# "platform"): our legal name, postal address (lines separated by "\n") and VAT id.
PLATFORM_LEGAL_NAME = env.str("PLATFORM_LEGAL_NAME", default="") or OCPI_BUSINESS_NAME
PLATFORM_LEGAL_ADDRESS = env.str("PLATFORM_LEGAL_ADDRESS", default="").replace("\\n", "\n")
PLATFORM_VAT_ID = env.str("PLATFORM_VAT_ID", default="")
OCPI_TRAFFIC_RETENTION = timedelta(days=90)
OCPI_CONNECT_TIMEOUT = 5.0  # seconds, outbound OCPI calls
OCPI_READ_TIMEOUT = 30.0
# Outbound OCPI calls (ocpi_peer/outbound.py): one deadline for the whole call, however slowly
# the partner answers; the longest answer we read; the most `Link` pages of one list we follow.
OCPI_CALL_DEADLINE = 60.0  # seconds
OCPI_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
OCPI_MAX_PAGES = 5000
# A lab: partners on loopback or private addresses (and plain http to them with DEBUG off).
# Never in production: a partner's URL could then reach our own network.
OCPI_ALLOW_PRIVATE_URLS = env.bool("OCPI_ALLOW_PRIVATE_URLS", default=False)

# Stripe (test-mode placeholders by default; the demo and the tests point at a local fake).
STRIPE_SECRET_KEY = _secret("STRIPE_SECRET_KEY", "sk_test_placeholder")
STRIPE_PUBLISHABLE_KEY = _secret("STRIPE_PUBLISHABLE_KEY", "pk_test_placeholder")
STRIPE_WEBHOOK_SECRET = _secret("STRIPE_WEBHOOK_SECRET", "whsec_placeholder")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")

# With DEBUG off the platform runs for real: it refuses to start (web, worker, beat, every
# management command) without its secrets, each real (config/production.py says which and why).
if not DEBUG:
    production.require_secrets({name: os.environ.get(name) for name in production.SECRETS})

# HTTPS. With DEBUG off: plain http is redirected (but /healthz, which a load balancer may ask
# over http), browsers are told to come over HTTPS only for a year, and the session and CSRF
# cookies travel over HTTPS only. Behind a proxy that ends TLS, TRUSTED_PROXY_SSL_HEADER names
# the header in which it says the request came over HTTPS (e.g. X-Forwarded-Proto, value
# `https`); set it only when that proxy always sets or overwrites that header, or any client
# could claim HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = production.proxy_ssl_header(
    env.str("TRUSTED_PROXY_SSL_HEADER", default="")
)
# Forms (the admin's, the language switch) are posted from PUBLIC_BASE_URL's origin, whatever
# Host and scheme a proxy hands on to us.
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[production.origin(PUBLIC_BASE_URL)]
)
# The proxies in front of us, as addresses or networks (`10.0.0.5`, `10.0.0.0/8`): the only
# peers whose X-Forwarded-For may be believed.
TRUSTED_PROXIES = production.networks("TRUSTED_PROXIES", env.list("TRUSTED_PROXIES", default=[]))

# Content-Security-Policy (django-csp): our own scripts, styles and images, and what Stripe.js
# needs. config.csp adds the origins of STRIPE_JS_URL (script-src, frame-src) and of
# STRIPE_API_BASE (connect-src) as they are set, so that a Stripe elsewhere (the local fake of
# the demo and the tests) works too. No inline script or style: the pages' own are static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "frame-src": ["https://hooks.stripe.com"],
        "connect-src": [SELF],
        "img-src": [SELF, "data:"],
        "style-src": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

START_GRACE_SECONDS = env.int("START_GRACE_SECONDS", default=900)
# `make demo`: the charger page lists the fake Stripe's test cards. Never with DEBUG off.
DEMO = DEBUG and env.bool("DEMO", default=False)
CHECKOUT_RATE_LIMIT = env.str("CHECKOUT_RATE_LIMIT", default="5/10m")
# Checkouts started at one EVSE from all addresses together: card testing spread over many
# addresses (or behind one carrier NAT) still meets a limit at the charger it uses.
CHECKOUT_RATE_LIMIT_PER_EVSE = production.rate_limit(
    "CHECKOUT_RATE_LIMIT_PER_EVSE", env.str("CHECKOUT_RATE_LIMIT_PER_EVSE", default="20/10m")
)
# OCPI requests refused for their token, per client address: past it, that address is answered
# 429 until the window has passed (ocpi_peer.transport).
OCPI_AUTH_FAILURE_LIMIT = production.rate_limit(
    "OCPI_AUTH_FAILURE_LIMIT", env.str("OCPI_AUTH_FAILURE_LIMIT", default="30/10m")
)
# The traffic log of the OCPI requests we serve is written in batches off the requests' path
# (ocpi_peer.traffic.Buffer): this many rows at once, or when the oldest has waited this long,
# and at the process's exit. 1: each row written with its request.
OCPI_TRAFFIC_LOG_BATCH = max(1, env.int("OCPI_TRAFFIC_LOG_BATCH", default=100))
OCPI_TRAFFIC_LOG_FLUSH_SECONDS = max(0.05, env.float("OCPI_TRAFFIC_LOG_FLUSH_SECONDS", default=1.0))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Driver checkout.
DEFAULT_HOLD_AMOUNT = env.str("DEFAULT_HOLD_AMOUNT", default="50.00")  # incl. VAT, tariff currency
CHECKOUT_CLAIM_SECONDS = 300  # an unpaid checkout holds its EVSE this long
CHECKOUT_MAX_DECLINES = 3
# Stopping before the cost reaches the hold: a share of the hold, and the margin for what can
# still flow between two session updates plus the time a stop takes.
STOP_AT_SHARE = "0.95"
SESSION_UPDATE_INTERVAL = 60  # seconds between a CPO's session updates, as we assume it
STOP_LATENCY = 60  # seconds from our STOP_SESSION to the charger stopping

# Settlement. A checkout finished this long without a CDR makes us pull the CPO's CDRs; a hold
# still waiting for its CDR is settled a day before the card's `capture_before` (Stripe keeps a
# hold about 7 days; when it does not say, we assume that), by the CPO party's policy, else this
# one: "capture" what the last Session supports, or "release".
MISSING_CDR_AFTER = timedelta(seconds=env.int("MISSING_CDR_AFTER", default=6 * 3600))
# An accepted START_SESSION with no Session pushed this long after: pull the CPO's Sessions
# Sender, then every SESSION_PULL_EVERY while the checkout charges and none is pushed.
SESSION_PULL_AFTER = timedelta(seconds=env.int("SESSION_PULL_AFTER", default=30))
SESSION_PULL_EVERY = timedelta(minutes=1)
HOLD_LIFETIME = timedelta(days=7)
EXPIRING_HOLD_MARGIN = timedelta(days=1)
EXPIRING_HOLD_POLICY = env.str("EXPIRING_HOLD_POLICY", default="capture")
# A credit CDR waits this long for the corrected CDR before its amount is refunded.
CREDIT_CDR_WAIT = timedelta(seconds=env.int("CREDIT_CDR_WAIT", default=24 * 3600))

# Receipts: e-mailed when the driver gave an address (console unless EMAIL_URL names an SMTP
# server, e.g. smtp+tls://user:password@mail.example.com:587), the address erased after this.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="receipts@chargepay.invalid")
EMAIL_RETENTION = timedelta(days=env.int("EMAIL_RETENTION_DAYS", default=30))
