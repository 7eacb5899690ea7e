"""Concord settings, read from the environment.

With nothing set, Concord runs embedded: a SQLite file and eager Celery.
DATABASE_URL (any dj-database-url scheme) and REDIS_URL switch to real services.
With DEBUG off (the default) a real SECRET_KEY is required (concord/production.py); DEBUG=true is for
development machines. CONCORD_HTTPS=true turns on HSTS, the HTTPS redirect and secure cookies.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from concord import production
from core.email import email_settings
from core.sso import oidc_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return production.env_bool(os.environ, name, default)


DEBUG = env_bool("DEBUG", False)
# The test suite (pytest, and the processes it starts, which inherit CONCORD_TESTING from tests/conftest.py)
# runs with DEBUG off on the development key and unhashed static files.
TESTING = "pytest" in sys.modules or env_bool("CONCORD_TESTING", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or ""
if not SECRET_KEY and (DEBUG or TESTING):
    SECRET_KEY = production.DEVELOPMENT_SECRET_KEY
production.validate_startup(debug=DEBUG or TESTING, secret_key=SECRET_KEY)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "core",
    "collection",
    "labelling",
    "taxonomy",
    "interviews",
    "validation",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # before any view or middleware reads the body (CSRF reads the form in its process_view)
    "core.middleware.RequestSizeMiddleware",
    "core.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.htmx.VaryOnHtmxMiddleware",
    "core.middleware.DomainErrorMiddleware",
    # last: turns a locked-out sign-in into its 429 answer
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "concord.urls"
WSGI_APPLICATION = "concord.wsgi.application"

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

# --- Database -----------------------------------------------------------------
DEFAULT_SQLITE_URL = f"sqlite:///{BASE_DIR / 'var' / 'concord.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_SQLITE_URL
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
# Persistent connections for a database server (a new PostgreSQL connection per request costs more than
# the labelling loop's queries), checked before reuse in each request; SQLite opens files cheaply.
_server_db = DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE") or (600 if _server_db else 0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("CONN_HEALTH_CHECKS", _server_db)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _name = DATABASES["default"].get("NAME")
    if _name and _name != ":memory:":
        Path(_name).parent.mkdir(parents=True, exist_ok=True)
    # Many evaluators write at once: WAL lets readers go on while one writes,
    # IMMEDIATE takes the write lock at BEGIN so no transaction fails half-way
    # with "database is locked", and the timeout makes writers queue instead.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The labelling loop's hot reads as prepared statements (core.prepared); off = the ORM equivalents,
# e.g. behind PgBouncer in transaction pooling, where prepared statements do not follow the client.
CONCORD_PREPARED_SQL = env_bool("CONCORD_PREPARED_SQL", True)

# --- Celery -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# No task runs longer than CELERY_TASK_TIME_LIMIT (seconds; the worker kills it); an unacknowledged task
# (acks_late: its worker died) is delivered again after the visibility timeout, just beyond that limit.
CELERY_TASK_TIME_LIMIT = production.env_int(os.environ, "CONCORD_TASK_TIME_LIMIT", 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 300,
    "socket_connect_timeout": 2,  # a broker that is down fails a send at once (the outbox keeps it)
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Celery beat: the sweepers (escalations owed and not done; jobs whose worker died; abandoned uploads)
CELERY_BEAT_SCHEDULE = {
    "sweep-escalations": {"task": "labelling.tasks.escalations_sweep_task", "schedule": 60.0},
    "sweep-jobs": {"task": "core.tasks.jobs_sweep_task", "schedule": 300.0},
    # the e-mail digest of notifications, for the users who opted in (every CONCORD_DIGEST_HOURS hours)
    "notification-digest": {
        "task": "core.tasks.notification_digest_task",
        "schedule": 3600.0 * production.env_int(os.environ, "CONCORD_DIGEST_HOURS", 24),
    },
}
CONCORD_JOB_STALE_AFTER = timedelta(seconds=CELERY_TASK_TIME_LIMIT + 300)
CONCORD_UPLOAD_PENDING_TTL = timedelta(hours=production.env_int(os.environ, "CONCORD_UPLOAD_PENDING_HOURS", 24))
# the largest request body read (0: the largest upload limit of any kind and 1 MB for its form; core.uploads)
CONCORD_MAX_REQUEST_BYTES = production.env_int(os.environ, "CONCORD_MAX_REQUEST_BYTES", 0)

# --- Cache ----------------------------------------------------------------------
# Throttle counts shared by every web process when CACHE_URL names a Redis database (compose: its own db,
# apart from Celery's); otherwise each process counts for itself.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Auth, i18n, static ---------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failures for one account, or from one address,
# further attempts are refused (429) until the cool-off has passed; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = production.env_int(os.environ, "CONCORD_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=production.env_int(os.environ, "CONCORD_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account and per address
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
CONCORD_BEHIND_PROXY = production.env_bool(
    os.environ, "CONCORD_BEHIND_PROXY", production.env_bool(os.environ, "CONCORD_HTTPS", False)
)
# API tokens expire this long after they were issued (POST /api/token/ issues a new one, DELETE revokes it).
CONCORD_TOKEN_TTL = timedelta(hours=production.env_int(os.environ, "CONCORD_TOKEN_TTL_HOURS", 24 * 7))
# Who may create projects from the browser and the API: `all` signed-in users or only `staff`.
CONCORD_PROJECT_CREATORS = os.environ.get("CONCORD_PROJECT_CREATORS", "all").strip().lower() or "all"
if CONCORD_PROJECT_CREATORS not in {"all", "staff"}:
    raise ImproperlyConfigured("CONCORD_PROJECT_CREATORS is `all` or `staff`.")
# Password reset e-mails and the notification digest: EMAIL_URL (django-environ's syntax), console by default.
globals().update(email_settings(os.environ))
# Where Concord is served, for the links in mails sent outside a request (the notification digest).
CONCORD_SITE_URL = os.environ.get("CONCORD_SITE_URL", "").strip() or "http://127.0.0.1:8000"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
# Single sign-on (OpenID Connect), off unless OIDC_RP_CLIENT_ID is set (core/oidc.py).
_oidc = oidc_settings(os.environ)
OIDC_ENABLED = bool(_oidc)
globals().update(_oidc)
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("core.oidc.ConcordOIDCBackend")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Hashed file names (cached forever by browsers) once collected; development and tests serve them as they are.
MANIFEST_STATIC = env_bool("CONCORD_MANIFEST_STATIC", not (DEBUG or TESTING))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if MANIFEST_STATIC
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BASE_DIR / "var" / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Where the study's replication fixtures live (read-only, never copied in).
SHARED_FIXTURES_DIR = Path(os.environ.get("CONCORD_SHARED_DIR", BASE_DIR.parent / "shared" / "fixtures"))

# Leaf and merge suggestions: "baseline" (rapidfuzz, the best measured recall), or
# "semantic" / "hybrid" with the optional extra (requirements-semantic.txt).
SUGGESTION_SCORER = os.environ.get("SUGGESTION_SCORER", "baseline")

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "core.api.authentication.ProjectTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Anonymous survey writes (validation.api): per address and per survey/response token
    "DEFAULT_THROTTLE_RATES": {
        "survey_address": os.environ.get("CONCORD_SURVEY_RATE_ADDRESS") or "20/minute",
        "survey_token": os.environ.get("CONCORD_SURVEY_RATE_TOKEN") or "60/minute",
    },
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # DRF's parsers, with JSON nested too deeply a 400 rather than a RecursionError (500)
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": "Open coding and conflict resolution for taxonomy studies.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_errors",
    ],
    # One schema enum per choice set (the same choices appear under several field names).
    "ENUM_NAME_OVERRIDES": {
        "Verdict": "labelling.models.Verdict",
        "ArtefactKind": "collection.models.Artefact.Kind",
        "VocabularyVerdict": [("relevant", "relevant"), ("irrelevant", "irrelevant"), ("clear", "clear")],
        "RoundStatus": "labelling.models.Round.Status",
        "RoundItemStatus": "labelling.models.RoundItem.Status",
        "SurveyStatus": "validation.models.Survey.Status",
        "TaxonomyEntryKind": [("node", "node"), ("leaf", "leaf")],
        "ComparisonKind": "taxonomy.models.Comparison.Kind",
        "JobStatus": "core.models.Job.Status",
        "JobKind": "core.models.Job.Kind",
        "InterviewStage": "interviews.models.Interview.Stage",
        "InterviewCodingSource": "interviews.models.Interview.Source",
        "InterviewCoderRole": "interviews.models.InterviewCoder.Role",
        "InterviewPieceKind": "interviews.models.Piece.Kind",
        "InterviewPieceDecision": "interviews.models.Piece.Decision",
        "InterviewFinalTagStatus": "interviews.models.FinalTag.Status",
    },
}

# --- HTTPS and browser protections ------------------------------------------------
# CONCORD_HTTPS=true: HSTS, redirect to HTTPS, secure cookies, and trust the proxy's X-Forwarded-Proto
# (the proxy must overwrite that header). Each has its own variable too (concord/production.py).
_https = production.https_settings(os.environ)
SECURE_SSL_REDIRECT = _https["SECURE_SSL_REDIRECT"]
SESSION_COOKIE_SECURE = _https["SESSION_COOKIE_SECURE"]
CSRF_COOKIE_SECURE = _https["CSRF_COOKIE_SECURE"]
SECURE_HSTS_SECONDS = _https["SECURE_HSTS_SECONDS"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
SECURE_HSTS_PRELOAD = _https["SECURE_HSTS_PRELOAD"]
SECURE_PROXY_SSL_HEADER = _https["SECURE_PROXY_SSL_HEADER"]
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the containers' health check speaks plain HTTP inside the network
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from Concord's own static files, no inline scripts or
# handlers (templates use static/js/*.js and data- attributes); inline style attributes are allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
