"""The Redis channel layer keeps idle sockets alive: Redis reads outlast channels-redis's waits
(the configured timeouts themselves: tests/imago_site/test_settings.py)."""

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
async def test_an_idle_receive_on_real_redis_waits_through_several_blocking_reads():
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    layer = RedisChannelLayer(**{**config, "prefix": config["prefix"] + ".idle-test"})
    channel = await layer.new_channel()
    waits = 3  # each BZPOPMIN returns empty after brpop_timeout seconds; none may raise
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(waits * layer.brpop_timeout + 1)
    assert not receiving.done(), receiving.exception() if receiving.done() else ""
    await layer.send(channel, {"type": "still.here"})
    assert await asyncio.wait_for(receiving, timeout=5) == {"type": "still.here"}
    await layer.flush()
