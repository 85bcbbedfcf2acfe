"""How long a login lasts: 12 hours for everyone, and 30 idle minutes for therapists and staff.

Plain functions over the session's data, shared by the HTTP middleware and the websocket
consumers, so a page and a socket of the same login always agree on whether it is over.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from django.conf import settings

LOGIN_AT = "imago_login_at"  # set when the person logs in (time.time())
SEEN_AT = "imago_seen_at"  # last HTTP request of a therapist or staff member

EXPIRED_ABSOLUTE = "absolute"
EXPIRED_IDLE = "idle"


def now() -> float:
    """The clock (tests replace it)."""
    return time.time()


def is_strict(user) -> bool:
    """Therapists and staff see more than their own data: they get the short idle limit."""
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_therapist", False))


def expiry_reason(data: Mapping, *, strict: bool, at: float | None = None) -> str | None:
    """Why this login is over (None while it is still good)."""
    at = now() if at is None else at
    login_at = data.get(LOGIN_AT)
    if login_at is not None and at - float(login_at) > settings.SESSION_ABSOLUTE_SECONDS:
        return EXPIRED_ABSOLUTE
    seen_at = data.get(SEEN_AT, login_at)
    idle_limit = settings.SESSION_IDLE_SECONDS_STRICT
    if strict and seen_at is not None and at - float(seen_at) > idle_limit:
        return EXPIRED_IDLE
    return None


def deadline(data: Mapping, *, strict: bool) -> float | None:
    """When this login will be over if nothing happens meanwhile (None: unknown)."""
    login_at = data.get(LOGIN_AT)
    if login_at is None:
        return None
    ends = float(login_at) + settings.SESSION_ABSOLUTE_SECONDS
    if strict:
        seen_at = float(data.get(SEEN_AT, login_at))
        ends = min(ends, seen_at + settings.SESSION_IDLE_SECONDS_STRICT)
    return ends
