"""The Redis channel layer keeps idle sockets alive: Redis reads outlast channels-redis's waits
(the configured timeouts themselves: tests/imago_site/test_settings.py)."""

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings


def _first_host() -> dict:
    """The layer's configuration on its first Redis only: these tests are about one host
    (with REDIS_URL sharded, a core layer's message to a channel can go to the other host:
    imago_site/settings.py refuses that layer sharded)."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    return {**config, "hosts": config["hosts"][:1]}


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
async def test_an_idle_receive_on_real_redis_waits_through_several_blocking_reads():
    config = _first_host()
    layer = RedisChannelLayer(**{**config, "prefix": config["prefix"] + ".idle-test"})
    channel = await layer.new_channel()
    waits = 3  # each BZPOPMIN returns empty after brpop_timeout seconds; none may raise
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(waits * layer.brpop_timeout + 1)
    assert not receiving.done(), receiving.exception() if receiving.done() else ""
    await layer.send(channel, {"type": "still.here"})
    assert await asyncio.wait_for(receiving, timeout=5) == {"type": "still.here"}
    await layer.flush()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
async def test_what_travels_through_redis_is_encrypted():
    """Steps travel as HTML with what partners wrote in it: Redis holds it only encrypted."""
    config = _first_host()
    assert config["symmetric_encryption_keys"]
    layer = RedisChannelLayer(**{**config, "prefix": config["prefix"] + ".crypt-test"})
    channel = await layer.new_channel()
    secret = "When the week gets busy I feel far from you."
    await layer.send(channel, {"type": "dialogue.changed", "html": secret})
    connection = layer.connection(layer.consistent_hash(channel))
    stored = b""
    for key in await connection.keys(layer.prefix + "*"):
        if await connection.type(key) == b"zset":
            stored += b"".join(await connection.zrange(key, 0, -1))
    assert stored and secret.encode() not in stored and b"dialogue.changed" not in stored
    assert (await layer.receive(channel))["html"] == secret
    await layer.flush()


def test_the_encryption_key_comes_from_the_environment_and_rotates():
    from tests.imago_site.test_settings import run_python

    code = (
        "import json, imago_site.settings as s; "
        "print(json.dumps(s.CHANNEL_LAYERS['default']['CONFIG']['symmetric_encryption_keys']))"
    )
    result = run_python(
        ["-c", code],
        DEBUG="1",
        REDIS_URL="redis://127.0.0.1:6379/0",
        CHANNELS_ENCRYPTION_KEYS="new-key,old-key",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '["new-key", "old-key"]'


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
async def test_what_the_pubsub_layer_publishes_is_encrypted():
    """The pub/sub layer (the default) publishes each message to Redis: only encrypted."""
    import redis.asyncio as redis
    from channels_redis.pubsub import RedisPubSubChannelLayer

    config = _first_host()
    layer = RedisPubSubChannelLayer(**{**config, "prefix": config["prefix"] + ".crypt-pubsub"})
    channel = await layer.new_channel()
    spy = redis.Redis.from_url(config["hosts"][0]["address"])
    listener = spy.pubsub()
    await listener.subscribe(channel)
    await listener.get_message(timeout=1)  # the subscription's own confirmation
    secret = "When the week gets busy I feel far from you."
    await layer.send(channel, {"type": "dialogue.changed", "html": secret})
    raw = None
    for _ in range(20):
        raw = await listener.get_message(timeout=0.5)
        if raw and raw["type"] == "message":
            break
    assert raw and raw["type"] == "message", "nothing was published"
    assert secret.encode() not in raw["data"] and b"dialogue.changed" not in raw["data"]
    assert (await layer.receive(channel))["html"] == secret
    await listener.aclose()
    await spy.aclose()
    await layer.flush()
