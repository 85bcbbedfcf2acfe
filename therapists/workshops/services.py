"""Writes about workshops: the presenter's plan, couples joining, running the room.

Every dialogue change goes through the one door (`dialogues.services.session_change`), its
creation included. Starting a practice segment is one background job for the whole room
(`workshop_job`, below): the presenter's click saves one `SegmentRun` (however many
clicks) and queues the job, which starts every present couple's dialogue. The board hears one
changed card at a time, rendered once and sent to every open board (`live.
workshop_board_group`); participants' pages hear the room (`live.workshop_room_group`).

`segment_started` (a signal, after commit; kwargs: workshop, segment) is for whoever wants to
tell people a segment starts (a push, say); it never carries text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.dispatch import Signal
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django_tasks import task

import live
from couples import push
from couples.models import Couple, User, form_token_given, is_token
from couples.selectors import couple_for, partners_of, partners_of_couples
from dialogues import protocol
from dialogues import services as dialogue_services
from dialogues.models import DialogueSession, Turn
from live import clock
from safety.models import SafetyScreening
from safety.selectors import state_of
from security.audit import audit
from therapists.workshops import selectors
from therapists.workshops.models import (
    MAX_SEGMENTS,
    Announcement,
    Attendance,
    Participant,
    Practice,
    Segment,
    SegmentRun,
    Workshop,
)

logger = logging.getLogger("imago.workshops")

# A segment started (after commit). kwargs: workshop, segment. Ids and kinds only.
segment_started = Signal()


class WorkshopError(Exception):
    """Something that can't be done; `message` is shown as it is, with `status`."""

    def __init__(self, message: str | Promise, *, status: int = 422) -> None:
        message = str(message)
        super().__init__(message)
        self.message = message
        self.status = status


class WorkshopNotFound(WorkshopError):
    def __init__(self) -> None:
        super().__init__(_("That workshop wasn't found."), status=404)


def _token(token: str | None) -> str:
    token = form_token_given(token)
    if token is None or not is_token(token):
        raise WorkshopError(_("This form can't be sent as it is. Please reload the page."))
    return token


def _locked(workshop: Workshop) -> Workshop:
    """The workshop row, locked: every change to the room is made one at a time."""
    return Workshop.objects.select_for_update().get(pk=workshop.pk)


def _open(workshop: Workshop) -> None:
    if workshop.state == Workshop.State.ENDED:
        raise WorkshopError(_("This workshop has ended."), status=409)


# --- the presenter's plan ------------------------------------------------------------------


def workshop_create(
    *, presenter: User, title: str, starts_at: datetime, stream_url: str, token: str | None
) -> Workshop:
    """A new workshop; the same form sent twice finds the first."""
    token = _token(token)
    if not presenter.is_verified_therapist:
        raise WorkshopError(_("Only verified therapists can present a workshop."), status=403)
    same = Workshop.objects.filter(presenter=presenter, client_token=token).first()
    if same is not None:
        return same
    try:
        with transaction.atomic():
            workshop = Workshop.objects.create(
                presenter=presenter,
                title=title,
                starts_at=starts_at,
                stream_url=stream_url,
                client_token=token,
            )
    except IntegrityError:  # the same form at the same moment: the other one saved it
        return Workshop.objects.get(presenter=presenter, client_token=token)
    logger.info("workshop created", extra={"workshop": workshop.public_id})
    return workshop


@transaction.atomic
def workshop_update(
    *, workshop: Workshop, title: str, starts_at: datetime, stream_url: str
) -> Workshop:
    workshop = _locked(workshop)
    _open(workshop)
    workshop.title, workshop.starts_at, workshop.stream_url = title, starts_at, stream_url
    workshop.save(update_fields=["title", "starts_at", "stream_url"])
    _room_changed(workshop)
    return workshop


