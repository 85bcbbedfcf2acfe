"""Reads about therapist links, and for therapists (and, for homework and links, partners).

`therapist_access_link` is the one check of a therapist's access to a couple: every read about
a couple goes through it (or `couple_for_therapist`), and returns nothing without access now."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from couples.models import Couple, Membership, User, is_public_id
from couples.selectors import partner_of, partners_of, when
from dialogues.models import DialogueSession
from dialogues.selectors import next_scheduled_of
from live import clock
from safety import selectors as safety
from therapists.models import CallAdmission, Consent, Homework, TherapistLink, TherapistNote

RECENT_DIALOGUES = 5


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
    now = clock.now()
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
                partner_name=partner.display_name if partner else _("Your partner"),
            )
        )
    return views


# --- reads about linked couples --------------------------------------------------------------


def couple_for_therapist(*, therapist: User, couple_public_id: str) -> TherapistLink | None:
    """The link through which this therapist may read this couple (None: 404)."""
    if not getattr(therapist, "is_verified_therapist", False):
        return None
    if not is_public_id(couple_public_id):
        return None
    couple = Couple.objects.filter(public_id=couple_public_id).first()
    if couple is None:
        return None
    return therapist_access_link(therapist=therapist, couple_id=couple.pk)


def homework_for_couple(*, couple: Couple) -> list[Homework]:
    return list(Homework.objects.filter(couple=couple).select_related("therapist", "done_by")[:50])


def notes_of(
    *, therapist: User, couple: Couple, session: DialogueSession | None = None
) -> list[TherapistNote]:
    """Notes written by this therapist (no one else's), about the couple or one session."""
    notes = TherapistNote.objects.filter(therapist=therapist, couple=couple)
    if session is not None:
        notes = notes.filter(session=session)
    return list(notes.select_related("session")[:100])


@dataclass
class LinkedCouple:
    link: TherapistLink
    names: str
    live: DialogueSession | None
    recent: list[DialogueSession]
    homework: list[Homework]
    safety_attention: bool = False  # a partner's safety questions need attention (not why)
    # The next dialogue waiting for its time: a session booked, or the couple's appointment.
    next_scheduled: DialogueSession | None = None
    # The partners' latest questionnaire scores, in a sentence (therapists.services.
    # dashboard_satisfaction_read fills it, auditing the read).
    satisfaction: str = ""

    @property
    def homework_open(self) -> int:
        return sum(1 for h in self.homework if not h.is_done)


def linked_couple(*, link: TherapistLink) -> LinkedCouple:
    couple = link.couple
    assert couple is not None  # a link that grants access always has its couple
    sessions = list(
        DialogueSession.objects.filter(couple=couple)
        .select_related("partner_a", "partner_b")
        .order_by("-created_at")[: RECENT_DIALOGUES + 1]
    )
    # "Live now" means open: an appointment still waiting for its time is the next one.
    live = next((s for s in sessions if s.is_live and not s.waits_for_time), None)
    return LinkedCouple(
        link=link,
        names=" & ".join(p.display_name for p in partners_of(couple=couple)),
        live=live,
        recent=[s for s in sessions if s is not live and not s.waits_for_time][:RECENT_DIALOGUES],
        homework=list(Homework.objects.filter(couple=couple, therapist=link.therapist)[:20]),
        safety_attention=any(
            safety.screening_status_for_therapist(user=p) == "needs_attention"
            for p in partners_of(couple=couple)
        ),
        next_scheduled=next_scheduled_of(couple_id=couple.pk),
    )


def dashboard(*, therapist: User) -> dict:
    """Only couples this therapist may read now; nothing about any other couple."""
    if not therapist.is_verified_therapist:
        return {"couples": [], "open_codes": [], "awaiting_consent": [], "invitations": []}
    return {
        "couples": [linked_couple(link=link) for link in therapist_couples(therapist=therapist)],
        **therapist_pending(therapist=therapist),
    }


@dataclass
class PartnerSafety:
    """What a linked therapist may know about one partner's safety questions."""

    partner: User
    status: str  # "not_started", "ok" or "needs_attention" (never why)
    answers: list[safety.AnswerView] | None  # only if this partner chose to share them

    @property
    def needs_attention(self) -> bool:
        return self.status == "needs_attention"


def couple_safety(*, link: TherapistLink) -> list[PartnerSafety]:
    """For the couple page of a therapist with access through `link` (checked by the caller):
    each current partner's screening status, and their answers if they shared them."""
    assert link.couple is not None  # a link that grants access always has its couple
    return [
        PartnerSafety(
            partner=partner,
            status=safety.screening_status_for_therapist(user=partner),
            answers=safety.shared_answers_for_therapist(user=partner),
        )
        for partner in partners_of(couple=link.couple)
    ]


# --- "your data" export -------------------------------------------------------------------


def links_and_homework_export(*, user: User) -> dict:
    """For couples.selectors.account_export: this person's therapist links and consents (as a
    partner, and as a therapist), and their couples' homework. Never a therapist's notes."""
    links = [
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
        links += [
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
    return {"therapist_links": links, "homework": homework}


def waiting_room(*, session: DialogueSession) -> list[dict] | None:
    """A booked session's waiting room as the console shows it: each partner, by slot, and
    whether they were let into the call. None: a couple's own dialogue has none."""
    if not session.is_facilitated:
        return None
    admitted = set(
        CallAdmission.objects.filter(session=session).values_list("partner_id", flat=True)
    )
    partners = (("a", session.partner_a), ("b", session.partner_b))
    return [
        {"slot": slot, "name": p.display_name, "admitted": p.pk in admitted}
        for slot, p in partners
        if p is not None
    ]
