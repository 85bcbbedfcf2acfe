"""Reads for therapists and, for homework, for partners. Every read about a couple goes
through `couple_for_therapist`, which returns nothing unless the therapist has access now."""

from __future__ import annotations

from dataclasses import dataclass

from couples import safety
from couples.models import Couple, TherapistLink, User
from couples.selectors import partners_of, therapist_access_link, therapist_couples
from dialogues.models import DialogueSession
from therapists.models import Homework, TherapistNote

RECENT_DIALOGUES = 5


def couple_for_therapist(*, therapist: User, couple_public_id: str) -> TherapistLink | None:
    """The link through which this therapist may read this couple (None: 404)."""
    if not getattr(therapist, "is_verified_therapist", False):
        return None
    if not couple_public_id or len(couple_public_id) > 64:
        return None
    couple = Couple.objects.filter(public_id=couple_public_id).first()
    if couple is None:
        return None
    return therapist_access_link(therapist=therapist, couple_id=couple.pk)


def homework_for_couple(*, couple: Couple) -> list[Homework]:
    return list(Homework.objects.filter(couple=couple).select_related("therapist", "done_by")[:50])


def notes_of(*, therapist: User, couple: Couple, session: DialogueSession | None = None):
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

    @property
    def homework_open(self) -> int:
        return sum(1 for h in self.homework if not h.is_done)


def linked_couple(*, link: TherapistLink) -> LinkedCouple:
    couple = link.couple
    sessions = list(
        DialogueSession.objects.filter(couple=couple)
        .select_related("partner_a", "partner_b")
        .order_by("-created_at")[: RECENT_DIALOGUES + 1]
    )
    live = next((s for s in sessions if s.is_live), None)
    return LinkedCouple(
        link=link,
        names=" & ".join(p.display_name for p in partners_of(couple=couple)),
        live=live,
        recent=[s for s in sessions if s is not live][:RECENT_DIALOGUES],
        homework=list(Homework.objects.filter(couple=couple, therapist=link.therapist)[:20]),
        safety_attention=any(
            safety.screening_status_for_therapist(user=p) == "needs_attention"
            for p in partners_of(couple=couple)
        ),
    )


def dashboard(*, therapist: User) -> dict:
    """Only couples this therapist may read now; nothing about any other couple."""
    from couples.selectors import therapist_pending

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
    return [
        PartnerSafety(
            partner=partner,
            status=safety.screening_status_for_therapist(user=partner),
            answers=safety.shared_answers_for_therapist(user=partner),
        )
        for partner in partners_of(couple=link.couple)
    ]
