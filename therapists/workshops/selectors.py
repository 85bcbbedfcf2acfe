"""Reads about workshops: who may see which, the presenter's board (progress only, never
text), the participants' room, and the cards the board updates one at a time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext

from couples.models import User, is_public_id
from dialogues import protocol, push
from dialogues.models import DialogueSession
from live import clock
from therapists.workshops.models import (
    Announcement,
    Attendance,
    Participant,
    Practice,
    Segment,
    Workshop,
)

STUCK_AFTER = timedelta(minutes=4)  # no step for this long during a practice: maybe stuck
# (the board's script marks a card stuck once this has passed since its last step, without
# a message from the server: static/js/workshop.js reads data-stuck-after)
BOARD = "therapists/workshop_board.html"
ROOM = "therapists/workshop_room.html"
RECENT_ANNOUNCEMENTS = 5


def may_present(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.is_therapist
        and not user.is_staff
        and user.is_verified_therapist
    )


def workshop_for_presenter(*, user: User, public_id: str) -> Workshop | None:
    """The workshop if this person presents it (a verified therapist); None otherwise."""
    if not may_present(user) or not is_public_id(public_id):
        return None
    return (
        Workshop.objects.filter(public_id=public_id, presenter=user)
        .select_related("current", "presenter")
        .first()
    )


def workshops_of(*, presenter: User) -> list[Workshop]:
    return list(Workshop.objects.filter(presenter=presenter))


def participant_in(*, user: User, workshop_public_id: str) -> tuple[Workshop, Participant] | None:
    """This partner's place in the workshop (their couple joined or is joining), or None."""
    if not user.is_authenticated or not is_public_id(workshop_public_id):
        return None
    participant = (
        Participant.objects.filter(
            partner=user,
            attendance__workshop__public_id=workshop_public_id,
            attendance__couple__is_active=True,
        )
        .select_related("attendance__workshop__current", "attendance__couple", "partner")
        .first()
    )
    if participant is None:
        return None
    return participant.attendance.workshop, participant


def places_of(*, user: User) -> list[Participant]:
    """The workshops this partner joined (their own home page lists them)."""
    if not user.is_authenticated:
        return []
    return list(
        Participant.objects.filter(partner=user, attendance__couple__is_active=True)
        .select_related("attendance__workshop")
        .order_by("-attendance__workshop__starts_at")
    )


def present_attendances(*, workshop: Workshop) -> QuerySet[Attendance]:
    """Joined couples with at least one partner's workshop page open."""
    return (
        Attendance.objects.filter(workshop=workshop, joined_at__isnull=False, people__present=True)
        .select_related("couple")
        .distinct()
        .order_by("pk")
    )


def reading_allowed(people: list[Participant]) -> bool:
    """Both partners allowed the presenter to read their practice."""
    return len(people) == 2 and all(p.reading_allowed_at is not None for p in people)


def presenter_reading(*, therapist: User, couple_id: int) -> Attendance | None:
    """The couple's place in an open workshop this therapist presents, if both partners allow
    the presenter to read their practice (else None)."""
    attendances = Attendance.objects.filter(
        couple_id=couple_id,
        couple__is_active=True,
        joined_at__isnull=False,
        workshop__presenter=therapist,
    ).exclude(workshop__state=Workshop.State.ENDED)
    for attendance in attendances.prefetch_related("people"):
        if reading_allowed(list(attendance.people.all())):
            return attendance
    return None


def presenter_may_read(*, therapist: User, couple_id: int, for_update: bool = False) -> bool:
    """The facilitator check registered with dialogues: a presenter may step into a couple's
    practice only while the workshop is open and both partners allow reading."""
    return presenter_reading(therapist=therapist, couple_id=couple_id) is not None


def reading_access_id(attendance: Attendance) -> str:
    """What a presenter's console on this couple closes by (`therapist.access_ended`), as a
    linked therapist's closes by its link's id."""
    return f"workshop.{attendance.public_id}"


