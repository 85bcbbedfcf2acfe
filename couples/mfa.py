"""allauth's MFA adapter, encrypting what it stores: TOTP secrets and recovery-code seeds are
kept in Authenticator.data as Fernet tokens under FIELD_ENCRYPTION_KEYS (security/encrypted.py),
through the adapter's own encrypt/decrypt hook.

And allauth's two-factor set-up form (MFA_FORMS["activate_totp"]), keeping the secret already
shown until it is turned on; and what follows an authenticator app added or removed."""

from __future__ import annotations

from typing import Any

from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from allauth.mfa.totp.forms import ActivateTOTPForm as BaseActivateTOTPForm
from django.db.models.signals import post_delete
from django.dispatch import receiver

import live
from couples.models import User
from couples.selectors import two_factor_missing
from security.encrypted import UnreadableValue, decrypt_str, encrypt_str

# The secret the set-up page shows, until it is turned on: {"user": pk, "secret": Fernet token}.
PENDING_SECRET = "imago_totp_pending"


class EncryptingMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt_str(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_str(encrypted_text)


class ActivateTOTPForm(BaseActivateTOTPForm):
    """allauth's set-up form, showing the same secret every time until it is turned on.

    allauth makes a new secret on every GET of the set-up page, so anything that loaded it
    again (a second tab, a reload, a request redirected there in the background) left the QR
    code on the screen stale and every code typed from it "Incorrect". The secret first shown
    to this login is kept in its session (encrypted, like a stored one) and used for every
    page and post after, until two-factor authentication is turned on
    (couples/signals.py forgets it then) or the login ends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        session = context.request.session
        pending = session.get(PENDING_SECRET)
        secret = None
        if isinstance(pending, dict) and pending.get("user") == self.user.pk:
            try:
                secret = decrypt_str(str(pending.get("secret", "")))
            except UnreadableValue:  # the keys changed meanwhile: show a new one
                secret = None
        if secret:
            self.secret = secret
        elif not self.is_bound:
            session[PENDING_SECRET] = {"user": self.user.pk, "secret": encrypt_str(self.secret)}


def pending_secret_forget(*, request: Any) -> None:
    """Two-factor authentication was turned on: the next set-up (after removing it) shows a
    new secret."""
    session = getattr(request, "session", None)
    if session is not None:
        session.pop(PENDING_SECRET, None)


# --- turned on, turned off: connected when the app is ready (couples/apps.py) ---------------


@receiver(authenticator_added)
def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    pending_secret_forget(request=request)


@receiver(post_delete, sender=Authenticator)
def on_authenticator_deleted(sender, instance, **kwargs) -> None:
    """An authenticator app removed (turned off by its owner, or deleted by staff as a lost
    phone's reset): someone who must have one reads nothing more until they set up a new one.
    Their pages say so (imago_site/middleware.py); their open sockets close now, by event."""
    if instance.type != Authenticator.Type.TOTP:
        return
    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None and two_factor_missing(user=user):
        live.sockets_close_for_user(user_pk=user.pk)
