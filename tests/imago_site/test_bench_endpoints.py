"""The benchmark's bare echo endpoints: absent unless BENCHMARK_ENDPOINTS=1, and minimal."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import RequestFactory
from django.urls import path

from imago_site import asgi, bench


def test_they_are_off_by_default(client, db):
    assert client.post("/bench/echo/", {"group": "g1", "n": "1"}).status_code == 404
    assert not any("bench" in str(p.pattern) for p in asgi.websocket_urlpatterns)


def echo_app():
    return URLRouter([path("ws/bench/echo/<str:group>/", bench.EchoConsumer.as_asgi())])


# Channels' consumers call close_old_connections() on every event, in the sync thread where an
# earlier socket test may have left a database connection: without the mark, that check is
# refused and the consumer dies (the test then fails or passes depending on what ran before).
@pytest.mark.django_db
async def test_the_echo_socket_forwards_what_the_endpoint_sends():
    listeners = []
    for _ in range(2):
        ws = WebsocketCommunicator(echo_app(), "/ws/bench/echo/g1/")
        assert (await ws.connect())[0]
        listeners.append(ws)
    other = WebsocketCommunicator(echo_app(), "/ws/bench/echo/g2/")
    assert (await other.connect())[0]

    request = RequestFactory().post("/bench/echo/", {"group": "g1", "n": "7"})
    response = await sync_to_async(bench.echo_send)(request)
    assert response.status_code == 204
    for ws in listeners:
        message = json.loads(await ws.receive_from(timeout=3))
        assert message["n"] == 7 and message["server_time"] > 0
    assert await other.receive_nothing(timeout=0.3)
    for ws in (*listeners, other):
        await ws.disconnect()


@pytest.mark.parametrize(
    "data",
    [
        {"group": "g1"},
        {"group": "no spaces", "n": "1"},
        {"group": "g1", "n": "x"},
        {"group": "x" * 41, "n": "1"},
    ],
)
def test_the_endpoint_refuses_bad_input(data):
    request = RequestFactory().post("/bench/echo/", data)
    assert bench.echo_send(request).status_code == 400


async def test_the_echo_socket_refuses_a_bad_group_name():
    ws = WebsocketCommunicator(echo_app(), "/ws/bench/echo/a.b/")
    connected, _ = await ws.connect()
    assert not connected