@transaction.atomic
def segment_add(
    *,
    workshop: Workshop,
    kind: str,
    text: str,
    dialogue_kind: str,
    minutes: int | None,
    token: str | None,
) -> Segment:
    """A segment at the end of the plan (the form checked its fields)."""
    token = _token(token)
    workshop = _locked(workshop)
    _open(workshop)
    same = Segment.objects.filter(workshop=workshop, client_token=token).first()
    if same is not None:
        return same
    count = workshop.segments.count()
    if count >= MAX_SEGMENTS:
        raise WorkshopError(
            _("A plan can have at most %(count)d segments.") % {"count": MAX_SEGMENTS}
        )
    if kind == Segment.Kind.PRACTISE and not dialogue_kind:
        raise WorkshopError(_("Please choose the dialogue the couples practise."))
    segment = Segment.objects.create(
        workshop=workshop,
        position=count + 1,
        kind=kind,
        text=text,
        dialogue_kind=dialogue_kind if kind == Segment.Kind.PRACTISE else "",
        minutes=minutes,
        client_token=token,
    )
    _room_changed(workshop, board_too=True)
    return segment


@transaction.atomic
def segment_remove(*, workshop: Workshop, segment_public_id: str) -> None:
    """Take a segment that hasn't run out of the plan (a double-click finds it gone)."""
    workshop = _locked(workshop)
    _open(workshop)
    segment = Segment.objects.filter(workshop=workshop, public_id=segment_public_id).first()
    if segment is None:
        return
    if workshop.current_id == segment.pk or SegmentRun.objects.filter(segment=segment).exists():
        raise WorkshopError(_("A segment that has started stays in the plan."), status=409)
    segment.delete()
    for position, each in enumerate(workshop.segments.order_by("position", "pk"), start=1):
        if each.position != position:
            Segment.objects.filter(pk=each.pk).update(position=position)
    _room_changed(workshop, board_too=True)


# --- couples join ------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    code = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else ""


def workshop_join(*, user: User, code: str) -> Attendance:
    """One partner accepts what the presenter will see (progress, never text). The couple has
    joined once both partners did, each from their own account. Joining twice: 409."""
    normal = normalise_code(code)
    workshop = Workshop.objects.filter(code=normal).first() if normal else None
    if workshop is None:
        raise WorkshopError(_("No workshop has that code. Please check it with the presenter."))
    couple = couple_for(user=user)
    partners = partners_of(couple=couple) if couple is not None else []
    if couple is None or len(partners) != 2:
        raise WorkshopError(
            _("A workshop is joined as a couple: pair your account with your partner's first."),
            status=409,
        )
    with transaction.atomic():
        workshop = _locked(workshop)
        _open(workshop)
        attendance, _created = Attendance.objects.get_or_create(workshop=workshop, couple=couple)
        if attendance.people.filter(partner=user).exists():
            raise WorkshopError(_("You've already joined this workshop."), status=409)
        Participant.objects.create(attendance=attendance, partner=user)
        audit(action="workshop.join", actor=user, target=workshop)
        if attendance.people.count() == len(partners):
            attendance.joined_at = clock.now()
            attendance.save(update_fields=["joined_at"])
            _card_changed(workshop, attendance)
        live.couple_changed(couple_id=couple.pk)  # the partner's page shows the acceptance
    if attendance.joined_at is not None and attendance.people.filter(present=True).exists():
        practice_join_late(workshop=workshop, attendance=attendance)
    return attendance


def _participant(*, user: User, workshop_public_id: str) -> tuple[Workshop, Participant]:
    found = selectors.participant_in(user=user, workshop_public_id=workshop_public_id)
    if found is None:
        raise WorkshopNotFound()
    return found


def reading_set(*, user: User, workshop_public_id: str, allow: bool) -> Participant:
    """One partner allows the presenter to read their practice dialogues (both must), or
    takes it back (at once). Audited, as consent to a linked therapist is."""
    workshop, participant = _participant(user=user, workshop_public_id=workshop_public_id)
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        if (participant.reading_allowed_at is not None) == allow:
            return participant  # a double-click
        participant.reading_allowed_at = clock.now() if allow else None
        participant.save(update_fields=["reading_allowed_at"])
        audit(
            action="workshop.reading_allowed" if allow else "workshop.reading_withdrawn",
            actor=user,
            target=workshop,
        )
        _card_changed(workshop, participant.attendance)
        live.couple_changed(couple_id=participant.attendance.couple_id)
        if not allow:  # a console the presenter opened on their practice closes at once
            live.consoles_close(
                link_public_id=selectors.reading_access_id(participant.attendance),
                therapist_pk=workshop.presenter_id,
            )
    return participant


