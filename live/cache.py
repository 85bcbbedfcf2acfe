"""The shared cache (Redis), where Redis being unreachable is a miss, not an error.

PostgreSQL is the truth; the cache only saves work. Its callers that can't help themselves
(allauth's rate limits, the CSP report counts, a partner's "page open" mark) get what an empty
cache gives while Redis is away: nothing found, nothing kept, no rate limit counted, instead
of a 500 on every request. One WARNING when the cache is first found unreachable, one when it
answers again. The login store needs to know when a write or a deletion didn't happen (see
security/sessions.py): it uses `strict()`, the same cache that raises.
"""

from __future__ import annotations

import copy
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from live import CACHE_UNREACHABLE

logger = logging.getLogger("imago.cache")

T = TypeVar("T")

UNREACHABLE = CACHE_UNREACHABLE  # (BusyLoadingError, while Redis starts, is a ConnectionError)

_state = threading.Lock()
_down = False


def note_unreachable(error: Exception) -> None:
    """Redis didn't answer: said once (a WARNING), until it answers again."""
    global _down
    with _state:
        if _down:
            return
        _down = True
    logger.warning(
        "shared cache unreachable: logins and pages are served from the database until it "
        "is back (%s)",
        type(error).__name__,
    )


def note_reachable() -> None:
    global _down
    if not _down:  # the usual case: no lock
        return
    with _state:
        if not _down:
            return
        _down = False
    logger.warning("shared cache reachable again")


class RedisCache(django_redis.RedisCache):
    """Django's Redis cache; an unreachable Redis reads as an empty cache (see the module)."""

    _tolerant = True

    def strict(self) -> RedisCache:
        """This cache, on the same connections, raising what Redis raises."""
        view = copy.copy(self)
        view.__dict__["_cache"] = self._cache  # the client and its pools, shared
        view._tolerant = False
        return view

    def _guard(self, call: Callable[[], T], fallback: Any) -> T:
        if not self._tolerant:
            return call()
        try:
            result = call()
        except UNREACHABLE as error:
            note_unreachable(error)
            return fallback
        note_reachable()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # True: allauth's rate limits take a lock with add(); with Redis away, no limit.
        call = functools.partial(super().add, key, value, timeout, version)
        return self._guard(call, True)

    def get(self, key, default=None, version=None):
        return self._guard(functools.partial(super().get, key, default, version), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._guard(functools.partial(super().set, key, value, timeout, version), None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(functools.partial(super().touch, key, timeout, version), False)

    def delete(self, key, version=None):
        return self._guard(functools.partial(super().delete, key, version), False)

    def get_many(self, keys, version=None):
        return self._guard(functools.partial(super().get_many, keys, version), {})

    def has_key(self, key, version=None):
        return self._guard(functools.partial(super().has_key, key, version), False)

    def incr(self, key, delta=1, version=None):
        return self._guard(functools.partial(super().incr, key, delta, version), delta)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        call = functools.partial(super().set_many, data, timeout, version)
        return self._guard(call, list(data))

    def delete_many(self, keys, version=None):
        self._guard(functools.partial(super().delete_many, keys, version), None)

    def clear(self):
        return self._guard(super().clear, False)