# --- the board ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    attendance_id: int
    attendance_public_id: str
    names: list[tuple[str, bool]]  # (name, present)
    present: bool
    step: str  # the current step's title, or "" (no practice now)
    status: str  # "", "active", "paused", "group", "done", "not_started"
    help: bool
    stuck: bool
    readable: bool
    session_id: str  # the practice's public id (used only for "Step in" when readable)
    since: datetime | None = None  # the practice's last step, while it goes on (for "stuck")
    stuck_after: int = int(STUCK_AFTER.total_seconds())

    @property
    def order(self) -> tuple:
        """The asking and the stuck first, then time-outs, then everyone by name."""
        return (
            not self.help,
            not self.stuck,
            self.status != "paused",
            not self.present,
            self.names[0][0].casefold() if self.names else "",
        )


def _step_title(session: DialogueSession) -> str:
    return str(protocol.step_of(session.protocol_state).title)


def _card(attendance: Attendance, practice: Practice | None, workshop: Workshop) -> Card:
    people = list(attendance.people.all())
    session = practice.session if practice is not None else None
    status, step, stuck = "", "", False
    if session is not None:
        step = _step_title(session)
        if session.status in (DialogueSession.Status.COMPLETED, DialogueSession.Status.ENDED):
            status = "done"
        elif session.is_paused:
            status = "group" if workshop.reconvened else "paused"
        else:
            status = "active"
            stuck = not workshop.reconvened and clock.now() - session.updated_at > STUCK_AFTER
    elif workshop.current is not None and workshop.current.is_practice:
        status = "not_started"
    readable = reading_allowed(people)
    return Card(
        attendance_id=attendance.pk,
        attendance_public_id=attendance.public_id,
        names=[(p.partner.display_name, p.present) for p in people],
        present=any(p.present for p in people),
        step=step,
        status=status,
        help=attendance.help_at is not None,
        stuck=stuck,
        readable=readable,
        session_id=session.public_id if session is not None and readable else "",
        since=session.updated_at if session is not None and status == "active" else None,
    )


def _attendances(workshop: Workshop) -> QuerySet[Attendance]:
    return (
        Attendance.objects.filter(workshop=workshop, joined_at__isnull=False)
        .prefetch_related(
            Prefetch("people", queryset=Participant.objects.select_related("partner"))
        )
        .order_by("pk")
    )


def _practices(workshop: Workshop, attendance_ids: list[int] | None = None) -> dict[int, Practice]:
    if workshop.current_id is None:
        return {}
    practices = Practice.objects.filter(segment_id=workshop.current_id).select_related("session")
    if attendance_ids is not None:
        practices = practices.filter(attendance_id__in=attendance_ids)
    return {p.attendance_id: p for p in practices}


def summary(*, workshop: Workshop) -> dict:
    """The board's top line: couples per step of the current practice, done, present,
    asking for help (three reads, however many couples)."""
    steps: Counter[str] = Counter()
    done = 0
    if workshop.current_id is not None:
        rows = Practice.objects.filter(segment_id=workshop.current_id).values_list(
            "session__step", "session__status"
        )
        for step, status in rows:
            if status in (DialogueSession.Status.COMPLETED, DialogueSession.Status.ENDED):
                done += 1
            else:
                steps[str(protocol.STEPS[step].title)] += 1
    joined = Attendance.objects.filter(workshop=workshop, joined_at__isnull=False)
    return {
        "counts": sorted(steps.items(), key=lambda item: -item[1]),
        "done": done,
        "present": joined.filter(people__present=True).distinct().count(),
        "asking": joined.filter(help_at__isnull=False).count(),
    }


def board(*, workshop: Workshop) -> dict:
    """Everything the presenter's board shows, in a few reads however many couples."""
    attendances = list(_attendances(workshop))
    practices = _practices(workshop)
    cards = sorted(
        (_card(a, practices.get(a.pk), workshop) for a in attendances), key=lambda c: c.order
    )
    waiting = Attendance.objects.filter(workshop=workshop, joined_at__isnull=True).count()
    return {
        **summary(workshop=workshop),
        "workshop": workshop,
        "cards": cards,
        "waiting": waiting,
        "segments": list(workshop.segments.select_related("run")),
        "rules": Workshop.SenderRule.choices,
    }


