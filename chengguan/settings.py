"""Settings read from the environment.

``DATABASE_URL`` picks the database (SQLite file under ``var/`` by default, PostgreSQL in
production); everything else specific to Chengguan is read from ``CHENGGUAN_*`` variables so
one code base serves the embedded demo and a multi-server deployment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CHENGGUAN_VAR_DIR", BASE_DIR / "var"))
NODE_MODULES = Path(os.environ.get("CHENGGUAN_NODE_MODULES", BASE_DIR / "node_modules"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# CHENGGUAN_PROFILE=production (the default once CHENGGUAN_DEBUG is off) turns on HTTPS-only
# cookies, HSTS and the redirect to HTTPS (see the security block at the end; docs/security.md).
CHENGGUAN_PROFILE = os.environ.get(
    "CHENGGUAN_PROFILE", "development" if env_bool("CHENGGUAN_DEBUG", True) else "production"
)
if CHENGGUAN_PROFILE not in {"development", "production"}:
    raise RuntimeError("CHENGGUAN_PROFILE must be 'development' or 'production'")
PRODUCTION = CHENGGUAN_PROFILE == "production"
DEBUG = env_bool("CHENGGUAN_DEBUG", not PRODUCTION)
# The development key only works while DEBUG is on; production must set its own.
SECRET_KEY = os.environ.get("CHENGGUAN_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("CHENGGUAN_SECRET_KEY must be set when CHENGGUAN_DEBUG is off")
    SECRET_KEY = "chengguan-development-only-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("CHENGGUAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CHENGGUAN_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "chengguan.core",
    "chengguan.org",
    "chengguan.catalog",
    "chengguan.routing",
    "chengguan.grid",
    "chengguan.calendar",
    "chengguan.cases",
    "chengguan.dashboard",
    "chengguan.notify",
    "chengguan.web",
    "chengguan.api",
    "chengguan.assessment",
    "chengguan.security",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    # First: key-authenticated API requests (Open311, /api/v1/ with a key) take a shorter chain
    # that skips the browser-session middleware below; pages get all of it (docs/api.md).
    "chengguan.api.middleware.ApiFastPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Who may open which page or admin view: the one table in chengguan.security.policy.
    "chengguan.security.policy.PolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database that cannot be reached is a clean 503 (page, API or Open311 error), not a 500.
    "chengguan.core.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a refused sign-in into the lock-out page
]

ROOT_URLCONF = "chengguan.urls"
WSGI_APPLICATION = "chengguan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'chengguan.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE),
        conn_max_age=int(os.environ.get("CHENGGUAN_CONN_MAX_AGE", "0")),
        # A persistent connection cut by a database restart is replaced on the next request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web app read while the demo loader or a worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Take the write lock when a transaction begins: a deferred transaction that later
            # upgrades fails at once with "database is locked" when the worker writes too.
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "chengguan.security.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "chengguan.security.passwords.RepeatedCharactersValidator"},
]

LANGUAGE_CODE = os.environ.get("CHENGGUAN_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "chengguan" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end packages come from the npm registry (package.json + lock); make installs them
# into node_modules and Django serves their dist folders under vendor/.
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "web:login"
# After login each user lands on the first page of their post (inspector, command, unit).
LOGIN_REDIRECT_URL = "web:start"
LOGOUT_REDIRECT_URL = "web:login"

# Case photos: largest accepted upload in MB (checked again after the upload by content).
CHENGGUAN_MAX_UPLOAD_MB = float(os.environ.get("CHENGGUAN_MAX_UPLOAD_MB", "10"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # form fields only; files stream to disk past this
# Base map tiles for the map pages (WGS-84 XYZ template, e.g. 天地图 with its key). Empty by
# default: bureaus often run on an intranet, and the grid draws on a plain background offline.
CHENGGUAN_MAP_TILES = os.environ.get("CHENGGUAN_MAP_TILES", "")
CHENGGUAN_MAP_ATTRIBUTION = os.environ.get("CHENGGUAN_MAP_ATTRIBUTION", "")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chengguan API",
    "DESCRIPTION": "Grid-based comprehensive urban management",
    "VERSION": "0.1.0",
    # The OpenAPI document describes the REST API (/api/v1/); Open311 has its own specification.
    "PREPROCESSING_HOOKS": ["chengguan.api.schema.only_rest_api"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files (the CSP allows no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CaseChannelEnum": "chengguan.cases.models.Channel",
        "CategoryKindEnum": "chengguan.catalog.models.CategoryKind",
        "UnitKindEnum": "chengguan.org.models.UnitKind",
    },
}
# Cache shared by every app server and worker in production (rate limits, API keys, Open311
# responses): Redis through Django's own backend. CHENGGUAN_CACHE=redis or locmem; the default is
# Redis in the production profile or when CHENGGUAN_CACHE_URL is set, else per-process memory (the
# embedded demo runs one process). CHENGGUAN_CACHE_URL defaults to the queue's CHENGGUAN_REDIS_URL.
CHENGGUAN_CACHE_URL = os.environ.get("CHENGGUAN_CACHE_URL", "")
CHENGGUAN_CACHE = os.environ.get(
    "CHENGGUAN_CACHE", "redis" if PRODUCTION or CHENGGUAN_CACHE_URL else "locmem"
)
if CHENGGUAN_CACHE == "redis":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CHENGGUAN_CACHE_URL
            or os.environ.get("CHENGGUAN_REDIS_URL", "")
            or "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": os.environ.get("CHENGGUAN_CACHE_PREFIX", "cg"),
            # A stuck Redis must not hang every request: fail within a second.
            "OPTIONS": {"socket_timeout": 1.0, "socket_connect_timeout": 1.0},
        }
    }
elif CHENGGUAN_CACHE == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise RuntimeError("CHENGGUAN_CACHE must be 'redis' or 'locmem'")
# Open311 reads remember request rows this long (invalidated on every case change, so reads
# after a transition see it); only with the shared cache, 0 turns it off.
CHENGGUAN_OPEN311_CACHE_SECONDS = int(
    os.environ.get("CHENGGUAN_OPEN311_CACHE_SECONDS", "60" if CHENGGUAN_CACHE == "redis" else "0")
)

# Requests per API key (per account for sessions, per address otherwise): "6000/min", "100/s".
CHENGGUAN_API_RATE = os.environ.get("CHENGGUAN_API_RATE", "6000/min")
# Citizen form submissions (complain, follow, rate) per client address and form. Under pytest
# the suite posts far more than a citizen would from one address; the limit's own tests set it.
CHENGGUAN_PUBLIC_FORM_RATE = os.environ.get(
    "CHENGGUAN_PUBLIC_FORM_RATE", "100000/h" if "pytest" in sys.modules else "20/h"
)

# Administrative division code (GB/T 2260) of the district this installation serves; the
# demo district uses 赤峰市红山区.
CHENGGUAN_DISTRICT_CODE = os.environ.get("CHENGGUAN_DISTRICT_CODE", "150402")

# Working periods of a working day (1 工作日 = their sum); time limits count only these.
CHENGGUAN_WORK_PERIODS = os.environ.get("CHENGGUAN_WORK_PERIODS", "08:00-12:00,14:00-18:00")

# Background worker (huey, `chengguan run_huey`; `make run` starts it): flags overdue cases
# every minute and delivers notifications. The queue is a SQLite file under var/ by default;
# production sets CHENGGUAN_QUEUE=redis and CHENGGUAN_REDIS_URL. Under pytest, tasks run
# in-process (huey's immediate mode, in memory): tests never write to var/ or Redis that way.
CHENGGUAN_REDIS_URL = os.environ.get("CHENGGUAN_REDIS_URL", "")
CHENGGUAN_QUEUE = os.environ.get("CHENGGUAN_QUEUE", "redis" if CHENGGUAN_REDIS_URL else "sqlite")
HUEY: dict[str, Any] = {
    "name": os.environ.get("CHENGGUAN_QUEUE_NAME", "chengguan"),
    "immediate": env_bool("CHENGGUAN_QUEUE_IMMEDIATE", "pytest" in sys.modules),
    "results": False,  # nobody reads task results; storing them would only grow the queue
    "utc": True,
    "consumer": {
        "workers": int(os.environ.get("CHENGGUAN_QUEUE_WORKERS", "2")),
        "worker_type": "thread",
        "periodic": True,
    },
}
if CHENGGUAN_QUEUE == "redis":
    HUEY["huey_class"] = "huey.RedisHuey"
    HUEY["connection"] = {"url": CHENGGUAN_REDIS_URL or "redis://127.0.0.1:6379/0"}
elif CHENGGUAN_QUEUE == "sqlite":
    HUEY["huey_class"] = "huey.SqliteHuey"
    HUEY["filename"] = os.environ.get("CHENGGUAN_QUEUE_PATH", str(VAR_DIR / "queue.sqlite3"))
    if not HUEY["immediate"]:
        Path(HUEY["filename"]).parent.mkdir(parents=True, exist_ok=True)
else:
    raise RuntimeError("CHENGGUAN_QUEUE must be 'sqlite' or 'redis'")

# Notifiers (dotted paths of classes with send(recipient, subject, body, case, kind)); the
# in-app inbox by default. chengguan.notify.backends.GatewayNotifier posts to an SMS/WeChat
# gateway once CHENGGUAN_NOTIFY_GATEWAY_URL is set.
CHENGGUAN_NOTIFIERS = env_list("CHENGGUAN_NOTIFIERS", "chengguan.notify.backends.InboxNotifier")
CHENGGUAN_NOTIFY_GATEWAY_URL = os.environ.get("CHENGGUAN_NOTIFY_GATEWAY_URL", "")
CHENGGUAN_NOTIFY_GATEWAY_TOKEN = os.environ.get("CHENGGUAN_NOTIFY_GATEWAY_TOKEN", "")
CHENGGUAN_NOTIFY_GATEWAY_TIMEOUT = float(os.environ.get("CHENGGUAN_NOTIFY_GATEWAY_TIMEOUT", "5"))

# Likely duplicates offered at registration: open cases of the same category this close, in
# metres, reported within this many hours of each other.
CHENGGUAN_DUPLICATE_RADIUS_M = float(os.environ.get("CHENGGUAN_DUPLICATE_RADIUS_M", "100"))
CHENGGUAN_DUPLICATE_WINDOW_HOURS = float(os.environ.get("CHENGGUAN_DUPLICATE_WINDOW_HOURS", "72"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"timed": {"format": "[{asctime}] {levelname} {name}: {message}", "style": "{"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "worker": {"class": "logging.StreamHandler", "formatter": "timed"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("CHENGGUAN_LOG_LEVEL", "WARNING")},
    # The worker's own lines (task started/finished), once each: run_huey adds no handler of
    # its own when this one exists.
    "loggers": {"huey": {"handlers": ["worker"], "level": "INFO", "propagate": False}},
}

# --- Security (chengguan.security, docs/security.md) -------------------------------------------
from datetime import timedelta  # noqa: E402

from chengguan.security.conf import content_security_policy  # noqa: E402

# Sign-in lock-out (django-axes): this many failed logins for one account from one address lock
# it for the cool-off; `chengguan axes_reset_username NAME` (or the admin) unlocks it earlier.
AUTHENTICATION_BACKENDS = [
    "chengguan.security.auth.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("CHENGGUAN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("CHENGGUAN_LOGIN_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "chengguan.security.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_COOLOFF_MESSAGE = "登录失败次数过多，账号已暂时锁定，请稍后再试。"
AXES_PERMALOCK_MESSAGE = "登录失败次数过多，账号已锁定，请联系系统管理员解锁。"
# Behind N reverse proxies that append to X-Forwarded-For, the client is the N-th from the right
# (chengguan.security.clientip; the lock-out and every rate limit read it there).
CHENGGUAN_PROXY_COUNT = int(os.environ.get("CHENGGUAN_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "chengguan.security.clientip.client_ip"

# Sessions last one shift; cookies are HttpOnly, SameSite=Lax, and HTTPS-only in production.
SESSION_COOKIE_AGE = int(float(os.environ.get("CHENGGUAN_SESSION_HOURS", "12")) * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# HTTPS in production: behind a proxy that sets X-Forwarded-Proto (it must overwrite the
# client's), redirect plain HTTP except the health check, and tell browsers to stay on HTTPS.
if PRODUCTION and env_bool("CHENGGUAN_BEHIND_PROXY", True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("CHENGGUAN_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(
    os.environ.get("CHENGGUAN_HSTS_SECONDS", str(365 * 24 * 3600) if PRODUCTION else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CHENGGUAN_HSTS_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("CHENGGUAN_HSTS_PRELOAD", PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content security policy (django-csp): our own static files, the map tiles, no inline code
# but the two hashed pieces in chengguan/security/conf.py.
CONTENT_SECURITY_POLICY = content_security_policy(
    map_tiles=CHENGGUAN_MAP_TILES, report_uri=os.environ.get("CHENGGUAN_CSP_REPORT_URI", "")
)
# Browser features: location and camera for the inspector's report page, nothing else.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "geolocation": ["self"],
    "camera": ["self"],
    "microphone": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
}
