"""allauth's account adapter, with one change: the per-account log-in throttle is per account
*and* network address.

allauth counts failed log-ins per network address ("10/m/ip"); we count them per address
typed and network address together (settings.IMAGO_FAILED_LOGINS, through allauth's public
`pre_authenticate` and `authentication_failed` hooks and Django's cache). Counted per address
typed alone, as allauth's "/key" limit does, anyone who knows a therapist's email could keep
them out of their own account by failing five times every five minutes from anywhere. Keyed by
the address typed and the network address together, those failures slow down only the
network address they came from: the real person, elsewhere, logs in as usual (and, as a
therapist, still needs their second factor). Guessing from one address is still limited to 5
tries per account per 5 minutes and 10 tries a minute in all; from many addresses, each one is
limited the same way, and the second factor stands behind the password for therapists and
staff.

Emails allauth sends (templates/account/email/, templates/mfa/email/) are in the language of
the account their address belongs to, else the page's (`send_mail`); a new account takes the
language its sign-up page was in (`save_user`), so its first emails are in it.

Two more: whoever opened a partner's invitation before signing up or logging in comes straight
back to it, however they reached the form (the invitation's own buttons carry `?next=`, the
header's links don't); and a log-in a moment ago counts as the recent password allauth asks
for before two-factor set-up, so a therapist isn't asked for it twice in a row (only for the
set-up: turning it off always asks again).
"""

from __future__ import annotations

from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

import live
from couples import languages, selectors, services
from couples.http import is_local_path
from couples.lockout import login_failure_count, login_failures, login_failures_key
from live import session_limits

# Pages that remove a second factor: they ask for a reauthentication however recent the log-in.
REMOVING_A_FACTOR = frozenset({"mfa_deactivate_totp"})

# An invitation opened before signing up or logging in (its token, in the session).
PENDING_INVITATION = "pending_invitation_token"


def pending_invitation_path(request: HttpRequest, user) -> str | None:
    """The invitation this browser opened before logging in, if this person may still accept it."""
    token = request.session.get(PENDING_INVITATION)
    if not token:
        return None
    invitation = selectors.invitation_by_token(token=token)
    if services.invitation_problem(invitation=invitation, user=user):
        return None
    return reverse("couples:invitation", args=[token])


def logged_in_recently(request: HttpRequest) -> bool:
    """Whether this login began less than ACCOUNT_REAUTHENTICATION_TIMEOUT ago."""
    login_at = request.session.get(session_limits.LOGIN_AT)
    if login_at is None:
        return False
    return session_limits.now() - float(login_at) < account_settings.REAUTHENTICATION_TIMEOUT


def address_language(email: str) -> str | None:
    """The language of the account this address belongs to (None: no account, or one with no
    language yet). A confirmed address first: an unconfirmed one may be anyone's typing."""
    from allauth.account.models import EmailAddress

    from couples.models import User

    address = (
        EmailAddress.objects.filter(email__iexact=email)
        .select_related("user")
        .order_by("-verified", "-primary")
        .first()
    )
    user = address.user if address else User.objects.filter(email__iexact=email).first()
    return languages.supported(user.language) if user else None


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """A new account speaks the language its sign-up page was in."""
        if not user.language:
            user.language = languages.supported(translation.get_language()) or ""
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every email allauth sends, in the language of the account the address belongs to
        (else the language of the page that sent it)."""
        language = address_language(email) or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def send_notification_mail(
        self,
        template_prefix: str,
        user: Any,
        context: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> None:
        """allauth's security notifications (a password, an address or two-factor changed),
        worded like our other emails (templates/account/email/base_notification.txt): who,
        when, which kind of device, and where to act if it wasn't them. No network address:
        the devices page shows those to the person, an email goes through other hands."""
        from couples.devices import device_name

        # In the person's language, also when it goes to an address no longer theirs (an
        # address changed or removed).
        with translation.override(languages.supported(user.language) or translation.get_language()):
            ctx = {
                "user": user,
                "device": device_name(self.get_http_user_agent(self.request)),
                "reset_url": settings.SITE_URL + reverse("account_reset_password"),
                "devices_url": settings.SITE_URL + reverse("couples:devices"),
                **(context or {}),
            }
            super().send_notification_mail(template_prefix, user, ctx, email=email)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)
        if login_failures(login_failures_key(request=request, credentials=credentials)):
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        super().authentication_failed(request, **credentials)
        login_failure_count(login_failures_key(request=request, credentials=credentials))

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # (Only when no ?next= came with the form: allauth prefers that.)
        return pending_invitation_path(request, request.user) or super().get_login_redirect_url(
            request
        )

    def is_safe_url(self, url: str | None) -> bool:
        # allauth's ?next= (log-in, sign-up, two-factor, log-out) follows the same rule as our
        # own forms: a path on this site, nothing else (couples.http.next_path).
        return is_local_path(url)

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        user = request.user if request.user.is_authenticated else None
        return pending_invitation_path(request, user) or super().get_signup_redirect_url(request)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # allauth counts only a reauthentication as recent, not the log-in just made: right after
        # logging in, setting up two-factor would ask for the password a second time. That
        # log-in never counts for turning two-factor off: that always asks again.
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        if request is None or not logged_in_recently(request):
            return True
        match = getattr(request, "resolver_match", None)
        return match is not None and match.url_name in REMOVING_A_FACTOR


class UserSessionsAdapter(DefaultUserSessionsAdapter):
    """allauth's user sessions, ended the way logging out ends one: the login is deleted from
    the session store, its live sockets close by event (`auth.revoked` to the login's group,
    as on logout), and the audit trail records it."""

    def end_sessions(self, sessions) -> None:
        from security.audit import audit

        request = context.request
        for session in sessions:
            session.end()
            live.sockets_close_for_login(session_key=session.session_key)
            audit(
                action="auth.device_signed_out",
                actor=getattr(request, "user", None),
                target=session.user,
                request=request,
            )
