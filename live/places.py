"""How many live sockets one person, and one login, hold across every worker: their places.

A place is one socket's: taken when it connects (refused when the person or the login already
holds as many as allowed), renewed by its tick, given back when it closes. Counting is one
atomic step, in Redis when there is Redis: a Lua script prunes, counts and takes every place
of a socket at once, so 20 sockets connecting together on one login leave exactly 8, and 20
closing together leave none. (Redis, not a PostgreSQL row lock: the places are counted on
every connect, close and tick of every socket, work the database shouldn't do, and a socket
can't work without Redis anyway, its channel layer being there.)

Each place carries its worker process's id; each worker keeps a heartbeat key alive (every
HEARTBEAT_EVERY s, lapsing after HEARTBEAT_TTL s). A worker that dies (killed, crashed, its
host gone) stops beating: its places stop counting within seconds, so the pages it served
reconnect at once elsewhere instead of waiting minutes for their leases. Each place also has
its own expiry (LEASE s, renewed every tick), for a socket that went without closing.

Without Redis (development: one process) a lock in the process makes the count atomic, over
the cache. With Redis unreachable, a socket is let in (its channel layer will say whether it
can work) and nothing is counted: PostgreSQL is the truth, and places are only a guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import threading
import time
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings

from live import CACHE_UNREACHABLE, socket_cache

logger = logging.getLogger("imago.live")

LEASE = 180.0  # seconds a place lasts unless renewed (a socket renews it every minute)
HEARTBEAT_EVERY = 2.0  # seconds between a worker's heartbeats while it holds places
HEARTBEAT_TTL = 6  # seconds after its last heartbeat that a worker's places stop counting

WORKER = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


def person_key(pk: int) -> str:
    return f"sockets.user.{pk}"


def login_key(login_group: str) -> str:
    return f"sockets.{login_group}"


def _worker() -> str:
    """This process's id (a forked child is another worker)."""
    global WORKER
    if f".{os.getpid()}." not in WORKER:
        WORKER = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    return WORKER


def _member(channel: str) -> str:
    return f"{_worker()}|{channel}"


# --- Redis --------------------------------------------------------------------------------

# KEYS: the counts; ARGV: now, the place's expiry, its member, renew (1/0), the heartbeat
# prefix, the counts' TTL, then each count's limit. Prunes what lapsed (its own expiry, or
# its worker's heartbeat), then takes the place in every count, or in none.
_PRUNE = """
local function prune(key, now, beat)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local worker = string.match(m, '^([^|]*)|')
    if worker and redis.call('EXISTS', beat .. worker) == 0 then
      redis.call('ZREM', key, m)
    end
  end
end
"""
_CLAIM = (
    _PRUNE
    + """
local now, expires, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local renew, beat, ttl = ARGV[4] == '1', ARGV[5], tonumber(ARGV[6])
local mine = string.match(member, '^([^|]*)|') .. '|'
for i, key in ipairs(KEYS) do
  prune(key, now, beat)
  if not renew and not redis.call('ZSCORE', key, member)
     and redis.call('ZCARD', key) >= tonumber(ARGV[6 + i]) then
    for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      if string.sub(m, 1, #mine) ~= mine then
        return 2  -- full, with places of other workers (one may have just died)
      end
    end
    return 0
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, expires, member)
  redis.call('EXPIRE', key, ttl)
end
return 1
"""
)
_COUNT = (
    _PRUNE
    + """
prune(KEYS[1], tonumber(ARGV[1]), ARGV[2])
return redis.call('ZCARD', KEYS[1])
"""
)


def _redis_url() -> str:
    return (settings.REDIS_URL or "").split(",")[0].strip()