def card(*, workshop: Workshop, attendance_id: int) -> Card | None:
    attendance = _attendances(workshop).filter(pk=attendance_id).first()
    if attendance is None:
        return None
    workshop.refresh_from_db(fields=["current", "reconvened", "state"])
    return _card(attendance, _practices(workshop, [attendance_id]).get(attendance_id), workshop)


def step_counts_all(*, workshop: Workshop) -> dict[str, dict[str, int]]:
    """What the presenter keeps afterwards: per practice segment, how many couples reached
    which step (ids and step names only)."""
    result: dict[str, dict[str, int]] = {}
    practices = Practice.objects.filter(segment__workshop=workshop).select_related(
        "session", "segment"
    )
    for practice in practices:
        key = str(practice.segment.position)
        steps = result.setdefault(key, {})
        steps[practice.session.step] = steps.get(practice.session.step, 0) + 1
    return result


# --- the participants' room ----------------------------------------------------------------


def room(*, workshop: Workshop, participant: Participant | None = None) -> dict:
    """What every participant's page shows of the room (the same for all), and this couple's
    own practice when `participant` is given."""
    context: dict = {
        "workshop": workshop,
        "segment": workshop.current,
        "announcements": list(
            Announcement.objects.filter(workshop=workshop)[:RECENT_ANNOUNCEMENTS]
        ),
        "segments": list(workshop.segments.all()),
    }
    if participant is not None:
        attendance = participant.attendance
        people = list(attendance.people.select_related("partner"))
        context["participant"] = participant
        context["attendance"] = attendance
        context["joined"] = attendance.joined_at is not None
        context["reading"] = reading_allowed(people)
        practices = list(attendance.practices.select_related("session").order_by("pk"))
        context["practices"] = practices
        context["practice"] = next(
            (p for p in practices if workshop.current_id and p.segment_id == workshop.current_id),
            None,
        )
    return context


def render_card(*, workshop: Workshop, attendance_id: int) -> str:
    """One couple's card as the board shows it ("" once it is gone), rendered once for every
    open board of the workshop (in the presenter's language and zone)."""
    found = card(workshop=workshop, attendance_id=attendance_id)
    if found is None:
        return ""
    context = {"card": found, "workshop": workshop, "user": workshop.presenter}
    return push.render_to_string(f"{BOARD}#card", context) + push.render_to_string(
        f"{BOARD}#counts", {**context, **summary(workshop=workshop)}
    )


def render_board(*, workshop: Workshop) -> str:
    return push.render_to_string(
        f"{BOARD}#board", {**board(workshop=workshop), "user": workshop.presenter}
    )


def render_room(*, workshop: Workshop, participant: Participant) -> str:
    return push.render_to_string(
        f"{ROOM}#room",
        {**room(workshop=workshop, participant=participant), "user": participant.partner},
    )


def segment_label(segment: Segment) -> str:
    if segment.is_practice and segment.dialogue_kind:
        return str(protocol.kind_info(segment.dialogue_kind).title)
    return str(segment.get_kind_display())


def practice_title(session: DialogueSession) -> str | None:
    """A practice dialogue's title, after its workshop and which practice of the plan it was
    ("Appreciation Dialogue — Getting the Love You Want, practice 2"), in the reader's
    language; None for any other dialogue. One read, kept on the session for the page."""
    if "_workshop_practice" not in session.__dict__:
        earlier = (
            Segment.objects.filter(
                workshop_id=OuterRef("segment__workshop_id"),
                kind=Segment.Kind.PRACTISE,
                position__lte=OuterRef("segment__position"),
            )
            .values("workshop_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        session.__dict__["_workshop_practice"] = (
            Practice.objects.filter(session_id=session.pk)
            .annotate(number=Subquery(earlier))
            .values_list("segment__workshop__title", "number")
            .first()
        )
    found = session.__dict__["_workshop_practice"]
    if found is None:
        return None
    workshop, number = found
    return gettext("%(kind)s — %(workshop)s, practice %(number)d") % {
        "kind": protocol.kind_info(session.kind).title,
        "workshop": workshop,
        "number": number or 1,
    }