def help_ask(*, user: User, workshop_public_id: str) -> Attendance:
    """ "We'd like help": on the presenter's board at once, first in line."""
    workshop, participant = _participant(user=user, workshop_public_id=workshop_public_id)
    _open(workshop)
    with transaction.atomic():
        attendance = Attendance.objects.select_for_update().get(pk=participant.attendance_id)
        if attendance.help_at is None:
            attendance.help_at = clock.now()
            attendance.save(update_fields=["help_at"])
            _card_changed(workshop, attendance)
    return attendance


def help_answered(*, workshop: Workshop, attendance_public_id: str) -> None:
    with transaction.atomic():
        attendance = (
            Attendance.objects.select_for_update()
            .filter(workshop=workshop, public_id=attendance_public_id)
            .first()
        )
        if attendance is None:
            raise WorkshopError(_("That couple isn't in this workshop."), status=404)
        if attendance.help_at is not None:
            attendance.help_at = None
            attendance.save(update_fields=["help_at"])
            _card_changed(workshop, attendance)


def presence_set(*, user: User, workshop_public_id: str, present: bool) -> None:
    """A partner checked in (their workshop page opened), or not. A couple arriving while a
    practice runs joins it (a late couple gets its dialogue)."""
    found = selectors.participant_in(user=user, workshop_public_id=workshop_public_id)
    if found is None:
        return
    workshop, participant = found
    with transaction.atomic():
        updated = Participant.objects.filter(pk=participant.pk).exclude(present=present)
        if updated.update(present=present):
            _card_changed(workshop, participant.attendance)
    if present:  # also when back on the page: ready now, or their other dialogue ended
        practice_join_late(workshop=workshop, attendance=participant.attendance)


def presence_gone(*, user_pk: int) -> int:
    """The partner has no page of the app open any more (live.consumer's `person_gone`):
    absent from every workshop not ended, their card on the boards says so. Returns in how
    many workshops they were marked absent."""
    gone = 0
    for participant in (
        Participant.objects.filter(partner_id=user_pk, present=True)
        .exclude(attendance__workshop__state=Workshop.State.ENDED)
        .select_related("attendance__workshop")
    ):
        with transaction.atomic():
            if Participant.objects.filter(pk=participant.pk, present=True).update(present=False):
                _card_changed(participant.attendance.workshop, participant.attendance)
                gone += 1
    return gone


async def on_person_gone(pk: int) -> None:
    await database_sync_to_async(presence_gone)(user_pk=pk)


# --- running the room ----------------------------------------------------------------------


def _practice_running(workshop: Workshop) -> bool:
    current = workshop.current
    return current is not None and current.is_practice and not workshop.reconvened


def segment_start(
    *, workshop: Workshop, segment_public_id: str, rule: str = "", run_now: bool = False
) -> tuple[Segment, SegmentRun | None]:
    """Make the segment the room's current segment. A practice segment is started once, by
    one background job, however many times it is clicked; it is refused while another
    practice runs (the group must be called back first). `run_now`: the presenter's request
    starts the practices itself once this commits (the job, still queued, then finds them
    started): the worker's polling would add up to a second to the start."""
    # With `run_now` the pages hear of the segment once the practices exist: they would
    # otherwise render the room before them too, competing with the start for the server.
    with live.sent_together() if run_now else contextlib.nullcontext():
        segment, run = _segment_set(
            workshop=workshop, segment_public_id=segment_public_id, rule=rule
        )
        if run is not None and run_now and run.done_at is None:
            try:
                run = practice_run(run_id=run.pk)
            except Exception:  # the job queued with the start will try again
                logger.exception("workshop practice start failed", extra={"run": run.pk})
    return segment, run