@functools.cache
def _client(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return client, client.register_script(_CLAIM), client.register_script(_COUNT)


def _prefix() -> str:
    return f"{settings.IMAGO_REDIS_PREFIX}.places."


def _beat_prefix() -> str:
    return _prefix() + "worker."


# --- without Redis: one process, a lock ----------------------------------------------------

_lock = threading.Lock()


def _local_claim(counts: list[tuple[str, int]], channel: str, renew: bool) -> bool:
    with _lock:
        now = time.time()
        stored = socket_cache().get_many([key for key, _limit in counts])
        updated = {}
        for key, limit in counts:
            held = {c: t for c, t in (stored.get(key) or {}).items() if t > now}
            if not renew and channel not in held and len(held) >= limit:
                return False
            held[channel] = now + LEASE
            updated[key] = held
        socket_cache().set_many(updated, int(LEASE))
        return True


def _local_release(keys: list[str], channel: str) -> None:
    with _lock:
        stored = socket_cache().get_many(keys)
        updated = {}
        for key in keys:
            held = stored.get(key) or {}
            if held.pop(channel, None) is not None:
                updated[key] = held
        if updated:
            socket_cache().set_many(updated, int(LEASE))


def _local_count(key: str) -> int:
    now = time.time()
    return sum(t > now for t in (socket_cache().get(key) or {}).values())


# --- the doors -----------------------------------------------------------------------------

_held_here = 0  # places this process holds (its heartbeat runs while there are any)


TAKEN, FULL, FULL_ELSEWHERE = 1, 0, 2


def claim(counts: list[tuple[str, int]], *, channel: str, renew: bool = False) -> bool:
    """Take (or renew) `channel`'s place in every count (key, limit), or in none: False when
    one of them is full. Runs in a pool thread (see `aclaim`)."""
    return _claim(counts, channel, renew) == TAKEN


def _claim(counts: list[tuple[str, int]], channel: str, renew: bool) -> int:
    """TAKEN; FULL; or FULL_ELSEWHERE: full, and some places are other workers'."""
    url = _redis_url()
    if not url:
        return TAKEN if _local_claim(counts, channel, renew) else FULL
    client, script, _count = _client(url)
    now = time.time()
    try:
        client.set(_beat_prefix() + _worker(), 1, ex=HEARTBEAT_TTL)
        taken = script(
            keys=[_prefix() + key for key, _limit in counts],
            args=[
                now,
                now + LEASE,
                _member(channel),
                int(renew),
                _beat_prefix(),
                int(LEASE),
                *[limit for _key, limit in counts],
            ],
        )
    except CACHE_UNREACHABLE:
        logger.warning("socket places not counted: Redis unreachable")
        return TAKEN
    return int(taken)


def release(keys: list[str], *, channel: str) -> None:
    """Give `channel`'s places back (once: a place that isn't there is left alone)."""
    url = _redis_url()
    if not url:
        _local_release(keys, channel)
        return
    client, _script, _count = _client(url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrem(_prefix() + key, _member(channel))
            pipe.execute()
    except CACHE_UNREACHABLE:
        pass  # its own expiry ends it


def held(key: str) -> int:
    """How many places count in `key` now (lapsed ones, and dead workers', pruned)."""
    url = _redis_url()
    if not url:
        return _local_count(key)
    _redis, _script, count = _client(url)
    try:
        return int(count(keys=[_prefix() + key], args=[time.time(), _beat_prefix()]))
    except CACHE_UNREACHABLE:
        return 0


# A socket also holds a place, without a limit, in what it listens as (`LiveConsumer.listening`):
# a change is rendered only for the audiences some socket listens as (and its author's).
NO_LIMIT = 1 << 30


def listening_key(group: str, audience: str) -> str:
    """The place a socket holds while it listens to `group` as `audience`."""
    return f"listening.{group}.{audience}"


def listening(group: str, audiences: list[str]) -> set[str]:
    """Which of these audiences of `group` some socket listens as now, on any worker (one
    round trip to Redis). When Redis can't be asked, all of them: a render too many costs
    time; one too few would only cost the socket a read of the database."""
    keys = [listening_key(group, audience) for audience in audiences]
    url = _redis_url()
    if not url:
        return {a for a, key in zip(audiences, keys, strict=True) if _local_count(key)}
    client, _script, count = _client(url)
    now, beat = time.time(), _beat_prefix()
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                count(keys=[_prefix() + key], args=[now, beat], client=pipe)
            counts = pipe.execute()
    except CACHE_UNREACHABLE:
        return set(audiences)
    return {a for a, n in zip(audiences, counts, strict=True) if int(n)}


def beat() -> None:
    """This worker is alive (its places count)."""
    url = _redis_url()
    if url:
        client, _script, _count = _client(url)
        with contextlib.suppress(*CACHE_UNREACHABLE):
            client.set(_beat_prefix() + _worker(), 1, ex=HEARTBEAT_TTL)


# --- from a socket -------------------------------------------------------------------------

_heart: asyncio.Task | None = None


async def aclaim(counts: list[tuple[str, int]], *, channel: str, renew: bool = False) -> bool:
    """`claim` from the event loop: in a pool thread, not the worker's one database thread (a
    connect storm shouldn't queue its counting behind snapshots)."""
    global _held_here
    outcome = await sync_to_async(_claim, thread_sensitive=False)(counts, channel, renew)
    waited = 0.0
    while outcome == FULL_ELSEWHERE and waited < HEARTBEAT_TTL + 1:
        # A worker killed a moment ago still counts until its heartbeat lapses: its pages,
        # reconnecting now, wait that long rather than be refused (a real extra tab waits
        # too, then is refused).
        await asyncio.sleep(1.0)
        waited += 1.0
        outcome = await sync_to_async(_claim, thread_sensitive=False)(counts, channel, renew)
    taken = outcome == TAKEN
    if taken and not renew:
        _held_here += 1
        _ensure_beating()
    return taken


async def arelease(keys: list[str], *, channel: str) -> None:
    global _held_here
    _held_here = max(0, _held_here - 1)
    await sync_to_async(release, thread_sensitive=False)(keys, channel=channel)


def _ensure_beating() -> None:
    global _heart
    if not _redis_url():
        return
    loop = asyncio.get_running_loop()
    if _heart is None or _heart.done() or _heart.get_loop() is not loop:
        _heart = loop.create_task(_beating(), name="imago-socket-places-heartbeat")


async def _beating() -> None:
    while _held_here > 0:  # ends with the last place; the next one starts it again
        await asyncio.sleep(HEARTBEAT_EVERY)
        await sync_to_async(beat, thread_sensitive=False)()
