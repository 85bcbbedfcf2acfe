"""Work planned for later about a dialogue: emails and the opening at the appointed time.

Planning happens inside the change that calls for it (`session_planned`, called by
`services.session_change` in its transaction): it writes `Reminder` rows and enqueues one
background job per row (dialogues/tasks.py) due at the row's time. The job database is the
same database, so a change that rolls back plans nothing. Delivery (tasks.py) locks the row,
does the work and marks it sent in one transaction.

Nothing here writes private text: emails and calendar files name the kind of dialogue, the
partner and the time, never the topic or a word anyone wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from couples.models import User
from dialogues import protocol
from dialogues.models import DialogueSession, Reminder, Turn
from live import clock, places

APPOINTMENT_KINDS = (Reminder.Kind.SCHEDULED, Reminder.Kind.REMINDER, Reminder.Kind.OPEN)
PRODID = "-//Imago//Scheduled dialogues//EN"


def person_is_online(pk: int) -> bool:
    """Whether this person has any live page of the app open now (any worker)."""
    return places.held(places.person_key(pk)) > 0


def dialogue_path(session: DialogueSession, person: User | None = None) -> str:
    """The dialogue's page for this person: the partners' page, or the console for the
    therapist who booked it (by its URL name: dialogues never imports therapists)."""
    if person is not None and session.slot_of(person) is None and person.is_therapist:
        return reverse("therapists:console", args=[session.public_id])
    return reverse("dialogues:detail", args=[session.public_id])


def dialogue_url(session: DialogueSession, person: User | None = None) -> str:
    return settings.SITE_URL + dialogue_path(session, person)


def planned_key(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def _partners(session: DialogueSession) -> list[User]:
    return [p for p in (session.partner_a, session.partner_b) if p is not None]


def _recipients(session: DialogueSession) -> list[User]:
    """Who hears about the appointment: both partners, and the therapist who booked it."""
    people = _partners(session)
    if session.is_facilitated and session.scheduled_by is not None:
        people.append(session.scheduled_by)
    return people


# The job runner's queue, registered by `dialogues.tasks` (imported when the app is ready).
# A registry, not an import: the jobs import the services, which import this module.
_queue: dict[str, Callable[..., None]] = {}


def queue_register(*, reminder: Callable[[Reminder], None], your_move: Callable[..., None]) -> None:
    """Where planned work is handed to the job runner: `reminder(row)` queues the delivery of
    one reminder; `your_move(session_id=, people=, step_seq=, due=, now=)` one "your move"
    email."""
    _queue.update(reminder=reminder, your_move=your_move)


def _queued(name: str) -> Callable[..., None]:
    try:
        return _queue[name]
    except KeyError:
        raise RuntimeError("dialogues.tasks isn't loaded: no job runner to hand work to") from None


def _plan(
    session: DialogueSession,
    *,
    kind: str,
    due_at: datetime,
    planned_for: str,
    person: User | None,
) -> Reminder | None:
    reminder, created = Reminder.objects.get_or_create(
        session=session,
        person=person,
        kind=kind,
        planned_for=planned_for,
        defaults={"due_at": due_at},
    )
    if not created:
        return None  # the same plan was made before: nothing twice
    _queued("reminder")(reminder)
    return reminder


def _cancel_pending(session: DialogueSession, kinds: tuple[str, ...]) -> int:
    return Reminder.objects.filter(
        session=session, kind__in=kinds, sent_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=clock.now())


def session_planned(
    *, session: DialogueSession, before: dict[str, object], turn: Turn | None
) -> None:
    """After a change to a dialogue (inside its transaction): plan or cancel what follows.

    `before`: the session's progress columns before the change (services._progress_of)."""
    now = clock.now()
    was_scheduled = before.get("step") == protocol.SCHEDULED and before.get("status") in (
        DialogueSession.WAITING
    )
    scheduled_now = session.waits_for_time
    if (
        scheduled_now
        and session.scheduled_for
        and session.scheduled_for != before.get("scheduled_for")
    ):
        _cancel_pending(session, APPOINTMENT_KINDS)
        at = session.scheduled_for
        key = planned_key(at)
        remind_at = at - timedelta(minutes=settings.IMAGO_REMINDER_MINUTES)
        for person in _recipients(session):
            _plan(session, kind=Reminder.Kind.SCHEDULED, due_at=now, planned_for=key, person=person)
            if remind_at > now:
                _plan(
                    session,
                    kind=Reminder.Kind.REMINDER,
                    due_at=remind_at,
                    planned_for=key,
                    person=person,
                )
        _plan(session, kind=Reminder.Kind.OPEN, due_at=at, planned_for=key, person=None)
    elif was_scheduled and not scheduled_now:
        # (The opening being delivered now is marked sent by its own job.)
        _cancel_pending(session, (Reminder.Kind.SCHEDULED, Reminder.Kind.REMINDER))
        if turn is None or turn.move != protocol.OPEN:
            _cancel_pending(session, (Reminder.Kind.OPEN,))
        old = before.get("scheduled_for")
        if not session.is_live and isinstance(old, datetime):
            # Cancelled (or ended) before its time: both are told, and calendars drop it.
            for person in _recipients(session):
                _plan(
                    session,
                    kind=Reminder.Kind.CANCELLED,
                    due_at=now,
                    planned_for=planned_key(old),
                    person=person,
                )
    _plan_your_move(session=session, before=before, turn=turn, now=now)


