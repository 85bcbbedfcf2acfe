"""Reads about people and couples."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from couples.models import (
    Consent,
    Couple,
    Invitation,
    Membership,
    TherapistLink,
    User,
    hash_token,
)


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


def partner_of(*, user: User, couple: Couple | None = None) -> User | None:
    """The other person in the user's active couple (None while waiting for them)."""
    couple = couple or couple_for(user=user)
    if couple is None:
        return None
    for member in partners_of(couple=couple):
        if member.pk != user.pk:
            return member
    return None


def pending_invitations(*, couple: Couple) -> QuerySet[Invitation]:
    return couple.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def invitation_by_token(*, token: str) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("couple", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


def account_export(*, user: User) -> dict:
    """Everything we hold about this person, as they may see it (the "your data" download).

    Their account, their couples (partners by name only), the invitations they sent, every
    dialogue they took part in with all its turns as they see them (a therapist's private
    word to the other partner is not theirs), their therapist links and consents, their
    couples' homework, and their own security events. Never a therapist's private notes.
    """
    from django.utils import timezone

    from couples.models import AuditEvent
    from dialogues.selectors import dialogues_export
    from therapists.models import Homework

    def when(value) -> str | None:
        return value.isoformat() if value else None

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
    therapist_links = [
        {
            "id": c.link.public_id,
            "therapist": (
                c.link.therapist.display_name if c.link.therapist else c.link.invited_email
            ),
            "couple": c.link.couple.public_id if c.link.couple else None,
            "status": c.link.status,
            "your_consent_given_at": when(c.given_at),
            "your_consent_withdrawn_at": when(c.withdrawn_at),
            "access_from": when(c.link.activated_at),
            "access_until": when(c.link.ended_at),
        }
        for c in Consent.objects.filter(partner=user)
        .select_related("link__therapist", "link__couple")
        .order_by("given_at", "pk")
    ]
    if user.is_therapist:
        therapist_links += [
            {
                "id": link.public_id,
                "couple": link.couple.public_id if link.couple else None,
                "status": link.status,
                "created_at": when(link.created_at),
                "access_from": when(link.activated_at),
                "access_until": when(link.ended_at),
                "end_reason": link.end_reason,
            }
            for link in TherapistLink.objects.filter(therapist=user)
            .select_related("couple")
            .order_by("created_at", "pk")
        ]
    homework = [
        {
            "id": h.public_id,
            "couple": h.couple.public_id,
            "title": h.title,
            "instructions": h.instructions,
            "due_date": h.due_date.isoformat() if h.due_date else None,
            "dialogue_kind": h.dialogue_kind,
            "assigned_at": when(h.created_at),
            "done_at": when(h.done_at),
            "done_by": "you"
            if h.done_by_id == user.pk
            else (h.done_by.display_name if h.done_by else None),
        }
        for h in Homework.objects.filter(couple__memberships__user=user)
        .select_related("couple", "done_by")
        .order_by("created_at", "pk")
    ]
    security_events = [
        {"action": e.action, "at": when(e.created_at), "ip_address": e.ip_address}
        for e in AuditEvent.objects.filter(actor=user).order_by("created_at", "pk")
    ]
    return {
        "format": "imago-export-1",
        "exported_at": when(timezone.now()),
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
        "dialogues": dialogues_export(user=user),
        "therapist_links": therapist_links,
        "homework": homework,
        "security_events": security_events,
    }


# --- therapists ----------------------------------------------------------------------------


def link_grants_access(link: TherapistLink | None) -> bool:
    """True only if the link is active, its therapist verified and active, the couple active,
    and BOTH current partners' consents are in force."""
    if link is None or link.status != TherapistLink.Status.ACTIVE:
        return False
    therapist, couple = link.therapist, link.couple
    if therapist is None or not therapist.is_active or not therapist.is_verified_therapist:
        return False
    if couple is None or not couple.is_active:
        return False
    members = set(
        Membership.objects.filter(couple=couple, is_active=True).values_list("user_id", flat=True)
    )
    consenting = set(
        link.consents.filter(withdrawn_at__isnull=True).values_list("partner_id", flat=True)
    )
    return len(members) == 2 and members <= consenting


def therapist_access_link(
    *, therapist: User, couple_id: int | None, for_update: bool = False
) -> TherapistLink | None:
    """The link through which this therapist may read this couple now (None otherwise)."""
    if (
        couple_id is None
        or not getattr(therapist, "is_authenticated", False)
        or not therapist.is_verified_therapist
    ):
        return None
    links = TherapistLink.objects.filter(
        therapist=therapist, couple_id=couple_id, status=TherapistLink.Status.ACTIVE
    ).select_related("therapist", "couple")
    if for_update:
        links = links.select_for_update(of=("self",))
    link = links.first()
    return link if link_grants_access(link) else None


def therapist_couples(*, therapist: User) -> list[TherapistLink]:
    """The therapist's links that give access now (nothing at all if they're not verified)."""
    if not getattr(therapist, "is_verified_therapist", False):
        return []
    links = (
        TherapistLink.objects.filter(therapist=therapist, status=TherapistLink.Status.ACTIVE)
        .select_related("therapist", "couple")
        .order_by("-activated_at")
    )
    return [link for link in links if link_grants_access(link)]


def therapist_pending(*, therapist: User) -> dict:
    """Open codes, links waiting for partners' consent, and invitations waiting for this
    therapist (by their email address). Names of partners only once a partner asked."""
    now = timezone.now()
    codes = TherapistLink.objects.filter(
        therapist=therapist,
        couple__isnull=True,
        status=TherapistLink.Status.PENDING,
        expires_at__gt=now,
    ).order_by("-created_at")
    waiting = (
        TherapistLink.objects.filter(
            therapist=therapist, couple__isnull=False, status=TherapistLink.Status.PENDING
        )
        .select_related("couple")
        .prefetch_related("consents")
        .order_by("-created_at")
    )
    invitations = (
        TherapistLink.objects.filter(
            therapist__isnull=True,
            invited_email__iexact=therapist.email,
            status=TherapistLink.Status.PENDING,
            expires_at__gt=now,
            couple__is_active=True,
        )
        .select_related("created_by")
        .order_by("-created_at")
    )
    return {
        "open_codes": list(codes),
        "awaiting_consent": list(waiting),
        "invitations": list(invitations),
    }


@dataclass
class LinkView:
    """One therapist link as a partner sees it on their home page."""

    link: TherapistLink
    therapist_name: str
    my_consent: Consent | None
    partner_consent: Consent | None
    partner_name: str

    @property
    def waiting_for_me(self) -> bool:
        return self.link.status == TherapistLink.Status.PENDING and self.my_consent is None

    @property
    def waiting_for_therapist(self) -> bool:
        return self.link.therapist_accepted_at is None


def couple_therapist_links(*, couple: Couple, viewer: User) -> list[LinkView]:
    """Open therapist links of the couple: who has access and since when, and who is waiting."""
    links = (
        TherapistLink.objects.filter(
            couple=couple, status__in=[TherapistLink.Status.PENDING, TherapistLink.Status.ACTIVE]
        )
        .select_related("therapist")
        .prefetch_related("consents")
        .order_by("-created_at")
    )
    partner = partner_of(user=viewer, couple=couple)
    views = []
    for link in links:
        consents = {c.partner_id: c for c in link.consents.all() if c.is_active}
        name = link.therapist.display_name if link.therapist else link.invited_email
        views.append(
            LinkView(
                link=link,
                therapist_name=name,
                my_consent=consents.get(viewer.pk),
                partner_consent=consents.get(partner.pk) if partner else None,
                partner_name=partner.display_name if partner else "Your partner",
            )
        )
    return views
