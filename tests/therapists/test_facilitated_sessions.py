"""Facilitated sessions a linked therapist books with a couple: the booking (date, time,
length), its calendar files and reminders to both partners and the therapist (each in their
own zone), the opening at the time for all three, moving and cancelling, the home pages,
the dashboard, the couple page and the calendar feeds — as each role, with a held clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.db import connection
from django.utils import translation

from couples import services as couple_services
from couples.models import User
from dialogues import protocol, services, tasks
from dialogues import reminders as reminders_module
from dialogues import selectors as dialogue_selectors
from dialogues.models import DialogueSession, Reminder
from dialogues.services import DialogueError
from live import clock
from safety import services as safety_services
from tests.helpers import at_once, form_token
from tests.therapists.conftest import NOT_ALLOWED
from therapists import services as therapist_services

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
# 13:00 in New York on 3 December is 18:00 UTC: 19:00 in Berlin, 10:00 in Los Angeles.
AT = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
BOOKING = {"day": "2026-12-03", "time": "13:00", "minutes": "60"}


@pytest.fixture(autouse=True)
def held_clock():
    clock.clock_set(NOW)
    yield
    clock.clock_set(None)


def transcript_line(turn, *, viewer) -> str:
    """What the transcript says of a turn to `viewer`: who, and what they did."""
    view = dialogue_selectors.turn_view(turn, viewer=viewer)
    return f"{view.actor_name} {view.phrase}".strip()


def set_clock(moment: datetime) -> None:
    clock.clock_set(moment)


@pytest.fixture
def zones(alex, sam, therapist):
    for person, zone in (
        (alex, "America/Los_Angeles"),
        (sam, "Europe/Berlin"),
        (therapist, "America/New_York"),
    ):
        person.time_zone = zone
        User.objects.filter(pk=person.pk).update(time_zone=zone)


@pytest.fixture
def booked(link, pair, therapist, sam, zones):
    """Dr. Rivera (New York) booked an hour's Intentional Dialogue, Sam to share first."""
    mail.outbox.clear()
    return therapist_services.facilitated_book(
        therapist=therapist,
        couple=pair,
        kind="intentional",
        first=sam.public_id,
        day="2026-12-03",
        time="13:00",
        minutes=60,
    )


def deliver() -> int:
    return tasks.reminders_deliver_due()


def to(person: User) -> list:
    return [m for m in mail.outbox if m.to == [person.email]]


def event_of(message) -> tuple[icalendar.Calendar, icalendar.Event]:
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("dialogue.ics", "text/calendar")
    cal = icalendar.Calendar.from_ical(content)
    (event,) = cal.walk("VEVENT")
    return cal, event


# --- booking ----------------------------------------------------------------------------------


def test_a_booked_session_waits_for_its_time_without_blocking_the_couples_own_dialogues(
    booked, alex, sam, therapist
):
    assert booked.status == DialogueSession.Status.PLANNED and booked.step == protocol.SCHEDULED
    assert booked.scheduled_for == AT and booked.minutes == 60
    assert booked.scheduled_by == therapist
    assert (booked.partner_a, booked.partner_b) == (sam, alex)  # Sam shares first
    first = booked.turns.get()
    assert (first.move, first.actor, first.actor_role) == (protocol.BOOK, therapist, "facilitator")
    # The couple can still talk on their own meanwhile.
    own = services.dialogue_start(user=alex, kind="appreciation", topic="Thanks")
    assert own.is_live


def test_both_partners_and_the_therapist_get_the_calendar_file_in_their_own_zone(
    booked, alex, sam, therapist
):
    assert deliver() == 3
    expected = {
        alex: ("10:00 (America/Los_Angeles)", f"/dialogues/{booked.public_id}/"),
        sam: ("19:00 (Europe/Berlin)", f"/dialogues/{booked.public_id}/"),
        therapist: ("13:00 (America/New_York)", f"/therapist/dialogues/{booked.public_id}/"),
    }
    for person, (when, url) in expected.items():
        (message,) = to(person)
        assert when in message.subject and when in message.body
        assert f"times in {person.zone.key}" in message.body  # the email says the zone
        assert url in message.body
        assert "Session with" not in message.subject + message.body  # no topic
        cal, event = event_of(message)
        assert str(cal["method"]) == "PUBLISH" and str(cal["version"]) == "2.0"
        assert event.decoded("dtstart") == AT
        assert event.decoded("dtend") == AT + timedelta(minutes=60)
        assert event["dtstart"].params["TZID"] == person.zone.key  # in their own zone
        assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == [person.zone.key]
        assert str(event["uid"]) == f"{booked.public_id}@imago"
        assert str(event["url"]).endswith(url)
        assert str(event["status"]) == "CONFIRMED"
    # The partners are told who scheduled it.
    assert "Dr. Rivera has booked a facilitated Intentional Dialogue" in to(sam)[0].body
    assert "facilitated by Dr. Rivera" in str(event_of(to(alex)[0])[1]["summary"])
    assert "Dialogue with Sam and Alex:" in to(therapist)[0].subject


