"""What other apps hear from couples (sent inside the transaction that makes the change, so
whatever they do commits or rolls back with it), and the login receivers: logins into the
audit trail, the login time into the session (for its 12-hour limit), logouts closing sockets.

The apps after couples connect in their AppConfig.ready(): couples never imports them.
"""

from __future__ import annotations

import hashlib
import hmac

from allauth.account.models import EmailAddress
from allauth.account.signals import email_added, password_changed, password_reset, password_set
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver

import live
from couples.lockout import login_failures_clear
from live import session_limits
from security.audit import audit

# A couple is ending (a partner left or deleted their account). kwargs: couple, user.
couple_ending = Signal()
# A person's access ends: reason "deactivated", "unverified" (a therapist) or "deleted".
access_ending = Signal()
# A person's account is being deleted: erase what they wrote. kwargs: user.
account_deleting = Signal()
# An ended couple's content has been kept as long as the retention period allows: erase it
# (couples/retention.py, the daily purge). kwargs: couple.
couple_purging = Signal()
# A person downloads their data: each receiver returns {section name: data}. kwargs: user.
account_exporting = Signal()
# A partner withdrew their permission for the other to take their turns on one device
# (DeviceSharing): whatever runs on it stops now. kwargs: couple, user (who withdrew it).
device_sharing_revoked = Signal()


def attempted_account(email: str) -> str:
    """A keyed hash of an address someone tried to log in with.

    Repeated failures against one account can be seen together without keeping the address
    typed (often a typo, or somebody else's); keyed, so it can't be reversed by hashing a
    list of addresses without the server's secret.
    """
    normalized = (email or "").strip().lower().encode()
    return hmac.new(settings.SECRET_KEY.encode(), normalized, hashlib.sha256).hexdigest()[:16]


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        at = session_limits.now()
        request.session[session_limits.LOGIN_AT] = at
        request.session[session_limits.SEEN_AT] = at
        _device_remember(request, user)
    audit(action="auth.login", actor=user, target=user, request=request)


def _device_remember(request, user) -> None:
    """Every login is on the devices page, however it happened: allauth records those made
    through its own flows (its `user_logged_in`); this records any other (Django's)."""
    from allauth.core.internal.httpkit import HTTP_USER_AGENT_MAX_LENGTH, get_client_ip
    from allauth.usersessions.models import UserSession

    ip = get_client_ip(request)
    if not ip:
        return  # no request from a browser (allauth's own record needs an address too)
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.get_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip": ip,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:HTTP_USER_AGENT_MAX_LENGTH],
        },
    )


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs) -> None:
    # Only this browser's login: the person's other devices stay signed in.
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    live.sockets_close_for_login(session_key=session_key)
    if user is not None:
        audit(action="auth.logout", actor=user, target=user, request=request)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    email = credentials.get("email") or credentials.get("username") or ""
    audit(action="auth.login_failed", request=request, account=attempted_account(email))


@receiver(email_added)
def on_email_added(sender, request, user, email_address, **kwargs) -> None:
    """allauth tells the new address (its confirmation code) but not the person's own: a
    security notification to the main address, like a changed password's."""
    from allauth.account.adapter import get_adapter

    get_adapter(request).send_notification_mail(
        "account/email/email_added", user, {"added_email": email_address.email}
    )


@receiver(password_reset)
def on_password_reset(sender, request, user, **kwargs) -> None:
    """A reset proves the person holds the mailbox: lift the failed log-ins counted from the
    address it was made from, for each of their addresses (as allauth does for its own)."""
    for address in EmailAddress.objects.filter(user=user).values_list("email", flat=True):
        login_failures_clear(request=request, login=address)


@receiver(password_changed)
@receiver(password_set)
@receiver(password_reset)
def on_new_password(sender, request, user, **kwargs) -> None:
    from couples.devices import devices_sign_out_after_new_password

    devices_sign_out_after_new_password(user=user, request=request)
