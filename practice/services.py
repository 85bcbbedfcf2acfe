"""Writes for agreements and caring behaviours. Every write is idempotent: marking a day done
twice is one mark, a replayed appreciation or caring item (same form token) saves nothing
again, one caring behaviour a day per partner (in the database). Writes lock the couple row,
which orders them; what people wrote is never logged."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

import live
from couples.models import (
    FORM_OUT_OF_DATE,
    Couple,
    User,
    form_token_given,
    is_public_id,
    is_token,
)
from couples.selectors import couple_for, partner_of
from dialogues import protocol
from dialogues.models import DialogueSession, Turn
from live import clock
from practice import measures
from practice.models import (
    AGREEMENT_DAY,
    CARING,
    CSI4_EVERY,
    CSI16_EVERY,
    EXIT_PLEDGES,
    MAX_APPRECIATION,
    MAX_CARING,
    MAX_CARING_ITEMS,
    MAX_DAYS,
    MAX_EXIT,
    MAX_EXITS,
    MAX_REFLECTION,
    MIN_DAYS,
    MIRRORS,
    PARTNER,
    REFLECTION_KEYS,
    SCORES,
    THERAPIST,
    Agreement,
    AgreementDay,
    AgreementThanks,
    CaringBehaviour,
    CaringGiven,
    CaringList,
    ChildhoodReflection,
    Exit,
    MeasureAnswer,
    MeasureRhythm,
    MeasureSharing,
)
from practice.selectors import (
    agreements_export,
    caring_export,
    exits_export,
    measures_export,
    reflection_export,
)

logger = logging.getLogger("imago.practice")

# The couple recorded some practice (inside its transaction): the therapists app completes
# homework asking for it. kwargs: couple, practice (one of PRACTICES), at (a datetime).
practice_recorded = Signal()

REMOVED_NOTE = "(removed by its author)"
PURGED_NOTE = "(erased after the retention period)"


class PracticeError(Exception):
    """Something that can't be done; `message` is shown to the person as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PracticeError):
    def __init__(self) -> None:
        super().__init__(_("That wasn't found."))


def today() -> datetime.date:
    return timezone.localdate(clock.now())


def _token(token: str | None) -> str:
    """A write form's one-time token: required (couples.models.form_token_given)."""
    given = form_token_given(token)
    if given is None:
        raise PracticeError(str(FORM_OUT_OF_DATE))
    if not is_token(given):
        raise PracticeError(_("This form can't be sent as it is. Please reload the page."))
    return given


def _days_error() -> str:
    return _("Please choose a number of days from %(low)s to %(high)s.") % {
        "low": MIN_DAYS,
        "high": MAX_DAYS,
    }


def _exit_days_error() -> str:
    return _("Please choose %(low)s to %(high)s days.") % {"low": MIN_DAYS, "high": MAX_DAYS}


def _line(text: str, *, limit: int, empty: str) -> str:
    text = (text or "").strip()
    if not text:
        raise PracticeError(empty)
    if len(text) > limit:
        raise PracticeError(_("Please keep it under %(limit)s characters.") % {"limit": limit})
    if "\x00" in text or "\n" in text or "\r" in text:
        raise PracticeError(_("Please write it as one line of plain text."))
    return text


def _my_couple_locked(user: User) -> Couple:
    """The person's active couple, its row locked (it orders every write of theirs here)."""
    couple = couple_for(user=user) if user.is_authenticated and user.is_partner else None
    if couple is None:
        raise NotFound()
    return Couple.objects.select_for_update().get(pk=couple.pk, is_active=True)


def _recorded(couple: Couple, practice: str) -> None:
    practice_recorded.send(sender=Couple, couple=couple, practice=practice, at=clock.now())
    live.couple_changed(couple_id=couple.pk)


# --- agreements --------------------------------------------------------------------------------


