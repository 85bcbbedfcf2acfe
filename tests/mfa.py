"""Two-factor authentication for test people: therapists and staff can't go anywhere without it."""

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)


def give_mfa(user) -> str:
    """Activate an authenticator app for this person; returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The authenticator app's code now. allauth accepts only the current 30-s period's code
    (no tolerance), so a code made in a period's last second might be checked in the next one
    (seen once in CI: a 200 where the form should have gone through); wait for the next
    period instead."""
    left = app_settings.TOTP_PERIOD - time.time() % app_settings.TOTP_PERIOD
    if left < 1.0:
        time.sleep(left + 0.05)
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))
