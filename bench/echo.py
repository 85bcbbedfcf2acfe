"""A bare baseline for the benchmark (bench/benchmark.py): a websocket that only echoes what a
`group_send` brings, and an HTTP endpoint that makes that `group_send`.

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
    message = {"type": "bench.echo", "n": number, "server_time": time.time()}
    layer = get_channel_layer()
    assert layer is not None  # settings.CHANNEL_LAYERS always has a default
    async_to_sync(layer.group_send)(echo_group(name), message)
    return HttpResponse(status=204)