def agreement_from_gift(
    sender: object, *, session: DialogueSession, turn: Turn, **kwargs: object
) -> Agreement | None:
    """The gift a partner just chose becomes an agreement (dialogues.services.gift_given,
    inside the transaction that saved the gift)."""
    gift = turn.data.get(protocol.GIFT)
    giver_slot = session.slot_of_pk(turn.actor_id)
    if not gift or giver_slot is None:
        return None
    receiver = session.partner_in(protocol.other_slot(giver_slot))
    agreement, created = Agreement.objects.get_or_create(
        gift_turn=turn,
        defaults={
            "couple_id": session.couple_id,
            "session": session,
            "giver_id": turn.actor_id,
            "receiver": receiver,
            "text": str(gift),
            "starts_on": today(),
            "days": settings.AGREEMENT_DAYS,
        },
    )
    if created:
        # A therapist sent the round back and the gift was chosen again: the new one stands.
        Agreement.objects.filter(session=session, gift_turn__round=turn.round).exclude(
            pk=agreement.pk
        ).delete()
        live.couple_changed(couple_id=session.couple_id)
        logger.info("agreement made", extra={"agreement": agreement.public_id})
    return agreement


def _checked(public_id: str) -> str:
    """An id from a URL or form: never empty, long or holding a NUL (PostgreSQL refuses it)."""
    if not is_public_id(public_id):
        raise NotFound()
    return public_id


def _agreement_locked(user: User, public_id: str) -> Agreement:
    _checked(public_id)
    couple = _my_couple_locked(user)
    agreement = (
        Agreement.objects.filter(public_id=public_id, couple=couple)
        .filter(Q(giver=user) | Q(receiver=user))
        .first()
    )
    if agreement is None:
        raise NotFound()
    agreement.couple = couple  # the locked row, already loaded
    return agreement


@transaction.atomic
def agreement_mark_done(
    *, user: User, agreement_public_id: str, day: datetime.date | None = None
) -> AgreementDay:
    """The giver kept the agreement today (or on an earlier day of it). Twice is once."""
    agreement = _agreement_locked(user, agreement_public_id)
    if agreement.giver_id != user.pk:
        raise PracticeError(_("Only the partner who agreed can mark a day done."))
    day = day or today()
    if day > today():
        raise PracticeError(_("A day can be marked done once it has come."))
    if not agreement.is_open_on(day):
        raise PracticeError(_("That day isn't part of this agreement."))
    mark = AgreementDay.objects.filter(agreement=agreement, day=day).first()
    if mark is not None:
        return mark  # a double-click or a replay: already marked
    mark = AgreementDay.objects.create(agreement=agreement, day=day)
    _recorded(agreement.couple, AGREEMENT_DAY)
    logger.info("agreement day done", extra={"agreement": agreement.public_id})
    return mark


@transaction.atomic
def agreement_set_days(*, user: User, agreement_public_id: str, days: object) -> Agreement:
    """The giver chooses how long the agreement runs (from the day it was made)."""
    agreement = _agreement_locked(user, agreement_public_id)
    if agreement.giver_id != user.pk:
        raise PracticeError(_("Only the partner who agreed can change how long it runs."))
    try:
        number = int(str(days).strip())
    except ValueError:
        raise PracticeError(_days_error()) from None
    if not MIN_DAYS <= number <= MAX_DAYS:
        raise PracticeError(_days_error())
    if number != agreement.days:
        agreement.days = number
        agreement.save(update_fields=["days"])
        live.couple_changed(couple_id=agreement.couple_id)
    return agreement


@transaction.atomic
def agreement_thank(
    *, user: User, agreement_public_id: str, text: str, token: str | None = None
) -> AgreementThanks:
    """The receiver's one-line appreciation for the agreement kept; the giver sees it live."""
    token = _token(token)
    text = _line(text, limit=MAX_APPRECIATION, empty=_("Please write your appreciation first."))
    agreement = _agreement_locked(user, agreement_public_id)
    if agreement.receiver_id != user.pk:
        raise PracticeError(_("Appreciations are sent by the partner who asked for the gift."))
    if token:
        saved = AgreementThanks.objects.filter(agreement=agreement, client_token=token).first()
        if saved is not None:
            return saved
    thanks = AgreementThanks.objects.create(
        agreement=agreement, author=user, text=text, client_token=token
    )
    live.couple_changed(couple_id=agreement.couple_id)
    logger.info("agreement appreciated", extra={"agreement": agreement.public_id})
    return thanks


