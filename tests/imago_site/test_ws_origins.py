"""Websockets accept exactly the site's own origins: scheme, host and port (issue 12, defect 10).

As Django's CSRF check does for forms: the Origin must be this very connection's own
`scheme://host[:port]` (the Host allowed by ALLOWED_HOSTS; https when the connection is
secure or HTTPS is on), or one of CSRF_TRUSTED_ORIGINS. Before, channels'
AllowedHostsOriginValidator compared host names only, so another scheme or another port of
the same host (another app on it, or plain http next to https) could open a socket.
A handshake without an Origin is refused, as before (browsers always send one).
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from imago_site.asgi import application

# The home page's socket: Alex needs a couple for it to open at all.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pair")]

HOME = "/ws/home/"


def _cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def handshake(
    user,
    *,
    host: str | None = "localhost",
    origin: str | None = None,
    scheme: str = "ws",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> bool:
    headers = [(b"cookie", await database_sync_to_async(_cookie)(user))]
    if host is not None:
        headers.append((b"host", host.encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    ws = WebsocketCommunicator(application, HOME, headers=[*headers, *(extra or [])])
    ws.scope["scheme"] = scheme
    connected, _ = await ws.connect()
    await ws.disconnect()
    return connected


@pytest.mark.parametrize(
    "host,origin,scheme",
    [
        ("localhost", "http://localhost", "ws"),
        ("localhost:8000", "http://localhost:8000", "ws"),
        ("localhost:8443", "https://localhost:8443", "wss"),
        ("LOCALHOST", "http://localhost", "ws"),  # host names don't care about case
    ],
)
async def test_the_sites_own_origin_is_accepted(alex, host, origin, scheme):
    assert await handshake(alex, host=host, origin=origin, scheme=scheme)


@pytest.mark.parametrize(
    "host,origin,scheme,why",
    [
        ("localhost", "https://localhost", "ws", "https page, plain connection"),
        ("localhost", "http://localhost", "wss", "plain page, secure connection"),
        ("localhost:8000", "http://localhost:9000", "ws", "another port"),
        ("localhost", "http://localhost:8000", "ws", "a port the site isn't on"),
        ("localhost:8000", "http://localhost", "ws", "the default port instead"),
        ("localhost", "http://evil.example", "ws", "another host"),
        ("localhost", "http://localhost.evil.example", "ws", "a look-alike host"),
        ("evil.example", "http://evil.example", "ws", "a host not in ALLOWED_HOSTS"),
        (None, "http://localhost", "ws", "no Host header"),
        ("localhost", None, "ws", "no Origin header"),
        ("localhost", "null", "ws", "an opaque origin (sandboxed frame, file://)"),
        ("localhost", "http://localhost/", "ws", "not an origin (a path)"),
        ("localhost", "http://user@localhost", "ws", "not an origin (credentials)"),
        ("localhost", "http://LOCALHOST", "ws", "capitals: not how browsers write an origin"),
        ("localhost", "HTTP://localhost", "ws", "capitals in the scheme"),
        ("LOCALHOST", "http://Localhost", "ws", "capitals, whatever the Host"),
    ],
)
async def test_any_other_origin_is_refused(alex, host, origin, scheme, why):
    assert not await handshake(alex, host=host, origin=origin, scheme=scheme), why


async def test_with_https_on_only_https_origins_are_accepted(alex, settings):
    settings.HTTPS = True
    assert not await handshake(alex, origin="http://localhost")
    assert await handshake(alex, origin="https://localhost")


async def test_behind_a_tls_proxy_the_forwarded_scheme_counts(alex, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = [(b"x-forwarded-proto", b"https")]
    assert await handshake(alex, origin="https://localhost", extra=proxied)
    assert not await handshake(alex, origin="http://localhost", extra=proxied)


async def test_csrf_trusted_origins_are_accepted_exactly(alex, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://imago.example.org", "https://*.clinic.example"]
    assert await handshake(alex, origin="https://imago.example.org")
    assert await handshake(alex, origin="https://rooms.clinic.example")
    assert not await handshake(alex, origin="http://imago.example.org")
    assert not await handshake(alex, origin="https://imago.example.org:8443")
    assert not await handshake(alex, origin="https://clinic.example.evil")
    assert not await handshake(alex, origin="https://Imago.example.org")  # only lowercase
