"""Writes about people and couples. Each returns what it made, or raises CoupleError."""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

import live
from couples import languages, push, signals
from couples.models import (
    CalendarFeed,
    Couple,
    DeviceSharing,
    Invitation,
    Membership,
    User,
    hash_token,
    known_zones,
)
from couples.selectors import couple_for, invitation_by_token
from live import clock
from security.audit import audit
from security.models import AuditEvent

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

logger = logging.getLogger("imago.couples")


class CoupleError(Exception):
    """A request that can't be done; `message` is shown to the person as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str

    @property
    def path(self) -> str:
        return reverse("couples:invitation", args=[self.token])

    @property
    def url(self) -> str:
        return settings.SITE_URL + self.path


def _check_can_be_partner(user: User) -> None:
    if user.is_therapist:
        raise CoupleError(
            _(
                "Therapist accounts can't join a couple as a partner. "
                "Please use a personal account for your own relationship."
            )
        )
    if user.is_staff:
        raise CoupleError(_("Staff accounts can't join a couple as a partner."))


@transaction.atomic
def couple_create(*, user: User, partner_email: str = "") -> IssuedInvitation:
    """Start a couple and issue the first invitation for the partner."""
    _check_can_be_partner(user)
    User.objects.select_for_update().get(pk=user.pk)
    if couple_for(user=user) is not None:
        raise CoupleError(_("You're already in a couple."))
    couple = Couple.objects.create(created_by=user)
    Membership.objects.create(couple=couple, user=user)
    logger.info("couple created", extra={"couple": couple.public_id})
    return invitation_issue(user=user, couple=couple, email=partner_email)


def _invitations_revoke(
    invitations: QuerySet[Invitation],
    *,
    by: User | None,
    reason: str,
    request: HttpRequest | None = None,
) -> int:
    """The one way invitations stop working: each is revoked and audited (`by` is None when
    it stopped with something else, e.g. the couple ending)."""
    now = clock.now()
    revoked = 0
    for invitation in invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True):
        invitation.revoked_at = now
        invitation.save(update_fields=["revoked_at"])
        audit(
            action="invitation.revoked", actor=by, target=invitation, request=request, reason=reason
        )
        revoked += 1
    return revoked


@transaction.atomic
def invitation_issue(*, user: User, couple: Couple, email: str = "") -> IssuedInvitation:
    """A fresh single-use link; every earlier link of this couple that is neither accepted nor
    revoked stops working, expired ones included (the database allows one open link per
    couple). The couple's row is locked first: two links asked for at once are made one after
    the other, and the second revokes the first."""
    couple = Couple.objects.select_for_update().get(pk=couple.pk)
    if not couple.is_active or not couple.memberships.filter(user=user, is_active=True).exists():
        raise CoupleError(_("You can only invite a partner to your own couple."))
    if couple.memberships.filter(is_active=True).count() >= 2:
        raise CoupleError(_("Your couple already has two partners."))
    email = (email or "").strip().lower()
    if email and email == user.email.lower():
        raise CoupleError(_("That's your own email address; please enter your partner's."))
    _invitations_revoke(couple.invitations.select_for_update(), by=user, reason="replaced")
    now = clock.now()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        couple=couple,
        invited_by=user,
        email=email,
        token_hash=hash_token(token),
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    issued = IssuedInvitation(invitation=invitation, token=token)
    audit(action="invitation.issued", actor=user, target=invitation, emailed=bool(email))
    if email:
        transaction.on_commit(lambda: _send_invitation_email(issued, inviter=user))
    return issued


def _send_invitation_email(issued: IssuedInvitation, *, inviter: User) -> None:
    """To an address that may have no account yet: in the inviter's language."""
    context = {"inviter": inviter, "url": issued.url, "days": settings.INVITATION_VALID_DAYS}
    with translation.override(inviter.language_code):
        subject = _("[Imago] %(name)s invites you to pair up") % {"name": inviter.display_name}
        message = render_to_string("couples/email/invitation.txt", context)
    send_mail(
        subject=subject,
        message=message,
        from_email=None,
        recipient_list=[issued.invitation.email],
    )