def _segment_set(
    *, workshop: Workshop, segment_public_id: str, rule: str
) -> tuple[Segment, SegmentRun | None]:
    with transaction.atomic():
        workshop = _locked(workshop)
        _open(workshop)
        segment = Segment.objects.filter(workshop=workshop, public_id=segment_public_id).first()
        if segment is None:
            raise WorkshopError(_("That segment isn't in this workshop's plan."), status=404)
        if rule and rule not in Workshop.SenderRule.values:
            raise WorkshopError(_("Please choose who sends first."))
        if workshop.current_id == segment.pk:
            return segment, SegmentRun.objects.filter(segment=segment).first()  # a double-click
        if _practice_running(workshop):
            raise WorkshopError(
                _("A practice is running. Call the group back before the next segment."),
                status=409,
            )
        if segment.is_practice and SegmentRun.objects.filter(segment=segment).exists():
            raise WorkshopError(_("This practice has been run already."), status=409)
        now = clock.now()
        workshop.current = segment
        workshop.current_since = now
        workshop.current_until = (
            now + timedelta(minutes=segment.minutes) if segment.minutes else None
        )
        workshop.reconvened = False
        workshop.state = Workshop.State.LIVE
        if rule:
            workshop.sender_rule = rule
        workshop.save(
            update_fields=[
                "current",
                "current_since",
                "current_until",
                "reconvened",
                "state",
                "sender_rule",
            ]
        )
        run = None
        if segment.is_practice:
            run = SegmentRun.objects.create(
                workshop=workshop, segment=segment, rule=workshop.sender_rule
            )
            run_id = run.pk
            transaction.on_commit(lambda: _enqueue("practice", workshop.pk, run_id))
        Attendance.objects.filter(workshop=workshop, help_at__isnull=False).update(help_at=None)
        _room_changed(workshop, board_too=True)
        # The participants' pushes ("a workshop segment starts") are one job, not a push
        # per person inside the presenter's click.
        transaction.on_commit(lambda: _enqueue("notify", workshop.pk, segment.pk))
        transaction.on_commit(
            lambda: segment_started.send(sender=Workshop, workshop=workshop, segment=segment)
        )
    logger.info("workshop segment started", extra={"workshop": workshop.public_id})
    return segment, run


def _enqueue(action: str, workshop_id: int, run_id: int | None = None) -> None:
    workshop_job.enqueue(action, workshop_id, run_id)


def _screened_ready(couples: Iterable[Couple], partners: dict[int, list[User]]) -> set[int]:
    """The couples whose both partners answered the safety questions and are ready (the same
    gate as any dialogue's start), read in one query."""
    people = [p.pk for ps in partners.values() for p in ps]
    screenings = {s.user_id: s for s in SafetyScreening.objects.filter(user_id__in=people)}
    return {
        couple.pk
        for couple in couples
        if len(partners.get(couple.pk, [])) == 2
        and all(state_of(screenings.get(p.pk), couple) == "ready" for p in partners[couple.pk])
    }


def _senders(rule: str, couples: dict[int, list[User]]) -> dict[int, User]:
    """Who sends first in each couple, by the presenter's rule, from one count query: the
    partner who started fewer dialogues (the starter sends first), or who started none today
    (ties: the partner who joined the couple first)."""
    since = None
    if rule == Workshop.SenderRule.NOT_TODAY:
        since = clock.now() - timedelta(hours=24)
    sessions = DialogueSession.objects.filter(couple_id__in=list(couples))
    if since is not None:
        sessions = sessions.filter(created_at__gte=since)
    counts = {
        row["partner_a"]: row["n"]
        for row in sessions.values("partner_a").annotate(n=Count("pk")).order_by()
    }
    return {
        couple_id: min(people, key=lambda p: (counts.get(p.pk, 0), people.index(p)))
        for couple_id, people in couples.items()
    }