def test_a_reminder_goes_to_all_three_15_minutes_before_and_only_once(booked, alex, sam, therapist):
    deliver()
    mail.outbox.clear()
    set_clock(AT - timedelta(minutes=16))
    assert deliver() == 0
    set_clock(AT - timedelta(minutes=15))
    assert deliver() == 3
    for person in (alex, sam, therapist):
        (message,) = to(person)
        assert message.subject.startswith("[Imago] In 15 minutes:")
    assert "facilitated by Dr. Rivera" in to(sam)[0].subject
    deliver()
    set_clock(AT - timedelta(minutes=14))
    deliver()
    assert len(mail.outbox) == 3  # never again


@pytest.mark.parametrize("minutes", [5, 30])
def test_the_reminder_is_configurable(settings, booked, therapist, minutes):
    settings.IMAGO_REMINDER_MINUTES = minutes
    moved = therapist_services.facilitated_move(
        session_public_id=booked.public_id, therapist=therapist, **{**BOOKING, "time": "14:00"}
    )
    reminder = Reminder.objects.get(
        session=moved, kind=Reminder.Kind.REMINDER, person=therapist, cancelled_at=None
    )
    assert reminder.due_at == AT + timedelta(hours=1) - timedelta(minutes=minutes)


def test_at_the_time_it_opens_for_all_three_and_the_first_sender_moves(
    booked, alex, sam, therapist
):
    set_clock(AT - timedelta(seconds=1))
    deliver()
    booked.refresh_from_db()
    assert booked.is_planned
    set_clock(AT)
    deliver()
    booked.refresh_from_db()
    assert booked.status == "active" and booked.step == "send"
    assert protocol.whose_turn(booked.protocol_state) == {"a"} and booked.partner_a == sam
    opened = booked.turns.order_by("-seq").first()
    assert (opened.move, opened.actor, opened.actor_role) == (protocol.OPEN, None, "system")
    assert booked.turns.filter(move=protocol.OPEN).count() == 1
    assert not services.session_open_due(session_public_id=booked.public_id).created


def test_opening_ends_a_dialogue_the_couple_left_going(booked, alex, sam):
    own = services.dialogue_start(user=alex, kind="appreciation", topic="Thanks")
    set_clock(AT)
    deliver()
    own.refresh_from_db()
    booked.refresh_from_db()
    assert own.status == DialogueSession.Status.ENDED
    assert booked.is_live
    assert own.turns.order_by("-seq").first().actor_role == "system"


def test_the_timed_opening_respects_a_partners_safety_hold(booked, alex, sam, therapist):
    safety_services.screening_set_ready(user=alex, ready=False)
    set_clock(AT)
    deliver()
    booked.refresh_from_db()
    assert booked.is_planned and booked.step == protocol.SCHEDULED  # not opened
    with pytest.raises(DialogueError, match="hasn't finished getting ready"):
        therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    # Once ready again, the therapist opens it from the console.
    safety_services.screening_set_ready(user=alex, ready=True)
    therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    booked.refresh_from_db()
    assert booked.is_live and booked.step == "send"


def test_the_timed_opening_of_an_appointment_respects_a_safety_hold_too(pair, alex, sam):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "60"},
        at=dialogue.step_seq,
        token=form_token(),
    )
    safety_services.screening_set_ready(user=sam, ready=False)
    set_clock(NOW + timedelta(minutes=60))
    deliver()
    dialogue.refresh_from_db()
    assert dialogue.step == protocol.SCHEDULED  # waits until both are ready