@transaction.atomic
def invitation_revoke(*, user: User, invitation_public_id: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .filter(
            # One filter() call: the same membership must be the user's and active.
            public_id=invitation_public_id,
            couple__memberships__user=user,
            couple__memberships__is_active=True,
        )
        .first()
    )
    if invitation is None:
        raise CoupleError(_("That invitation wasn't found."))
    if not invitation.is_pending:
        raise CoupleError(_("That invitation can no longer be revoked."))
    _invitations_revoke(Invitation.objects.filter(pk=invitation.pk), by=user, reason="revoked")
    invitation.refresh_from_db(fields=["revoked_at"])
    return invitation


@transaction.atomic
def invitation_revoke_by_staff(
    *, invitation: Invitation, by: User, request: HttpRequest | None = None
) -> bool:
    """Staff stop an invitation link from working (audited). False if it wasn't pending."""
    pending = Invitation.objects.select_for_update().filter(pk=invitation.pk)
    return _invitations_revoke(pending, by=by, reason="staff", request=request) == 1


def invitation_problem(*, invitation: Invitation | None, user: User | None) -> str | None:
    """Why this person can't accept this invitation now (None if they can)."""
    if invitation is None:
        return _("This invitation link isn't valid. Please ask your partner for a new one.")
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        return _("This invitation has already been used.")
    if status == Invitation.Status.REVOKED:
        return _("This invitation was withdrawn. Please ask your partner for a new one.")
    if status == Invitation.Status.EXPIRED:
        return _("This invitation has expired. Please ask your partner for a new one.")
    if not invitation.couple.is_active:
        return _("This couple is no longer active.")
    if user is None or not user.is_authenticated:
        return None
    if (
        invitation.invited_by_id == user.pk
        or invitation.couple.memberships.filter(user=user).exists()
    ):
        return _("This is your own invitation — send the link to your partner.")
    if user.is_therapist:
        return _(
            "Therapist accounts can't join a couple as a partner. "
            "Please use a personal account for your own relationship."
        )
    if user.is_staff:
        return _("Staff accounts can't join a couple as a partner.")
    if couple_for(user=user) is not None:
        return _("You're already in a couple. Leave it first if you want to join this one.")
    return None


def invitation_accept(*, user: User, token: str) -> Couple:
    """Join the couple the token invites to. Single use, even when clicked twice at once."""
    try:
        with transaction.atomic():
            found = invitation_by_token(token=token)
            if found is not None:  # the couple first, as invitation_issue locks: no deadlock
                Couple.objects.select_for_update().filter(pk=found.couple_id).first()
            invitation = (
                Invitation.objects.select_for_update().select_related("couple").get(pk=found.pk)
                if found
                else None
            )
            problem = invitation_problem(invitation=invitation, user=user)
            if problem:
                raise CoupleError(problem)
            assert invitation is not None
            couple = Couple.objects.select_for_update().get(pk=invitation.couple_id)
            if couple.memberships.filter(is_active=True).count() >= 2:
                raise CoupleError(_("This couple already has two partners."))
            Membership.objects.create(couple=couple, user=user)
            invitation.accepted_at = clock.now()
            invitation.accepted_by = user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            audit(action="invitation.accepted", actor=user, target=invitation)
            live.couple_changed(couple_id=couple.pk)  # the inviter's waiting page goes on
    except IntegrityError as exc:
        # The database's one-active-couple rule caught a race with another accept.
        raise CoupleError(_("You're already in a couple.")) from exc
    logger.info("invitation accepted", extra={"couple": couple.public_id})
    return couple


