"""live.send from a server's database thread: the push is handed to the event loop
and the thread goes on at once (it is the worker's one database thread); the loop's publisher
sends the pushes in the order they were handed over, and a failure is logged, not raised.
`sent_together` holds a block's pushes and sends them at its end."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

import live


@pytest.fixture
def layer_sends(monkeypatch):
    """What reaches the channel layer's group_send, in order; `gate` holds them back."""
    layer = get_channel_layer()
    sent: list[tuple[str, dict]] = []
    gate = asyncio.Event()
    gate.set()

    async def group_send(group, message):
        await gate.wait()
        fail = message.get("fail")
        if fail is True or (fail is not None and next(fail, False)):
            raise ConnectionError("Redis went away")
        sent.append((group, {k: v for k, v in message.items() if k != "fail"}))

    monkeypatch.setattr(layer, "group_send", group_send)
    return sent, gate


async def _until(condition, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_the_database_thread_hands_a_push_over_and_never_waits_for_the_layer(
    layer_sends,
):
    sent, gate = layer_sends
    gate.clear()  # the layer is stuck: a thread waiting for it would wait for ever
    await asyncio.wait_for(
        sync_to_async(live.send)("dialogue.x", {"type": "dialogue.changed", "seq": 1}),
        timeout=2,
    )
    assert sent == []  # handed over, not sent yet
    gate.set()
    await _until(lambda: sent)
    assert sent == [("dialogue.x", {"type": "dialogue.changed", "seq": 1})]


async def test_pushes_are_sent_in_the_order_they_were_handed_over(layer_sends):
    sent, _gate = layer_sends

    def many():
        for seq in range(1, 51):
            live.send("dialogue.x", {"type": "dialogue.changed", "seq": seq})

    await sync_to_async(many)()
    await _until(lambda: len(sent) == 50)
    assert [m["seq"] for _g, m in sent] == list(range(1, 51))


async def test_a_push_that_fails_is_sent_again_and_the_next_one_waits_for_it(
    layer_sends, monkeypatch, caplog
):
    """A publish after Redis restarted first meets a connection Redis closed: the step is
    not lost (nor overtaken by the next one), and the layer watch hears of the trouble."""
    sent, _gate = layer_sends
    caplog.set_level(logging.WARNING, logger="imago.live")
    troubles = []
    monkeypatch.setattr(live, "_trouble_listeners", [lambda: troubles.append(1)])
    failures = iter([True, True])
    monkeypatch.setattr(live, "RETRY_PAUSES", (0.01,))

    def two():
        live.send("dialogue.x", {"type": "dialogue.changed", "seq": 1, "fail": failures})
        live.send("dialogue.x", {"type": "dialogue.changed", "seq": 2})

    await sync_to_async(two)()
    await _until(lambda: len(sent) == 2)
    assert [m["seq"] for _g, m in sent] == [1, 2]
    assert "broadcast failed" in caplog.text and troubles == [1]  # said once, not per try


async def test_a_push_that_cannot_be_sent_in_time_is_given_up_and_the_next_one_goes(
    layer_sends, monkeypatch, caplog
):
    sent, _gate = layer_sends
    caplog.set_level(logging.WARNING, logger="imago.live")
    monkeypatch.setattr(live, "PUBLISH_RETRY_FOR", 0.1)
    monkeypatch.setattr(live, "RETRY_PAUSES", (0.01,))

    def two():
        live.send("dialogue.x", {"type": "dialogue.changed", "fail": True})
        live.send("dialogue.x", {"type": "dialogue.changed", "seq": 2})

    await sync_to_async(two)()
    await _until(lambda: sent)
    assert sent == [("dialogue.x", {"type": "dialogue.changed", "seq": 2})]
    assert "broadcast given up" in caplog.text


def test_outside_a_server_thread_a_push_is_sent_before_send_returns(layer_sends):
    sent, _gate = layer_sends  # a command, the job worker, a test calling a service
    live.send("dialogue.x", {"type": "dialogue.changed", "seq": 1})
    assert sent == [("dialogue.x", {"type": "dialogue.changed", "seq": 1})]


async def test_a_shard_that_is_away_holds_back_only_its_own_groups_pushes(layer_sends, monkeypatch):
    """Two Redis shards, one away: the other shard's pushes go at once, the away one's wait
    and then go in order (with one outbox, every dialogue of the worker waited for it)."""
    sent, _gate = layer_sends
    monkeypatch.setattr(live, "group_shard", lambda group: 1 if group.endswith("b") else 0)
    monkeypatch.setattr(live, "RETRY_PAUSES", (0.01,))
    away = asyncio.Event()

    def b_is_away():
        while not away.is_set():
            yield True

    def pushes():
        live.send("dialogue.b", {"type": "dialogue.changed", "seq": 1, "fail": b_is_away()})
        live.send("dialogue.b", {"type": "dialogue.changed", "seq": 2})
        live.send("dialogue.a", {"type": "dialogue.changed", "seq": 1})

    await sync_to_async(pushes)()
    await _until(lambda: sent)
    await asyncio.sleep(0.1)
    assert sent == [("dialogue.a", {"type": "dialogue.changed", "seq": 1})]
    away.set()  # shard b is back
    await _until(lambda: len(sent) == 3)
    assert [(g, m["seq"]) for g, m in sent] == [
        ("dialogue.a", 1),
        ("dialogue.b", 1),
        ("dialogue.b", 2),
    ]


def test_groups_are_spread_over_the_shards_as_channels_redis_spreads_them(settings):
    """The pub/sub layer (the default) and the core layer each put a group on the host its
    name hashes to; live.group_shard names the same host."""
    from asgiref.sync import async_to_sync
    from channels.layers import channel_layers

    from tests.redis_server import LAYERS

    hosts = ["redis://127.0.0.1:1/0", "redis://127.0.0.1:2/0"]  # never connected to
    groups = [f"dialogue.{n}" for n in range(40)]
    try:
        for backend in LAYERS.values():
            settings.CHANNEL_LAYERS = {
                "default": {"BACKEND": backend, "CONFIG": {"hosts": hosts, "prefix": "spread"}}
            }
            channel_layers.backends.clear()

            async def library_and_ours(backend=backend):
                layer = get_channel_layer()
                if backend.endswith("PubSubChannelLayer"):
                    inner = layer._get_layer()
                    theirs = [
                        inner._shards.index(inner._get_shard(inner._get_group_channel_name(g)))
                        for g in groups
                    ]
                else:
                    theirs = [layer.consistent_hash(g) for g in groups]
                return theirs, [live.group_shard(g) for g in groups]

            theirs, ours = async_to_sync(library_and_ours)()
            assert ours == theirs and set(ours) == {0, 1}
    finally:
        channel_layers.backends.clear()


def test_sent_together_holds_every_push_until_the_block_ends_and_keeps_each_groups_order(
    layer_sends,
):
    sent, _gate = layer_sends
    with live.sent_together():
        live.send("couple.1", {"type": "couple.changed", "n": 1})
        with live.sent_together():  # nested: the outer block sends
            live.send("couple.2", {"type": "couple.changed", "n": 1})
        live.send("couple.1", {"type": "couple.changed", "n": 2})
        assert sent == []
    assert sorted(sent, key=lambda s: s[0]) == [
        ("couple.1", {"type": "couple.changed", "n": 1}),
        ("couple.1", {"type": "couple.changed", "n": 2}),
        ("couple.2", {"type": "couple.changed", "n": 1}),
    ]
    live.send("couple.3", {"type": "couple.changed"})  # after the block: at once again
    assert sent[-1] == ("couple.3", {"type": "couple.changed"})


async def test_sent_together_in_a_server_thread_hands_them_over_in_order(layer_sends):
    sent, _gate = layer_sends

    def together() -> None:
        with live.sent_together():
            for seq in (1, 2, 3):
                live.send("dialogue.x", {"type": "dialogue.changed", "seq": seq})

    await sync_to_async(together)()
    await _until(lambda: len(sent) == 3)
    assert [m["seq"] for _g, m in sent] == [1, 2, 3]
