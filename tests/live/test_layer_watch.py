"""Sockets that survive a Redis restart join their groups again and catch up."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from dialogues import services
from live import layer_watch
from tests.helpers import with_form_token
from tests.sockets import drain, forget_group, marker, open_socket, path_of, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

submit = database_sync_to_async(with_form_token(services.move_submit))


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
    _watch_fakes(monkeypatch, run_ids=lambda: next(readings, ["r2"]), probe=lambda: True)
    rejoined = await _rejoins_while_watching()
    assert rejoined == 1  # after r1 -> (unreachable) -> r2, not for the outage itself


async def test_recovery_waits_for_a_real_round_trip_through_the_layer(monkeypatch):
    """Redis answers INFO throughout, but what is published doesn't reach this process for a
    while (its subscriptions aren't back): the sockets catch up once a round trip works
    again, not before, and once."""
    order = await _probes_and_rejoins(monkeypatch, [True, False, False, False, True, True])
    assert order[:6] == ["ok", "lost", "lost", "lost", "ok", "rejoin"]
    assert order.count("rejoin") == 1


async def test_a_round_trip_that_only_takes_too_long_is_not_an_outage(monkeypatch):
    """A swamped process (a connect storm) answers its own probe late: Redis is the same one
    and nothing failed, so nothing was lost and no socket re-joins (which would feed the
    storm)."""
    probes = iter([True, None, None, None, True, True])
    _watch_fakes(monkeypatch, run_ids=lambda: ["r1"], probe=lambda: next(probes, True))
    assert await _rejoins_while_watching() == 0


async def test_redis_answering_info_too_late_is_not_an_outage(monkeypatch):
    readings = iter([["r1"], [layer_watch.UNKNOWN], [layer_watch.UNKNOWN], ["r1"]])
    _watch_fakes(monkeypatch, run_ids=lambda: next(readings, ["r1"]), probe=lambda: True)
    assert await _rejoins_while_watching() == 0


async def test_after_an_outage_a_late_round_trip_is_not_yet_recovery(monkeypatch):
    """Once interrupted, only a round trip that came back ends it: a late one may be the
    subscriptions not back yet."""
    order = await _probes_and_rejoins(monkeypatch, [True, False, None, None, True, True])
    assert order[:6] == ["ok", "lost", "late", "late", "ok", "rejoin"]
    assert order.count("rejoin") == 1


async def test_a_failed_publish_makes_the_sockets_catch_up_once_the_layer_carries_again(
    monkeypatch,
):
    import live

    _watch_fakes(monkeypatch, run_ids=lambda: ["r1"], probe=lambda: True)
    # As the publisher says when a group_send fails, while this process has sockets.
    assert await _rejoins_while_watching(meanwhile=live.layer_trouble) == 1


async def test_a_break_of_the_pubsub_connection_makes_the_sockets_catch_up(monkeypatch):
    """However short (between two looks), as channels-redis's receiver logs it."""
    import logging

    _watch_fakes(monkeypatch, run_ids=lambda: ["r1"], probe=lambda: True)

    def receiver_breaks():
        logging.getLogger("channels_redis.pubsub").error("Unexpected exception in receive task")

    assert await _rejoins_while_watching(meanwhile=receiver_breaks) == 1


async def _probes_and_rejoins(monkeypatch, probes: list[bool | None]) -> list[str]:
    """Watch with these probe results (then True) and Redis answering "r1" throughout: each
    probe's outcome ("ok", "lost", "late") and each re-join, in order."""
    results = iter(probes)
    _watch_fakes(monkeypatch, run_ids=lambda: ["r1"], probe=lambda: next(results, True))
    order: list[str] = []
    fake_probe = layer_watch.probe

    async def probe(layer):
        result = await fake_probe(layer)
        order.append({True: "ok", False: "lost", None: "late"}[result])
        return result

    monkeypatch.setattr(layer_watch, "probe", probe)

    class Socket:
        async def rejoin(self):
            order.append("rejoin")

    socket = Socket()
    layer_watch.register(socket)
    await asyncio.sleep(0.2)
    layer_watch.unregister(socket)
    return order


def _watch_fakes(monkeypatch, *, run_ids, probe) -> None:
    monkeypatch.setattr(layer_watch, "WATCH_EVERY", 0.01)
    monkeypatch.setattr(layer_watch, "_watched_layer", lambda: object())

    async def fake_run_ids(layer):
        return run_ids()

    async def fake_probe(layer):
        return probe()

    monkeypatch.setattr(layer_watch, "run_ids", fake_run_ids)
    monkeypatch.setattr(layer_watch, "probe", fake_probe)


async def _rejoins_while_watching(meanwhile=None) -> int:
    class Socket:
        rejoined = 0

        async def rejoin(self):
            Socket.rejoined += 1

    socket = Socket()
    layer_watch.register(socket)
    await asyncio.sleep(0.05)
    if meanwhile is not None:
        meanwhile()
    await asyncio.sleep(0.15)
    watcher = layer_watch._watcher
    layer_watch.unregister(socket)
    await asyncio.sleep(0.05)
    assert watcher.done()  # the last socket gone, the watcher stops
    return Socket.rejoined


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


# --- against a real Redis, stopped and started ------------------------------------------------


async def test_a_step_made_seconds_after_redis_comes_back_reaches_every_open_socket(
    private_layer, dialogue, alex, sam
):
    """The review's timing: Redis stopped for 10 s, started, a move 8 s later. The open pages
    receive it (the publish after the restart first meets a connection Redis closed)."""
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    sockets = []
    for person in (alex, sam, alex):
        ws, connected, _ = await open_socket(path_of(dialogue), person)
        assert connected
        sockets.append(ws)
    for ws in sockets:
        await drain(ws)

    private_layer.stop()
    await asyncio.sleep(10)
    private_layer.start()
    await asyncio.sleep(8)
    await submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I missed you."},
    )
    for ws in sockets:
        update = await receive_until(ws, "I missed you.", limit=20)
        assert marker(update)["seq"] == 3
    for ws in sockets:
        await ws.disconnect()


