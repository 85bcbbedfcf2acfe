"""The benchmark's bare echo endpoints (bench/echo.py): served only by the bench's own ASGI
application and URLs, never by the site's, and minimal."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import RequestFactory
from django.urls import path

from bench import asgi as bench_asgi
from bench import echo as bench
from bench import urls as bench_urls
from imago_site import asgi, urls


def test_the_site_serves_neither(client, db):
    assert client.post("/bench/echo/", {"group": "g1", "n": "1"}).status_code == 404
    assert not any("bench" in str(p.pattern) for p in asgi.websocket_urlpatterns)
    assert not any("bench" in str(p.pattern) for p in urls.urlpatterns)


def test_the_bench_serves_both_beside_the_whole_site():
    names = [p.name for p in bench_urls.urlpatterns if hasattr(p, "name")]
    assert "bench_echo" in names and "home" in names
    assert bench_asgi.site_application is asgi.application


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


@pytest.mark.django_db
async def test_the_bench_application_routes_the_echo_socket_and_leaves_the_rest_to_the_site():
    ws = WebsocketCommunicator(bench_asgi.application, "/ws/bench/echo/g3/")
    assert (await ws.connect())[0]
    await ws.disconnect()
    # Anything else is the site's: its origin check refuses a socket with no Origin.
    site = WebsocketCommunicator(bench_asgi.application, "/ws/home/")
    assert not (await site.connect())[0]


@pytest.mark.django_db
async def test_a_frame_on_the_echo_socket_reaches_its_group_and_no_other():
    """The socket road of the baseline: what a move over the open socket rides on."""
    sender = WebsocketCommunicator(echo_app(), "/ws/bench/echo/g1/")
    listener = WebsocketCommunicator(echo_app(), "/ws/bench/echo/g1/")
    other = WebsocketCommunicator(echo_app(), "/ws/bench/echo/g2/")
    for ws in (sender, listener, other):
        assert (await ws.connect())[0]
    await sender.send_to(text_data=json.dumps({"n": 3}))
    for ws in (sender, listener):
        message = json.loads(await ws.receive_from(timeout=3))
        assert message["n"] == 3 and message["server_time"] > 0
    assert await other.receive_nothing(timeout=0.3)
    for ws in (sender, listener, other):
        await ws.disconnect()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "frame", ["{", " ", '{"n": "1"}', '{"n": true}', "[1]", '{"n": 1}' + " " * 100]
)
async def test_the_echo_socket_answers_a_bad_frame_and_sends_nothing(frame):
    sender = WebsocketCommunicator(echo_app(), "/ws/bench/echo/g1/")
    listener = WebsocketCommunicator(echo_app(), "/ws/bench/echo/g1/")
    for ws in (sender, listener):
        assert (await ws.connect())[0]
    await sender.send_to(text_data=frame)
    assert "error" in json.loads(await sender.receive_from(timeout=3))
    assert await listener.receive_nothing(timeout=0.3)
    for ws in (sender, listener):
        await ws.disconnect()
