"""The "Add to calendar" link: a scheduled dialogue downloaded as a calendar file (the
partners' own appointment and a session a therapist booked) as each role, with a held clock.
The file is the one the "scheduled" email attaches: the kind, the time, the link and a stable
UID, never the topic."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse

from dialogues import services
from live import clock
from tests.helpers import move
from therapists import services as therapist_services

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
MARKER = "Marker-topic-QZX-7731"


@pytest.fixture(autouse=True)
def held_clock():
    clock.clock_set(NOW)
    yield
    clock.clock_set(None)


@pytest.fixture
def appointment(pair, alex, sam):
    """Alex asked to talk about the marker topic; Sam answered "not now, in an hour"."""
    session = services.dialogue_start(user=alex, kind="intentional", topic=MARKER)
    move(session, sam, "propose_time", time="60")
    session.refresh_from_db()
    return session


@pytest.fixture
def booked(link, pair, therapist, sam):
    """Dr. Rivera booked an hour's Intentional Dialogue with Alex and Sam for 3 December."""
    return therapist_services.facilitated_book(
        therapist=therapist,
        couple=pair,
        kind="intentional",
        first=sam.public_id,
        day="2026-12-03",
        time="13:00",
        minutes=60,
    )


@pytest.fixture
def unlinked_therapist(db):
    from tests.factories import TherapistFactory

    return TherapistFactory(email="unlinked@example.com", display_name="Dr. Unlinked")


def url(session) -> str:
    return reverse("dialogues:calendar", args=[session.public_id])


def event_in(response) -> icalendar.Event:
    cal = icalendar.Calendar.from_ical(response.content)
    (event,) = cal.walk("VEVENT")
    return event


def assert_calendar_file(response) -> icalendar.Event:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    return event_in(response)


# --- who gets the file ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["alex", "sam"])
def test_each_partner_downloads_their_appointment(appointment, client_as, role):
    event = assert_calendar_file(client_as(role).get(url(appointment)))
    assert event["uid"] == f"{appointment.public_id}@imago"
    assert event.decoded("dtstart") == NOW + timedelta(minutes=60)
    assert str(event["url"]).endswith(reverse("dialogues:detail", args=[appointment.public_id]))


@pytest.mark.parametrize(
    "role", ["outsider", "therapist", "unlinked_therapist", "staff", "superuser", "single"]
)
def test_nobody_else_gets_a_couples_own_appointment(appointment, link, client_as, role):
    # The linked therapist too: a couple's own appointment stays theirs (as in the feed).
    assert client_as(role).get(url(appointment)).status_code == 404


def test_anonymous_is_sent_to_log_in(appointment, client_as):
    response = client_as("anonymous").get(url(appointment))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["alex", "sam", "therapist"])
def test_a_booked_session_for_both_partners_and_the_linked_therapist(booked, client_as, role):
    event = assert_calendar_file(client_as(role).get(url(booked)))
    assert event["uid"] == f"{booked.public_id}@imago"
    assert event.decoded("dtstart") == booked.scheduled_for
    page = "therapists:console" if role == "therapist" else "dialogues:detail"
    assert str(event["url"]).endswith(reverse(page, args=[booked.public_id]))


@pytest.mark.parametrize("role", ["outsider", "unlinked_therapist", "staff", "superuser"])
def test_nobody_else_gets_a_booked_session(booked, client_as, role):
    assert client_as(role).get(url(booked)).status_code == 404


def test_a_therapist_whose_access_ended_gets_nothing(booked, link, client_as, sam):
    therapist_services.consent_withdraw(user=sam, link_public_id=link.public_id)
    assert client_as("therapist").get(url(booked)).status_code == 404


# --- what is in it --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["alex", "sam"])
def test_the_file_never_holds_the_topic(appointment, client_as, role):
    response = client_as(role).get(url(appointment))
    assert response.status_code == 200
    assert MARKER.encode() not in response.content
    assert MARKER.lower().encode() not in response.content.lower()


def test_it_is_the_file_the_scheduled_email_attaches(appointment, alex, client_as):
    from dialogues import reminders

    downloaded = client_as("alex").get(url(appointment)).content
    assert downloaded == reminders.appointment_file(appointment, person=alex)


def test_a_new_time_moves_the_event_and_keeps_its_uid(appointment, alex, client_as):
    client = client_as("alex")
    before = event_in(client.get(url(appointment)))
    move(appointment, alex, "reschedule", time="90")
    after = event_in(client.get(url(appointment)))
    assert after["uid"] == before["uid"] == f"{appointment.public_id}@imago"
    assert before.decoded("dtstart") == NOW + timedelta(minutes=60)
    assert after.decoded("dtstart") == NOW + timedelta(minutes=90)


