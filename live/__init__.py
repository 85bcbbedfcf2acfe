"""The live kernel: the bottom floor, under every app, importing none.

This module is its public face: the channel group names, sending to a group now or once the
transaction commits (`send`, `send_on_commit`), and the one cache client sockets share. Around
it: `consumer` (`LiveConsumer`, the base of every socket), `places` (how many sockets a person
and a login hold), `session_limits` (how long a login lasts), `layer_watch` (every socket
catches up after a channel-layer interruption), `cache` (Redis that reads as empty while it is
away), `clock` (the one clock), and the measured shortcuts of the hot path (`prepared`,
`i18n`). Group messages carry ids, or each audience's rendered HTML, which channels-redis
encrypts in Redis (`CHANNELS_ENCRYPTION_KEYS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import redis.exceptions
from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from channels_redis.utils import _consistent_hash  # the layer's own sharding (no public name)
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.signals import setting_changed
from django.db import transaction

logger = logging.getLogger("imago.live")


# --- group names ---------------------------------------------------------------------------


def dialogue_group(public_id: str) -> str:
    """Every socket showing one dialogue: both partners' pages and a therapist's console."""
    return f"dialogue.{public_id}"


def couple_group(couple_id: int) -> str:
    """The couple's home pages: dialogues started, paused or ended, homework, links."""
    return f"couple.{couple_id}"


def user_group(user_pk: int) -> str:
    """Every socket of one person, so deactivating or deleting an account closes them all."""
    return f"user.{user_pk}"


def auth_session_group(session_key: str | None) -> str | None:
    """Every socket of one login session, so logging out closes that browser's sockets."""
    if not session_key:
        return None
    return "auth." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def dashboard_group(therapist_pk: int) -> str:
    """One therapist's open dashboards: their links changed (a couple linked, consented, an
    invitation arrived, a link ended), so which couples they may watch may have changed."""
    return f"therapist-dashboard.{therapist_pk}"


def couple_therapists_group(couple_id: int) -> str:
    """The dashboards of the therapists with access to one couple: what only they are told
    (a partner's safety questions need attention), never the partners' own pages."""
    return f"couple-therapists.{couple_id}"


def workshop_board_group(public_id: str) -> str:
    """A workshop presenter's open boards: one couple's card changed, the plan moved on."""
    return f"workshop-board.{public_id}"


def workshop_room_group(public_id: str) -> str:
    """Every participant's workshop page: the segment, the presenter's messages, the timer."""
    return f"workshop-room.{public_id}"


# --- what sockets keep in the cache ------------------------------------------------------

# What the shared cache's Redis raises when it can't be reached (stopped, restarting, cut off).
CACHE_UNREACHABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


@functools.cache
def socket_cache() -> BaseCache:
    """The one cache object of this process for what sockets count and mark (their places,
    a partner's page being open). Django's `cache` is one object per thread and per async
    context, each with its own connection pool: used from a consumer, every socket opened a
    Redis connection of its own and kept it after it closed (measured: 20 sockets, 23 more
    Redis clients). This one is shared: its pool is thread-safe, its connections reused."""
    return caches.create_connection("default")


@functools.cache
def strict_socket_cache() -> BaseCache:
    """`socket_cache()` raising when Redis can't be reached (live/cache.py reads an
    unreachable Redis as an empty cache): for the callers that must know a write or a
    deletion didn't happen, or that "nothing there" is not what Redis said."""
    cache = socket_cache()
    strict = getattr(cache, "strict", None)
    return strict() if callable(strict) else cache


def _forget_socket_cache(*, setting: str, **kwargs: object) -> None:
    if setting == "CACHES":
        socket_cache.cache_clear()
        strict_socket_cache.cache_clear()


setting_changed.connect(_forget_socket_cache)


# --- senders -------------------------------------------------------------------------------