def _practice_session(
    *, segment: Segment, couple_id: int, first: User, second: User, earlier: list[str]
) -> DialogueSession | None:
    """One couple's practice dialogue, through the one door (inside the caller's transaction;
    the door's own savepoint undoes a failed creation). `earlier`: their previous practice
    still open, ended first (the workshop moved on; the couple keeps it). None when the couple
    has another dialogue open (theirs to finish)."""
    kind = protocol.Kind(segment.dialogue_kind)
    state = protocol.open_scheduled(protocol.start_booked(kind))

    def create() -> DialogueSession:
        return DialogueSession.objects.create(
            couple_id=couple_id,
            kind=kind.value,
            topic="",  # no one named it: the app's words are phrased when read, never stored
            partner_a=first,
            partner_b=second,
            state=state.to_dict(),
            step=state.step,
            round=state.round,
        )

    def opened(
        session: DialogueSession, slot: str | None, actor: User | None
    ) -> dialogue_services.Change:
        return dialogue_services.Change(
            move=protocol.OPEN,
            kind=Turn.Kind.EVENT,
            step=protocol.START,
            data={"workshop": True},  # the transcript says the practice began, not a time came
            couple_too=True,
        )

    try:
        # Its own savepoint only when an earlier practice ends with it (rare): both or none.
        with transaction.atomic() if earlier else contextlib.nullcontext():
            for public_id in earlier:
                dialogue_services.session_change(
                    session_public_id=public_id,
                    user=None,
                    decide=_ended_for_the_next,
                    as_system=True,
                )
            return dialogue_services.session_change(
                user=None, decide=opened, as_system=True, create=create
            ).session
    except IntegrityError:
        return None  # a live dialogue of theirs already (started at home meanwhile)


def _run_locked(run_id: int) -> SegmentRun:
    """The run's row, locked (not its workshop's: the presenter goes on meanwhile): the job,
    the presenter's request and a late couple start its practices one at a time."""
    return (
        SegmentRun.objects.select_for_update(of=("self",))
        .select_related("workshop", "segment")
        .get(pk=run_id)
    )


def _practices_start(
    *, run: SegmentRun, attendances: list[Attendance]
) -> tuple[list[Practice], int]:
    """The practice dialogues of these couples (present, joined), in the caller's transaction:
    a few reads for them all, then the one door per couple, then their `Practice` rows in one
    insert. Returns the practices made and how many couples couldn't start (not ready, or
    another dialogue of theirs open)."""
    segment = run.segment
    partners = partners_of_couples(couple_ids=[a.couple_id for a in attendances])
    ready = _screened_ready([a.couple for a in attendances], partners)
    done = set(
        Practice.objects.filter(attendance__in=attendances, segment=segment).values_list(
            "attendance_id", flat=True
        )
    )
    todo = [a for a in attendances if a.pk not in done]
    earlier: dict[int, list[str]] = {}
    for attendance_id, public_id in Practice.objects.filter(
        attendance__in=todo, session__status__in=DialogueSession.LIVE
    ).values_list("attendance_id", "session__public_id"):
        earlier.setdefault(attendance_id, []).append(public_id)
    busy = set(  # another dialogue open, not a practice of this workshop's: skipped
        DialogueSession.objects.filter(
            couple_id__in=[a.couple_id for a in todo], status__in=DialogueSession.LIVE
        )
        .exclude(public_id__in=[p for ps in earlier.values() for p in ps])
        .values_list("couple_id", flat=True)
    )
    senders = _senders(run.rule, {cid: ps for cid, ps in partners.items() if cid in ready})
    practices, skipped = [], 0
    for attendance in todo:
        couple_id = attendance.couple_id
        if couple_id not in ready or couple_id in busy:
            skipped += 1
            continue
        first = senders[couple_id]
        second = next(p for p in partners[couple_id] if p.pk != first.pk)
        session = _practice_session(
            segment=segment,
            couple_id=couple_id,
            first=first,
            second=second,
            earlier=earlier.get(attendance.pk, []),
        )
        if session is None:
            skipped += 1
            continue
        practices.append(Practice(attendance=attendance, segment=segment, session=session))
    Practice.objects.bulk_create(practices)
    return practices, skipped