def test_a_moved_booked_session_moves_too(booked, therapist, client_as):
    client = client_as("sam")
    before = event_in(client.get(url(booked)))
    therapist_services.facilitated_move(
        therapist=therapist,
        session_public_id=booked.public_id,
        day="2026-12-04",
        time="13:00",
        minutes=60,
    )
    after = event_in(client.get(url(booked)))
    assert after["uid"] == before["uid"]
    assert after.decoded("dtstart") - before.decoded("dtstart") == timedelta(days=1)


# --- not scheduled, bad ids -----------------------------------------------------------------


def test_a_dialogue_not_scheduled_has_no_calendar_file(dialogue, client_as):
    # Asked "is now a good time?", not given a time: nothing to add.
    assert client_as("alex").get(url(dialogue)).status_code == 404


def test_once_it_opens_the_file_is_gone(appointment, alex, client_as):
    move(appointment, alex, "begin")
    appointment.refresh_from_db()
    assert appointment.is_live and not appointment.waits_for_time
    assert client_as("alex").get(url(appointment)).status_code == 404


def test_a_cancelled_appointment_has_no_file(appointment, alex, client_as):
    services.session_cancel(session_public_id=appointment.public_id, user=alex)
    assert client_as("sam").get(url(appointment)).status_code == 404


@pytest.mark.parametrize("bad", ["x" * 300, "<script>alert(1)</script>", "abc%00def", "%00"])
def test_bad_ids_are_refused(appointment, client_as, bad):
    response = client_as("alex").get(f"/dialogues/{bad}/calendar.ics")
    assert 400 <= response.status_code < 500


def test_only_get(appointment, client_as):
    assert client_as("alex").post(url(appointment)).status_code == 405


# --- the pages link to it -------------------------------------------------------------------


def test_home_and_dialogue_page_offer_the_file_while_it_waits(appointment, client_as):
    client = client_as("sam")
    assert url(appointment) in client.get("/").content.decode()
    page = client.get(reverse("dialogues:detail", args=[appointment.public_id]))
    assert url(appointment) in page.content.decode()


def test_no_link_once_it_no_longer_waits(appointment, alex, client_as):
    move(appointment, alex, "begin")
    client = client_as("sam")
    assert url(appointment) not in client.get("/").content.decode()
    page = client.get(reverse("dialogues:detail", args=[appointment.public_id]))
    assert url(appointment) not in page.content.decode()


def test_the_home_page_and_the_therapists_pages_link_a_booked_session(booked, pair, client_as):
    assert url(booked) in client_as("alex").get("/").content.decode()
    therapist = client_as("therapist")
    couple_page = therapist.get(reverse("therapists:couple", args=[pair.public_id]))
    assert url(booked) in couple_page.content.decode()
    console = therapist.get(reverse("therapists:console", args=[booked.public_id]))
    assert url(booked) in console.content.decode()


# --- live: the parts the sockets push carry the link (and drop it) --------------------------


def test_the_pushed_home_part_gains_and_loses_the_link(dialogue, alex, sam):
    from dialogues import push

    assert url(dialogue) not in push.render_home(user=alex)
    move(dialogue, sam, "propose_time", time="60")
    assert url(dialogue) in push.render_home(user=alex)
    services.session_cancel(session_public_id=dialogue.public_id, user=sam)
    assert url(dialogue) not in push.render_home(user=alex)


def test_the_pushed_move_panel_gains_and_loses_the_link(dialogue, alex, sam):
    from dialogues import push

    asked = push.render_snapshot(public_id=dialogue.public_id, user=alex)
    assert asked is not None and url(dialogue) not in asked.html
    move(dialogue, sam, "propose_time", time="60")
    dialogue.refresh_from_db()
    update = push.render_update(
        public_id=dialogue.public_id, user=alex, after=asked.seq, panel_key=asked.panel_key
    )
    assert update is not None and url(dialogue) in update.html
    move(dialogue, alex, "begin")
    began = push.render_update(
        public_id=dialogue.public_id, user=alex, after=update.seq, panel_key=update.panel_key
    )
    assert began is not None and 'id="move-panel"' in began.html
    assert url(dialogue) not in began.html


def test_the_consoles_pushed_state_carries_the_link_for_a_booked_session(booked, therapist):
    from dialogues import push
    from dialogues.selectors import FACILITATOR

    snapshot = push.render_snapshot(public_id=booked.public_id, user=therapist, role=FACILITATOR)
    assert snapshot is not None and url(booked) in snapshot.html
