"""How long a login lasts: 12 hours for everyone; idle limits of 30 minutes for therapists and
staff and `PARTNER_IDLE_MINUTES` (4 hours) for partners.

Plain functions over the session's data, shared by the HTTP middleware and the websocket
consumers, so a page and a socket of the same login always agree on whether it is over.

A partner's open live page counts as activity: its socket marks the login as live in the
cache every tick (`live_mark`), and the idle limit reads the later of the last page request
and that mark. A dialogue can wait a long time for the other partner's move; the page open
in front of the person must not log them out meanwhile. Therapists' and staff's sockets do
not count: their short limit is about a screen left unattended with other people's data.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.translation import ngettext

from live import CACHE_UNREACHABLE, auth_session_group, socket_cache, strict_socket_cache

T = TypeVar("T")

LOGIN_AT = "imago_login_at"  # set when the person logs in (time.time())
SEEN_AT = "imago_seen_at"  # last HTTP request of the login (written at most every SEEN_EVERY)

EXPIRED_ABSOLUTE = "absolute"
EXPIRED_IDLE = "idle"

# Seconds between two writes of SEEN_AT to the session: a small share of each idle limit.
SEEN_EVERY_STRICT = 30
SEEN_EVERY_PARTNER = 300


def now() -> float:
    """The clock (tests replace it)."""
    return time.time()


def _staff(user) -> bool:
    return bool(getattr(user, "is_staff", False))


_strict: list[Callable[[Any], bool]] = [_staff]


def strict_rule_register(rule: Callable[[Any], bool]) -> None:
    """Whose login gets the short idle limit: the app that knows its people says (couples: those
    who see more than their own data); until then, staff."""
    _strict[:] = [rule]


def is_strict(user) -> bool:
    return _strict[0](user)


def idle_limit(*, strict: bool) -> int:
    """Seconds without activity after which a login ends (0: no idle limit)."""
    return settings.SESSION_IDLE_SECONDS_STRICT if strict else settings.SESSION_IDLE_SECONDS_PARTNER


def seen_every(*, strict: bool) -> int:
    return SEEN_EVERY_STRICT if strict else SEEN_EVERY_PARTNER


def _off_the_loop(call: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """A cache call from a socket, in a pool thread: not Django's `aget`/`aset`, which hop to
    the worker's one database thread and queue every socket's tick behind the moves."""
    return sync_to_async(call, thread_sensitive=False)


def _live_key(session_key: str | None) -> str | None:
    group = auth_session_group(session_key)
    return f"live-seen.{group}" if group else None


async def live_mark(session_key: str | None) -> None:
    """A partner's socket of this login is open now (kept as long as the idle limit)."""
    key = _live_key(session_key)
    limit = settings.SESSION_IDLE_SECONDS_PARTNER
    if key and limit:
        await _off_the_loop(socket_cache().set)(key, now(), limit + SEEN_EVERY_PARTNER)


def live_seen(session_key: str | None) -> float | None:
    """When a partner's live page of this login last said it was open (None: never). While
    the cache can't be asked, now: a partner isn't logged out as idle because Redis is away."""
    key = _live_key(session_key)
    if not key:
        return None
    try:
        return strict_socket_cache().get(key)
    except CACHE_UNREACHABLE:
        return now()


async def alive_seen(session_key: str | None) -> float | None:
    return await _off_the_loop(live_seen)(session_key)


def expiry_reason(
    data: Mapping, *, strict: bool, at: float | None = None, live_at: float | None = None
) -> str | None:
    """Why this login is over (None while it is still good). `live_at`: when a partner's
    live page of this login was last open (see the module's docstring)."""
    at = now() if at is None else at
    login_at = data.get(LOGIN_AT)
    if login_at is not None and at - float(login_at) > settings.SESSION_ABSOLUTE_SECONDS:
        return EXPIRED_ABSOLUTE
    limit = idle_limit(strict=strict)
    seen_at = data.get(SEEN_AT, login_at)
    if not limit or seen_at is None:
        return None
    seen_at = float(seen_at)
    if not strict and live_at is not None:
        seen_at = max(seen_at, float(live_at))
    if at - seen_at > limit:
        return EXPIRED_IDLE
    return None


def deadline(data: Mapping, *, strict: bool, live_at: float | None = None) -> float | None:
    """When this login will be over if nothing happens meanwhile (None: unknown)."""
    login_at = data.get(LOGIN_AT)
    if login_at is None:
        return None
    ends = float(login_at) + settings.SESSION_ABSOLUTE_SECONDS
    limit = idle_limit(strict=strict)
    if limit:
        seen_at = float(data.get(SEEN_AT, login_at))
        if not strict and live_at is not None:
            seen_at = max(seen_at, float(live_at))
        ends = min(ends, seen_at + limit)
    return ends


def idle_words(*, strict: bool) -> str:
    """The idle limit in words ("30 minutes", "4 hours") for the message after it."""
    minutes = idle_limit(strict=strict) // 60
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
