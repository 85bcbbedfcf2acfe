"""Re-join channel groups when the channel layer's Redis has forgotten them.

Group memberships live in Redis. When Redis restarts (it keeps nothing on disk), every group
is empty, yet the websockets that survived the restart stay open: those browsers would hear
nothing more and never know it. So one small task per worker process watches each Redis
host's `run_id` (one INFO call every few seconds); when it changes, every socket of this
process joins its groups again and catches up from the database (it renders what it missed,
if anything: the steps saved while Redis was away were never pushed).

channels-redis's pub/sub layer (CHANNEL_LAYER=pubsub) keeps no groups in Redis: its
subscriptions live on each process's connection, which redis-py subscribes again by itself
once Redis is back. What was published meanwhile is gone, though, so a restart is watched the
same way there, with a client of our own per host, and every socket catches up (twice: at
once, and once more a watch later, for a step published before the subscriptions were back).

With the in-memory channel layer (development, tests) there is nothing to watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref

from channels.layers import get_channel_layer

logger = logging.getLogger("imago.dialogues")

WATCH_EVERY = 3.0  # seconds between two looks at Redis, per worker process
CLOSE_SERVICE_RESTART = 1012  # the browser (htmx ws) reconnects after this code

_sockets: weakref.WeakSet = weakref.WeakSet()
_watcher: asyncio.Task | None = None


def register(consumer) -> None:
    """Called by a consumer once it has joined its groups (it must have `rejoin()`)."""
    _sockets.add(consumer)
    _ensure_watching()


def unregister(consumer) -> None:
    _sockets.discard(consumer)
    if not _sockets and _watcher is not None and not _watcher.done():
        _watcher.cancel()  # the last socket of this process is gone


def _is_pubsub(layer) -> bool:
    return type(layer).__name__ == "RedisPubSubChannelLayer"


def _watched_layer():
    layer = get_channel_layer()
    if layer is None:
        return None
    return layer if hasattr(layer, "ring_size") or _is_pubsub(layer) else None


_own_clients: dict[tuple[int, int], list] = {}  # (layer, event loop) -> a client per host


def _clients(layer) -> list:
    """A Redis client per host: the core layer's own connections; for the pub/sub layer,
    clients of ours (its connection is busy listening)."""
    if not _is_pubsub(layer):
        return [layer.connection(index) for index in range(layer.ring_size)]
    key = (id(layer), id(asyncio.get_running_loop()))
    if key not in _own_clients:
        from channels_redis.utils import create_pool
        from redis import asyncio as aioredis

        _own_clients[key] = [
            aioredis.Redis(connection_pool=create_pool(shard.host)) for shard in layer._shards
        ]
    return _own_clients[key]


def _ensure_watching() -> None:
    global _watcher
    layer = _watched_layer()
    if layer is None:
        return
    loop = asyncio.get_running_loop()
    if _watcher is None or _watcher.done() or _watcher.get_loop() is not loop:
        _watcher = loop.create_task(_watch(layer), name="imago-layer-watch")


async def run_ids(layer) -> list[str | None]:
    """Each Redis host's run_id (None while it can't be reached)."""
    ids: list[str | None] = []
    for client in _clients(layer):
        try:
            info = await asyncio.wait_for(client.info("server"), timeout=2)
            ids.append(info.get("run_id"))
        except Exception:
            ids.append(None)
    return ids


async def rejoin_all() -> int:
    """Every socket of this process joins its groups again and catches up. Returns how many.

    A socket that can't (Redis still settling) gets one more try; then it is closed with
    1012 ("service restart"), so the browser reconnects and takes a fresh snapshot."""
    sockets = list(_sockets)
    failed = await _rejoin(sockets)
    if failed:
        await asyncio.sleep(1.0)
        failed = await _rejoin(failed)
    for socket in failed:
        with contextlib.suppress(Exception):
            await socket.close(code=CLOSE_SERVICE_RESTART)
    if failed:
        logger.warning("sockets closed after failing to re-join", extra={"count": len(failed)})
    return len(sockets)


async def _rejoin(sockets: list) -> list:
    results = await asyncio.gather(*(s.rejoin() for s in sockets), return_exceptions=True)
    return [s for s, r in zip(sockets, results, strict=True) if isinstance(r, Exception)]


async def _watch(layer) -> None:
    known = await run_ids(layer)
    while _sockets:  # ends with the last socket; the next one starts it again
        await asyncio.sleep(WATCH_EVERY)
        current = await run_ids(layer)
        if any(
            now is not None and now != before for now, before in zip(current, known, strict=True)
        ):
            logger.warning(
                "channel layer restarted: sockets re-join their groups",
                extra={"sockets": len(_sockets)},
            )
            await rejoin_all()
            if _is_pubsub(layer):
                await asyncio.sleep(WATCH_EVERY)
                await rejoin_all()  # a step published before the subscriptions were back
        known = [
            now if now is not None else before for now, before in zip(current, known, strict=True)
        ]