@transaction.atomic
def couple_leave(*, user: User) -> Couple:
    """Either partner leaves: the couple becomes inactive for both; its history stays."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("couple")
        .filter(user=user, is_active=True)
        .first()
    )
    if membership is None:
        raise CoupleError(_("You're not in a couple."))
    couple = membership.couple
    # A live dialogue and every therapist link end with the couple (dialogues, therapists).
    signals.couple_ending.send(sender=Couple, couple=couple, user=user)
    now = clock.now()
    couple.is_active = False
    couple.ended_at = now
    couple.save(update_fields=["is_active", "ended_at"])
    couple.memberships.filter(is_active=True).update(is_active=False, left_at=now)
    _invitations_revoke(couple.invitations.all(), by=None, reason="couple_ended")
    live.couple_ended(couple_id=couple.pk)  # its home pages' sockets close: access changed
    logger.info("couple ended", extra={"couple": couple.public_id})
    return couple


def two_factor_hint_dismiss(*, user: User) -> None:
    """The partner said no thanks to the two-factor suggestion (again: nothing changes)."""
    User.objects.filter(pk=user.pk, two_factor_hint_dismissed_at__isnull=True).update(
        two_factor_hint_dismissed_at=clock.now()
    )


# --- accounts: deactivation, therapist verification, deletion --------------------------------

DELETED_NAME = "Deleted account"


def user_sessions_end(*, user: User) -> int:
    """Log the person out everywhere: delete their sessions from the session store.

    Scans the unexpired sessions: bounded by their 12-hour life, and done only on the rare
    deactivation or deletion.
    """
    from allauth.usersessions.models import UserSession

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    ended = 0
    for session in Session.objects.filter(expire_date__gt=clock.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            store.delete(session.session_key)  # through the store: its cached copy goes too
            # and again once the deletion is committed: a request that read the row
            # meanwhile may have put it back in the cache.
            transaction.on_commit(functools.partial(store.delete, session.session_key))
            ended += 1
    UserSession.objects.filter(user=user).delete()  # the devices list: address, browser
    live.sockets_close_for_user(user_pk=user.pk)
    return ended


@transaction.atomic
def user_deactivate(*, user: User, by: User, request: HttpRequest | None = None) -> User:
    """Staff switch an account off: it can't log in, and is logged out everywhere now."""
    if user.pk == by.pk:
        raise CoupleError(_("You can't deactivate your own account."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit(action="user.deactivated", actor=by, target=user, request=request)
    signals.access_ending.send(sender=User, user=user, reason="deactivated")
    user_sessions_end(user=user)
    return user


@transaction.atomic
def user_reactivate(*, user: User, by: User, request: HttpRequest | None = None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit(action="user.reactivated", actor=by, target=user, request=request)
    return user


@transaction.atomic
def therapist_verify(
    *, therapist: User, by: User, reason: str, request: HttpRequest | None = None
) -> User:
    """Staff confirm a therapist's credentials; the reason goes to the audit trail."""
    therapist = User.objects.select_for_update().get(pk=therapist.pk)
    if not therapist.is_therapist:
        raise CoupleError(_("%(email)s is not a therapist account.") % {"email": therapist.email})
    therapist.therapist_verified_at = clock.now()
    therapist.save(update_fields=["therapist_verified_at"])
    audit(
        action="therapist.verified",
        actor=by,
        target=therapist,
        request=request,
        reason=reason.strip()[:500],
    )
    return therapist


@transaction.atomic
def therapist_unverify(
    *, therapist: User, by: User, reason: str, request: HttpRequest | None = None
) -> User:
    therapist = User.objects.select_for_update().get(pk=therapist.pk)
    if not therapist.is_therapist:
        raise CoupleError(_("%(email)s is not a therapist account.") % {"email": therapist.email})
    therapist.therapist_verified_at = None
    therapist.save(update_fields=["therapist_verified_at"])
    audit(
        action="therapist.unverified",
        actor=by,
        target=therapist,
        request=request,
        reason=reason.strip()[:500],
    )
    # Access needs a verified therapist: it ends now, and open consoles close.
    signals.access_ending.send(sender=User, user=therapist, reason="unverified")
    return therapist


def _audit_trail_anonymise(user: User) -> None:
    """The trail keeps what happened and when, without the person: their events keep a
    pseudonym instead of their address and no network address; failed log-ins to their
    addresses (theirs or anyone's: we can't tell) keep neither the keyed hash of the address
    nor where they came from. Others' events about them (staff, a therapist) are the others'."""
    from allauth.account.models import EmailAddress

    pseudonym = f"deleted:{user.public_id}"
    AuditEvent.objects.filter(actor=user).update(actor_email=pseudonym, ip_address=None)
    addresses = {
        user.email,
        *EmailAddress.objects.filter(user=user).values_list("email", flat=True),
    }
    for address in addresses:
        AuditEvent.objects.filter(
            action="auth.login_failed", details__account=signals.attempted_account(address)
        ).update(ip_address=None, details={"account": pseudonym})


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Delete a person's account, as docs/security.md ("Your data") promises.

    Their own words in shared dialogues are erased (the turns stay, marked as removed, so the
    partner's transcript still reads in order); live dialogues end; the couple ends;
    invitations are revoked; they are logged out everywhere. The account row is kept,
    anonymised, so what the partner keeps never points at a missing person.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    user = User.objects.select_for_update().get(pk=user.pk)
    if couple_for(user=user) is not None:
        couple_leave(user=user)  # its live dialogue and therapist links end with it
    _invitations_revoke(Invitation.objects.filter(invited_by=user), by=None, reason="deleted")
    # Their words are erased, their access as a therapist ends (dialogues, therapists).
    signals.access_ending.send(sender=User, user=user, reason="deleted")
    signals.account_deleting.send(sender=User, user=user)

    _audit_trail_anonymise(user)
    # Recorded with no person and no address: the request came from theirs.
    audit(action="account.deleted", actor=None, target=user)
    # Invitations they sent (an address they typed) and sent to them (theirs) keep no address.
    Invitation.objects.filter(Q(invited_by=user) | Q(email__iexact=user.email)).update(email="")
    # The admin's history names the account it is about.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=DELETED_NAME)

    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    CalendarFeed.objects.filter(person=user).delete()  # its link stops working at once
    push.subscriptions_remove_all(user=user)  # no device hears of them again
    user.time_zone = ""  # where they live, roughly
    user.language = ""  # and where they may come from
    user.email = f"deleted-{user.public_id.lower()}@deleted.invalid"
    user.display_name = DELETED_NAME
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.therapist_verified_at = None
    user.last_login = None
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    user_sessions_end(user=user)
    logger.info("account deleted", extra={"user": user.public_id})


# --- time zone, email choices and the calendar feed ----------------------------------------


def person_time_zone_set(*, user: User, zone: str, only_if_unset: bool = False) -> bool:
    """Set this person's time zone (an IANA name). `only_if_unset`: the browser's guess on a
    first visit, which never overrides a choice. True when it changed."""
    zone = (zone or "").strip()
    if zone not in known_zones():
        raise CoupleError(_("Please choose a time zone from the list."))
    if only_if_unset:
        return bool(User.objects.filter(pk=user.pk, time_zone="").update(time_zone=zone))
    changed = user.time_zone != zone
    user.time_zone = zone
    User.objects.filter(pk=user.pk).update(time_zone=zone)
    return changed


def person_language_set(*, user: User, language: str, only_if_unset: bool = False) -> bool:
    """Set the language of this person's pages, pushes and emails. `only_if_unset`: the
    browser's language on a first request, which never overrides a choice. True if changed."""
    code = languages.offered(language)
    if code is None:
        raise CoupleError(_("Please choose a language from the list."))
    if only_if_unset:
        changed = bool(User.objects.filter(pk=user.pk, language="").update(language=code))
    else:
        changed = user.language != code
        User.objects.filter(pk=user.pk).update(language=code)
    if changed or not only_if_unset:
        user.language = code
    return changed


def person_your_move_emails_set(*, user: User, on: bool) -> None:
    user.your_move_emails = on
    User.objects.filter(pk=user.pk).update(your_move_emails=on)


def calendar_feed_new(*, user: User) -> str:
    """A new private feed token for this person (shown once); any earlier one stops working."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        CalendarFeed.objects.filter(person=user, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        CalendarFeed.objects.create(person=user, token_hash=hash_token(token))
    return token


def calendar_feed_revoke(*, user: User) -> int:
    return CalendarFeed.objects.filter(person=user, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


# --- together on one device: a partner's standing permission ---------------------------------


def device_sharing_allow(*, user: User, request: object = None) -> bool:
    """This partner allows the other to take their turns in a said-aloud dialogue on the
    other's device, until they withdraw it. Audited. False if it was allowed already."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        couple = couple_for(user=user)
        if couple is None:
            raise CoupleError(_("You can allow this once your partner has joined you."))
        if DeviceSharing.objects.filter(
            couple=couple, granted_by=user, revoked_at__isnull=True
        ).exists():
            return False
        sharing = DeviceSharing.objects.create(couple=couple, granted_by=user)
        audit(action="device_sharing.allowed", actor=user, target=sharing, request=request)
    return True


def device_sharing_revoke(*, user: User, request: object = None) -> int:
    """This partner withdraws that permission: audited, and whatever dialogue runs on one
    device for them stops at once (`signals.device_sharing_revoked`, in this transaction)."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        standing = list(
            DeviceSharing.objects.select_for_update().filter(
                granted_by=user, revoked_at__isnull=True
            )
        )
        for sharing in standing:
            sharing.revoked_at = clock.now()
            sharing.save(update_fields=["revoked_at"])
            audit(action="device_sharing.revoked", actor=user, target=sharing, request=request)
            couple = Couple.objects.get(pk=sharing.couple_id)
            signals.device_sharing_revoked.send(sender=DeviceSharing, couple=couple, user=user)
    return len(standing)
