"""Public ids in URLs are unguessable: no URL outside the admin takes an integer."""

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

from imago_site.asgi import websocket_urlpatterns


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(
                entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace
            )
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def takes_an_integer(route: str, entry) -> bool:
    converters = getattr(entry.pattern, "converters", {})
    return any(isinstance(c, IntConverter) for c in converters.values()) or any(
        token in route for token in ("<int:", r"\d", "[0-9]")
    )


def test_no_url_takes_an_integer_outside_the_admin():
    found = [
        route
        for route, namespace, entry in walk(get_resolver().url_patterns)
        if namespace != "admin" and takes_an_integer(route, entry)
    ]
    assert found == []


def test_the_walk_sees_the_app_and_admin_urls():
    routes = {route for route, _, _ in walk(get_resolver().url_patterns)}
    assert "dialogues/<str:public_id>/" in routes and "account/delete/" in routes
    assert any(r.startswith("admin/") for r in routes)


def test_no_websocket_route_takes_an_integer():
    for entry in websocket_urlpatterns:
        assert not takes_an_integer(str(entry.pattern), entry), entry.pattern