# --- caring behaviours -------------------------------------------------------------------------


def _my_list(user: User, couple: Couple) -> CaringList:
    caring_list, _ = CaringList.objects.get_or_create(couple=couple, author=user)
    return caring_list


@transaction.atomic
def caring_item_add(*, user: User, text: str, token: str | None = None) -> CaringBehaviour:
    """Add "I feel loved when you …" to the person's own list (private until shared)."""
    token = _token(token)
    text = _line(text, limit=MAX_CARING, empty=_("Please write one specific thing first."))
    couple = _my_couple_locked(user)
    caring_list = _my_list(user, couple)
    if token:
        saved = caring_list.items.filter(client_token=token).first()
        if saved is not None:
            return saved
    if caring_list.items.filter(removed_at__isnull=True).count() >= MAX_CARING_ITEMS:
        raise PracticeError(
            _("A list holds up to %(count)s caring behaviours.") % {"count": MAX_CARING_ITEMS}
        )
    item = CaringBehaviour.objects.create(caring_list=caring_list, text=text, client_token=token)
    if caring_list.shared_at is not None:
        live.couple_changed(couple_id=couple.pk)
    return item


@transaction.atomic
def caring_item_remove(*, user: User, item_public_id: str) -> CaringBehaviour:
    """Take an item off one's own list (what was given from it stays in the history)."""
    couple = _my_couple_locked(user)
    item = CaringBehaviour.objects.filter(
        public_id=_checked(item_public_id), caring_list__couple=couple, caring_list__author=user
    ).first()
    if item is None:
        raise NotFound()
    if item.removed_at is None:
        item.removed_at = clock.now()
        item.save(update_fields=["removed_at"])
        live.couple_changed(couple_id=couple.pk)
    return item


@transaction.atomic
def caring_list_share(*, user: User) -> CaringList:
    """Share one's list with the partner (a choice made once; items added later are shared
    too). Sharing twice is once."""
    couple = _my_couple_locked(user)
    caring_list = _my_list(user, couple)
    if not caring_list.items.filter(removed_at__isnull=True).exists():
        raise PracticeError(_("Write at least one caring behaviour before sharing your list."))
    if caring_list.shared_at is None:
        caring_list.shared_at = clock.now()
        caring_list.save(update_fields=["shared_at"])
        live.couple_changed(couple_id=couple.pk)
    return caring_list


@transaction.atomic
def caring_give(*, user: User, item_public_id: str) -> CaringGiven:
    """Today the person gave one caring behaviour from their partner's shared list. One a day:
    the same one again is a double-click (nothing new); another one is refused."""
    couple = _my_couple_locked(user)
    item = (
        CaringBehaviour.objects.filter(
            public_id=_checked(item_public_id),
            caring_list__couple=couple,
            caring_list__shared_at__isnull=False,
            removed_at__isnull=True,
        )
        .exclude(caring_list__author=user)
        .first()
    )
    if item is None:
        raise NotFound()
    day = today()
    given = CaringGiven.objects.filter(couple=couple, giver=user, day=day).first()
    if given is not None:
        if given.behaviour_id == item.pk:
            return given
        raise PracticeError(_("You've already marked a caring behaviour today. Thank you!"))
    try:
        with transaction.atomic():
            given = CaringGiven.objects.create(behaviour=item, couple=couple, giver=user, day=day)
    except IntegrityError:  # the same moment, another request (the couple lock backs this)
        raise PracticeError(
            _("You've already marked a caring behaviour today. Thank you!")
        ) from None
    _recorded(couple, CARING)
    return given


@transaction.atomic
def caring_acknowledge(*, user: User, given_public_id: str) -> CaringGiven:
    """The partner whose list it was says they noticed. Twice is once."""
    couple = _my_couple_locked(user)
    given = CaringGiven.objects.filter(
        public_id=_checked(given_public_id), couple=couple, behaviour__caring_list__author=user
    ).first()
    if given is None:
        raise NotFound()
    if given.acknowledged_at is None:
        given.acknowledged_at = clock.now()
        given.save(update_fields=["acknowledged_at"])
        live.couple_changed(couple_id=couple.pk)
    return given