def segment_notify(*, workshop_id: int, segment_id: int) -> int:
    """The job's push to every partner of a joined couple that a segment starts (to those who
    chose pushes of this kind; once per person and segment however often it runs). Returns
    how many were planned."""
    segment = Segment.objects.select_related("workshop").get(pk=segment_id, workshop_id=workshop_id)
    path = reverse("therapists:workshop_room", args=[segment.workshop.public_id])
    people = User.objects.filter(
        workshop_places__attendance__workshop_id=workshop_id,
        workshop_places__attendance__joined_at__isnull=False,
    ).distinct()
    planned = 0
    for person in people:
        with transaction.atomic():
            message = push.notify(
                person=person, kind=push.SEGMENT, key=f"segment:{segment.public_id}", path=path
            )
        planned += message is not None
    return planned


def practice_run(*, run_id: int) -> SegmentRun:
    """Every present, joined couple's dialogue of the segment's kind, at once: the job, or the
    presenter's request right after its commit (the worker's polling would add up to a
    second). One transaction for the room, its cost bounded: a few reads for everyone, the one
    door per couple, one insert for the `Practice` rows; after the commit one message per
    couple, sent together, and one for the boards. Run again (the job after the request, a
    retry), it waits for the first to commit and does nothing."""
    with live.sent_together(), transaction.atomic():
        run = _run_locked(run_id)
        if run.done_at is not None:
            return run
        workshop = run.workshop
        attendances = list(selectors.present_attendances(workshop=workshop))
        practices, skipped = _practices_start(run=run, attendances=attendances)
        run.done_at, run.started, run.skipped = clock.now(), len(practices), skipped
        run.save(update_fields=["done_at", "started", "skipped"])
        # The boards redraw (and hear the practices' steps from now on); each couple's pages
        # heard of its own practice from the door, and the rest of the room has nothing new.
        plan = {"type": "workshop.plan"}
        live.send_after_commit(live.workshop_board_group(workshop.public_id), plan)
    logger.info(
        "workshop practice started",
        extra={"workshop": workshop.public_id, "started": run.started, "skipped": skipped},
    )
    return run


def practice_join_late(*, workshop: Workshop, attendance: Attendance) -> Practice | None:
    """A couple that arrives (or finishes joining) while a practice runs joins it."""
    workshop.refresh_from_db()
    if not _practice_running(workshop) or attendance.joined_at is None:
        return None
    run_id = SegmentRun.objects.filter(segment=workshop.current).values_list("pk", flat=True)
    if not run_id:
        return None
    with transaction.atomic():
        run = _run_locked(run_id[0])  # after the room's start, if it is under way
        if run.done_at is None:
            return None  # the start hasn't run yet: it will include them
        practices, _skipped = _practices_start(run=run, attendances=[attendance])
        if practices:
            _card_changed(workshop, attendance)
            _room_changed(workshop, board_too=True)  # the boards hear its steps from now on
    return practices[0] if practices else None


def _each_practice(workshop: Workshop, decide: dialogue_services.Decide, *, status: str) -> int:
    """Apply `decide` to every practice dialogue of the current segment that is in `status`,
    each through the one door, as nobody (the room moved, not a partner)."""
    if workshop.current_id is None:
        return 0
    ids = list(
        Practice.objects.filter(segment=workshop.current, session__status=status).values_list(
            "session__public_id", flat=True
        )
    )
    changed = 0
    for public_id in ids:
        try:
            result = dialogue_services.session_change(
                session_public_id=public_id, user=None, decide=decide, as_system=True
            )
        except dialogue_services.DialogueError:
            continue  # it ended or moved on meanwhile: nothing to do for it
        changed += int(result.created)
    return changed


def _paused_for_group(
    session: DialogueSession, slot: str | None, actor: User | None
) -> dialogue_services.Change | None:
    """The group is called back: paused for both whatever the step (even before a time-out
    would be allowed), recorded as the workshop's pause."""
    if not session.is_live or session.is_paused:
        return None
    return dialogue_services.Change(
        move=protocol.PAUSE,
        kind=Turn.Kind.EVENT,
        data={"workshop": True},
        status=DialogueSession.Status.PAUSED,
        couple_too=True,
    )