def send(group: str, message: dict) -> None:
    """Send `message` (ids only) to `group` now. A failed push is logged, never raised: the
    database has what changed and every reconnect gets a snapshot.

    Called from the database thread of a server process (a move, after its commit), the
    message is handed to the event loop that thread works for, and the thread goes on to the
    next move at once: waiting for the loop to publish it held the worker's one database
    thread (measured: 8 % of its time at N = 1,000). One publisher per loop and Redis shard
    sends them in the order they were handed over. Anywhere else (a command, the job worker,
    a test calling a service) it is sent before this returns.

    A publish that fails (Redis restarting, or a pooled connection it closed: the first
    command on it fails) is tried again, in order, until it is sent or PUBLISH_RETRY_FOR has
    passed since it was handed over (other shards' pushes don't wait for it), and the
    process's layer watch hears of the trouble (`on_layer_trouble`). A message given up on is
    covered by the sockets' catch-up: they render from PostgreSQL after any interruption of
    the layer (live/layer_watch.py)."""
    held = getattr(_together, "messages", None)
    if held is not None:
        held.append((group, message))
        return
    _send_all([(group, message)])


_together = threading.local()


@contextlib.contextmanager
def sent_together() -> Iterator[None]:
    """What this thread sends inside the block (its commits' messages included) is sent at
    its end, all at once: one trip to the event loop instead of one per message (a
    workshop's start for sixty couples spent a quarter of its time in sixty trips). Each
    group's messages keep their order. Nested: the outermost block sends."""
    if getattr(_together, "messages", None) is not None:
        yield
        return
    _together.messages = []
    try:
        yield
    finally:
        messages, _together.messages = _together.messages, None
        _send_all(messages)


def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    loop = _serving_loop()
    if loop is not None:
        try:
            loop.call_soon_threadsafe(_hand_over, loop, messages)
            return
        except RuntimeError:  # the loop closed meanwhile: send them here
            pass
    try:
        async_to_sync(_publish_all)(messages, time.monotonic() + SEND_RETRY_FOR)
    except Exception:  # e.g. called from code running inside an event loop's own thread
        logger.warning("broadcast failed", extra={"groups": len(messages)}, exc_info=True)