# --- closing exits ----------------------------------------------------------------------------


@transaction.atomic
def exit_add(*, user: User, text: str, avoids: str = "", token: str | None = None) -> Exit:
    """Add one of the person's exits to their own private list, and what they avoid by it."""
    token = _token(token)
    text = _line(text, limit=MAX_EXIT, empty=_("Please name the exit first, in a few words."))
    avoids = (avoids or "").strip()
    if avoids:
        avoids = _line(avoids, limit=MAX_EXIT, empty="")
    couple = _my_couple_locked(user)
    mine = Exit.objects.filter(couple=couple, author=user)
    if token:
        saved = mine.filter(client_token=token).first()
        if saved is not None:
            return saved
    if mine.filter(removed_at__isnull=True).count() >= MAX_EXITS:
        raise PracticeError(
            _("A list holds up to %(count)s exits: close some first.") % {"count": MAX_EXITS}
        )
    return Exit.objects.create(
        couple=couple, author=user, text=text, avoids=avoids, client_token=token
    )


def _my_exit_locked(user: User, public_id: str) -> tuple[Couple, Exit]:
    couple = _my_couple_locked(user)
    exit_ = Exit.objects.filter(
        public_id=_checked(public_id), couple=couple, author=user, removed_at__isnull=True
    ).first()
    if exit_ is None:
        raise NotFound()
    return couple, exit_


@transaction.atomic
def exit_remove(*, user: User, exit_public_id: str) -> Exit:
    """Take an exit off one's own list (an agreement to close it stays)."""
    _couple, exit_ = _my_exit_locked(user, exit_public_id)
    exit_.removed_at = clock.now()
    exit_.save(update_fields=["removed_at"])
    return exit_


@transaction.atomic
def exit_close(*, user: User, exit_public_id: str, how: str, days: object) -> Agreement:
    """The person chooses to close (or reduce) one of their exits: an agreement of theirs,
    which their partner sees and can appreciate, like a gift. Choosing it twice is once."""
    if how not in EXIT_PLEDGES:
        raise PracticeError(_("Please choose whether to close the exit or to reduce it."))
    try:
        days = int(str(days))
    except ValueError:
        raise PracticeError(_exit_days_error()) from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise PracticeError(_exit_days_error())
    couple, exit_ = _my_exit_locked(user, exit_public_id)
    existing = Agreement.objects.filter(exit=exit_).first()
    if existing is not None:
        return existing
    partner = partner_of(user=user, couple=couple)
    if partner is None:
        raise NotFound()
    agreement = Agreement.objects.create(
        couple=couple,
        exit=exit_,
        giver=user,
        receiver=partner,
        giver_wrote=True,
        pledge=how,  # phrased when read, in the reader's language
        text=exit_.text,  # the giver's own words
        starts_on=today(),
        days=days,
    )
    logger.info("exit closing agreed", extra={"agreement": agreement.public_id})
    live.couple_changed(couple_id=couple.pk)
    return agreement


# --- the childhood reflection -------------------------------------------------------------------


def _reflection_text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value:
        raise PracticeError(_("Please write your answers as plain text."))
    text = value.strip()
    if len(text) > MAX_REFLECTION:
        raise PracticeError(
            _("Please keep each answer under %(limit)s characters.")
            % {"limit": number_format(MAX_REFLECTION, force_grouping=True)}
        )
    return text


@transaction.atomic
def reflection_save(*, user: User, answers: Mapping[str, object]) -> ChildhoodReflection:
    """Save the person's own answers (any may be empty; unknown keys are ignored). Saving the
    same answers again changes nothing but the time."""
    cleaned = {key: _reflection_text(answers.get(key)) for key in REFLECTION_KEYS}
    couple = _my_couple_locked(user)
    reflection, _ = ChildhoodReflection.objects.get_or_create(couple=couple, author=user)
    reflection.answers = {key: text for key, text in cleaned.items() if text}
    reflection.updated_at = clock.now()
    reflection.save(update_fields=["answers", "updated_at"])
    logger.info("reflection saved", extra={"reflection": reflection.public_id})
    return reflection


