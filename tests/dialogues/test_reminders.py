"""Appointments for later: scheduling, a new time, cancelling, the calendar file, the reminder
before, the opening at the time, and "it's your move" emails — with a clock the tests hold."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail

from couples.models import User
from dialogues import protocol, reminders, services, tasks
from dialogues.models import DialogueSession, Reminder, Turn
from dialogues.services import DialogueError
from live import clock
from tests.helpers import form_token, move

UTC = ZoneInfo("UTC")
# 18:00 UTC: 10:00 in Los Angeles (UTC-8 in December), 19:00 in Berlin (UTC+1).
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def held_clock():
    clock.clock_set(NOW)
    yield
    clock.clock_set(None)


def later(minutes: int) -> None:
    clock.clock_set(clock.now() + timedelta(minutes=minutes))


def zones(alex: User, sam: User) -> None:
    alex.time_zone, sam.time_zone = "America/Los_Angeles", "Europe/Berlin"
    User.objects.filter(pk=alex.pk).update(time_zone=alex.time_zone)
    User.objects.filter(pk=sam.pk).update(time_zone=sam.time_zone)


@pytest.fixture
def scheduled(dialogue, alex, sam):
    """Sam (Berlin) answered Alex's request: "not now — tonight at 20:00"."""
    zones(alex, sam)
    mail.outbox.clear()
    move(dialogue, sam, "propose_time", time="20:00")
    dialogue.refresh_from_db()
    return dialogue


def deliver() -> int:
    return tasks.reminders_deliver_due()


def subjects(to: str) -> list[str]:
    return [m.subject for m in mail.outbox if to in m.to]


# --- the appointment ------------------------------------------------------------------------


def test_it_schedules_tonight_at_8_in_the_receivers_own_time_zone(scheduled):
    assert scheduled.step == protocol.SCHEDULED and scheduled.status == "active"
    # 20:00 in Berlin is 19:00 UTC, an hour from now.
    assert scheduled.scheduled_for == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def test_a_person_in_utc_minus_8_and_one_in_utc_plus_1_see_the_same_moment(scheduled, alex, sam):
    at = scheduled.scheduled_for
    assert reminders.local_time(at, sam) == "Tue 1 Dec, 20:00 (Europe/Berlin)"
    assert reminders.local_time(at, alex) == "Tue 1 Dec, 11:00 (America/Los_Angeles)"


def test_a_time_of_day_already_past_today_means_tomorrow(dialogue, alex, sam):
    zones(alex, sam)
    move(dialogue, sam, "propose_time", time="18:30")  # 17:30 UTC: passed today
    dialogue.refresh_from_db()
    assert dialogue.scheduled_for == datetime(2026, 12, 2, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "suggest a time"),
        ("25:00", "choose a time"),
        ("soon", "choose a time"),
        ("1441", "within the next 24 hours"),
        ("2026-12-03T20:00", "within the next 24 hours"),
        ("2026-12-01T10:00", "has passed"),
        ("0", "has passed"),
    ],
)
def test_it_refuses_a_time_that_is_not_within_24_hours(dialogue, sam, value, message):
    with pytest.raises(DialogueError, match=message):
        move(dialogue, sam, "propose_time", time=value)
    dialogue.refresh_from_db()
    assert dialogue.step == protocol.APPOINTMENT and dialogue.scheduled_for is None
    assert not Reminder.objects.exists()


def test_both_get_an_email_with_a_calendar_file_in_their_own_zone(scheduled, alex, sam):
    assert deliver() == 2  # the two calendar emails; the reminder and the opening come later
    to_sam = [m for m in mail.outbox if m.to == [sam.email]]
    to_alex = [m for m in mail.outbox if m.to == [alex.email]]
    assert len(to_sam) == 1 and len(to_alex) == 1
    assert "20:00 (Europe/Berlin)" in to_sam[0].subject
    assert "11:00 (America/Los_Angeles)" in to_alex[0].body
    for message in (*to_sam, *to_alex):
        assert "Sunday mornings" not in message.subject + message.body  # never the topic
        (name, content, mimetype) = message.attachments[0]
        assert (name, mimetype) == ("dialogue.ics", "text/calendar")
        cal = icalendar.Calendar.from_ical(content)
        (event,) = cal.walk("VEVENT")
        assert event.decoded("dtstart") == scheduled.scheduled_for
        assert event.decoded("dtend") == scheduled.scheduled_for + timedelta(minutes=45)
        assert str(event["uid"]) == f"{scheduled.public_id}@imago"
        assert str(event["url"]).endswith(f"/dialogues/{scheduled.public_id}/")
        assert "Sunday mornings" not in str(content)
        assert str(cal["version"]) == "2.0" and str(cal["prodid"])


