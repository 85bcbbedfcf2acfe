"""Imago settings: one file, driven by environment variables.

With no configuration at all the app runs for development on SQLite and the
in-memory channel layer. Every variable is listed, with its default, in docs/settings.md.
"""

import base64
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else ["localhost"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Links in emails: by default the address `make run` serves on (its PORT), not always 8000.
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",  # the devices page (couples/devices.py)
    "security",
    "couples",
    "safety",
    "dialogues",
    "practice",
    "therapists",
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
    "allauth.account.middleware.AccountMiddleware",
    "imago_site.middleware.LanguageMiddleware",  # the person's language, else the browser's
    "django_htmx.middleware.HtmxMiddleware",
    "imago_site.middleware.ReportingEndpointsMiddleware",  # after CSPMiddleware's header
    "csp.middleware.CSPMiddleware",
    "imago_site.middleware.PrivateNoStoreMiddleware",  # anything for a signed-in person
    # Before anything reads the request's ids or fields (its 400 still gets the headers above).
    "imago_site.middleware.RejectNulBytesMiddleware",
    "imago_site.middleware.SessionLimitsMiddleware",
    "imago_site.middleware.MfaRequiredMiddleware",
    "imago_site.middleware.TimeZoneMiddleware",
]

# Content-Security-Policy, written by django-csp on every response (the admin and error pages
# too): no inline scripts or styles, no eval (htmx is told not to need them: base.html);
# connect-src 'self' covers the same-origin ws:/wss: socket (CSP level 3). Violations are
# reported to us (security/csp.py): report-to where the Reporting API is (its endpoint named by
# imago_site.middleware.ReportingEndpointsMiddleware), report-uri elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # data: for the two-factor QR code allauth renders
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],  # the service worker (/sw.js), nothing else
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": "/csp-report/",  # security:csp_report
        "report-to": "csp",
    }
}

ROOT_URLCONF = "imago_site.urls"
WSGI_APPLICATION = "imago_site.wsgi.application"
ASGI_APPLICATION = "imago_site.asgi.application"

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
                "django.template.context_processors.i18n",
                "couples.push.context",  # the push key, for a signed-in person's browser
            ],
        },
    },
]

# Database: SQLite by default; DATABASE_URL=postgres://… for PostgreSQL through
# psycopg 3 with Django's connection pool (never CONN_MAX_AGE under ASGI).
DATABASE_URL = env_str("DATABASE_URL")
DATABASES: dict[str, Mapping[str, Any]]  # dj-database-url's dict, or ours for SQLite
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DB_POOL_MIN_SIZE", 2),
                "max_size": env_int("DB_POOL_MAX_SIZE", 20),
                "timeout": 10,
            },
            # Off until measured on a quiet machine (docs/performance.md): parameters bound by
            # the server and statements prepared on each pooled connection.
            "server_side_binding": env_bool("DB_SERVER_SIDE_BINDING", False),
        }
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # A file, not memory, so a live test server in another process sees it.
            "TEST": {"NAME": BASE_DIR / ".test-db.sqlite3"},
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