def test_the_therapist_may_begin_early(booked, therapist):
    therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    booked.refresh_from_db()
    assert booked.is_live and booked.step == "send"
    # Its reminders and opening are dropped; a second click changes nothing.
    therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    assert booked.turns.filter(move__in=protocol.OPENINGS).count() == 1
    assert not Reminder.objects.filter(
        session=booked, kind=Reminder.Kind.REMINDER, cancelled_at=None
    ).exists()
    set_clock(AT)
    deliver()  # the opening finds it open: moot
    assert booked.turns.filter(move__in=protocol.OPENINGS).count() == 1


@pytest.mark.parametrize(
    "language, says",
    [
        ("en", "Dr. Rivera (therapist) began the dialogue before the appointed time"),
        ("es", "Dr. Rivera (terapeuta) comenzó el diálogo antes de la hora acordada"),
    ],
)
def test_beginning_early_is_recorded_as_early_not_as_the_appointed_time(
    booked, therapist, sam, language, says
):
    set_clock(AT - timedelta(minutes=21))
    therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    opened = booked.turns.order_by("-seq").first()
    assert (opened.move, opened.actor, opened.actor_role) == (
        protocol.BEGIN_EARLY,
        therapist,
        "facilitator",
    )
    with translation.override(language):
        line = transcript_line(opened, viewer=sam)
    assert line == says
    assert "appointed time came" not in line and "Llegó la hora" not in line


def test_beginning_by_hand_after_the_time_just_says_who_began(booked, alex, therapist, sam):
    safety_services.screening_set_ready(user=alex, ready=False)
    set_clock(AT + timedelta(minutes=5))
    deliver()  # waits: a partner isn't ready
    safety_services.screening_set_ready(user=alex, ready=True)
    therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    opened = booked.turns.order_by("-seq").first()
    assert opened.move == protocol.BEGIN
    assert transcript_line(opened, viewer=sam) == "Dr. Rivera (therapist) began the dialogue"


def test_partners_can_not_begin_move_or_cancel_a_booked_session(booked, alex, sam):
    for move in ("begin", "reschedule"):
        with pytest.raises(DialogueError, match="your therapist can move it"):
            services.move_submit(
                session_public_id=booked.public_id,
                user=sam,
                move=move,
                payload={"time": "60"},
                at=booked.step_seq,
                token=form_token(),
            )
    with pytest.raises(DialogueError):
        services.session_cancel(session_public_id=booked.public_id, user=alex)
    booked.refresh_from_db()
    assert booked.is_planned and booked.seq == 1


# --- moving and cancelling ----------------------------------------------------------------------


def test_moving_it_tells_everyone_the_new_time_and_reminds_at_the_new_time(
    booked, alex, sam, therapist
):
    deliver()
    mail.outbox.clear()
    therapist_services.facilitated_move(
        session_public_id=booked.public_id,
        therapist=therapist,
        day="2026-12-04",
        time="09:30",
        minutes=45,
    )
    booked.refresh_from_db()
    new = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)
    assert booked.scheduled_for == new and booked.minutes == 45
    assert booked.turns.order_by("-seq").first().move == protocol.MOVE_TIME
    assert deliver() == 3
    (to_sam,) = to(sam)
    assert to_sam.subject.startswith("[Imago] New time with Alex, facilitated by Dr. Rivera")
    assert "15:30 (Europe/Berlin)" in to_sam.subject and "Dr. Rivera has moved" in to_sam.body
    _, event = event_of(to_sam)
    assert event.decoded("dtstart") == new and event.decoded("dtend") == new + timedelta(minutes=45)
    # The old time's reminder and opening are gone: nothing happens at the old time.
    set_clock(AT)
    deliver()
    booked.refresh_from_db()
    assert booked.is_planned
    assert [m for m in mail.outbox if "In 15 minutes" in m.subject] == []
    # The same move again (a double click) changes nothing.
    therapist_services.facilitated_move(
        session_public_id=booked.public_id,
        therapist=therapist,
        day="2026-12-04",
        time="09:30",
        minutes=45,
    )
    assert booked.turns.filter(move=protocol.MOVE_TIME).count() == 1


