"""Failed log-ins counted per account *and* network address (couples/adapter.py says why),
in Django's cache, for allauth's public `pre_authenticate` / `authentication_failed` hooks."""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def network_of(ip: str) -> str:
    """An IPv6 address stands for its /64, as in allauth's own limits: one network can't
    rotate through its addresses to reset the count."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return ip


def _cache_key(*, login: str, request: HttpRequest) -> str:
    network = network_of(get_adapter(request).get_client_ip(request))
    # Hashed: the cache holds no email address.
    digest = hashlib.sha256(f"{login.lower()}\0{network}".encode()).hexdigest()
    return f"login-failed:{digest}"


def login_failures_key(*, request: HttpRequest, credentials: dict[str, Any]) -> str:
    login = str(credentials.get("email") or credentials.get("username") or "")
    return _cache_key(login=login, request=request)


def login_failures(key: str) -> bool:
    """Whether this account, from this network, has used up its failed log-ins."""
    limit = settings.IMAGO_FAILED_LOGINS
    return limit is not None and int(cache.get(key, 0)) >= limit[0]


def login_failure_count(key: str) -> None:
    limit = settings.IMAGO_FAILED_LOGINS
    if not limit:
        return
    # The window starts at the first failure (add only sets a missing key).
    cache.add(key, 0, timeout=limit[1])
    try:
        cache.incr(key)
    except ValueError:  # it expired between the two calls
        cache.add(key, 1, timeout=limit[1])


def login_failures_clear(*, request: HttpRequest, login: str) -> None:
    """A password reset lifts the count for the network it came from, as allauth's did."""
    cache.delete(_cache_key(login=login, request=request))
