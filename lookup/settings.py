"""Django settings, read from the environment with embedded defaults for the demo."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from lookup.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("LOOKUP_DATA_DIR", str(BASE_DIR / "data"))).resolve()

# "dev" (the default: demo, tests, a laptop) or "production".
LOOKUP_ENV = env_str("LOOKUP_ENV", "dev").lower()
if LOOKUP_ENV not in {"dev", "production"}:
    raise ImproperlyConfigured(f"LOOKUP_ENV must be dev or production, not {LOOKUP_ENV!r}.")
PRODUCTION = LOOKUP_ENV == "production"
DEBUG = env_bool("DEBUG", False)


def _data_file_secret(name: str, make: callable) -> str:
    """Return a secret kept in the data directory, creating it on first use (dev only)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY", required=True)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", required=True)
    FERNET_KEYS = env_list("LOOKUP_FERNET_KEYS", required=True)
else:
    SECRET_KEY = env_str("SECRET_KEY") or _data_file_secret(
        "secret-key", lambda: secrets.token_urlsafe(50)
    )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

    def _fernet_key() -> str:
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()

    FERNET_KEYS = env_list("LOOKUP_FERNET_KEYS") or [_data_file_secret("fernet.key", _fernet_key)]

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "lookup",
]

MIDDLEWARE = [
    # Outermost, so every answer is counted and timed, redirects and static files included.
    "lookup.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lookup.sessions.SessionEpochMiddleware",
    "lookup.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "lookup.urls"
WSGI_APPLICATION = "lookup.wsgi.application"

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
                "lookup.search.orgs.top_bar",
            ],
        },
    },
]