def test_a_reminder_goes_to_both_15_minutes_before_and_only_once(scheduled, alex, sam):
    deliver()
    mail.outbox.clear()
    later(44)  # 18:44: not yet
    assert deliver() == 0
    later(1)  # 18:45
    deliver()
    assert subjects(sam.email) == ["[Imago] In 15 minutes: your dialogue with Alex"]
    assert subjects(alex.email) == ["[Imago] In 15 minutes: your dialogue with Sam"]
    assert "20:00 (Europe/Berlin)" in mail.outbox[0].body + mail.outbox[1].body
    deliver()
    later(1)
    deliver()
    assert len(mail.outbox) == 2  # never again


@pytest.mark.parametrize("minutes", [5, 30])
def test_the_reminder_is_configurable(settings, dialogue, alex, sam, minutes):
    settings.IMAGO_REMINDER_MINUTES = minutes
    move(dialogue, sam, "propose_time", time="60")
    reminder = Reminder.objects.get(kind=Reminder.Kind.REMINDER, person=sam)
    assert reminder.due_at == NOW + timedelta(minutes=60 - minutes)


def test_at_the_time_the_dialogue_opens_and_it_is_the_senders_move(scheduled, alex, sam):
    later(59)
    deliver()
    scheduled.refresh_from_db()
    assert scheduled.step == protocol.SCHEDULED
    later(1)
    deliver()
    scheduled.refresh_from_db()
    assert scheduled.step == "send" and scheduled.status == "active"
    assert protocol.whose_turn(scheduled.protocol_state) == {"a"}  # Alex, the sender
    opened = scheduled.turns.order_by("-seq").first()
    assert (opened.move, opened.actor, opened.actor_role) == (protocol.OPEN, None, "system")
    # Alex isn't on the page: one email says it's their move.
    deliver_moves()
    assert "[Imago] It's your move" in subjects(alex.email)


def test_opening_twice_opens_once(scheduled):
    later(60)
    services.session_open_due(session_public_id=scheduled.public_id)
    result = services.session_open_due(session_public_id=scheduled.public_id)
    assert not result.created
    assert scheduled.turns.filter(move=protocol.OPEN).count() == 1


def test_beginning_early_drops_the_reminder_and_the_opening(scheduled, alex):
    move(scheduled, alex, "begin")
    later(60)
    deliver()
    assert not Reminder.objects.filter(
        kind__in=[Reminder.Kind.REMINDER, Reminder.Kind.OPEN], sent_at__isnull=False
    ).exists()
    assert scheduled.turns.filter(move=protocol.OPEN).count() == 0


def test_another_time_replaces_the_plan_and_both_are_told(scheduled, alex, sam):
    deliver()
    mail.outbox.clear()
    move(scheduled, alex, "reschedule", time="90")  # Alex: in 90 minutes instead (19:30 UTC)
    scheduled.refresh_from_db()
    assert scheduled.step == protocol.SCHEDULED
    assert scheduled.scheduled_for == NOW + timedelta(minutes=90)
    deliver()
    assert len(subjects(sam.email)) == 1 and "20:30 (Europe/Berlin)" in subjects(sam.email)[0]
    assert len(subjects(alex.email)) == 1
    later(45)  # 18:45: the old reminder time
    deliver()
    later(15)  # 19:00: the old opening time
    deliver()
    scheduled.refresh_from_db()
    assert scheduled.step == protocol.SCHEDULED  # not opened at the old time
    assert len(mail.outbox) == 2
    later(15)  # 19:15: the new reminder
    deliver()
    assert len(mail.outbox) == 4
    later(15)  # 19:30: opens
    deliver()
    scheduled.refresh_from_db()
    assert scheduled.step == "send"


def test_either_can_cancel_and_the_other_is_told(scheduled, alex, sam):
    deliver()
    mail.outbox.clear()
    services.session_cancel(session_public_id=scheduled.public_id, user=alex)
    scheduled.refresh_from_db()
    assert scheduled.status == "ended"
    assert scheduled.turns.order_by("-seq").first().move == protocol.CANCEL
    deliver()
    (to_sam,) = [m for m in mail.outbox if m.to == [sam.email]]
    assert "cancelled" in to_sam.subject and "Sunday mornings" not in to_sam.body
    cal = icalendar.Calendar.from_ical(to_sam.attachments[0][1])
    assert str(cal["method"]) == "CANCEL"
    (event,) = cal.walk("VEVENT")
    assert (
        str(event["status"]) == "CANCELLED" and str(event["uid"]) == f"{scheduled.public_id}@imago"
    )
    later(60)
    deliver()
    scheduled.refresh_from_db()
    assert scheduled.status == "ended" and len(mail.outbox) == 2  # no reminder, no opening