def _plan_your_move(
    *, session: DialogueSession, before: dict[str, object], turn: Turn | None, now: datetime
) -> None:
    """When someone is asked to talk, or the appointed time came: one email at once if they
    aren't on the page (one job, one INSERT, only at those two moments). Whoever still hasn't
    moved after YOUR_MOVE_AFTER_MINUTES is found by the every-minute sweep
    (`tasks.your_move_deliver_due`), so an ordinary move adds no statement of its own."""
    if not settings.IMAGO_YOUR_MOVE_EMAILS:
        return
    if turn is not None and turn.move not in (protocol.ASK, *protocol.OPENINGS):
        return
    if session.status != DialogueSession.Status.ACTIVE or not session.is_live:
        return
    state = session.protocol_state
    if protocol.is_scheduled(state):
        return  # an appointment: the reminders say when
    waiting = waited_on(session)
    if not waiting:
        return
    _queued("your_move")(
        session_id=session.pk, people=waiting, step_seq=session.step_seq, due=now, now=True
    )


def waited_on(session: DialogueSession) -> list[int]:
    """The partners whose move it is (their ids), as the protocol says."""
    return [
        p.pk
        for slot in sorted(protocol.whose_turn(session.protocol_state))
        if (p := session.partner_in(slot))
    ]


# --- what is sent -------------------------------------------------------------------------


def local_time(moment: datetime, person: User) -> str:
    """A moment as this person reads it, with their zone: "Tue 2 Dec, 20:00 (Europe/Berlin)",
    in the active language (an email's, its recipient's)."""
    zone = person.zone
    when = dateformat.format(moment.astimezone(zone), pgettext("date format", "D j M, H:i"))
    return f"{when} ({zone.key})"


def _other_name(session: DialogueSession, person: User) -> str:
    """Who the dialogue is with, for this person: the partner, or (for the therapist who
    booked it) both partners."""
    slot = session.slot_of(person)
    if slot is None:
        names = [p.display_name for p in _partners(session)]
        if len(names) == 2:
            return _("%(first)s and %(second)s") % {"first": names[0], "second": names[1]}
        return names[0] if names else _("the couple")
    other = session.partner_in(protocol.other_slot(slot))
    return other.display_name if other else _("your partner")


