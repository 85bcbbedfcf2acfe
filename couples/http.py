"""Request types for the type checker: what a view may rely on once middleware and decorators
have run. Nothing here changes a request at runtime."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from couples.models import User


class HtmxRequest(HttpRequest):
    """Any request, past django-htmx's middleware (settings.MIDDLEWARE)."""

    htmx: HtmxDetails


class AuthedRequest(HtmxRequest):
    """A request past `login_required`: its user is signed in."""

    user: User