def _ended_for_the_next(
    session: DialogueSession, slot: str | None, actor: User | None
) -> dialogue_services.Change | None:
    if not session.is_live:
        return None
    return dialogue_services.Change(
        move=protocol.END,
        kind=Turn.Kind.EVENT,
        data={"workshop": True},
        status=DialogueSession.Status.ENDED,
        couple_too=True,
    )


def _resumed_for_group(
    session: DialogueSession, slot: str | None, actor: User | None
) -> dialogue_services.Change | None:
    if not session.is_live or not session.is_paused:
        return None
    return dialogue_services.Change(
        move=protocol.RESUME,
        kind=Turn.Kind.EVENT,
        data={"workshop": True},
        status=DialogueSession.Status.ACTIVE,
        couple_too=True,
    )


def workshop_reconvene(*, workshop: Workshop) -> None:
    """ "Back to the group": every practice dialogue is paused (by one job)."""
    with transaction.atomic():
        workshop = _locked(workshop)
        _open(workshop)
        if workshop.current is None or not workshop.current.is_practice:
            raise WorkshopError(_("There is no practice to call the group back from."), status=409)
        if workshop.reconvened:
            return
        workshop.reconvened = True
        workshop.save(update_fields=["reconvened"])
        _room_changed(workshop, board_too=True)
        transaction.on_commit(lambda: _enqueue("pause", workshop.pk))


def workshop_resume(*, workshop: Workshop) -> None:
    """The practice goes on: every dialogue paused for the group resumes (by one job)."""
    with transaction.atomic():
        workshop = _locked(workshop)
        _open(workshop)
        if not workshop.reconvened:
            return
        workshop.reconvened = False
        workshop.save(update_fields=["reconvened"])
        _room_changed(workshop, board_too=True)
        transaction.on_commit(lambda: _enqueue("resume", workshop.pk))


def practices_pause(*, workshop_id: int) -> int:
    workshop = Workshop.objects.get(pk=workshop_id)
    if not workshop.reconvened:
        return 0  # resumed before the job ran
    return _each_practice(workshop, _paused_for_group, status=DialogueSession.Status.ACTIVE)


def practices_resume(*, workshop_id: int) -> int:
    workshop = Workshop.objects.get(pk=workshop_id)
    if workshop.reconvened:
        return 0  # called back again before the job ran
    return _each_practice(workshop, _resumed_for_group, status=DialogueSession.Status.PAUSED)


def workshop_announce(
    *, workshop: Workshop, kind: str, text: str, token: str | None
) -> Announcement:
    """A short message, or a nudge ("two minutes left", "time"), to every participant. A
    nudge is said once per segment however often it is clicked; a message once per form."""
    if kind not in Announcement.Kind.values:
        raise WorkshopError(_("Please choose what to announce."))
    message = kind == Announcement.Kind.MESSAGE
    if message:
        token = _token(token)
        if not text:
            raise WorkshopError(_("Please write a short message first."))
    with transaction.atomic():
        workshop = _locked(workshop)
        _open(workshop)
        if not message:
            if workshop.current_id is None:
                raise WorkshopError(_("Start a segment first."), status=409)
            token = f"{kind}.{workshop.current_id}"
        same = Announcement.objects.filter(workshop=workshop, client_token=token).first()
        if same is not None:
            return same
        announcement = Announcement.objects.create(
            workshop=workshop,
            kind=kind,
            text=text if kind == Announcement.Kind.MESSAGE else "",
            client_token=token,
        )
        if kind == Announcement.Kind.TWO_MINUTES and workshop.current_until is not None:
            workshop.current_until = clock.now() + timedelta(minutes=2)
            workshop.save(update_fields=["current_until"])
        _room_changed(workshop, board_too=kind != Announcement.Kind.MESSAGE)
    return announcement


def workshop_end(*, workshop: Workshop) -> None:
    """The workshop ends. Couples keep their dialogues (paused ones wait for them at home);
    the presenter keeps attendance and counts per step."""
    with transaction.atomic():
        workshop = _locked(workshop)
        if workshop.state == Workshop.State.ENDED:
            return
        workshop.state = Workshop.State.ENDED
        workshop.ended_at = clock.now()
        workshop.reconvened = False
        workshop.save(update_fields=["state", "ended_at", "reconvened"])
        Attendance.objects.filter(workshop=workshop).update(help_at=None)
        Participant.objects.filter(attendance__workshop=workshop).update(present=False)
        _room_changed(workshop, board_too=True)
        for attendance in workshop.attendances.all():  # reading ends with the workshop
            live.consoles_close(
                link_public_id=selectors.reading_access_id(attendance),
                therapist_pk=workshop.presenter_id,
            )


