"""Websocket handshakes only from this site's own pages: scheme, host and port.

Django's CSRF check accepts a form only when its Origin is exactly the request's own
`scheme://host[:port]` (the Host checked against ALLOWED_HOSTS; https when the request is
secure) or one of CSRF_TRUSTED_ORIGINS. Websockets get the same rule here. channels'
AllowedHostsOriginValidator compared host names only, so a page on another port of the same
host, or on plain http next to https, could open a socket with the person's cookie.

https is required when HTTPS is on (a page served over TLS, whatever the last hop was).
A handshake without an Origin, or with several, is refused: browsers always send one. So is
one in capitals ("HTTP://LOCALHOST"): only the form browsers send, lowercase, is accepted.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

if TYPE_CHECKING:  # names from types-channels' stubs only
    from asgiref.typing import ASGI3Application, ASGIReceiveCallable, ASGISendCallable
    from channels.consumer import _ChannelScope as Scope

logger = logging.getLogger("imago.security")

# A serialized origin: scheme://host[:port] and nothing else (no path, no credentials).
ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<netloc>[^/?#@\s]+)")


def _header(scope: Scope, name: bytes) -> str | None:
    """The header's value if it was sent exactly once (ASCII), else None."""
    values = [value for key, value in scope.get("headers", []) if key.lower() == name]
    if len(values) != 1:
        return None
    try:
        return values[0].decode("ascii")
    except UnicodeDecodeError:
        return None


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:  # what Django's get_host() allows in DEBUG
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def _is_secure(scope: Scope) -> bool:
    """As HttpRequest.is_secure(): the proxy's header when configured and sent, else the
    connection's own scheme (uvicorn sets it from X-Forwarded-Proto for trusted proxies)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = header.removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = _header(scope, name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def own_origin(scope: Scope) -> str | None:
    """This connection's own origin, if its Host is one the site answers to."""
    host = (_header(scope, b"host") or "").lower()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    scheme = "https" if settings.HTTPS or _is_secure(scope) else "http"
    return f"{scheme}://{host}"


def _trusted(origin: str) -> bool:
    """One of CSRF_TRUSTED_ORIGINS: exactly, or a subdomain where it says `*.`."""
    trusted = [o.lower() for o in settings.CSRF_TRUSTED_ORIGINS]
    if origin in trusted:
        return True
    parts = urlsplit(origin)
    for pattern in trusted:
        if "*" in pattern:
            allowed = urlsplit(pattern)
            if allowed.scheme == parts.scheme and is_same_domain(
                parts.netloc, allowed.netloc.lstrip("*")
            ):
                return True
    return False


def origin_allowed(scope: Scope) -> bool:
    origin = _header(scope, b"origin") or ""
    if not ORIGIN.fullmatch(origin):
        return False  # missing, repeated, "null", or not scheme://host[:port]
    if origin != origin.lower():
        # Not how an origin is written: RFC 6454 (6.2) serializes scheme and host in
        # lowercase, browsers send nothing else, and Django's CSRF check compares exactly.
        return False
    return origin == own_origin(scope) or _trusted(origin)


class SameOriginValidator:
    """ASGI middleware: refuse a websocket handshake unless it comes from one of our origins."""

    def __init__(self, application: ASGI3Application) -> None:
        self.application = application

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            logger.info(
                "websocket handshake refused: origin %r, host %r",
                _header(scope, b"origin"),
                _header(scope, b"host"),
            )
            denier = WebsocketDenier()
            await denier(scope, receive, send)
            return
        await self.application(scope, receive, send)
