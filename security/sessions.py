"""The login store: Django's cached_db (read from the shared cache, written through to the
database) on the process's one cache object, encrypted in the cache, and PostgreSQL's alone
while Redis is away.

Django's own `caches["default"]` is one object per thread and per async context, each with its
own Redis connection pool: under ASGI every request and every socket connect would open a
Redis connection of its own (measured in a connect storm: a fifth of the database thread's
time went to opening them). `live.socket_cache()` is shared, its pool thread-safe.

PostgreSQL is the truth. With Redis unreachable a login is read from and written to the
database only (one WARNING, live/cache.py), never a 500. A cached copy that couldn't be
replaced or deleted meanwhile (a logout, a new login's old key, a changed session) would be
stale once Redis answers again, so its key is remembered and dropped from the cache at this
process's next contact with it, before anything is read there.

The cached copy is the session's JSON (settings.SESSION_SERIALIZER), encrypted with
FIELD_ENCRYPTION_KEYS (security/encrypted.py): what a login holds (its email address, among
others) is never in Redis in the clear. A copy no key decrypts is a miss.
"""

from __future__ import annotations

import threading

from asgiref.sync import sync_to_async
from cryptography.fernet import InvalidToken
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore

from live import strict_socket_cache
from live.cache import UNREACHABLE, note_reachable, note_unreachable
from security.encrypted import crypter

_stale_lock = threading.Lock()
_stale: set[str] = set()  # cache keys whose copy couldn't be replaced or deleted


def _remember_stale(key: str, error: Exception) -> None:
    note_unreachable(error)
    with _stale_lock:
        _stale.add(key)


def _drop_stale(cache) -> None:
    """The copies left behind while Redis was away go before the cache is trusted again."""
    if not _stale:
        return
    with _stale_lock:
        keys = list(_stale)
    cache.delete_many(keys)  # raises while Redis is still away: they stay remembered
    with _stale_lock:
        _stale.difference_update(keys)


class SessionStore(CachedDBStore):
    def __init__(self, session_key: str | None = None) -> None:
        # Not cached_db's own __init__: merely looking up caches["default"] makes the object.
        self._cache = strict_socket_cache()
        super(CachedDBStore, self).__init__(session_key)

    # --- the cached copy -------------------------------------------------------------------

    def _cached(self, key: str) -> dict | None:
        """The cached copy (None: not there, unreadable, or Redis away)."""
        try:
            _drop_stale(self._cache)
            blob = self._cache.get(key)
        except UNREACHABLE as error:
            note_unreachable(error)
            return None
        note_reachable()
        if not isinstance(blob, str):
            return None  # none, or a copy from before it was encrypted: read the database
        try:
            return self.serializer().loads(crypter().decrypt(blob.encode()))
        except (InvalidToken, ValueError):
            return None

    def _cache_put(self, key: str, data: dict, timeout: int) -> None:
        blob = crypter().encrypt(self.serializer().dumps(data)).decode()
        try:
            self._cache.set(key, blob, timeout)
        except UNREACHABLE as error:
            _remember_stale(key, error)

    def _cache_drop(self, key: str) -> None:
        try:
            self._cache.delete(key)
        except UNREACHABLE as error:
            _remember_stale(key, error)

    # --- the store -------------------------------------------------------------------------

    def load(self) -> dict:
        data = self._cached(self.cache_key)
        if data is None:
            s = self._get_session_from_db()  # type: ignore[attr-defined]
            if s:
                data = self.decode(s.session_data)
                self._cache_put(self.cache_key, data, self.get_expiry_age(expiry=s.expire_date))
            else:
                data = {}
        return data

    def exists(self, session_key: str) -> bool:
        if session_key and self._cached(self.cache_key_prefix + session_key) is not None:
            return True
        return DBStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DBStore.save(self, must_create)
        self._cache_put(self.cache_key, self._session, self.get_expiry_age())  # type: ignore[attr-defined]

    def delete(self, session_key: str | None = None) -> None:
        DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache_drop(self.cache_key_prefix + session_key)

    # The async doors go through the same code (nothing here calls them; Django may).

    async def aload(self) -> dict:
        return await sync_to_async(self.load)()

    async def aexists(self, session_key: str) -> bool:
        return await sync_to_async(self.exists)(session_key)

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete)(session_key)
