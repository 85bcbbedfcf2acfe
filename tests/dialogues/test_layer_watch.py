"""Sockets that survive a Redis restart join their groups again and catch up."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from dialogues import layer_watch, services
from tests.sockets import drain, forget_group, marker, open_socket, path_of, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

submit = database_sync_to_async(services.move_submit)


async def test_a_socket_whose_group_was_forgotten_catches_up_when_it_rejoins(dialogue, alex, sam):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_a)
    await drain(ws_b)

    await forget_group(dialogue.group_name)
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    assert await ws_a.receive_nothing(timeout=0.5)  # deaf: the step wasn't pushed to anyone
    assert await ws_b.receive_nothing(timeout=0.1)

    assert await layer_watch.rejoin_all() >= 2
    for ws in (ws_a, ws_b):
        update = await receive_until(ws, 'id="sync"')
        assert marker(update) == {"kind": "update", "from": 2, "seq": 2}
        assert 'id="turn-2"' in update

    # Back in the group: the next step is pushed as usual, once.
    await submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I missed you."},
    )
    for ws in (ws_a, ws_b):
        update = await receive_until(ws, 'id="sync"')
        assert marker(update) == {"kind": "update", "from": 3, "seq": 3}
        assert "I missed you." in update
    assert await layer_watch.rejoin_all() >= 2  # nothing new: nothing is sent again
    assert await ws_a.receive_nothing(timeout=0.3)
    await ws_a.disconnect()
    await ws_b.disconnect()


async def test_the_watcher_rejoins_once_when_a_redis_run_id_changes(monkeypatch):
    readings = iter([["r1"], ["r1"], [None], ["r2"], ["r2"], ["r2"]])
    monkeypatch.setattr(layer_watch, "WATCH_EVERY", 0.01)
    monkeypatch.setattr(layer_watch, "_watched_layer", lambda: object())

    async def run_ids(layer):
        return next(readings, ["r2"])

    monkeypatch.setattr(layer_watch, "run_ids", run_ids)

    class Socket:
        rejoined = 0

        async def rejoin(self):
            Socket.rejoined += 1

    socket = Socket()
    layer_watch.register(socket)
    await asyncio.sleep(0.2)
    watcher = layer_watch._watcher
    layer_watch.unregister(socket)
    assert Socket.rejoined == 1  # after r1 -> (unreachable) -> r2, not for the outage itself
    await asyncio.sleep(0.05)
    assert watcher.done()  # the last socket gone, the watcher stops


async def test_a_socket_that_cannot_rejoin_is_closed_so_the_browser_reconnects(monkeypatch):
    monkeypatch.setattr(asyncio, "sleep", _no_wait)

    class Socket:
        def __init__(self, fails):
            self.fails, self.tries, self.closed_with = fails, 0, None

        async def rejoin(self):
            self.tries += 1
            if self.tries <= self.fails:
                raise ConnectionError("Redis is still starting")

        async def close(self, code=None):
            self.closed_with = code

    fine, second_try, hopeless = Socket(0), Socket(1), Socket(99)
    for socket in (fine, second_try, hopeless):
        layer_watch._sockets.add(socket)
    try:
        assert await layer_watch.rejoin_all() == 3
    finally:
        for socket in (fine, second_try, hopeless):
            layer_watch._sockets.discard(socket)
    assert (fine.tries, second_try.tries, hopeless.tries) == (1, 2, 2)
    assert (fine.closed_with, second_try.closed_with, hopeless.closed_with) == (None, None, 1012)


_real_sleep = asyncio.sleep


async def _no_wait(delay, *args):
    await _real_sleep(0)


def test_the_in_memory_layer_has_nothing_to_watch(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    try:
        assert layer_watch._watched_layer() is None
    finally:
        channel_layers.backends.pop("default", None)
