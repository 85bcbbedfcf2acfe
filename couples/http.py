"""Request types for the type checker (what a view may rely on once middleware and decorators
have run; nothing here changes a request at runtime), and the one rule for following a
next/return address a person could have typed."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from couples.models import User


class HtmxRequest(HttpRequest):
    """Any request, past django-htmx's middleware (settings.MIDDLEWARE)."""

    htmx: HtmxDetails


class AuthedRequest(HtmxRequest):
    """A request past `login_required`: its user is signed in."""

    user: User


# Longer than any page of ours, with room for its query string.
MAX_NEXT = 2000


def is_local_path(url: object) -> bool:
    """Whether a `next`/return address from a form or a query string is a path on this site
    ("/…", not "//host" nor "/\\host") that a redirect may follow. A bare word ("abc") is not:
    `redirect()` would try it as a view name, and a browser would take it relative to the
    page; nor is anything with a scheme, a host, control characters, or too long."""
    if not isinstance(url, str) or not url or len(url) > MAX_NEXT:
        return False
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    # Django's own check as well (it knows browsers' quirks with schemes and backslashes).
    return url_has_allowed_host_and_scheme(url, allowed_hosts=set())


def next_path(url: object, *, default: str) -> str:
    """Where to go back to after a form: `url` (a user-supplied next/return address) if it is
    a path on this site, else `default` — never a view name, another host or a scheme.
    The only way a redirect here follows an address a person could have typed."""
    return url if isinstance(url, str) and is_local_path(url) else default