# Channel layer: in-memory by default; REDIS_URL=redis://… for channels-redis.
REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT", 30)
# Live sockets one person may hold at once (tabs, devices), and one login (one browser).
IMAGO_MAX_SOCKETS_PER_PERSON = env_int("MAX_SOCKETS_PER_PERSON", 12)
# Seconds after a person's socket closes before, holding none, they count as gone (a page
# changing reconnects well within it): a workshop's board then shows them absent. None: not
# watched.
IMAGO_GONE_AFTER: float | None = 10.0
IMAGO_MAX_SOCKETS_PER_LOGIN = env_int("MAX_SOCKETS_PER_LOGIN", 8)
# Where those sockets are counted, in Redis (live/places.py): keys start with this.
IMAGO_REDIS_PREFIX = env_str("CHANNELS_PREFIX", "imago")
# Turns rendered as HTML, kept in each worker's memory (dialogues/turn_html.py); 0: none.
IMAGO_TURN_HTML_CACHE = env_int("TURN_HTML_CACHE", 20_000)
# The hot path's measured shortcuts (live/fast.py): 1 all, 0 none (Django's plain path; CI runs
# the hot-path and socket tests both ways), "prepared,i18n" only those, "-render" all but it.
IMAGO_FAST_PATH = env_str("FAST_PATH", "1")
# Calls beside a dialogue (dialogues/calls.py): the STUN and TURN servers browsers are given.
# TURN is coturn with its REST-API credentials (use-auth-secret): an HMAC of a username that
# carries its expiry, valid this many hours (at most 24). "relay" sends every call through TURN.
IMAGO_STUN_URLS = env_list("STUN_URLS", [])
IMAGO_TURN_URLS = env_list("TURN_URLS", [])
IMAGO_TURN_SECRET = env_str("TURN_SECRET")
IMAGO_TURN_TTL_HOURS = env_int("TURN_TTL_HOURS", 6)
IMAGO_ICE_TRANSPORT_POLICY = env_str("ICE_TRANSPORT_POLICY", "all")
CHANNELS_ENCRYPTION_KEYS = env_list("CHANNELS_ENCRYPTION_KEYS", []) or ["channels:" + SECRET_KEY]

# Encryption at rest (security/encrypted.py): comma-separated Fernet keys, the first encrypts,
# all decrypt; `manage.py rotate_encryption_keys` re-encrypts every row with the first.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off.")
    # Development only: a key derived from SECRET_KEY.
    _derived = hashlib.sha256(b"imago field encryption:" + SECRET_KEY.encode()).digest()
    FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_derived).decode()]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes): make "
            'one with python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        ) from None
# CHANNEL_LAYER=pubsub (the default): channels-redis's pub/sub layer (one PUBLISH per group
# send, no per-channel lists in Redis: a third of Redis's CPU per step; it passed the chaos
# run and the idle soak, docs/performance.md); "redis": its list-based core layer.
CHANNEL_LAYER = env_str("CHANNEL_LAYER", "pubsub")
if CHANNEL_LAYER not in ("redis", "pubsub"):
    raise ImproperlyConfigured("CHANNEL_LAYER must be 'redis' or 'pubsub'.")
if CHANNEL_LAYER == "redis" and len(env_list("REDIS_URL", [])) > 1:
    # Measured: 9 of 20 messages to one socket's channel lost with two hosts (the core layer
    # writes it to the host of the full name, reads it from the host of its prefix:
    # django/channels_redis#221); call signalling is sent that way. The pub/sub layer is not.
    raise ImproperlyConfigured(
        "CHANNEL_LAYER=redis can't be sharded over several REDIS_URL hosts (channels-redis "
        "loses messages sent to one socket); use the pub/sub layer, the default."
    )
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": (
                "channels_redis.pubsub.RedisPubSubChannelLayer"
                if CHANNEL_LAYER == "pubsub"
                else "channels_redis.core.RedisChannelLayer"
            ),
            "CONFIG": {
                # redis-py's pool allows 100 connections and then fails at once ("Too many
                # connections"): a burst of sockets joining or leaving groups (a worker
                # restarted, a run ending) needs more, per worker process.
                # channels-redis waits on Redis for 5 s at a time (BZPOPMIN); redis-py's own
                # read timeout is also 5 s, so an idle socket's wait often timed out first and
                # killed the consumer. Reads must outlast the wait, with room to spare.
                "hosts": [
                    {
                        "address": url,
                        "max_connections": env_int("REDIS_POOL_MAX_SIZE", 1000),
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                    }
                    for url in env_list("REDIS_URL", [])
                ],
                "prefix": env_str("CHANNELS_PREFIX", "imago"),
                # Steps travel as HTML rendered once per audience: never in the clear in Redis.
                # The first key encrypts, every key decrypts (rotation: put the new key first,
                # restart every worker, drop the old key once no message older than `expiry`
                # can be left).
                "symmetric_encryption_keys": CHANNELS_ENCRYPTION_KEYS,
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Cache (login throttling counts live here): shared through Redis when there is one, so
# every worker process sees the same counts; on disk otherwise (one machine: `make run`).
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, where an unreachable Redis is an empty cache, not a 500
            # (live/cache.py): PostgreSQL is the truth.
            "BACKEND": "live.cache.RedisCache",
            "LOCATION": env_list("REDIS_URL", [])[0],
            "KEY_PREFIX": env_str("CHANNELS_PREFIX", "imago") + ".cache",
            # A Redis that hangs (rather than refuses) holds a request for seconds, not forever.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
else:
    # The embedded default: on disk, so `make run`'s server and its background worker share it
    # (the worker asks whether a person has a live page open before a "your move" email).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env_str("CACHE_DIR", str(BASE_DIR / ".cache")),
        }
    }

