"""The Redis channel layer keeps idle sockets alive: Redis reads outlast channels-redis's waits."""

import asyncio
import json

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from tests.imago_site.test_settings import run_python


def test_redis_reads_outlast_the_layers_blocking_wait():
    # Before the fix redis-py's 5 s read timeout raced channels-redis's 5 s BZPOPMIN: an idle
    # socket's consumer died with redis.exceptions.TimeoutError about every 20 seconds.
    result = run_python(
        [
            "-c",
            "import json, imago_site.settings as s; "
            "print(json.dumps(s.CHANNEL_LAYERS['default']['CONFIG']['hosts']))",
        ],
        DEBUG="1",
        REDIS_URL="redis://127.0.0.1:6379/0,redis://127.0.0.1:6379/1",
    )
    assert result.returncode == 0, result.stderr
    hosts = json.loads(result.stdout)
    assert len(hosts) == 2
    for host in hosts:
        assert host["socket_timeout"] >= 2 * RedisChannelLayer.brpop_timeout
        assert host["socket_keepalive"] is True


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