@transaction.atomic
def reflection_share(*, user: User, audience: str, shared: bool) -> ChildhoodReflection:
    """Share the person's reflection with their partner or their linked therapist (each
    separately), or stop sharing it. Asking twice is once."""
    if audience not in (PARTNER, THERAPIST):
        raise PracticeError(
            _("Please choose whom to share it with: your partner or your therapist.")
        )
    couple = _my_couple_locked(user)
    reflection = ChildhoodReflection.objects.filter(couple=couple, author=user).first()
    if reflection is None or not reflection.answers:
        raise PracticeError(_("Write at least one answer before sharing your reflection."))
    field = "shared_with_partner_at" if audience == PARTNER else "shared_with_therapist_at"
    if shared != (getattr(reflection, field) is not None):
        setattr(reflection, field, clock.now() if shared else None)
        reflection.save(update_fields=[field])
        logger.info(
            "reflection sharing changed",
            extra={"reflection": reflection.public_id, "audience": audience, "shared": shared},
        )
        live.couple_changed(couple_id=couple.pk)
    return reflection


# --- outcome measures (practice/measures.py) ---------------------------------------------------


def _instrument(code: object) -> measures.Instrument:
    instrument = measures.INSTRUMENTS.get(code) if isinstance(code, str) else None
    if instrument is None:
        raise PracticeError(_("That questionnaire wasn't found."))
    return instrument


def _measure_saved(
    *, user: User, instrument: measures.Instrument, answers: dict, skipped: bool, token: str | None
) -> MeasureAnswer:
    given = _token(token)
    couple = _my_couple_locked(user)
    again = MeasureAnswer.objects.filter(person=user, client_token=given).first()
    if again is not None:  # the same form sent twice: saved once
        return again
    row = MeasureAnswer.objects.create(
        couple=couple,
        person=user,
        instrument=instrument.code,
        answers=answers,
        skipped=skipped,
        language=translation.get_language() or "",
        client_token=given,
    )
    # Ids and codes only: never the answers or the score.
    logger.info(
        "measure saved",
        extra={"measure": row.public_id, "instrument": instrument.code, "skipped": skipped},
    )
    live.couple_changed(couple_id=couple.pk)
    return row


@transaction.atomic
def measure_answer(
    *, user: User, instrument: str, answers: Mapping[str, object], token: str | None
) -> MeasureAnswer:
    """Save the person's answers to a whole questionnaire (every item, each one of its own
    answers); the same form sent again saves nothing more."""
    chosen = _instrument(instrument)
    try:
        cleaned = measures.answers_clean(chosen, dict(answers))
    except measures.MeasureInvalid:
        raise PracticeError(_("Please choose one answer for every question.")) from None
    return _measure_saved(user=user, instrument=chosen, answers=cleaned, skipped=False, token=token)


@transaction.atomic
def measure_skip(*, user: User, instrument: str, token: str | None) -> MeasureAnswer:
    """The person would rather not answer now: it isn't offered again until its next time."""
    chosen = _instrument(instrument)
    return _measure_saved(user=user, instrument=chosen, answers={}, skipped=True, token=token)


@transaction.atomic
def measure_share(*, user: User, what: str, shared: bool) -> MeasureSharing:
    """Share with the partner (or stop sharing) this person's questionnaire scores, or how
    complete their mirrors were. Asking twice is once."""
    if what not in (SCORES, MIRRORS):
        raise PracticeError(_("Please choose what to share."))
    couple = _my_couple_locked(user)
    sharing, _created = MeasureSharing.objects.get_or_create(couple=couple, person=user)
    field = "scores_shared_at" if what == SCORES else "mirrors_shared_at"
    if shared != (getattr(sharing, field) is not None):
        setattr(sharing, field, clock.now() if shared else None)
        sharing.save(update_fields=[field])
        logger.info("measure sharing changed", extra={"what": what, "shared": shared})
        live.couple_changed(couple_id=couple.pk)
    return sharing


def _days(value: object, allowed: tuple[int, ...]) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or int(text) not in allowed:
        raise PracticeError(_("Please choose one of the rhythms listed."))
    return int(text)


