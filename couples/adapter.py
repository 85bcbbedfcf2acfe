"""allauth's account adapter, with one change: the per-account log-in throttle is per account
*and* network address.

allauth counts failed log-ins per address typed ("5/300s/key") and per network address
("10/m/ip"). Counted per address typed alone, anyone who knows a therapist's email could keep
them out of their own account by failing five times every five minutes from anywhere. Keyed by
the address typed and the network address together, those failures slow down only the
network address they came from: the real person, elsewhere, logs in as usual (and, as a
therapist, still needs their second factor). Guessing from one address is still limited to 5
tries per account per 5 minutes and 10 tries a minute in all; from many addresses, each one is
limited the same way, and the second factor stands behind the password for therapists and
staff.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal.ratelimit import get_ip
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        account = super()._get_login_attempts_cache_key(request, **credentials)
        # get_ip: the client's address as allauth's own per-address limit sees it (an IPv6
        # address stands for its /64, so an attacker can't rotate through one network).
        return f"{account}:from:{get_ip(request)}"