# --- what the board and the room hear -------------------------------------------------------


def _card_changed(workshop: Workshop, attendance: Attendance) -> None:
    """After commit: this couple's card, rendered once, to every open board."""
    transaction.on_commit(lambda: board_card_send(workshop=workshop, attendance_id=attendance.pk))


def board_card_send(*, workshop: Workshop, attendance_id: int) -> None:
    html = selectors.render_card(workshop=workshop, attendance_id=attendance_id)
    live.send(
        live.workshop_board_group(workshop.public_id),
        {"type": "workshop.card", "html": html, "attendance": attendance_id},
    )


def _room_changed(workshop: Workshop, *, board_too: bool = False) -> None:
    """After commit: every participant's page (and the boards) hear the room changed."""
    public_id = workshop.public_id
    live.send_after_commit(live.workshop_room_group(public_id), {"type": "workshop.room"})
    if board_too:
        live.send_after_commit(live.workshop_board_group(public_id), {"type": "workshop.plan"})


# --- afterwards: export and deletion ----------------------------------------------------------


def workshops_export(*, user: User) -> dict:
    """A presenter's workshops (attendance and counts, no couple's text); a partner's places
    in workshops (the dialogues themselves are in their dialogues export)."""
    presented = [
        {
            "title": w.title,
            "starts_at": w.starts_at.isoformat(),
            "state": w.state,
            "couples_joined": w.attendances.filter(joined_at__isnull=False).count(),
            "segments": [
                {"position": s.position, "kind": s.kind, "dialogue_kind": s.dialogue_kind}
                for s in w.segments.all()
            ],
            "practice_steps": selectors.step_counts_all(workshop=w),
        }
        for w in Workshop.objects.filter(presenter=user)
    ]
    attended = [
        {
            "workshop": p.attendance.workshop.title,
            "starts_at": p.attendance.workshop.starts_at.isoformat(),
            "accepted_at": p.accepted_at.isoformat(),
            "reading_allowed": p.reading_allowed_at is not None,
            "practice_dialogues": [
                pr.session.public_id for pr in p.attendance.practices.select_related("session")
            ],
        }
        for p in Participant.objects.filter(partner=user).select_related("attendance__workshop")
    ]
    return {"workshops_presented": presented, "workshops_attended": attended}


def workshops_forget(*, user: User) -> None:
    """Account deletion (the account stays as an anonymous shell, so nothing cascades): a
    presenter's workshops go, with their plans, messages and attendance (the couples keep
    their dialogues); a partner's places go, with their couple's attendance."""
    Workshop.objects.filter(presenter=user).delete()
    Attendance.objects.filter(people__partner=user).delete()


def on_account_exporting(sender: object, *, user: User, **kwargs: object) -> dict:
    return workshops_export(user=user)


def on_account_deleting(sender: object, *, user: User, **kwargs: object) -> None:
    workshops_forget(user=user)


# --- the background job -----------------------------------------------------------------------


@task()
def workshop_job(action: str, workshop_id: int, run_id: int | None = None) -> int:
    """One per room-wide change (a practice started for every present couple, every practice
    paused for the group or resumed, the participants' pushes), never one per couple from
    the presenter's browser. Run by `manage.py db_worker`; safe to run twice."""
    if action == "practice" and run_id is not None:
        return practice_run(run_id=run_id).started
    if action == "pause":
        return practices_pause(workshop_id=workshop_id)
    if action == "resume":
        return practices_resume(workshop_id=workshop_id)
    if action == "notify" and run_id is not None:  # here the id is the segment's
        return segment_notify(workshop_id=workshop_id, segment_id=run_id)
    raise ValueError(f"unknown workshop job {action!r}")
