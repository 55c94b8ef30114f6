"""Dunwell's settings: one file, read from environment variables with safe development defaults.

Every variable is parsed strictly; a bad value stops start-up with ImproperlyConfigured naming it.
`*_FILE` variants of secrets read the value from a file (Docker/systemd credentials).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dunwell.core.email_url import email_settings

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected true or false")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number") from None


def env_secret(name: str, default: str) -> str:
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r}: {exc.strerror}") from None
    return os.environ.get(name, default)


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", "dunwell-development-key-not-for-production")
ALLOWED_HOSTS = [
    h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "dunwell.core.apps.AdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "dunwell.core",
    "dunwell.terms",
    "dunwell.ledger",
    "dunwell.credit",
    "dunwell.cases",
    "dunwell.cash",
    "dunwell.imports",
    "dunwell.dunning",
    "dunwell.workflows",  # no tables: its CLI topics join `dunwell case`
    "dunwell.reports",
    "dunwell.webhooks",
    "dunwell.api",
    "ninja",
    "dunwell.web",
    "dunwell.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dunwell.middleware.StaticFilesMiddleware",  # WhiteNoise
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "dunwell.web.security.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a lock-out into its response
]

ROOT_URLCONF = "dunwell.urls"
WSGI_APPLICATION = "dunwell.wsgi.application"

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
                "dunwell.web.context.navigation",
            ],
        },
    }
]

# -- database ---------------------------------------------------------------------------------
# SQLite in WAL mode in the working directory by default; DATABASE_URL=postgres://... for a server.
DATABASE_URL = env_str("DATABASE_URL", "sqlite:///dunwell.sqlite3")
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL={DATABASE_URL!r}: {exc}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; "
            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-200000; PRAGMA temp_store=MEMORY; "
            "PRAGMA mmap_size=1073741824"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    _database["TEST"] = {"NAME": env_str("TEST_SQLITE_NAME", "") or None}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- auth ---------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Argon2id first; hashes of the other kinds are upgraded at the user's next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses while locked out, counts failures
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock that pair out for 15 minutes
# (django-axes); a right password resets the count. The security log keeps every attempt.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "dunwell.web.security.client_ip"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in our own log (core.AuditEvent)
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "Dunwell"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https"))
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 10) * 3600  # a working day, then sign in again
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; no script reads the cookie
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if SESSION_COOKIE_SECURE:
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000)

# -- i18n ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True

# -- static files -------------------------------------------------------------------------------
# `dunwell collectstatic` fills STATIC_ROOT for production; until then WhiteNoise serves the apps'
# files through the finders (dunwell/middleware.py), so the directory need not exist.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(Path.cwd() / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# -- background work: the Django Tasks API on the database (`dunwell worker`) ------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DUNNING_RUN_HOUR = env_int("DUNNING_RUN_HOUR", 6)  # the daily run starts at this hour, company time
# How long the portal link in a message opens the customer's page (cases.services.portal).
PORTAL_LINK_DAYS = env_int("PORTAL_LINK_DAYS", 45)
# Card payments in the portal (cash.providers): both set, or no card payment is offered.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")  # tests: a stand-in of Stripe's API
# Bank lines scored, stored and applied together (cash.services.matching).
CASH_MATCH_BATCH = env_int("CASH_MATCH_BATCH", 1_000)
if CASH_MATCH_BATCH < 1:
    raise ImproperlyConfigured(f"CASH_MATCH_BATCH={CASH_MATCH_BATCH}: expected 1 or more")
# A run over at least this many open items splits its customers over two processes.
DUNNING_PARALLEL_FROM = env_int("DUNNING_PARALLEL_FROM", 200_000)
if DUNNING_PARALLEL_FROM < 1:
    raise ImproperlyConfigured(
        f"DUNNING_PARALLEL_FROM={DUNNING_PARALLEL_FROM}: expected a number of open items, 1 or more"
    )
# No email goes out from START to END o'clock where the customer is ("20-7"; "0-0": never quiet).
try:
    DUNNING_QUIET_HOURS = tuple(int(h) for h in env_str("DUNNING_QUIET_HOURS", "20-7").split("-"))
    if len(DUNNING_QUIET_HOURS) != 2 or not all(0 <= h <= 23 for h in DUNNING_QUIET_HOURS):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(
        f"DUNNING_QUIET_HOURS={env_str('DUNNING_QUIET_HOURS', '')!r}: expected START-END hours "
        "such as 20-7"
    ) from None

# -- email ----------------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL", "console://")
try:
    globals().update(email_settings(EMAIL_URL))
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "receivables@dunwell.invalid")

# -- content security policy: no inline scripts or styles, everything from our own origin ---------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Tests set this so that the append-only history can be flushed between tests (never in production).
DUNWELL_TESTING = env_bool("DUNWELL_TESTING", False)
