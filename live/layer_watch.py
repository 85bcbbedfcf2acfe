"""After any interruption of the channel layer, every socket of this process shows every step.

Group memberships live in Redis (the core layer) or on each process's pub/sub connection,
which redis-py subscribes again by itself once Redis is back, some time later. What was
published while a socket's subscription was away is gone. So one small task per worker
process watches the layer every few seconds:

- each Redis host's `run_id` (one INFO call): a new one means Redis restarted, even if it did
  so between two looks;
- a real round trip through each Redis host (the layer shards groups over them): a message
  published to a group this process listens on, one group per host, and received. It fails
  while any host is away, and keeps failing until the subscriptions on it are back;
  a round trip that only takes too long (Redis answering with the same run_id, no error)
  is a slow layer or a swamped process, not an interruption: Redis delivers every message
  or drops the connection, which is heard (below). Taking it for one would make every
  socket of a process that is already behind re-join at once (a connect storm fed by itself);
- a publish that failed in this process (live tells us), or a break of its
  pub/sub connection (channels-redis logs it), however short.

After any of these, recovery is declared only once a round trip succeeds again, that is once
what is published reaches this process's subscriptions: then every socket joins its groups
again and catches up from the database (it renders what it missed, if anything). A step
saved before that catch-up is in what it renders; one saved after it is published to live
subscriptions (live tries a failed publish again), so no timing loses a step.

With the in-memory channel layer (development, tests) there is nothing to watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

import live

logger = logging.getLogger("imago.live")

WATCH_EVERY = 3.0  # seconds between two looks at the layer, per worker process
PROBE_TIMEOUT = 5.0  # seconds a round trip may take before it counts as slow
INFO_TIMEOUT = 2.0  # seconds for INFO before its run_id counts as not known this time
UNKNOWN = ""  # a run_id not known this time: INFO answered too late (not an error)
CLOSE_SERVICE_RESTART = 1012  # the browser (htmx ws) reconnects after this code

_sockets: weakref.WeakSet = weakref.WeakSet()
_watcher: asyncio.Task | None = None
_trouble = False  # a publish failed since the last look


def _publish_failed() -> None:
    global _trouble
    _trouble = True


live.on_layer_trouble(_publish_failed)


class _ReceiveTrouble(logging.Filter):
    """channels-redis's pub/sub receiver says (only in its log) when its connection broke: it
    then subscribes again by itself, a second or more later, and what was published in
    between never arrives. Heard here, it is an interruption like any other."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            _publish_failed()
        return True  # the record is logged as before


logging.getLogger("channels_redis.pubsub").addFilter(_ReceiveTrouble())


def register(consumer) -> None:
    """Called by a consumer once it has joined its groups (it must have `rejoin()`)."""
    _sockets.add(consumer)
    _ensure_watching()


def unregister(consumer) -> None:
    _sockets.discard(consumer)
    if not _sockets and _watcher is not None and not _watcher.done():
        _watcher.cancel()  # the last socket of this process is gone


def _watched_layer():
    """The channel layer, if it is channels-redis's (the core or the pub/sub layer)."""
    layer = get_channel_layer()
    if layer is None or not type(layer).__module__.startswith("channels_redis"):
        return None
    return layer


def _hosts() -> list:
    """The layer's Redis hosts, as configured (settings.CHANNEL_LAYERS)."""
    from channels_redis.utils import decode_hosts

    layer: dict = settings.CHANNEL_LAYERS.get("default", {})
    return decode_hosts(layer.get("CONFIG", {}).get("hosts"))


_own_clients: dict[int, list] = {}  # event loop -> a Redis client per host


def _clients() -> list:
    """A Redis client of ours per host (the layer's connections are busy listening)."""
    key = id(asyncio.get_running_loop())
    if key not in _own_clients:
        from channels_redis.utils import create_pool
        from redis import asyncio as aioredis

        _own_clients[key] = [aioredis.Redis(connection_pool=create_pool(host)) for host in _hosts()]
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
    """Each Redis host's run_id: None while it can't be reached, UNKNOWN when it answered
    too late to tell (slow, not away)."""
    ids: list[str | None] = []
    for client in _clients():
        try:
            info = await asyncio.wait_for(client.info("server"), timeout=INFO_TIMEOUT)
            ids.append(info.get("run_id"))
        except TimeoutError:
            ids.append(UNKNOWN)
        except Exception:
            ids.append(None)
    return ids


_probe_channels: dict[tuple[int, int], str] = {}  # (layer, event loop) -> our channel


_PROCESS = uuid.uuid4().hex[:12]


def _probe_group() -> str:
    """This process's own (a pid alone may repeat on another host)."""
    return f"imago-probe.{os.getpid()}.{_PROCESS}"


def _probe_groups() -> list[str]:
    """Groups of this process's own, one on each Redis host: channels-redis puts a group on
    the host its name hashes to, so one group alone would test one host and say nothing of
    the others (a restarted host's subscriptions may not be back yet)."""
    hosts = max(live.channel_layer_hosts(), 1)
    groups: dict[int, str] = {}
    k = 0
    while len(groups) < hosts:
        group = f"{_probe_group()}.{k}"
        groups.setdefault(live.group_shard(group), group)
        k += 1
    return [groups[shard] for shard in range(hosts)]


async def probe(layer) -> bool | None:
    """One round trip through the layer (its public API) to each Redis host: a message to a
    group of this process's own on that host, received within PROBE_TIMEOUT. True when it
    came back; False when the layer failed to carry it (an error: a host away); None when it
    did not come back in time (slow, or subscriptions not back yet after an interruption)."""
    key = (id(layer), id(asyncio.get_running_loop()))
    groups, nonce = _probe_groups(), uuid.uuid4().hex
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            if key not in _probe_channels:
                _probe_channels[key] = await layer.new_channel()
            channel = _probe_channels[key]
            for group in groups:
                await layer.group_add(group, channel)
                await layer.group_send(group, {"type": "layer.probe", "nonce": nonce + group})
                while (await layer.receive(channel)).get("nonce") != nonce + group:
                    pass  # an earlier probe's message, arriving late
        return True
    except Exception as error:
        # A receive cut short forgets its channel (the pub/sub layer): the next probe makes
        # a new one.
        if key in _probe_channels:
            channel = _probe_channels.pop(key)
            for group in groups:
                with contextlib.suppress(Exception):
                    await layer.group_discard(group, channel)
        return None if isinstance(error, TimeoutError) else False


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
    global _trouble
    _trouble = False  # (reported while this process had no socket: nobody to catch up)
    known = await run_ids(layer)
    interrupted = False
    while _sockets:  # ends with the last socket; the next one starts it again
        await asyncio.sleep(WATCH_EVERY)
        current = await run_ids(layer)
        if _trouble or any(
            now is None or (now and before and now != before)
            for now, before in zip(current, known, strict=True)
        ):
            interrupted = True
        _trouble = False
        known = [now or before for now, before in zip(current, known, strict=True)]
        round_trip = await probe(layer)
        if round_trip is False:
            interrupted = True
        elif round_trip and interrupted and None not in current:
            interrupted = False
            logger.warning(
                "channel layer back: sockets re-join their groups and catch up",
                extra={"sockets": len(_sockets)},
            )
            await rejoin_all()