def test_a_cancelled_appointment_reads_cancelled_not_ended_early(
    scheduled, dialogue, alex, sam, client_as
):
    services.session_cancel(session_public_id=scheduled.public_id, user=alex)
    scheduled.refresh_from_db()
    assert scheduled.was_cancelled and scheduled.status_label == "Cancelled"
    for person in (alex, sam):
        client = client_as(person)
        home = client.get("/").content.decode()
        assert "· Cancelled" in home and "Ended early" not in home
        transcript = client.get(f"/dialogues/{scheduled.public_id}/transcript/")
        assert "· Cancelled" in transcript.content.decode()
    # One that began and was ended is still "ended early".
    other = services.dialogue_start(user=sam, kind="intentional", topic="Chores")
    services.move_submit(
        session_public_id=other.public_id, user=alex, move="accept_now", token=form_token()
    )
    services.session_end(session_public_id=other.public_id, user=alex)
    other.refresh_from_db()
    assert not other.was_cancelled and other.status_label == "Ended early"


def test_cancelling_is_only_for_an_appointment_and_by_a_partner(dialogue, scheduled, outsider):
    with pytest.raises(services.DialogueNotFound):
        services.session_cancel(session_public_id=scheduled.public_id, user=outsider)
    move(scheduled, scheduled.partner_a, "begin")
    with pytest.raises(DialogueError, match="no appointment"):
        services.session_cancel(session_public_id=scheduled.public_id, user=scheduled.partner_a)


def test_a_scheduled_dialogue_can_not_be_paused(scheduled, sam):
    with pytest.raises(DialogueError, match="started yet, so there"):
        services.session_pause(session_public_id=scheduled.public_id, user=sam)


# --- "it's your move" emails (issue 13, item 4) -------------------------------------------


def test_a_partner_not_on_the_page_when_asked_gets_one_email_with_a_link(dialogue, sam):
    deliver_moves()
    (message,) = [m for m in mail.outbox if m.to == [sam.email]]
    assert message.subject == "[Imago] Alex would like to talk"
    assert f"/dialogues/{dialogue.public_id}/" in message.body
    assert "Sunday mornings" not in message.body


def deliver_moves() -> None:
    """The your-move jobs due by our clock (the test backend only stores them), then the
    every-minute sweep's part for those still waited on."""
    from django_tasks_db.models import DBTaskResult

    for job in DBTaskResult.objects.filter(task_path__endswith="your_move_send"):
        if job.run_after is None or job.run_after <= clock.now():
            args = job.args_kwargs["args"]
            for pk in args[1]:
                tasks.your_move_deliver(
                    session_id=args[0], person_id=pk, step_seq=args[2], now=args[3]
                )
    tasks.your_move_deliver_due()


def test_no_email_when_the_partner_is_on_the_page(dialogue, sam):
    from live import places

    places.claim([(places.person_key(sam.pk), 12)], channel="channel-1")
    deliver_moves()
    assert not mail.outbox


def test_after_10_minutes_waited_on_one_email_and_not_again(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    mail.outbox.clear()
    move(dialogue, alex, "send", text="I feel unheard.")
    later(9)
    deliver_moves()
    assert not mail.outbox
    later(1)
    deliver_moves()
    assert subjects(sam.email) == ["[Imago] It's your move"]
    deliver_moves()
    assert len(mail.outbox) == 1
    assert "I feel unheard" not in mail.outbox[0].body


def test_the_sweep_makes_up_for_an_hour_of_missed_sweeps_and_no_more(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="I feel unheard.")
    mail.outbox.clear()
    later(10 + 61)  # the workers were down for longer than the hour
    assert tasks.your_move_deliver_due() == 0
    move(dialogue, sam, "mirror", text="You feel unheard.")
    later(10 + 59)
    assert tasks.your_move_deliver_due() == 1
    assert subjects(alex.email) == ["[Imago] It's your move"]


def test_no_email_once_they_moved(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="I feel.")
    mail.outbox.clear()
    move(dialogue, sam, "mirror", text="You feel.")
    later(10)
    deliver_moves()
    assert subjects(sam.email) == []  # Sam moved; now Alex is waited on
    assert subjects(alex.email) == ["[Imago] It's your move"]


def test_your_move_emails_can_be_turned_off(settings, dialogue, sam):
    User.objects.filter(pk=sam.pk).update(your_move_emails=False)
    deliver_moves()
    assert not mail.outbox
    settings.IMAGO_YOUR_MOVE_EMAILS = False
    User.objects.filter(pk=sam.pk).update(your_move_emails=True)
    services.session_end(session_public_id=dialogue.public_id, user=sam)
    other = services.dialogue_start(user=dialogue.partner_a, kind="appreciation", topic="Us")
    assert other.pk
    deliver_moves()
    assert not mail.outbox


def test_no_your_move_email_while_waiting_for_an_appointment(scheduled):
    later(30)
    deliver_moves()
    assert not [m for m in mail.outbox if "your move" in m.subject]


def test_reminder_rows_hold_no_text(scheduled):
    for reminder in Reminder.objects.all():
        assert "Sunday" not in str(reminder.__dict__)
    assert DialogueSession.objects.count() == 1 and Turn.objects.count() == 2
