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
