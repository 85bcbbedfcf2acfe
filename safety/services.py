"""Writes about safety: a person's own answers, and their decisions to go on and to share.

Answers are private text: never logged, never in the admin, never shown to the partner.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext as _

import live
from couples.models import Couple, User
from couples.selectors import couple_for
from live import clock
from safety.models import SafetyScreening
from safety.selectors import QUESTIONS, SafetyError, state_of, support_countries

logger = logging.getLogger("imago.safety")


def answers_clean(answers: Mapping[str, object]) -> dict[str, str]:
    """Known questions with valid answers; a skipped question is simply left out."""
    clean: dict[str, str] = {}
    for question in QUESTIONS:
        value = answers.get(question.key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or question.choice(value) is None:
            raise SafetyError(_("Please choose one of the answers offered, or skip the question."))
        clean[question.key] = value
    return clean


def answers_need_attention(answers: Mapping[str, str]) -> bool:
    for question in QUESTIONS:
        choice = question.choice(answers.get(question.key, ""))
        if choice is not None and choice.concern:
            return True
    return False


def _couple_to_answer_about(user: User) -> Couple:
    if not user.is_partner:
        raise SafetyError(_("These questions are for partners of a couple."))
    couple = couple_for(user=user)
    if couple is None:
        raise SafetyError(_("You can answer these once you've started a couple."))
    return couple


@transaction.atomic
def screening_save(
    *, user: User, answers: Mapping[str, object], country: str = ""
) -> SafetyScreening:
    """Save (or replace) this person's answers. Going on is a separate decision of theirs."""
    couple = _couple_to_answer_about(user)
    clean = answers_clean(answers)
    country = (country or "").strip().upper()
    if country and country not in {code for code, _name in support_countries()}:
        country = ""
    screening, _created = SafetyScreening.objects.select_for_update().get_or_create(user=user)
    was_ready = state_of(screening, couple) == "ready"
    had_attention = state_of(screening, couple) != "not_started" and screening.needs_attention
    now = clock.now()
    screening.couple = couple
    screening.answers = clean
    screening.needs_attention = answers_need_attention(clean)
    screening.completed_at = now
    screening.ready = False
    screening.ready_at = None
    screening.country = country
    screening.updated_at = now
    screening.save()
    if was_ready:
        live.couple_changed(couple_id=couple.pk)  # may a dialogue start?
    if screening.needs_attention != had_attention:  # the therapists' dashboards, not the partner
        live.couple_attention_changed(couple_id=couple.pk)
    logger.info("safety questions answered", extra={"user": user.public_id})
    return screening


@transaction.atomic
def screening_set_ready(*, user: User, ready: bool) -> SafetyScreening:
    """The person's own decision to go on to joint dialogue (or not yet)."""
    couple = _couple_to_answer_about(user)
    screening = SafetyScreening.objects.select_for_update().filter(user=user).first()
    if screening is None or state_of(screening, couple) == "not_started":
        raise SafetyError(_("Please answer the questions first (you may skip any of them)."))
    if screening.ready != ready:
        screening.ready = ready
        screening.ready_at = clock.now() if ready else None
        screening.updated_at = clock.now()
        screening.save(update_fields=["ready", "ready_at", "updated_at"])
        live.couple_changed(couple_id=couple.pk)  # may a dialogue start?
    return screening


@transaction.atomic
def screening_set_shared(*, user: User, shared: bool) -> SafetyScreening:
    """Whether a linked therapist may read this person's answers; only they decide."""
    _couple_to_answer_about(user)
    screening = SafetyScreening.objects.select_for_update().filter(user=user).first()
    if screening is None or screening.completed_at is None:
        raise SafetyError(_("Please answer the questions first (you may skip any of them)."))
    screening.shared_with_therapist = shared
    screening.updated_at = clock.now()
    screening.save(update_fields=["shared_with_therapist", "updated_at"])
    return screening


# --- what couples tells us (couples/signals.py, inside its transaction) -----------------------


def on_account_deleting(sender: object, *, user: User, **kwargs: object) -> None:
    """A person deletes their account: their answers go, and with them whether anything
    needed attention, their country and their decisions (the row is deleted; we keep no older
    answers either). The check-in before a dialogue is never saved, so nothing is left."""
    deleted, _rows = SafetyScreening.objects.filter(user=user).delete()
    logger.info("safety answers erased", extra={"count": deleted})


def on_couple_purging(sender: object, *, couple: Couple, **kwargs: object) -> None:
    """An ended couple's retention period is over: answers still about that couple go, as on
    account deletion (answers a person gave since, about a new couple, stay)."""
    deleted, _rows = SafetyScreening.objects.filter(couple=couple).delete()
    logger.info("safety answers erased", extra={"count": deleted})