def calendar_event(
    session: DialogueSession,
    *,
    at: datetime,
    cancelled: bool = False,
    summary: str = "",
    person: User | None = None,
) -> icalendar.Event:
    """One VEVENT for a scheduled dialogue: a stable UID per dialogue (a new time updates it,
    a cancellation removes it), the dialogue's link, and no private text. For `person`: in
    their own time zone (calendar_file adds its VTIMEZONE) and with their link."""
    zone = person.zone if person is not None else ZoneInfo("UTC")
    url = dialogue_url(session, person)
    kind = protocol.kind_info(session.kind).title
    if not summary and session.is_facilitated:
        by = session.scheduled_by.display_name if session.scheduled_by else _("your therapist")
        with_whom = _other_name(session, person) if person is not None else ""
        summary = (
            _("Imago: %(kind)s with %(with_whom)s (facilitated)")
            % {"kind": kind, "with_whom": with_whom}
            if person is not None and session.slot_of(person) is None
            else _("Imago: %(kind)s, facilitated by %(by)s") % {"kind": kind, "by": by}
        )
    event = icalendar.Event()
    event.add("uid", f"{session.public_id}@imago")
    event.add("dtstamp", clock.now())
    event.add("dtstart", at.astimezone(zone))
    event.add("dtend", at.astimezone(zone) + dialogue_length(session))
    event.add("SUMMARY", summary or _("Imago: %(kind)s") % {"kind": kind})
    event.add("description", _("Open the dialogue: %(url)s") % {"url": url})
    event.add("url", url)
    # A later time or a cancellation replaces what calendars hold: SEQUENCE only grows.
    event.add("sequence", int(clock.now().timestamp()))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def dialogue_length(session: DialogueSession) -> timedelta:
    return timedelta(minutes=session.minutes or settings.IMAGO_DIALOGUE_MINUTES)


def calendar_file(events: list[icalendar.Event], *, method: str = "") -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    for event in events:
        cal.add_component(event)
    cal.add_missing_timezones()  # a VTIMEZONE for each zone the events are in (RFC 5545)
    return cal.to_ical()


def appointment_file(session: DialogueSession, *, person: User) -> bytes:
    """The calendar file for one scheduled dialogue, as this person reads it: the one the
    "scheduled" email attaches and the "Add to calendar" link downloads."""
    if session.scheduled_for is None:
        raise ValueError("The dialogue has no appointed time.")
    event = calendar_event(session, at=session.scheduled_for, person=person)
    return calendar_file([event], method="PUBLISH")


def _message(person: User, subject: str, lines: list[str]) -> EmailMessage:
    hello = _("Hello %(name)s,") % {"name": person.display_name}
    body = "\n\n".join([hello, *lines, _("— Imago")]) + "\n"
    return EmailMessage(
        subject=f"[Imago] {subject}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[person.email],
    )


def _moved(reminder: Reminder) -> bool:
    """Whether this person was sent an earlier time for this dialogue (it was moved)."""
    return (
        Reminder.objects.filter(
            session=reminder.session,
            person=reminder.person,
            kind=Reminder.Kind.SCHEDULED,
            sent_at__isnull=False,
        )
        .exclude(planned_for=reminder.planned_for)
        .exists()
    )


def reminder_email(reminder: Reminder) -> EmailMessage | None:
    """The email this reminder sends (None: nobody to send to), in its recipient's language."""
    person = reminder.person
    if person is None or not person.email or not person.is_active:
        return None
    with translation.override(person.language_code):
        return _reminder_email(reminder, person)


