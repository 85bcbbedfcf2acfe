"""Reads about people and couples."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from channels.db import database_sync_to_async
from django.db.models import QuerySet

from couples import signals
from couples.models import (
    Couple,
    DeviceSharing,
    Invitation,
    Membership,
    NotificationChoice,
    PushSubscription,
    User,
    hash_token,
)
from live import clock
from security.models import AuditEvent


def couple_for(*, user: User) -> Couple | None:
    """The person's active couple, if any."""
    if not user.is_authenticated:
        return None
    membership = (
        Membership.objects.filter(user=user, is_active=True).select_related("couple").first()
    )
    return membership.couple if membership else None


def partners_of(*, couple: Couple) -> list[User]:
    """Both partners, the one who started the couple first."""
    return [m.user for m in couple.memberships.select_related("user").order_by("joined_at", "pk")]


def partners_of_couples(*, couple_ids: Iterable[int]) -> dict[int, list[User]]:
    """`partners_of` for many couples in one query (a workshop's room)."""
    found: dict[int, list[User]] = {}
    memberships = Membership.objects.filter(couple_id__in=list(couple_ids)).select_related("user")
    for m in memberships.order_by("joined_at", "pk"):
        found.setdefault(m.couple_id, []).append(m.user)
    return found


def partner_of(*, user: User, couple: Couple | None = None) -> User | None:
    """The other person in the user's active couple (None while waiting for them)."""
    couple = couple or couple_for(user=user)
    if couple is None:
        return None
    for member in partners_of(couple=couple):
        if member.pk != user.pk:
            return member
    return None


def has_authenticator_app(*, user: User) -> bool:
    """Whether the person has an authenticator app set up (their second factor)."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator

    if not user.is_authenticated:
        return False
    return get_adapter().is_mfa_enabled(user, types=[Authenticator.Type.TOTP])


def two_factor_required(*, user: User) -> bool:
    """Therapists and staff see more than their own data: they log in with a second factor."""
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_therapist", False))


def two_factor_missing(*, user: User) -> bool:
    """The one rule pages and sockets share: someone who must have two-factor authentication
    and has no authenticator app now reads nothing (pages: imago_site/middleware.py; sockets:
    dialogues/consumers.py) until they set one up, whether they never had one or just removed
    it (or staff deleted it, a lost phone's reset). No query for anyone else."""
    if not user.is_authenticated or not two_factor_required(user=user):
        return False
    return not has_authenticator_app(user=user)


async def two_factor_missing_at_connect(user: User) -> bool:
    """`two_factor_missing` for a socket about to be accepted (registered with the live
    kernel's connect checks in `CouplesConfig.ready`): partners cost no query."""
    if not two_factor_required(user=user):
        return False
    return await database_sync_to_async(two_factor_missing)(user=user)


def two_factor_suggested(*, user: User, partner: User | None) -> bool:
    """Offer two-factor authentication to a partner once they are paired (therapists and staff
    must have it already), until they turn it on or say no thanks."""
    from allauth.mfa.models import Authenticator

    return (
        user.is_partner
        and partner is not None
        and user.two_factor_hint_dismissed_at is None
        and not Authenticator.objects.filter(user_id=user.pk).exists()
    )


def pending_invitations(*, couple: Couple) -> QuerySet[Invitation]:
    return couple.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=clock.now()
    ).order_by("-created_at")


def invitation_by_token(*, token: str) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("couple", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


def when(value: datetime.date | None) -> str | None:
    """A date or time for an export: ISO 8601, or None."""
    return value.isoformat() if value else None


def account_export(*, user: User) -> dict:
    """Everything we hold about this person, as they may see it (the "your data" download).

    Their account, their couples (partners by name only), the invitations they sent, and
    their own security events; every other app adds what it holds about them through
    `signals.account_exporting` (dialogues as they see them, therapist links and consents,
    homework). Never a therapist's private notes.
    """
    memberships = (
        Membership.objects.filter(user=user).select_related("couple").order_by("joined_at", "pk")
    )
    couples = []
    for membership in memberships:
        couple = membership.couple
        couples.append(
            {
                "id": couple.public_id,
                "created_at": when(couple.created_at),
                "is_active": couple.is_active,
                "ended_at": when(couple.ended_at),
                "members": [
                    {
                        "name": m.user.display_name,
                        "is_you": m.user_id == user.pk,
                        "joined_at": when(m.joined_at),
                        "left_at": when(m.left_at),
                    }
                    for m in couple.memberships.select_related("user").order_by("joined_at", "pk")
                ],
            }
        )
    invitations = [
        {
            "id": inv.public_id,
            "couple": inv.couple.public_id,
            "email": inv.email,
            "created_at": when(inv.created_at),
            "expires_at": when(inv.expires_at),
            "status": inv.status,
        }
        for inv in user.invitations_sent.select_related("couple").order_by("created_at", "pk")
    ]
    # Together on one device: the permissions this person gave their partner.
    device_sharing = [
        {
            "couple": sharing.couple.public_id,
            "allowed_at": when(sharing.granted_at),
            "withdrawn_at": when(sharing.revoked_at),
        }
        for sharing in DeviceSharing.objects.filter(granted_by=user)
        .select_related("couple")
        .order_by("granted_at", "pk")
    ]
    security_events = [
        {"action": e.action, "at": when(e.created_at), "ip_address": e.ip_address}
        for e in AuditEvent.objects.filter(actor=user).order_by("created_at", "pk")
    ]
    return {
        "format": "imago-export-1",
        "exported_at": when(clock.now()),
        "account": {
            "id": user.public_id,
            "email": user.email,
            "display_name": user.display_name,
            "kind": user.kind,
            "therapist_verified_at": when(user.therapist_verified_at),
            "date_joined": when(user.date_joined),
            "last_login": when(user.last_login),
        },
        "couples": couples,
        "invitations_sent": invitations,
        "device_sharing_allowed": device_sharing,
        # Dialogues, therapist links and homework, from the apps that own them.
        **{
            name: section
            for _receiver, sections in signals.account_exporting.send(sender=User, user=user)
            # django-stubs types receivers' answers as str | None; these return a dict or None.
            for name, section in (sections or {}).items()  # type: ignore[union-attr]
        },
        "security_events": security_events,
        # The devices that get their notifications (never the push addresses or keys) and
        # how they chose to hear about each kind of event.
        "notifications": {
            "devices": [
                {"name": sub.device_name, "turned_on_at": when(sub.created_at)}
                for sub in PushSubscription.objects.filter(person=user).order_by("created_at")
            ],
            "choices": dict(
                NotificationChoice.objects.filter(person=user).values_list("kind", "how")
            ),
        },
    }


def calendar_feed_person(*, token: str) -> User | None:
    """Whose open calendar feed this token is (None: unknown, revoked or malformed)."""
    from couples.models import CalendarFeed

    if not token or len(token) > 100 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    feed = (
        CalendarFeed.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .select_related("person")
        .first()
    )
    if feed is None or not feed.person.is_active:
        return None
    return feed.person


def calendar_feed_open(*, user: User) -> bool:
    from couples.models import CalendarFeed

    return CalendarFeed.objects.filter(person=user, revoked_at__isnull=True).exists()


def device_sharing_allowed(*, couple_id: int, granted_by_id: int | None) -> bool:
    """Whether this partner's permission for the other to take their turns on one device
    stands now (couples.DeviceSharing)."""
    if granted_by_id is None:
        return False
    return DeviceSharing.objects.filter(
        couple_id=couple_id, granted_by_id=granted_by_id, revoked_at__isnull=True
    ).exists()