def test_cancelling_it_tells_everyone_and_calendars_drop_it(booked, alex, sam, therapist):
    deliver()
    mail.outbox.clear()
    therapist_services.facilitated_cancel(session_public_id=booked.public_id, therapist=therapist)
    therapist_services.facilitated_cancel(session_public_id=booked.public_id, therapist=therapist)
    booked.refresh_from_db()
    assert booked.status == DialogueSession.Status.ENDED
    assert booked.turns.filter(move=protocol.CANCEL).count() == 1
    assert deliver() == 3
    (to_alex,) = to(alex)
    assert "cancelled by Dr. Rivera" in to_alex.body
    cal, event = event_of(to_alex)
    assert str(cal["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert event.decoded("dtstart") == AT
    set_clock(AT)
    deliver()
    booked.refresh_from_db()
    assert booked.status == DialogueSession.Status.ENDED  # never opens


def test_only_the_therapist_who_booked_it_moves_or_cancels_it(booked, alex, sam):
    from tests.factories import TherapistFactory, link_with_consent

    colleague = TherapistFactory(email="dr2@example.com", display_name="Dr. Two")
    link_with_consent(colleague, alex, sam)
    with pytest.raises(therapist_services.NotFound):
        therapist_services.facilitated_cancel(
            session_public_id=booked.public_id, therapist=colleague
        )
    with pytest.raises(therapist_services.NotFound):
        therapist_services.facilitated_move(
            session_public_id=booked.public_id, therapist=colleague, **BOOKING
        )
    booked.refresh_from_db()
    assert booked.is_planned and booked.seq == 1


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"day": "2026-12-01", "time": "12:00"}, "has passed"),  # 17:00 UTC: an hour ago
        ({"day": "2026-12-01", "time": "13:02"}, "too close"),  # in 2 minutes
        ({"day": "2028-01-01"}, "within the next year"),
        ({"day": "2026-13-45"}, "Please enter a date"),
        ({"day": ""}, "Please choose a date"),
        ({"time": "25:99"}, "Please enter a time"),
        ({"minutes": "5"}, "Please choose one of the lengths"),
        ({"minutes": "100000"}, "Please choose one of the lengths"),
        ({"minutes": "sixty"}, "Please choose one of the lengths"),
        ({"kind": "tango"}, "Please choose one of the kinds"),
        ({"first": "someone-else"}, "which partner shares first"),
    ],
)
def test_bad_bookings_get_a_clear_message_and_nothing_is_saved(
    link, pair, therapist, sam, zones, client_as, change, message
):
    data = {**BOOKING, "kind": "intentional", "first": sam.public_id, **change}
    response = client_as(therapist).post(f"/therapist/couples/{pair.public_id}/sessions/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not DialogueSession.objects.exists() and not Reminder.objects.exists()


@pytest.mark.parametrize("minutes", [0, 14, 181, 10_000])
def test_the_service_refuses_absurd_lengths(link, pair, therapist, sam, zones, minutes):
    with pytest.raises(therapist_services.TherapistError, match="length"):
        therapist_services.facilitated_book(
            therapist=therapist, couple=pair, **{**BOOKING, "minutes": minutes}
        )
    assert not DialogueSession.objects.exists()


def test_a_double_submit_books_once(link, pair, therapist, sam, zones, client_as):
    client = client_as(therapist)
    data = {**BOOKING, "kind": "intentional", "first": sam.public_id}
    for _ in range(2):
        response = client.post(f"/therapist/couples/{pair.public_id}/sessions/", data)
        assert response.status_code == 302
    assert DialogueSession.objects.count() == 1
    assert Reminder.objects.filter(kind=Reminder.Kind.SCHEDULED).count() == 3


def test_an_overlapping_booking_is_refused(booked, pair, therapist):
    with pytest.raises(therapist_services.TherapistError, match="overlaps"):
        therapist_services.facilitated_book(
            therapist=therapist, couple=pair, **{**BOOKING, "time": "13:30"}
        )
    assert DialogueSession.objects.count() == 1


# --- who may: every role ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [*NOT_ALLOWED, "anonymous"])
def test_only_the_linked_therapist_may_book(roles, pair, sam, zones, client_as, role):
    data = {**BOOKING, "kind": "intentional", "first": sam.public_id}
    response = client_as(roles[role]).post(f"/therapist/couples/{pair.public_id}/sessions/", data)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 404
    assert not DialogueSession.objects.exists() and not Reminder.objects.exists()


@pytest.mark.parametrize("role", [*NOT_ALLOWED, "anonymous"])
@pytest.mark.parametrize("action", ["move", "cancel", "begin"])
def test_only_the_linked_therapist_may_move_cancel_or_begin_it(
    booked, roles, client_as, role, action
):
    data = BOOKING if action == "move" else {}
    response = client_as(roles[role]).post(
        f"/therapist/dialogues/{booked.public_id}/{action}/", data
    )
    assert response.status_code in (302, 404)
    if role == "anonymous":
        assert "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 404
    booked.refresh_from_db()
    assert booked.is_planned and booked.seq == 1 and booked.scheduled_for == AT


def test_the_linked_therapist_moves_and_cancels_from_the_couple_page(
    booked, pair, therapist, client_as
):
    client = client_as(therapist)
    page = client.get(f"/therapist/couples/{pair.public_id}/").content.decode()
    assert "Facilitated sessions" in page and "13:00" in page and "(America/New_York)" in page
    prefix = f"move-{booked.public_id[:8]}"
    response = client.post(
        f"/therapist/dialogues/{booked.public_id}/move/",
        {f"{prefix}-day": "2026-12-03", f"{prefix}-time": "15:00", f"{prefix}-minutes": "90"},
    )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.scheduled_for == AT + timedelta(hours=2) and booked.minutes == 90
    response = client.post(
        f"/therapist/dialogues/{booked.public_id}/move/",
        {f"{prefix}-day": "2026-12-01", f"{prefix}-time": "08:00", f"{prefix}-minutes": "90"},
    )
    assert response.status_code == 422 and "has passed" in response.content.decode()
    assert client.post(f"/therapist/dialogues/{booked.public_id}/cancel/").status_code == 302
    booked.refresh_from_db()
    assert booked.status == DialogueSession.Status.ENDED
    page = client.get(f"/therapist/couples/{pair.public_id}/").content.decode()
    assert "· Cancelled" in page and "Ended early" not in page  # it never began


def test_a_partners_appointment_can_not_be_moved_or_cancelled_as_a_booking(
    link, pair, alex, sam, therapist, client_as
):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    client = client_as(therapist)
    assert client.post(f"/therapist/dialogues/{dialogue.public_id}/cancel/").status_code == 404
    dialogue.refresh_from_db()
    assert dialogue.is_live


# --- where it shows -------------------------------------------------------------------------


def test_both_home_pages_show_it_with_a_countdown_and_who_scheduled_it(
    booked, alex, sam, client_as
):
    for person, when in ((alex, "10:00"), (sam, "19:00")):
        page = client_as(person).get("/").content.decode()
        assert "Sessions with your therapist" in page
        assert when in page and f"({person.zone.key})" in page
        assert "Scheduled by Dr. Rivera" in page
        assert f'data-remaining="{int((AT - NOW).total_seconds())}"' in page


def test_another_couples_home_page_shows_nothing_of_it(booked, outsider, client_as):
    page = client_as(outsider).get("/").content.decode()
    assert "Sessions with your therapist" not in page and booked.public_id not in page


def test_the_partners_page_of_a_booked_session_says_when_and_who(booked, sam, client_as):
    page = client_as(sam).get(f"/dialogues/{booked.public_id}/").content.decode()
    assert "Facilitated session" in page and "Dr. Rivera scheduled this" in page
    assert "19:00" in page and "Opens in" in page
    assert "Cancel the appointment" not in page and "Offer another time" not in page


@pytest.mark.parametrize("page", ["/therapist/", "couple"])
def test_an_appointment_14_minutes_away_is_next_not_live_now(
    link, pair, alex, sam, therapist, client_as, page
):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "15"},
        at=dialogue.step_seq,
        token=form_token(),
    )
    set_clock(NOW + timedelta(minutes=1))
    url = f"/therapist/couples/{pair.public_id}/" if page == "couple" else page
    html = client_as(therapist).get(url).content.decode()
    assert "Live now" not in html and "Open the live console" not in html
    assert "their own appointment" in html
    # Once it opens at its time, it is live.
    set_clock(NOW + timedelta(minutes=15))
    services.session_open_due(session_public_id=dialogue.public_id)
    html = client_as(therapist).get(url).content.decode()
    assert "Live now" in html and "their own appointment" not in html


