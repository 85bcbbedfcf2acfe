"""allauth's sign-up form, safe when the same address signs up twice at the same moment.

allauth checks that an address is free, then saves: two sign-ups in that gap (a double
click, two tabs, a retry) both pass the check, and the second save breaks the unique email
(a 500). Here the save runs in its own transaction; if it breaks the unique email, nothing
of it is kept and the person is sent where every sign-up is sent: the page asking for the
code we emailed (the other sign-up's email; no second one is sent, and this request leaves
the browser's session alone, so a double click ends on the first sign-up's code page). The
answer is the same as for a new account, so no one learns whether an address has one.

Its own module: allauth.account.forms imports couples.forms (ACCOUNT_SIGNUP_FORM_CLASS).
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from couples.models import User


class SignupForm(AllauthSignupForm):
    def try_save(self, request: HttpRequest) -> tuple[User | None, HttpResponseBase | None]:
        try:
            with transaction.atomic():
                return super().try_save(request)
        except IntegrityError:
            return None, get_adapter().respond_email_verification_sent(request, None)
