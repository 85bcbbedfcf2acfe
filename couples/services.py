"""Writes about people and couples. Each returns what it made, or raises CoupleError."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from couples.audit import audit
from couples.models import (
    AuditEvent,
    Consent,
    Couple,
    Invitation,
    Membership,
    TherapistLink,
    User,
    hash_token,
    new_link_code,
)
from couples.selectors import couple_for, invitation_by_token

logger = logging.getLogger("imago.couples")


class CoupleError(Exception):
    """A request that can't be done; `message` is shown to the person as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LinkNotFound(CoupleError):
    """No such therapist link for this person (never says which); views answer 404."""

    def __init__(self) -> None:
        super().__init__("That therapist link wasn't found.")


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
            "Therapist accounts can't join a couple as a partner. "
            "Please use a personal account for your own relationship."
        )
    if user.is_staff:
        raise CoupleError("Staff accounts can't join a couple as a partner.")


@transaction.atomic
def couple_create(*, user: User, partner_email: str = "") -> IssuedInvitation:
    """Start a couple and issue the first invitation for the partner."""
    _check_can_be_partner(user)
    User.objects.select_for_update().get(pk=user.pk)
    if couple_for(user=user) is not None:
        raise CoupleError("You're already in a couple.")
    couple = Couple.objects.create(created_by=user)
    Membership.objects.create(couple=couple, user=user)
    logger.info("couple created", extra={"couple": couple.public_id})
    return invitation_issue(user=user, couple=couple, email=partner_email)


@transaction.atomic
def invitation_issue(*, user: User, couple: Couple, email: str = "") -> IssuedInvitation:
    """A fresh single-use link; earlier pending links for this couple stop working."""
    if not couple.is_active or not couple.memberships.filter(user=user, is_active=True).exists():
        raise CoupleError("You can only invite a partner to your own couple.")
    if couple.memberships.filter(is_active=True).count() >= 2:
        raise CoupleError("Your couple already has two partners.")
    email = (email or "").strip().lower()
    if email and email == user.email.lower():
        raise CoupleError("That's your own email address; please enter your partner's.")
    now = timezone.now()
    couple.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        couple=couple,
        invited_by=user,
        email=email,
        token_hash=hash_token(token),
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    issued = IssuedInvitation(invitation=invitation, token=token)
    if email:
        transaction.on_commit(lambda: _send_invitation_email(issued, inviter=user))
    return issued