def test_the_dashboard_shows_the_next_scheduled_dialogue(booked, therapist, client_as):
    page = client_as(therapist).get("/therapist/").content.decode()
    assert "next-scheduled" in page
    assert "Thu 3 Dec, 13:00" in page and "(America/New_York)" in page and "facilitated" in page
    assert f"/therapist/dialogues/{booked.public_id}/" in page


def test_the_console_of_a_booked_session_counts_down_and_offers_begin_now(
    booked, therapist, client_as
):
    page = client_as(therapist).get(f"/therapist/dialogues/{booked.public_id}/").content.decode()
    assert "Nobody yet: it opens at its time" in page and "Begin now" in page
    assert "13:00" in page and "(America/New_York)" in page


def test_the_partners_and_the_therapists_calendar_feeds_include_it(
    booked, alex, sam, therapist, client_as
):
    for person in (alex, sam, therapist):
        token = couple_services.calendar_feed_new(user=person)
        response = client_as(None).get(f"/calendar/{token}.ics")
        assert response.status_code == 200
        cal = icalendar.Calendar.from_ical(response.content)
        (event,) = cal.walk("VEVENT")
        assert str(event["uid"]) == f"{booked.public_id}@imago"
        assert event.decoded("dtstart") == AT
        assert "Session with" not in response.content.decode()