@transaction.atomic
def measure_rhythm_set(
    *, couple: Couple, by: User, csi4_days: object, csi16_days: object, token: str | None
) -> MeasureRhythm:
    """A linked therapist's rhythm for the couple (the caller checks the link and audits).
    Setting the same rhythm again changes nothing but the time."""
    _token(token)
    short, full = _days(csi4_days, CSI4_EVERY), _days(csi16_days, CSI16_EVERY)
    Couple.objects.select_for_update().get(pk=couple.pk)
    rhythm, _created = MeasureRhythm.objects.get_or_create(couple=couple)
    rhythm.csi4_days, rhythm.csi16_days = short, full
    rhythm.changed_by, rhythm.updated_at = by, clock.now()
    rhythm.save()
    live.couple_changed(couple_id=couple.pk)
    return rhythm


@transaction.atomic
def measure_request(
    *, couple: Couple, by: User, instrument: str, token: str | None
) -> MeasureRhythm:
    """A linked therapist sends a questionnaire now: each partner is offered it until they
    answer or skip it (the caller checks the link and audits). The same form sent twice
    asks once."""
    chosen = _instrument(instrument)
    given = _token(token)
    Couple.objects.select_for_update().get(pk=couple.pk)
    rhythm, _created = MeasureRhythm.objects.get_or_create(couple=couple)
    if rhythm.request_token == given:
        return rhythm
    rhythm.request_token = given
    rhythm.requested, rhythm.requested_at = chosen.code, clock.now()
    rhythm.changed_by, rhythm.updated_at = by, clock.now()
    rhythm.save()
    live.couple_changed(couple_id=couple.pk)
    return rhythm


# --- what couples tells us (couples/signals.py, inside its transaction) ----------------------


def on_account_exporting(sender: object, *, user: User, **kwargs: object) -> dict:
    return {
        "agreements": agreements_export(user=user),
        "caring_behaviours": caring_export(user=user),
        "childhood_reflections": reflection_export(user=user),
        "exits": exits_export(user=user),
        "questionnaires": measures_export(user=user),
    }


def on_account_deleting(sender: object, *, user: User, **kwargs: object) -> None:
    practice_erase_by(user=user)


def on_couple_purging(sender: object, *, couple: Couple, **kwargs: object) -> None:
    practice_erase_of(couple=couple)


def practice_erase_by(*, user: User) -> int:
    """Erase what this person wrote here: the requests of theirs that agreements quote, their
    appreciations and their caring list. The rows stay, so the partner's history still reads."""
    # An agreement's text is its receiver's request, or (an exit closed) its giver's words.
    erased = Agreement.objects.filter(
        Q(receiver=user, giver_wrote=False) | Q(giver=user, giver_wrote=True)
    ).update(text=REMOVED_NOTE)
    erased += AgreementThanks.objects.filter(author=user).update(text=REMOVED_NOTE)
    erased += CaringBehaviour.objects.filter(caring_list__author=user).update(text=REMOVED_NOTE)
    erased += ChildhoodReflection.objects.filter(author=user).delete()[0]  # theirs alone
    erased += Exit.objects.filter(author=user).delete()[0]
    erased += MeasureAnswer.objects.filter(person=user).delete()[0]
    erased += MeasureSharing.objects.filter(person=user).delete()[0]
    logger.info("practice erased", extra={"count": erased})
    return erased


def practice_erase_of(*, couple: Couple) -> int:
    """Erase everything written in an ended couple's practice (its retention period is over)."""
    erased = Agreement.objects.filter(couple=couple).update(text=PURGED_NOTE)
    erased += AgreementThanks.objects.filter(agreement__couple=couple).update(text=PURGED_NOTE)
    erased += CaringBehaviour.objects.filter(caring_list__couple=couple).update(text=PURGED_NOTE)
    erased += ChildhoodReflection.objects.filter(couple=couple).delete()[0]
    erased += Exit.objects.filter(couple=couple).delete()[0]
    erased += MeasureAnswer.objects.filter(couple=couple).delete()[0]
    logger.info("practice erased", extra={"count": erased})
    return erased