def _reminder_email(reminder: Reminder, person: User) -> EmailMessage | None:
    session = reminder.session
    other = _other_name(session, person)
    kind = protocol.kind_info(session.kind).title
    url = dialogue_url(session, person)
    at = session.scheduled_for
    by = session.scheduled_by if session.is_facilitated else None
    mine = by is not None and by.pk == person.pk  # the therapist who booked it
    with_whom = (
        _("%(other)s, facilitated by %(by)s") % {"other": other, "by": by.display_name}
        if by and not mine
        else other
    )
    what = _("facilitated %(kind)s") % {"kind": kind} if by else kind
    if reminder.kind == Reminder.Kind.SCHEDULED and at is not None:
        when = local_time(at, person)
        moved = _moved(reminder)
        names = {"by": by.display_name if by else "", "what": what, "other": other, "when": when}
        minutes = int(dialogue_length(session).total_seconds() // 60)
        if by and not mine:
            if moved:
                booked = _(
                    "%(by)s has moved a %(what)s with you and %(other)s: %(when)s, "
                    "for %(minutes)s minutes."
                )
            else:
                booked = _(
                    "%(by)s has booked a %(what)s with you and %(other)s: %(when)s, "
                    "for %(minutes)s minutes."
                )
            booked = booked % {**names, "minutes": minutes}
        elif moved:
            booked = _("Your %(what)s with %(other)s is now planned for %(when)s.") % names
        else:
            booked = _("Your %(what)s with %(other)s is planned for %(when)s.") % names
        change = (
            _("Open it: %(url)s") % {"url": url}
            if by
            else _("Open it, or change the time: %(url)s") % {"url": url}
        )
        subject = (
            _("New time with %(with_whom)s: %(when)s")
            if moved
            else _("Dialogue with %(with_whom)s: %(when)s")
        ) % {"with_whom": with_whom, "when": when}
        message = _message(
            person,
            subject,
            [
                booked,
                _(
                    "It opens by itself at that time; you'll get a reminder %(minutes)s minutes "
                    "before. The calendar file attached adds it to your calendar (times in "
                    "%(zone)s)."
                )
                % {"minutes": settings.IMAGO_REMINDER_MINUTES, "zone": person.zone.key},
                change,
            ],
        )
        message.attach("dialogue.ics", appointment_file(session, person=person), "text/calendar")
        return message
    if reminder.kind == Reminder.Kind.CANCELLED:
        old = parse_planned(reminder.planned_for)
        names = {"what": what, "other": other, "when": local_time(old, person)}
        if by and not mine:
            cancelled = _(
                "The %(what)s with %(other)s planned for %(when)s was cancelled by %(by)s. "
                "Nothing else changed."
            ) % {**names, "by": by.display_name}
        else:
            cancelled = (
                _(
                    "The %(what)s with %(other)s planned for %(when)s was cancelled. "
                    "Nothing else changed."
                )
                % names
            )
        message = _message(
            person,
            _("Dialogue with %(with_whom)s cancelled") % {"with_whom": with_whom},
            [
                cancelled,
                _("When you're both ready, start another from your home page: %(url)s")
                % {"url": f"{settings.SITE_URL}/"}
                if not mine
                else _("Book another from the couple's page: %(url)s")
                % {"url": f"{settings.SITE_URL}/therapist/"},
            ],
        )
        event = calendar_event(session, at=old, cancelled=True, person=person)
        ics = calendar_file([event], method="CANCEL")
        message.attach("dialogue.ics", ics, "text/calendar")
        return message
    if reminder.kind == Reminder.Kind.REMINDER and at is not None:
        minutes = max(1, round((at - clock.now()).total_seconds() / 60))
        return _message(
            person,
            ngettext(
                "In %(minutes)s minute: your dialogue with %(with_whom)s",
                "In %(minutes)s minutes: your dialogue with %(with_whom)s",
                minutes,
            )
            % {"minutes": minutes, "with_whom": with_whom},
            [
                _("Your %(what)s with %(other)s opens at %(when)s.")
                % {"what": what, "other": other, "when": local_time(at, person)},
                _("Open it: %(url)s") % {"url": url},
            ],
        )
    if reminder.kind == Reminder.Kind.YOUR_MOVE:
        if session.step == protocol.APPOINTMENT:
            line = _(
                "%(other)s would like to talk. Say whether now is a good time, or offer one."
            ) % {"other": other}
            subject = _("%(other)s would like to talk") % {"other": other}
        else:
            line = _("It's your move in your %(kind)s with %(other)s.") % {
                "kind": kind,
                "other": other,
            }
            subject = _("It's your move")
        return _message(
            person,
            subject,
            [
                line,
                _("Open the dialogue: %(url)s") % {"url": url},
                _(
                    "You get this email at most once while you're waited on. You can turn "
                    "these emails off in your account settings."
                ),
            ],
        )
    return None


def parse_planned(key: str) -> datetime:
    return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))