def test_a_therapist_whose_access_ended_no_longer_has_it_in_their_feed(
    booked, link, alex, therapist, client_as
):
    token = couple_services.calendar_feed_new(user=therapist)
    therapist_services.consent_withdraw(user=alex, link_public_id=link.public_id)
    response = client_as(None).get(f"/calendar/{token}.ics")
    assert icalendar.Calendar.from_ical(response.content).walk("VEVENT") == []


# --- two workers, and a restart in the middle (real row locks) ------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"
)


class Killed(BaseException):
    """A worker dying mid-job: its transaction never commits."""


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_a_restart_send_each_calendar_file_and_reminder_once(
    link, pair, therapist, sam, zones, monkeypatch
):
    booked = therapist_services.facilitated_book(
        therapist=therapist, couple=pair, first=sam.public_id, **BOOKING
    )
    mail.outbox.clear()
    for reminder in Reminder.objects.filter(session=booked, kind=Reminder.Kind.SCHEDULED):
        results = at_once(
            lambda r=reminder: tasks.reminder_deliver(reminder_id=r.pk),
            lambda r=reminder: tasks.reminder_deliver(reminder_id=r.pk),
        )
        assert sorted(results) == [tasks.SENT, tasks.SKIPPED], results
    assert len(mail.outbox) == 3
    set_clock(AT - timedelta(minutes=15))
    first, *others = Reminder.objects.filter(session=booked, kind=Reminder.Kind.REMINDER)
    render = reminders_module.reminder_email

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(reminders_module, "reminder_email", die)
    with pytest.raises(Killed):
        tasks.reminder_deliver(reminder_id=first.pk)  # the worker dies before its claim commits
    monkeypatch.setattr(reminders_module, "reminder_email", render)
    # After the restart: the sweep and the original jobs come round at once, twice each.
    for reminder in (first, *others):
        results = at_once(
            lambda r=reminder: tasks.reminder_deliver(reminder_id=r.pk),
            lambda r=reminder: tasks.reminder_deliver(reminder_id=r.pk),
        )
        assert sorted(results) == [tasks.SENT, tasks.SKIPPED], results
    assert tasks.reminders_deliver_due() == 0
    assert len(mail.outbox) == 6
    assert sorted(m.to[0] for m in mail.outbox if "In 15 minutes" in m.subject) == sorted(
        ["alex@example.com", "sam@example.com", "dr@example.com"]
    )


def test_when_access_ends_the_sessions_the_therapist_booked_are_cancelled_and_both_told(
    booked, link, alex, sam, therapist
):
    deliver()
    mail.outbox.clear()
    therapist_services.consent_withdraw(user=alex, link_public_id=link.public_id)
    booked.refresh_from_db()
    assert booked.status == DialogueSession.Status.ENDED
    cancel = booked.turns.get(move=protocol.CANCEL)
    assert (cancel.actor, cancel.actor_role) == (None, "system")
    deliver()
    for person in (alex, sam):
        (message,) = to(person)
        assert "cancelled" in message.subject
        assert str(event_of(message)[0]["method"]) == "CANCEL"
    set_clock(AT)
    deliver()
    booked.refresh_from_db()
    assert booked.status == DialogueSession.Status.ENDED  # never opens
