"""Writes for therapists' notes and homework. Each checks access inside its transaction."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from couples.models import Couple, TherapistLink, User
from couples.selectors import couple_for, therapist_access_link
from dialogues import protocol
from dialogues.models import DialogueSession
from therapists.models import MAX_INSTRUCTIONS, MAX_NOTE, MAX_TITLE, Homework, TherapistNote

logger = logging.getLogger("imago.therapists")


class TherapistError(Exception):
    """Something that can't be done; `message` is shown to the person as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TherapistError):
    def __init__(self) -> None:
        super().__init__("That wasn't found.")


def _access(therapist: User, couple_id: int) -> TherapistLink:
    link = therapist_access_link(therapist=therapist, couple_id=couple_id, for_update=True)
    if link is None:
        raise NotFound()
    return link


def _clean_text(text: str, *, limit: int, empty: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TherapistError(empty)
    if len(text) > limit:
        raise TherapistError(f"Please keep it under {limit:,} characters.")
    return text


@transaction.atomic
def note_add(
    *, therapist: User, couple: Couple, text: str, session: DialogueSession | None = None
) -> TherapistNote:
    """A private note, visible only to the therapist who writes it."""
    text = _clean_text(text, limit=MAX_NOTE, empty="Please write the note first.")
    if session is not None and session.couple_id != couple.pk:
        raise NotFound()
    _access(therapist, couple.pk)
    note = TherapistNote.objects.create(
        therapist=therapist, couple=couple, session=session, text=text
    )
    logger.info("note added", extra={"note": note.public_id})
    return note


@transaction.atomic
def homework_assign(
    *,
    therapist: User,
    couple: Couple,
    title: str,
    instructions: str = "",
    due_date: datetime.date | None = None,
    dialogue_kind: str = "",
) -> Homework:
    title = _clean_text(title, limit=MAX_TITLE, empty="Please give the homework a short title.")
    instructions = (instructions or "").strip()
    if len(instructions) > MAX_INSTRUCTIONS:
        raise TherapistError(f"Please keep the instructions under {MAX_INSTRUCTIONS:,} characters.")
    if dialogue_kind and dialogue_kind not in {k.value for k in protocol.Kind}:
        raise TherapistError("Please choose one of the kinds of dialogue listed.")
    if due_date is not None and due_date < timezone.localdate():
        raise TherapistError("Please choose a due date from today on.")
    _access(therapist, couple.pk)
    homework = Homework.objects.create(
        couple=couple,
        therapist=therapist,
        title=title,
        instructions=instructions,
        due_date=due_date,
        dialogue_kind=dialogue_kind,
    )
    from dialogues.services import _send, couple_group

    transaction.on_commit(lambda: _send(couple_group(couple.pk), {"type": "couple.changed"}))
    logger.info("homework assigned", extra={"homework": homework.public_id})
    return homework


@transaction.atomic
def homework_mark_done(*, user: User, homework_public_id: str) -> Homework:
    """A partner marks their couple's homework done (a second click changes nothing)."""
    couple = couple_for(user=user)
    homework = (
        Homework.objects.select_for_update()
        .filter(public_id=homework_public_id, couple=couple)
        .first()
        if couple is not None and user.is_partner
        else None
    )
    if homework is None:
        raise NotFound()
    if homework.done_at is None:
        homework.done_at = timezone.now()
        homework.done_by = user
        homework.save(update_fields=["done_at", "done_by"])
    return homework


def homework_complete_with(*, session: DialogueSession) -> Homework | None:
    """A completed dialogue completes the oldest open homework asking for its kind (called
    inside the transaction that completes the session)."""
    homework = (
        Homework.objects.select_for_update()
        .filter(
            couple_id=session.couple_id,
            dialogue_kind=session.kind,
            done_at__isnull=True,
            created_at__lte=session.ended_at or timezone.now(),
        )
        .order_by("created_at", "pk")
        .first()
    )
    if homework is None:
        return None
    homework.done_at = timezone.now()
    homework.done_with = session
    homework.save(update_fields=["done_at", "done_with"])
    logger.info("homework done with a dialogue", extra={"homework": homework.public_id})
    return homework


# --- account deletion ----------------------------------------------------------------------

REMOVED_NOTE = "(removed by its author)"


def account_deleting(sender, *, user: User, **kwargs) -> None:
    """A therapist deleting their account (couples.services.account_deleting, inside its
    transaction): their access ends and open consoles close, their private notes go, and what
    they wrote in homework is erased (the couple keeps the rows and whether they were done).

    A partner's deletion needs nothing here: leaving the couple already ended its links.
    """
    from couples.models import TherapistLink
    from couples.services import therapist_links_end_for

    if not user.is_therapist:
        return
    therapist_links_end_for(therapist=user, reason=TherapistLink.EndReason.DELETED)
    notes, _ = TherapistNote.objects.filter(therapist=user).delete()
    erased = Homework.objects.filter(therapist=user).update(title=REMOVED_NOTE, instructions="")
    logger.info("therapist data erased", extra={"notes": notes, "homework": erased})