def _database(url: str) -> dict:
    """Return a DATABASES entry for a postgres:// or sqlite:/// URL."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "postgres",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # An unreachable server fails start-up and /readyz in seconds, not minutes.
            "OPTIONS": {"connect_timeout": 5},
        }
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(parts.path) or ":memory:",
            "CONN_MAX_AGE": 60,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgres:// or sqlite:///, not {parts.scheme or url!r}."
    )


DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": _database(DATABASE_URL)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # Each thread keeps its connection: opening one (Python functions registered,
            # pragmas run) cost about a tenth of a cached page.
            "CONN_MAX_AGE": 60,
        }
    }

REDIS_URL = env_str("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    # The local-memory cache is per process: each worker would keep its own sign-in
    # throttle, per-user limits and cached permissions.
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production: the sign-in throttle, per-user limits and "
        "permission changes need one cache shared by every worker (see README.md)."
    )
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "lookup"),
            # A Redis that stops answering fails a request in seconds instead of hanging it.
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "customer-lookup",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = ["lookup.viewer.ViewerBackend"]
# Seconds a viewer's permissions and time zone stay cached (changes drop them at once).
VIEWER_CACHE_SECONDS = env_int("VIEWER_CACHE_SECONDS", 60, minimum=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "search"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False  # IDs stay plain; amounts group through |amount

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Security headers; the production block adds what needs HTTPS.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Sessions read from the cache (Redis in production) and fall back to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Load balancers and Prometheus probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Capillary calls: defaults for every org; an org may override them.
CAPILLARY_CONNECT_TIMEOUT = env_float("CAPILLARY_CONNECT_TIMEOUT", 3.05)
CAPILLARY_READ_TIMEOUT = env_float("CAPILLARY_READ_TIMEOUT", 10.0)
CAPILLARY_DEADLINE = env_float("CAPILLARY_DEADLINE", 15.0)
# Most calls to Capillary per minute per org, across all workers (0 = no limit; an org may
# set its own). Capillary's demo clusters allow 100 a minute per API key.
CAPILLARY_CALLS_PER_MINUTE = env_int("CAPILLARY_CALLS_PER_MINUTE", 0, minimum=0)
# The sandbox the demo org points at (make run starts it there).
LOOKUP_SANDBOX_URL = env_str("LOOKUP_SANDBOX_URL", "http://127.0.0.1:8001")

# Bearer token that /metrics asks for; unset, /metrics answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "lookup.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # urllib3 writes each request's URL, query string included, at DEBUG; a lookup by
        # identifier carries the mobile or email there, so never below WARNING.
        "urllib3": {"level": "WARNING"},
    },
}

# Outside production, serve static files straight from static/ (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
DEFAULT_EXCEPTION_REPORTER_FILTER = "lookup.debug.CredentialSafeFilter"

# --- Roles, privacy, audit trail and hardening ---------------------------------------
# Appended as one block so the rest of this file stays the foundation's.
INSTALLED_APPS += ["csp"]
# The request ID and log context come first, so every later layer (and its logs) has them.
MIDDLEWARE.insert(0, "lookup.middleware.RequestContextMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware"), "csp.middleware.CSPMiddleware"
)

# Per-user lookup limit: distinct customers per window (0 turns it off).
LOOKUP_RATE_LIMIT = env_int("LOOKUP_RATE_LIMIT", 60, minimum=0)
LOOKUP_RATE_WINDOW = env_int("LOOKUP_RATE_WINDOW", 600, minimum=1)
# Sign-in throttling: failures per username and per client IP within the window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, minimum=1)
# How long audit records are kept (manage.py prune_audit deletes older ones).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 400, minimum=1)
AUDIT_PAGE_SIZE = 50
# Proxies in front of the dashboard whose X-Forwarded-For may be trusted (count of hops).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# No inline script or style anywhere: htmx is configured by a <meta> tag (see _base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# htmx sends the CSRF token from hx-headers, so no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
CSRF_FAILURE_VIEW = "lookup.middleware.csrf_failure"

LOGGING["filters"] = {"request_context": {"()": "lookup.middleware.RequestContextFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["request_context"]
LOGGING["formatters"]["text"]["format"] = (
    "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
)

# --- Caching and resilience (see "Caching and resilience" in README.md) ---------------------
# Freshness of cached Capillary answers, per kind of part: "base" (no embed), each embed name,
# and "images". CACHE_FRESH_OVERRIDES / CACHE_STALE_OVERRIDES take "points=30,images=120".


def _seconds_by_kind(name: str) -> dict[str, float]:
    """Return a "kind=seconds,..." variable as a dict; junk raises ImproperlyConfigured."""
    out: dict[str, float] = {}
    for item in env_list(name):
        kind, sep, value = item.partition("=")
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not sep or not kind.strip() or seconds < 0:
            raise ImproperlyConfigured(f"{name} must look like points=30,images=120, not {item!r}.")
        out[kind.strip()] = seconds
    return out


CACHE_FRESH_SECONDS = env_float("CACHE_FRESH_SECONDS", 60.0)
CACHE_STALE_SECONDS = env_float("CACHE_STALE_SECONDS", 900.0)
CACHE_FRESH_OVERRIDES = _seconds_by_kind("CACHE_FRESH_OVERRIDES")
CACHE_STALE_OVERRIDES = _seconds_by_kind("CACHE_STALE_OVERRIDES")
CACHE_IMAGE_MARGIN_SECONDS = env_float("CACHE_IMAGE_MARGIN_SECONDS", 30.0)
CACHE_REFRESH_WORKERS = env_int("CACHE_REFRESH_WORKERS", 4, minimum=1)
CAPILLARY_PART_WORKERS = env_int("CAPILLARY_PART_WORKERS", 64, minimum=1)
RETRY_MAX = env_int("RETRY_MAX", 2, minimum=0)
RETRY_BASE_SECONDS = env_float("RETRY_BASE_SECONDS", 0.1)
RETRY_MAX_DELAY_SECONDS = env_float("RETRY_MAX_DELAY_SECONDS", 2.0)
RETRY_BUDGET_RATIO = env_float("RETRY_BUDGET_RATIO", 0.1)
RETRY_BUDGET_MIN = env_int("RETRY_BUDGET_MIN", 0, minimum=0)
RETRY_BUDGET_WINDOW_SECONDS = env_int("RETRY_BUDGET_WINDOW_SECONDS", 60, minimum=1)
RATE_LIMIT_DEFAULT_SECONDS = env_float("RATE_LIMIT_DEFAULT_SECONDS", 10.0)
# The breaker opens on the failure rate of an org's last calls (see lookup/breaker.py).
BREAKER_WINDOW_CALLS = env_int("BREAKER_WINDOW_CALLS", 20, minimum=1)
BREAKER_WINDOW_SECONDS = env_float("BREAKER_WINDOW_SECONDS", 60.0, minimum=1.0)
BREAKER_MIN_CALLS = env_int("BREAKER_MIN_CALLS", 10, minimum=1)
BREAKER_FAILURE_RATE = env_float("BREAKER_FAILURE_RATE", 0.5, minimum=0.01)
BREAKER_MIN_CUSTOMERS = env_int("BREAKER_MIN_CUSTOMERS", 3, minimum=1)
BREAKER_COOLDOWN_SECONDS = env_float("BREAKER_COOLDOWN_SECONDS", 30.0)
if BREAKER_MIN_CALLS > BREAKER_WINDOW_CALLS:
    raise ImproperlyConfigured("BREAKER_MIN_CALLS must not exceed BREAKER_WINDOW_CALLS.")
if BREAKER_FAILURE_RATE > 1:
    raise ImproperlyConfigured("BREAKER_FAILURE_RATE is a fraction of calls, at most 1.")
REFRESH_LIMIT = env_int("REFRESH_LIMIT", 5, minimum=0)
REFRESH_WINDOW_SECONDS = env_int("REFRESH_WINDOW_SECONDS", 60, minimum=1)
# Only `python -m bench` sets this: it turns on the plain "hello" reference view and the
# one-call proxy view (lookup/views/bench.py).
LOOKUP_BENCH = env_bool("LOOKUP_BENCH", False)
# --- end of caching and resilience ------------------------------------------------------------
# Every page writes an audit row: on SQLite, WAL with synchronous=NORMAL makes that INSERT
# cheap (no fsync per commit) and lets readers run alongside the writer.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
