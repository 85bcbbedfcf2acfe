"""Test settings: the one real settings file, with test-friendly environment defaults.

Anything set in the environment (DATABASE_URL, REDIS_URL, ...) still wins.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("COMPRESS_STATIC", "0")
# A fixed test key (a Fernet key; never used outside tests).
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdHMtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=")

from imago_site.settings import *  # noqa: F403

# Fast hashing keeps the suite quick; Argon2 is checked by its own test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
WHITENOISE_USE_FINDERS = True
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

# The live server for browser tests keeps one cache for the whole session and every
# person in it comes from 127.0.0.1: allauth's per-IP and per-email rate limits would
# trip across tests. (Unit tests clear the cache per test and keep the limits.)
if os.environ.get("IMAGO_LIVE_TEST_SERVER") == "1":
    ACCOUNT_RATE_LIMITS = False
    IMAGO_FAILED_LOGINS = None
else:
    # Unit tests: a closed socket starts no watch for its person leaving (it would outlive
    # the test), unless the test sets a delay (tests/therapists: a workshop's presence).
    IMAGO_GONE_AFTER = None
# Per-process cache in tests, even with REDIS_URL: clearing it must never flush a shared Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