async def _publish_all(messages: list[tuple[str, dict]], give_up_at: float) -> None:
    """Every group's messages in order, the groups side by side."""
    by_group: dict[str, list[dict]] = {}
    for group, message in messages:
        by_group.setdefault(group, []).append(message)

    async def in_order(group: str, each: list[dict]) -> None:
        for message in each:
            await _publish(group, message, give_up_at)

    await asyncio.gather(*(in_order(group, each) for group, each in by_group.items()))


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread does sync work for (asgiref's sync_to_async keeps
    it, as AsyncToSync finds it); None in any other thread."""
    try:
        asyncio.get_running_loop()
        return None  # a loop runs in this very thread: not one of its sync workers
    except RuntimeError:
        pass
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() and not loop.is_closed() else None


# loop -> an outbox per Redis shard: a shard that is away holds back only its own groups'
# pushes (one outbox for all held every dialogue of the worker for the length of the outage).
_outboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Queue]] = (
    weakref.WeakKeyDictionary()
)


def _hand_over(loop: asyncio.AbstractEventLoop, messages: list[tuple[str, dict]]) -> None:
    """In the loop: queue each message for this loop's publisher to its group's Redis shard
    (started on first use)."""
    outboxes = _outboxes.setdefault(loop, {})
    give_up_at = time.monotonic() + PUBLISH_RETRY_FOR
    for group, message in messages:
        shard = group_shard(group)
        outbox = outboxes.get(shard)
        if outbox is None:
            outbox = outboxes[shard] = asyncio.Queue()
            task = loop.create_task(_publisher(outbox))
            _publishers.add(task)
            task.add_done_callback(_publishers.discard)
        outbox.put_nowait((group, message, give_up_at))


def group_shard(group: str) -> int:
    """Which of the channel layer's Redis hosts carries `group` (0 with one host, or none).

    channels-redis's own consistent hash, of the name its layer hashes: the pub/sub layer
    hashes the group's channel name, the core layer the group's name. Called in the loop."""
    hosts = channel_layer_hosts()
    if hosts < 2:
        return 0
    layer = get_channel_layer()
    if type(layer).__module__ == "channels_redis.pubsub":
        group = layer._get_group_channel_name(group)  # type: ignore[union-attr]
    return _consistent_hash(group, hosts)


def channel_layer_hosts() -> int:
    """How many Redis hosts the channel layer is sharded over (0: not channels-redis)."""
    layer: Any = settings.CHANNEL_LAYERS.get("default", {})
    if not layer.get("BACKEND", "").startswith("channels_redis"):
        return 0
    return len(layer.get("CONFIG", {}).get("hosts") or [])


_publishers: set[asyncio.Task] = set()  # held here, or the loop might collect them

# Seconds a failed publish is tried again (from when it was handed over): a server's loop, and
# a command or the job worker (which wait for it, so less).
PUBLISH_RETRY_FOR = 30.0
SEND_RETRY_FOR = 1.0
RETRY_PAUSES = (0.05, 0.2, 0.5, 1.0)  # then every second


async def _publisher(outbox: asyncio.Queue) -> None:
    while True:
        group, message, give_up_at = await outbox.get()
        await _publish(group, message, give_up_at)


async def _publish(group: str, message: dict, give_up_at: float) -> None:
    """Send it, trying again (in order: the next waits) until it is sent or `give_up_at`."""
    failures = 0
    while True:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            await layer.group_send(group, message)
        except Exception:
            if failures == 0:
                logger.warning("broadcast failed", extra={"group": group}, exc_info=True)
                layer_trouble()
            if time.monotonic() >= give_up_at:
                logger.warning("broadcast given up", extra={"group": group})
                return
            await asyncio.sleep(RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)])
            failures += 1
            continue
        if failures:
            logger.warning("broadcast sent again", extra={"group": group, "tries": failures + 1})
        return


_trouble_listeners: list[Callable[[], None]] = []


def on_layer_trouble(listener: Callable[[], None]) -> None:
    """`listener()` is called (in any thread) when a publish to the channel layer fails."""
    _trouble_listeners.append(listener)


def layer_trouble() -> None:
    for listener in list(_trouble_listeners):
        listener()


def send_after_commit(group: str | None, message: dict) -> None:
    """Send `message` (ids only) to `group` once the current transaction commits."""
    if group:
        transaction.on_commit(lambda: send(group, message))


def dialogue_changed(*, public_id: str, seq: int) -> None:
    send_after_commit(dialogue_group(public_id), {"type": "dialogue.changed", "seq": seq})


def couple_changed(*, couple_id: int) -> None:
    send_after_commit(couple_group(couple_id), {"type": "couple.changed"})


def couple_ended(*, couple_id: int) -> None:
    send_after_commit(couple_group(couple_id), {"type": "couple.ended"})


def couple_attention_changed(*, couple_id: int) -> None:
    """For the couple's therapists only: whether a partner's safety questions need attention
    may have changed. The partners' pages never hear it (not even that something changed)."""
    send_after_commit(couple_therapists_group(couple_id), {"type": "couple.changed"})


def dashboard_changed(*, therapist_pk: int | None) -> None:
    if therapist_pk is not None:
        send_after_commit(dashboard_group(therapist_pk), {"type": "dashboard.changed"})


def sockets_close_for_user(*, user_pk: int) -> None:
    send_after_commit(user_group(user_pk), {"type": "auth.revoked"})


def sockets_close_for_login(*, session_key: str | None) -> None:
    """Now, not after commit: logging out is not a transaction."""
    group = auth_session_group(session_key)
    if group:
        send(group, {"type": "auth.revoked"})


def consoles_close(*, link_public_id: str, therapist_pk: int | None) -> None:
    """Access through this link ended: the therapist's consoles on it close and their
    dashboards drop the couple. Sent on the therapist's own group, which every socket of
    theirs joins before it reads the database (see therapists/consumers.py)."""
    if therapist_pk is not None:
        send_after_commit(
            user_group(therapist_pk), {"type": "therapist.access_ended", "link": link_public_id}
        )