def _send_invitation_email(issued: IssuedInvitation, *, inviter: User) -> None:
    context = {"inviter": inviter, "url": issued.url, "days": settings.INVITATION_VALID_DAYS}
    send_mail(
        subject=f"[Imago] {inviter.display_name} invites you to pair up",
        message=render_to_string("couples/email/invitation.txt", context),
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
        raise CoupleError("That invitation wasn't found.")
    if not invitation.is_pending:
        raise CoupleError("That invitation can no longer be revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_problem(*, invitation: Invitation | None, user: User | None) -> str | None:
    """Why this person can't accept this invitation now (None if they can)."""
    if invitation is None:
        return "This invitation link isn't valid. Please ask your partner for a new one."
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        return "This invitation has already been used."
    if status == Invitation.Status.REVOKED:
        return "This invitation was withdrawn. Please ask your partner for a new one."
    if status == Invitation.Status.EXPIRED:
        return "This invitation has expired. Please ask your partner for a new one."
    if not invitation.couple.is_active:
        return "This couple is no longer active."
    if user is None or not user.is_authenticated:
        return None
    if (
        invitation.invited_by_id == user.pk
        or invitation.couple.memberships.filter(user=user).exists()
    ):
        return "This is your own invitation — send the link to your partner."
    if user.is_therapist:
        return (
            "Therapist accounts can't join a couple as a partner. "
            "Please use a personal account for your own relationship."
        )
    if user.is_staff:
        return "Staff accounts can't join a couple as a partner."
    if couple_for(user=user) is not None:
        return "You're already in a couple. Leave it first if you want to join this one."
    return None


def invitation_accept(*, user: User, token: str) -> Couple:
    """Join the couple the token invites to. Single use, even when clicked twice at once."""
    try:
        with transaction.atomic():
            found = invitation_by_token(token=token)
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
                raise CoupleError("This couple already has two partners.")
            Membership.objects.create(couple=couple, user=user)
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
    except IntegrityError as exc:
        # The database's one-active-couple rule caught a race with another accept.
        raise CoupleError("You're already in a couple.") from exc
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
        raise CoupleError("You're not in a couple.")
    couple = membership.couple
    from dialogues.services import couple_dialogues_end

    couple_dialogues_end(couple_id=couple.pk, user=user)  # a live dialogue ends with the couple
    now = timezone.now()
    couple.is_active = False
    couple.ended_at = now
    couple.save(update_fields=["is_active", "ended_at"])
    couple.memberships.filter(is_active=True).update(is_active=False, left_at=now)
    couple.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    couple_therapist_links_end(couple=couple)
    logger.info("couple ended", extra={"couple": couple.public_id})
    return couple


# --- therapist links and consent -----------------------------------------------------------

LINK_CODE_VALID_DAYS = 7
THERAPIST_INVITATION_VALID_DAYS = 14


def _check_verified_therapist(user: User) -> None:
    if not user.is_therapist:
        raise CoupleError("Only therapist accounts can do that.")
    if not user.is_verified_therapist:
        raise CoupleError(
            "Your therapist account isn't verified yet. You can link to couples once our team "
            "has checked it."
        )


def _my_couple_with_partner(user: User) -> Couple:
    couple = couple_for(user=user)
    if couple is None or user.is_therapist or user.is_staff:
        raise CoupleError("You can link a therapist once you're paired with your partner.")
    if couple.memberships.filter(is_active=True).count() < 2:
        raise CoupleError("You can link a therapist once your partner has joined you.")
    return couple


def _close_consoles_after_commit(link: TherapistLink) -> None:
    """Tell the therapist's open console sockets for this couple to close (ids only)."""
    group = link.access_group

    def send() -> None:
        from dialogues.services import _send

        _send(group, {"type": "therapist.access_ended"})

    transaction.on_commit(send)


def _refresh_couple_after_commit(couple_id: int) -> None:
    def send() -> None:
        from dialogues.services import _send, couple_group

        _send(couple_group(couple_id), {"type": "couple.changed"})

    transaction.on_commit(send)


def _maybe_activate(link: TherapistLink) -> None:
    """Access starts when the therapist has accepted and both partners have consented."""
    from couples.selectors import link_grants_access

    if link.status != TherapistLink.Status.PENDING or link.therapist_accepted_at is None:
        return
    if link.therapist is None or link.couple is None:
        return
    link.status = TherapistLink.Status.ACTIVE
    if not link_grants_access(link):
        link.status = TherapistLink.Status.PENDING
        return
    link.activated_at = timezone.now()
    link.save(update_fields=["status", "activated_at"])
    logger.info("therapist link active", extra={"link": link.public_id})


def _end_link(link: TherapistLink, *, reason: str) -> None:
    was_active = link.status == TherapistLink.Status.ACTIVE
    link.status = TherapistLink.Status.ENDED
    link.ended_at = timezone.now()
    link.end_reason = reason
    if link.code and link.couple_id is None:
        link.code = None
    link.save(update_fields=["status", "ended_at", "end_reason", "code"])
    link.consents.filter(withdrawn_at__isnull=True).update(withdrawn_at=link.ended_at)
    if was_active:
        _close_consoles_after_commit(link)
    if link.couple_id:
        _refresh_couple_after_commit(link.couple_id)


def _give_consent(link: TherapistLink, user: User, request=None) -> Consent:
    consent, created = Consent.objects.get_or_create(link=link, partner=user)
    if not created and consent.withdrawn_at is not None:
        raise CoupleError("You withdrew your consent to this link. Please start a new one.")
    if created:
        audit(
            action="consent.given",
            actor=user,
            target=link,
            request=request,
            couple=link.couple.public_id if link.couple else "",
        )
    return consent


@transaction.atomic
def link_code_issue(*, therapist: User) -> TherapistLink:
    """A fresh link code the therapist gives to a couple (valid for a week, single use)."""
    _check_verified_therapist(therapist)
    for _attempt in range(5):
        code = new_link_code()
        if not TherapistLink.objects.filter(code=code).exists():
            break
    now = timezone.now()
    link = TherapistLink.objects.create(
        therapist=therapist,
        code=code,
        created_by=therapist,
        therapist_accepted_at=now,
        expires_at=now + timedelta(days=LINK_CODE_VALID_DAYS),
    )
    audit(action="therapist_link.code_issued", actor=therapist, target=link)
    return link


def _normalize_code(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())[:20]
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw


def link_code_redeem(*, user: User, code: str, request=None) -> TherapistLink:
    """A partner enters a therapist's code: the link is made for their couple, with their
    consent. Access starts once their partner consents too."""
    code = _normalize_code(code)
    if not code:
        raise CoupleError("Please enter the code your therapist gave you.")
    try:
        with transaction.atomic():
            couple = _my_couple_with_partner(user)
            link = (
                TherapistLink.objects.select_for_update(of=("self",))
                .select_related("therapist")
                .filter(code=code, couple__isnull=True, status=TherapistLink.Status.PENDING)
                .first()
            )
            if link is None or (link.expires_at and link.expires_at <= timezone.now()):
                raise CoupleError(
                    "That code isn't valid. Please check it, or ask your therapist for a new one."
                )
            if not link.therapist.is_verified_therapist or not link.therapist.is_active:
                raise CoupleError("This therapist can't be linked right now.")
            if TherapistLink.objects.filter(
                therapist=link.therapist, couple=couple, status__in=["pending", "active"]
            ).exists():
                raise CoupleError("You're already linked with this therapist.")
            link.couple = couple
            link.code = None
            link.save(update_fields=["couple", "code"])
            _give_consent(link, user, request)
            _maybe_activate(link)
            _refresh_couple_after_commit(couple.pk)
    except IntegrityError as exc:
        raise CoupleError("You're already linked with this therapist.") from exc
    return link


@transaction.atomic
def therapist_invite(*, user: User, email: str, request=None) -> TherapistLink:
    """A partner invites a therapist by email; the therapist accepts in a therapist account."""
    couple = _my_couple_with_partner(user)
    email = (email or "").strip().lower()
    if not email or "@" not in email or len(email) > 254:
        raise CoupleError("Please enter your therapist's email address.")
    if couple.memberships.filter(user__email__iexact=email).exists():
        raise CoupleError("That's a partner's address; please enter your therapist's.")
    if (
        TherapistLink.objects.filter(couple=couple, status__in=["pending", "active"])
        .filter(Q(invited_email__iexact=email) | Q(therapist__email__iexact=email))
        .exists()
    ):
        raise CoupleError("You've already invited or linked this therapist.")
    now = timezone.now()
    link = TherapistLink.objects.create(
        couple=couple,
        invited_email=email,
        created_by=user,
        expires_at=now + timedelta(days=THERAPIST_INVITATION_VALID_DAYS),
    )
    _give_consent(link, user, request)
    audit(action="therapist_link.invited", actor=user, target=link, request=request)
    _refresh_couple_after_commit(couple.pk)
    transaction.on_commit(lambda: _send_therapist_invitation(link, inviter=user))
    return link


def _send_therapist_invitation(link: TherapistLink, *, inviter: User) -> None:
    context = {
        "inviter": inviter,
        "url": settings.SITE_URL + reverse("therapists:dashboard"),
        "days": THERAPIST_INVITATION_VALID_DAYS,
    }
    send_mail(
        subject=f"[Imago] {inviter.display_name} invites you to facilitate their dialogues",
        message=render_to_string("couples/email/therapist_invitation.txt", context),
        from_email=None,
        recipient_list=[link.invited_email],
    )


def therapist_invitation_accept(
    *, therapist: User, link_public_id: str, request=None
) -> TherapistLink:
    try:
        with transaction.atomic():
            _check_verified_therapist(therapist)
            link = (
                TherapistLink.objects.select_for_update(of=("self",))
                .select_related("couple")
                .filter(
                    public_id=link_public_id,
                    therapist__isnull=True,
                    invited_email__iexact=therapist.email,
                    status=TherapistLink.Status.PENDING,
                )
                .first()
            )
            if link is None:
                raise LinkNotFound()
            if link.expires_at and link.expires_at <= timezone.now():
                raise CoupleError("That invitation has expired.")
            if not link.couple.is_active:
                raise CoupleError("This couple is no longer active.")
            link.therapist = therapist
            link.therapist_accepted_at = timezone.now()
            link.save(update_fields=["therapist", "therapist_accepted_at"])
            audit(action="therapist_link.accepted", actor=therapist, target=link, request=request)
            _maybe_activate(link)
            _refresh_couple_after_commit(link.couple_id)
    except IntegrityError as exc:
        raise CoupleError("You're already linked with this couple.") from exc
    return link


@transaction.atomic
def therapist_link_end(*, therapist: User, link_public_id: str, request=None) -> TherapistLink:
    """The therapist declines an invitation, cancels a code, or ends a link."""
    link = (
        TherapistLink.objects.select_for_update(of=("self",))
        .filter(public_id=link_public_id, status__in=["pending", "active"])
        .filter(
            Q(therapist=therapist)
            | Q(therapist__isnull=True, invited_email__iexact=therapist.email)
        )
        .first()
    )
    if link is None or not therapist.is_therapist:
        raise LinkNotFound()
    reason = (
        TherapistLink.EndReason.DECLINED
        if link.therapist_id is None
        else TherapistLink.EndReason.THERAPIST
    )
    _end_link(link, reason=reason)
    audit(
        action="therapist_link.ended", actor=therapist, target=link, request=request, reason=reason
    )
    return link


def _partner_link(user: User, link_public_id: str) -> TherapistLink:
    couple = couple_for(user=user)
    link = (
        TherapistLink.objects.select_for_update(of=("self",))
        .select_related("therapist", "couple")
        .filter(public_id=link_public_id, couple__isnull=False)
        .first()
        if couple is not None and not user.is_therapist
        else None
    )
    if link is None or link.couple_id != couple.pk:
        raise LinkNotFound()
    return link


@transaction.atomic
def consent_give(*, user: User, link_public_id: str, request=None) -> TherapistLink:
    """A partner consents, in their own account. Access starts when both have."""
    link = _partner_link(user, link_public_id)
    if not link.is_open:
        raise CoupleError("This link has ended. Please start a new one if you'd like to.")
    if link.consents.filter(partner=user, withdrawn_at__isnull=True).exists():
        return link  # a double-click changes nothing
    _give_consent(link, user, request)
    _maybe_activate(link)
    _refresh_couple_after_commit(link.couple_id)
    return link


@transaction.atomic
def consent_withdraw(
    *, user: User, link_public_id: str, request=None, decline: bool = False
) -> TherapistLink:
    """Either partner withdraws (or declines): the link ends at once, for both, and any open
    console socket of the therapist closes."""
    link = _partner_link(user, link_public_id)
    if not link.is_open:
        return link  # already ended: nothing to do
    consent = link.consents.filter(partner=user, withdrawn_at__isnull=True).first()
    if consent is not None:
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
    reason = TherapistLink.EndReason.DECLINED if decline else TherapistLink.EndReason.WITHDRAWN
    _end_link(link, reason=reason)
    audit(
        action="consent.declined" if decline and consent is None else "consent.withdrawn",
        actor=user,
        target=link,
        request=request,
        couple=link.couple.public_id,
    )
    logger.info("therapist link ended by a partner", extra={"link": link.public_id})
    return link


def couple_therapist_links_end(*, couple: Couple) -> None:
    """When a couple ends, its therapist links end too (inside couple_leave's transaction)."""
    for link in TherapistLink.objects.select_for_update(of=("self",)).filter(
        couple=couple, status__in=["pending", "active"]
    ):
        _end_link(link, reason=TherapistLink.EndReason.COUPLE_ENDED)


def therapist_links_end_for(*, therapist: User, reason: str) -> int:
    """Every open link of this therapist ends, and their open consoles close: they were
    un-verified, switched off or deleted their account. Partners see the access is gone;
    a new link needs both partners' consent again."""
    ended = 0
    for link in TherapistLink.objects.select_for_update(of=("self",)).filter(
        therapist=therapist, status__in=["pending", "active"]
    ):
        _end_link(link, reason=reason)
        ended += 1
    if ended:
        logger.info("therapist links ended", extra={"count": ended, "reason": reason})
    return ended


@transaction.atomic
def therapist_link_end_by_staff(*, link: TherapistLink, by: User, request=None) -> TherapistLink:
    """Staff end a therapist's access to a couple (e.g. after a complaint); audited."""
    link = TherapistLink.objects.select_for_update(of=("self",)).get(pk=link.pk)
    if link.is_open:
        _end_link(link, reason=TherapistLink.EndReason.STAFF)
        audit(
            action="therapist_link.ended",
            actor=by,
            target=link,
            request=request,
            reason=TherapistLink.EndReason.STAFF,
        )
    return link


# --- accounts: deactivation, therapist verification, deletion --------------------------------

# Other apps connect here to end what they hold for a person whose account is being deleted
# (e.g. therapist links), inside the same transaction.
account_deleting = Signal()

DELETED_NAME = "Deleted account"


def _close_sockets_after_commit(user_pk: int) -> None:
    """Every live socket of this person closes (each consumer joins the group user.<pk>)."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(f"user.{user_pk}", {"type": "auth.revoked"})

    transaction.on_commit(send)


def user_sessions_end(*, user: User) -> int:
    """Log the person out everywhere: delete their sessions from the session store.

    Scans the unexpired sessions: bounded by their 12-hour life, and done only on the rare
    deactivation or deletion.
    """
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    _close_sockets_after_commit(user.pk)
    return ended


@transaction.atomic
def user_deactivate(*, user: User, by: User, request=None) -> User:
    """Staff switch an account off: it can't log in, and is logged out everywhere now."""
    if user.pk == by.pk:
        raise CoupleError("You can't deactivate your own account.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit(action="user.deactivated", actor=by, target=user, request=request)
    if user.is_therapist:
        therapist_links_end_for(therapist=user, reason=TherapistLink.EndReason.DEACTIVATED)
    user_sessions_end(user=user)
    return user


@transaction.atomic
def user_reactivate(*, user: User, by: User, request=None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit(action="user.reactivated", actor=by, target=user, request=request)
    return user


@transaction.atomic
def therapist_verify(*, therapist: User, by: User, reason: str, request=None) -> User:
    """Staff confirm a therapist's credentials; the reason goes to the audit trail."""
    therapist = User.objects.select_for_update().get(pk=therapist.pk)
    if not therapist.is_therapist:
        raise CoupleError(f"{therapist.email} is not a therapist account.")
    therapist.therapist_verified_at = timezone.now()
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
def therapist_unverify(*, therapist: User, by: User, reason: str, request=None) -> User:
    therapist = User.objects.select_for_update().get(pk=therapist.pk)
    if not therapist.is_therapist:
        raise CoupleError(f"{therapist.email} is not a therapist account.")
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
    therapist_links_end_for(therapist=therapist, reason=TherapistLink.EndReason.UNVERIFIED)
    return therapist


@transaction.atomic
def account_delete(*, user: User, request=None) -> None:
    """Delete a person's account, as README.md ("Your data") promises.

    Their own words in shared dialogues are erased (the turns stay, marked as removed, so the
    partner's transcript still reads in order); live dialogues end; the couple ends;
    invitations are revoked; they are logged out everywhere. The account row is kept,
    anonymised, so what the partner keeps never points at a missing person.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from dialogues import services as dialogue_services

    user = User.objects.select_for_update().get(pk=user.pk)
    couple = couple_for(user=user)
    if couple is not None:
        dialogue_services.couple_dialogues_end(couple_id=couple.pk, user=user)
        couple_leave(user=user)
    Invitation.objects.filter(
        invited_by=user, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    dialogue_services.turns_erase_by(user=user)
    account_deleting.send(sender=User, user=user)

    pseudonym = f"deleted:{user.public_id}"
    AuditEvent.objects.filter(actor=user).update(actor_email=pseudonym)
    audit(action="account.deleted", actor=None, target=user, request=request)

    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
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