AUTH_USER_MODEL = "couples.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts (django-allauth): email is the login; email must be verified.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# A code typed into the open tab, not a link: the person stays in the browser and session
# where they opened their partner's invitation, so it is still there once they're in.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SIGNUP_FORM_CLASS = "couples.forms.SignupDetailsForm"
ACCOUNT_FORMS = {"signup": "couples.signup.SignupForm"}  # two sign-ups of one address at once
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Imago] "
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_SESSION_REMEMBER = None
# Throttling: after 5 failed logins for one account from one network address (10 a minute
# from one network address, whatever the account), that address is refused for 5 minutes.
# The account's key includes the network address (couples/adapter.py): failures from an
# attacker's address never lock the real person out from theirs. Covers every log-in form,
# the admin's too (it goes through allauth).
ACCOUNT_ADAPTER = "couples.adapter.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip"}
# Failed log-ins allowed per account *and* network address in a window of seconds
# (couples/adapter.py says why not per account alone).
IMAGO_FAILED_LOGINS: tuple[int, int] | None = (5, 300)
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Imago"
# TOTP secrets and recovery-code seeds are stored encrypted with FIELD_ENCRYPTION_KEYS.
MFA_ADAPTER = "couples.mfa.EncryptingMFAAdapter"
# The set-up page keeps showing the secret it first showed until it is turned on.
MFA_FORMS = {"activate_totp": "couples.mfa.ActivateTOTPForm"}
# Signed-in devices (allauth's user sessions): ending one closes its live sockets.
USERSESSIONS_ADAPTER = "couples.adapter.UserSessionsAdapter"
USERSESSIONS_TRACK_ACTIVITY = False  # no write on every request; a device shows when it signed in
# An email to the person when their password, email or two-factor settings change (the
# templates are ours: templates/account/email/, templates/mfa/email/).
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Two-factor authentication is required of therapists and staff (imago_site/middleware.py).
SESSION_IDLE_SECONDS_STRICT = 30 * 60  # therapists and staff
# Partners: generous, well inside the 12 hours (0: no idle limit); an open live page counts as
# activity (live/session_limits.py).
SESSION_IDLE_SECONDS_PARTNER = max(0, env_int("PARTNER_IDLE_MINUTES", 4 * 60)) * 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60  # everyone

# Background jobs (reminders, calendar emails, "your move" emails): Django's task framework
# (the django-tasks backport) with its database backend; `manage.py db_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
IMAGO_JOB_RETRIES = env_int("JOB_RETRIES", 3)  # attempts after the first, then recorded
IMAGO_REMINDER_MINUTES = env_int("REMINDER_MINUTES", 15)  # before a scheduled dialogue
IMAGO_DIALOGUE_MINUTES = env_int("DIALOGUE_MINUTES", 45)  # length in calendar files
IMAGO_YOUR_MOVE_EMAILS = env_bool("YOUR_MOVE_EMAILS", True)
IMAGO_YOUR_MOVE_AFTER_MINUTES = env_int("YOUR_MOVE_AFTER_MINUTES", 10)
# Web Push (couples/push.py): the server's VAPID key pair (RFC 8292), base64url, made by
# `manage.py vapid_keys` (`make run` makes a development pair). Without them, no pushes.
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:hello@imago.example")  # push services' contact
# Push services are https; plain http only for a local one (development, tests).
IMAGO_PUSH_HTTP_ENDPOINTS = env_bool("PUSH_HTTP_ENDPOINTS", DEBUG)
# Tests only: a file holding an ISO time that live.clock.now() returns (a clock the
# browser tests control across processes). Never set in production.
IMAGO_CLOCK_FILE = env_str("IMAGO_CLOCK_FILE")