@pytest.mark.parametrize("private_layer", ["pubsub", "core"], indirect=True)
async def test_the_probe_is_a_round_trip_through_redis(private_layer):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert await layer_watch.probe(layer)
    private_layer.stop()
    assert not await layer_watch.probe(layer)
    private_layer.start()
    for _ in range(40):  # the subscriptions come back some time after Redis does
        if await layer_watch.probe(layer):
            break
        await asyncio.sleep(0.25)
    else:
        raise AssertionError("no round trip after Redis came back")
    assert await layer_watch.probe(layer)


@pytest.mark.parametrize("private_layer", ["pubsub", "core"], indirect=True)
async def test_the_probe_tells_a_late_round_trip_from_a_lost_one(private_layer, monkeypatch):
    """Redis hung (SIGSTOP: as slow as it gets, and nothing lost): the round trip is late,
    None, and INFO's run_id not known this time. Redis away: False, and None."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    monkeypatch.setattr(layer_watch, "PROBE_TIMEOUT", 0.5)
    monkeypatch.setattr(layer_watch, "INFO_TIMEOUT", 0.3)
    assert await layer_watch.probe(layer) is True
    assert await layer_watch.run_ids(layer) not in ([None], [layer_watch.UNKNOWN])
    private_layer.pause()
    try:
        assert await layer_watch.probe(layer) is None
        assert await layer_watch.run_ids(layer) == [layer_watch.UNKNOWN]
    finally:
        private_layer.resume()
    assert await _carries_again(layer)
    private_layer.stop()
    assert await layer_watch.probe(layer) is False
    assert await layer_watch.run_ids(layer) == [None]
    private_layer.start()


async def _carries_again(layer) -> bool:
    for _ in range(40):
        if await layer_watch.probe(layer):
            return True
        await asyncio.sleep(0.25)
    return False


# --- the layer sharded over two Redis hosts (REDIS_URL with two URLs) -------------------------


async def test_one_shard_restarting_makes_the_sockets_catch_up_once_both_are_back(monkeypatch):
    """Shard b away, then back with a new run_id, shard a untouched throughout: one catch-up,
    and not while b can't be reached."""
    readings = iter([["a1", "b1"], ["a1", "b1"], ["a1", None], ["a1", None], ["a1", "b2"]])
    _watch_fakes(monkeypatch, run_ids=lambda: next(readings, ["a1", "b2"]), probe=lambda: True)
    assert await _rejoins_while_watching() == 1


@pytest.fixture
def sharded_layer(settings, request):
    """The channel layer sharded over two redis-servers of this test's own."""
    from channels.layers import channel_layers

    from tests.redis_server import LAYERS, PrivateRedis

    with PrivateRedis() as a, PrivateRedis() as b:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": LAYERS[request.param],
                "CONFIG": {"hosts": [a.url, b.url], "prefix": "watch"},
            }
        }
        channel_layers.backends.clear()
        layer_watch._own_clients.clear()
        yield a, b
        channel_layers.backends.clear()
        layer_watch._own_clients.clear()


@pytest.mark.parametrize("sharded_layer", ["pubsub", "core"], indirect=True)
async def test_the_probe_fails_while_either_shard_is_away_and_passes_once_it_is_back(
    sharded_layer,
):
    """Groups are spread over the shards by their names: a probe through one group alone
    passed while the other shard was down, or back without its subscriptions."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert await layer_watch.probe(layer)
    for shard in sharded_layer:
        shard.stop()
        assert not await layer_watch.probe(layer)
        assert None in await layer_watch.run_ids(layer)
        shard.start()
        for _ in range(40):  # the subscriptions come back some time after Redis does
            if await layer_watch.probe(layer):
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError("no round trip after the shard came back")
        assert None not in await layer_watch.run_ids(layer)
