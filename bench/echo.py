"""A bare baseline for the benchmark (bench/benchmark.py): a websocket that only echoes what a
`group_send` brings, and two ways to make that `group_send`: a frame on the echo socket itself
(the road a socket move takes, `--moves socket`) and an HTTP POST (the road of `--moves http`).

They live here, with the bench, and are served only by the bench's own ASGI application
(`bench/asgi.py`, never in production): the benchmark compares the full dialogue pipeline
(database, fan-out, per-person rendering) with this, the cost of the transport alone on the
same servers. Nothing here touches the database.
"""

from __future__ import annotations

import json
import re
import time

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

GROUP_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def echo_group(name: str) -> str:
    return f"bench.echo.{name}"


def _message(number: int) -> dict:
    # time.time(), not the app's clock: the bench compares it with its own wall clock.
    return {"type": "bench.echo", "n": number, "server_time": time.time()}


def _frame_number(text: str | None) -> int | None:
    if not text or len(text) > 100:
        return None
    try:
        number = json.loads(text).get("n")
    except (ValueError, AttributeError):
        return None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


class EchoConsumer(AsyncWebsocketConsumer):
    """Joins the group named in the URL and forwards every message it hears."""

    async def connect(self) -> None:
        name = self.scope["url_route"]["kwargs"]["group"]
        if not GROUP_NAME.match(name):
            await self.close()
            return
        self.group = echo_group(name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """A frame {"n": <number>}: one group_send of a timestamped payload to this group."""
        number = _frame_number(text_data)
        if number is None:
            await self.send(json.dumps({"error": 'a frame is {"n": <number>}'}))
            return
        await self.channel_layer.group_send(self.group, _message(number))

    async def bench_echo(self, event) -> None:
        await self.send(json.dumps({"n": event["n"], "server_time": event["server_time"]}))


@require_POST
def echo_send(request: HttpRequest) -> HttpResponse:
    """POST group=<name>&n=<number>: one group_send of a timestamped payload to that group."""
    name = request.POST.get("group", "")
    try:
        number = int(request.POST.get("n", ""))
    except ValueError:
        number = None
    if not GROUP_NAME.match(name) or number is None:
        return HttpResponseBadRequest("group and n, please")
    layer = get_channel_layer()
    assert layer is not None  # settings.CHANNEL_LAYERS always has a default
    async_to_sync(layer.group_send)(echo_group(name), _message(number))
    return HttpResponse(status=204)