# Email: printed to the console unless an SMTP host is given.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent-emails"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Imago <no-reply@imago.local>")

# Security: safe by default; development relaxes only what plain http needs.
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Logins are read from the shared cache and written through to the database: one Redis read
# instead of a query on every request and socket connect. Only with Redis: every worker must
# see a logout at once, and every way a login ends goes through the session store
# (couples.services.user_sessions_end, allauth's devices page, logout), never the table alone.
SESSION_ENGINE = "security.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"

SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS  # 12 hours, enforced server-side from login time
SESSION_SAVE_EVERY_REQUEST = False  # don't slide the expiry forward on every request

# Languages: English (the source, British spelling and dates) and one more for each catalogue
# in locale/ — adding a language is `make messages LOCALES=xx`, then translating
# (docs/languages.md).
LANGUAGE_CODE = "en-gb"
# The second: allauth's own words as our pages say them (sentence case, "Log in"; and in
# Spanish, "tú"), overriding allauth's catalogues (locale_allauth/en/LC_MESSAGES/django.po).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_allauth"]


def _languages() -> list[tuple[str, str]]:
    from django.conf.locale import LANG_INFO

    found = [("en-gb", "English")]
    for catalogue in sorted(LOCALE_PATHS[0].glob("*/LC_MESSAGES/django.po")):
        code = catalogue.parent.parent.name.lower().replace("_", "-")
        info = LANG_INFO.get(code) or LANG_INFO.get(code.split("-")[0]) or {}
        found.append((code, str(info.get("name_local", code))))
    return found


LANGUAGES = _languages()
LANGUAGE_COOKIE_NAME = "imago_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or not env_bool("COMPRESS_STATIC", True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Retention (couples/retention.py, `manage.py purge`, run daily): an ended couple's content is
# erased this many days after it ended, both partners being warned by email this many days
# before; network addresses leave the audit trail after AUDIT_IP_DAYS.
RETENTION_ENDED_COUPLE_DAYS = env_int("RETENTION_ENDED_COUPLE_DAYS", 365)
# How many days an agreement (a gift chosen at the end of a request) runs at first; the
# partner who agreed can change it on the agreement (1 to 90).
AGREEMENT_DAYS = min(90, max(1, env_int("AGREEMENT_DAYS", 14)))
RETENTION_WARNING_DAYS = env_int("RETENTION_WARNING_DAYS", 30)
AUDIT_IP_DAYS = env_int("AUDIT_IP_DAYS", 90)

# Content-Security-Policy reports (security/csp.py): per network address a minute, and the
# most kinds counted (a full table counts only the kinds it has).
CSP_REPORTS_PER_MINUTE = env_int("CSP_REPORTS_PER_MINUTE", 30)
CSP_REPORT_MAX_ROWS = env_int("CSP_REPORT_MAX_ROWS", 1000)

# Invitations to pair up as a couple.
INVITATION_VALID_DAYS = 7

# Support lines: the country shown first (two letters, e.g. GB); empty shows the default lines.
SAFETY_DEFAULT_COUNTRY = env_str("SAFETY_DEFAULT_COUNTRY", "").upper()[:2]

# Logging: never dialogue text. Only structured, content-free messages.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A failure channels-redis logs every second while a Redis shard is away: once a minute.
    "filters": {"repeats": {"()": "imago_site.log_filters.Repeats", "every": 60}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "console_repeats_held": {"class": "logging.StreamHandler", "filters": ["repeats"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "imago": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "channels_redis": {
            "handlers": ["console_repeats_held"],
            "level": "WARNING",
            "propagate": False,
        },
    },
}
