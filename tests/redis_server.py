"""A redis-server of the test's own, on a free port, to stop and start at will: fault tests
must never stop the Redis everything else on the machine shares.

    with PrivateRedis() as redis:      # started (skipped when there is no redis-server)
        redis.stop()                   # as `redis-cli shutdown nosave` does: all is forgotten
        redis.start()                  # a new run (a new run_id), empty
        redis.pause(); redis.resume()  # hung (SIGSTOP), then on again: the same run, nothing lost
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tests.servers import free_port


class PrivateRedis:
    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("needs redis-server (a private one is started for fault tests)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server on port {self.port} didn't start", pytrace=False)
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # (a paused one too: SIGKILL needs no SIGCONT)
            self.process.wait()
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",  # the default
    "core": "channels_redis.core.RedisChannelLayer",  # CHANNEL_LAYER=redis
}


@pytest.fixture
def private_layer(settings, request):
    """The channel layer (pub/sub, as deployed, unless the test asks for another) on a
    redis-server of this test's own."""
    from channels.layers import channel_layers

    from live import layer_watch

    with PrivateRedis() as server:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": LAYERS[getattr(request, "param", "pubsub")],
                "CONFIG": {"hosts": [server.url], "prefix": "watch"},
            }
        }
        channel_layers.backends.clear()
        layer_watch._own_clients.clear()
        yield server
        channel_layers.backends.clear()
        layer_watch._own_clients.clear()
