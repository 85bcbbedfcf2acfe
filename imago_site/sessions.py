"""The login store: Django's cached_db (read from the shared cache, written through to the
database) on the process's one cache object.

Django's own `caches["default"]` is one object per thread and per async context, each with its
own Redis connection pool: under ASGI every request and every socket connect would open a
Redis connection of its own (measured in a connect storm: a fifth of the database thread's
time went to opening them). `live.socket_cache()` is shared, its pool thread-safe."""

from __future__ import annotations

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

from imago_site.live import socket_cache


class SessionStore(CachedDBStore):
    def __init__(self, session_key: str | None = None) -> None:
        # Not cached_db's own __init__: merely looking up caches["default"] makes the object.
        self._cache = socket_cache()
        super(CachedDBStore, self).__init__(session_key)
