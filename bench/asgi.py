"""The site's ASGI application plus the bench's echo socket (bench/echo.py).

Serve it with `DJANGO_SETTINGS_MODULE=bench.settings ASGI_APP=bench.asgi:application make
serve` (bench/two_hosts.sh and docs/performance.md do); production serves imago_site.asgi.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from channels.routing import URLRouter
from django.urls import path

from bench.echo import EchoConsumer
from imago_site.asgi import application as site_application

ECHO_PREFIX = "/ws/bench/echo/"
# django-stubs' path() knows views, not ASGI apps (typeddjango/django-stubs#3354).
echo_sockets = URLRouter([path("ws/bench/echo/<str:group>/", EchoConsumer.as_asgi())])  # type: ignore[arg-type]


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"].startswith(ECHO_PREFIX):
        return await echo_sockets(scope, receive, send)
    return await site_application(scope, receive, send)
