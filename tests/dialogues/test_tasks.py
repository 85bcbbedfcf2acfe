"""The background jobs: retried then recorded, and never sending twice — with two workers at
once, a worker killed mid-job and restarted, and real `db_worker` processes (PostgreSQL)."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from couples import jobs, push
from couples.models import PushMessage
from dialogues import reminders as reminders_module
from dialogues import services, tasks
from dialogues.models import Reminder
from live import clock
from tests.helpers import at_once, form_token
from tests.push_service import run_push_jobs, subscribe
from tests.servers import REPO_ROOT, database_url_for_tests

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"
)


def schedule(dialogue, sam, minutes="60"):
    dialogue.refresh_from_db()
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": minutes},
        at=dialogue.step_seq,
        token=form_token(),
    )
    return Reminder.objects.filter(kind=Reminder.Kind.SCHEDULED).order_by("pk")


def test_planning_queues_one_job_per_reminder_due_at_its_time(dialogue, sam):
    schedule(dialogue, sam)
    planned = {
        r.pk: r.due_at for r in Reminder.objects.filter(kind__in=["planned", "reminder", "open"])
    }
    queued = {
        job.args_kwargs["args"][0]: job.run_after
        for job in DBTaskResult.objects.filter(task_path__endswith="reminder_send")
    }
    assert queued == planned and len(planned) == 5  # 2 emails, 2 reminders, 1 opening


def test_a_failed_job_is_retried_later_and_then_recorded(dialogue, sam, monkeypatch, settings):
    settings.IMAGO_JOB_RETRIES = 2
    reminder = schedule(dialogue, sam).first()

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    for attempt in (1, 2, 3):
        with pytest.raises(ConnectionRefusedError):
            tasks.reminder_send.call(reminder.pk, attempt)
        reminder.refresh_from_db()
        assert reminder.sent_at is None and reminder.attempts == attempt
        assert reminder.last_error == "ConnectionRefusedError"
    assert reminder.failed_at is not None  # recorded: no more tries
    retries = DBTaskResult.objects.filter(
        task_path__endswith="reminder_send", args_kwargs__args__0=reminder.pk
    ).exclude(args_kwargs__args__1=1)
    assert sorted(job.args_kwargs["args"][1] for job in retries) == [2, 3]
    assert all(job.run_after > clock.now() for job in retries)  # later, not at once


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens its connection
def test_a_worker_records_a_failed_attempt_with_its_error(dialogue, sam, monkeypatch):
    from django_tasks_db.management.commands.db_worker import Worker

    schedule(dialogue, sam)
    monkeypatch.setattr(
        "django.core.mail.EmailMessage.send",
        lambda self, *a, **k: (_ for _ in ()).throw(ConnectionRefusedError("down")),
    )
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    worker.run()
    failed = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED)
    assert failed.exists()
    assert "ConnectionRefusedError" in failed.first().exception_class_path


def test_delivering_again_sends_nothing(dialogue, sam):
    reminder = schedule(dialogue, sam).first()
    mail.outbox.clear()
    assert tasks.reminder_deliver(reminder_id=reminder.pk) == tasks.SENT
    assert tasks.reminder_deliver(reminder_id=reminder.pk) == tasks.SKIPPED
    assert len(mail.outbox) == 1


def test_the_periodic_jobs_queue_one_next_run_however_often_started(db):
    first = jobs.periodic_start()
    assert set(first) >= {"purge_daily", "reminders_sweep"}
    assert jobs.periodic_start() == []
    assert DBTaskResult.objects.filter(task_path__endswith="purge_daily").count() == 1
    purge = DBTaskResult.objects.get(task_path__endswith="purge_daily")
    assert (purge.run_after.hour, purge.run_after.minute) == jobs.PURGE_AT


def test_the_sweep_delivers_what_a_killed_worker_left(dialogue, sam):
    schedule(dialogue, sam)
    mail.outbox.clear()
    clock.clock_set(clock.now() + timedelta(minutes=5))
    try:
        sent = tasks.reminders_sweep.call()
    finally:
        clock.clock_set(None)
    assert sent == 2 and len(mail.outbox) == 2
    assert DBTaskResult.objects.filter(task_path__endswith="reminders_sweep").count() == 1


# --- two workers, and a restart in the middle (real row locks) ------------------------------


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_email(alex, sam, pair):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    reminders = list(schedule(dialogue, sam))
    mail.outbox.clear()
    for reminder in reminders:
        results = at_once(
            lambda r=reminder: tasks.reminder_deliver(reminder_id=r.pk),
            lambda r=reminder: tasks.reminder_deliver(reminder_id=r.pk),
        )
        assert sorted(results) == [tasks.SENT, tasks.SKIPPED], results
    assert len(mail.outbox) == 2
    assert (
        Reminder.objects.filter(pk__in=[r.pk for r in reminders], sent_at__isnull=False).count()
        == 2
    )


class Killed(BaseException):
    """A worker dying mid-job (SIGKILL): its transaction never commits."""


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_before_its_claim_commits_is_sent_once_after_the_restart(
    alex, sam, pair, monkeypatch
):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    reminder = schedule(dialogue, sam).first()
    mail.outbox.clear()
    render = reminders_module.reminder_email

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(reminders_module, "reminder_email", die)
    with pytest.raises(Killed):
        tasks.reminder_deliver(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.sent_at is None  # rolled back with the worker
    monkeypatch.setattr(reminders_module, "reminder_email", render)
    # After the restart: the sweep and the original job (run again) both come round at once.
    results = at_once(
        lambda: tasks.reminder_deliver(reminder_id=reminder.pk),
        lambda: tasks.reminder_deliver(reminder_id=reminder.pk),
    )
    assert sorted(results) == [tasks.SENT, tasks.SKIPPED]
    assert tasks.reminder_deliver(reminder_id=reminder.pk) == tasks.SKIPPED
    assert len(mail.outbox) == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_its_claim_and_the_send_never_sends_twice(
    alex, sam, pair, monkeypatch
):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    reminder = schedule(dialogue, sam).first()
    mail.outbox.clear()

    def die(self, *args, **kwargs):
        raise Killed

    monkeypatch.setattr("django.core.mail.EmailMessage.send", die)
    with pytest.raises(Killed):
        tasks.reminder_deliver(reminder_id=reminder.pk)
    monkeypatch.undo()
    reminder.refresh_from_db()
    assert reminder.sent_at is not None  # claimed: recorded as sent, and never sent again
    assert tasks.reminder_deliver(reminder_id=reminder.pk) == tasks.SKIPPED
    tasks.reminders_deliver_due()  # the other partner's is delivered; this one never again
    (other,) = {alex.email, sam.email} - {reminder.person.email}
    assert [m.to for m in mail.outbox] == [[other]]


def test_a_failed_send_releases_its_claim_for_the_retry(dialogue, sam, monkeypatch):
    reminder = schedule(dialogue, sam).first()
    mail.outbox.clear()
    monkeypatch.setattr(
        "django.core.mail.EmailMessage.send",
        lambda self, *a, **k: (_ for _ in ()).throw(ConnectionRefusedError("down")),
    )
    with pytest.raises(ConnectionRefusedError):
        tasks.reminder_deliver(reminder_id=reminder.pk)
    monkeypatch.undo()
    reminder.refresh_from_db()
    assert reminder.sent_at is None
    assert tasks.reminder_deliver(reminder_id=reminder.pk) == tasks.SENT
    assert len(mail.outbox) == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_your_move_workers_at_once_send_one_email(alex, sam, pair):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    dialogue.refresh_from_db()
    mail.outbox.clear()

    def send():
        return tasks.your_move_deliver(
            session_id=dialogue.pk, person_id=sam.pk, step_seq=dialogue.step_seq, now=True
        )

    results = at_once(send, send)
    assert sorted(results) == [tasks.SENT, tasks.SKIPPED], results
    assert len(mail.outbox) == 1


def _worker(env: dict, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        cwd=REPO_ROOT,
        env=env,
        stdout=out.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_real_workers_two_at_once_one_killed_and_restarted_send_each_email_once(
    alex, sam, pair, tmp_path
):
    from tests.factories import UserFactory, make_couple, screen

    # Ten couples' appointments: 20 calendar emails due now.
    sessions = []
    for n in range(10):
        a = UserFactory(email=f"a{n}@example.com", display_name=f"A{n}")
        b = UserFactory(email=f"b{n}@example.com", display_name=f"B{n}")
        make_couple(a, b)
        screen(a)
        screen(b)
        sessions.append((services.dialogue_start(user=a, kind="intentional", topic="T"), b))
    for session, b in sessions:
        schedule(session, b)
    # The your-move jobs aren't what this counts.
    DBTaskResult.objects.filter(task_path__endswith="your_move_send").delete()
    mails = tmp_path / "mails"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_for_tests(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mails),
    }
    log = tmp_path / "workers.log"
    first, second = _worker(env, log), _worker(env, log)
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and Reminder.objects.filter(kind=Reminder.Kind.SCHEDULED, sent_at__isnull=False).count() < 6
    ):
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # one dies mid-run
    first.wait()
    restarted = _worker(env, log)
    try:
        while (
            time.monotonic() < deadline
            and Reminder.objects.filter(kind=Reminder.Kind.SCHEDULED, sent_at__isnull=True).exists()
        ):
            time.sleep(0.1)
        # What the killed worker held before its claim committed is left to the sweep after
        # the restart (run here, sending to the same files).
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mails),
        ):
            tasks.reminders_deliver_due()
    finally:
        for proc in (second, restarted):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
    sent = [
        line.split(":", 1)[1].strip()
        for path in mails.glob("*")
        for line in path.read_text().splitlines()
        if line.startswith("To: ")
    ]
    expected = sorted(f"{who}{n}@example.com" for n in range(10) for who in "ab")
    assert len(sent) == len(set(sent)), "an email was sent twice"
    # A worker killed between a claim and its send loses that email (never sends it twice):
    # every reminder is either in the files or claimed by the killed worker.
    claimed = Reminder.objects.filter(kind=Reminder.Kind.SCHEDULED, sent_at__isnull=False)
    assert claimed.count() == 20
    assert set(sent) <= set(expected) and len(sent) >= 19, log.read_text()[-3000:]


# --- pushes: the same claims, the same "at most once" (tests/push_service.py) ----------------


def _asked(dialogue, sam) -> str:
    """Sam is asked to talk: the "your move" notice due at once (not on the page)."""
    dialogue.refresh_from_db()
    return tasks.your_move_deliver(
        session_id=dialogue.pk, person_id=sam.pk, step_seq=dialogue.step_seq, now=True
    )


def test_asked_to_talk_pushes_sams_phone_instead_of_emailing_him(client_as, dialogue, sam, service):
    subscribe(client_as(sam), service.browser())
    mail.outbox.clear()
    assert _asked(dialogue, sam) == tasks.SENT
    assert mail.outbox == []  # push by default once a device receives them
    assert run_push_jobs() == ["sent"]
    (got,) = service.received
    assert got.data["title"] == "Your partner would like to talk"
    assert got.data["url"].endswith(f"/dialogues/{dialogue.public_id}/")
    assert dialogue.topic not in got.plaintext.decode()


def test_both_sends_the_email_and_the_push(client_as, dialogue, sam, service):
    subscribe(client_as(sam), service.browser())
    push.choices_set(user=sam, choices={push.ASKED: "both"})
    mail.outbox.clear()
    assert _asked(dialogue, sam) == tasks.SENT
    run_push_jobs()
    assert len(mail.outbox) == 1 and len(service.received) == 1


def test_no_push_while_on_the_page_the_same_rule_as_the_email(
    client_as, dialogue, sam, service, monkeypatch
):
    subscribe(client_as(sam), service.browser())
    monkeypatch.setattr(reminders_module, "person_is_online", lambda pk: True)
    assert _asked(dialogue, sam) == tasks.MOOT
    assert run_push_jobs() == [] and not PushMessage.objects.exists()


def test_it_is_your_move_pushes_once_while_waited_on(client_as, dialogue, alex, sam, service):
    subscribe(client_as(alex), service.browser())
    dialogue.refresh_from_db()
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="accept_now",
        at=dialogue.step_seq,
        token=form_token(),
    )
    dialogue.refresh_from_db()
    for _ in range(2):
        tasks.your_move_deliver(
            session_id=dialogue.pk, person_id=alex.pk, step_seq=dialogue.step_seq, now=False
        )
    run_push_jobs()
    (got,) = service.received
    assert got.data["title"] == "It's your move"


def test_the_reminder_before_a_scheduled_dialogue_pushes_with_its_minutes(
    client_as, dialogue, alex, sam, service
):
    subscribe(client_as(alex), service.browser())
    schedule(dialogue, sam, minutes="60")
    reminder = Reminder.objects.get(kind=Reminder.Kind.REMINDER, person=alex)
    mail.outbox.clear()
    clock.clock_set(reminder.due_at)
    try:
        assert tasks.reminder_deliver(reminder_id=reminder.pk) == tasks.SENT
        assert run_push_jobs() == ["sent"]
    finally:
        clock.clock_set(None)
    assert [m.to for m in mail.outbox] == []  # Alex chose nothing: push, as a device gets them
    assert service.received[0].data["title"] == "A dialogue starts in 15 minutes"


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_plan_one_push(client_as, alex, sam, pair, service):
    subscribe(client_as(sam), service.browser())
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    DBTaskResult.objects.all().delete()
    results = at_once(lambda: _asked(dialogue, sam), lambda: _asked(dialogue, sam))
    assert sorted(results) == [tasks.SENT, tasks.SKIPPED], results
    (message,) = PushMessage.objects.all()
    # Two push workers at once: one locks and claims it, the other skips it.
    outcomes = at_once(
        lambda: push.push_deliver(message_id=message.pk).result,
        lambda: push.push_deliver(message_id=message.pk).result,
    )
    assert sorted(outcomes) == [push.SENT, push.SKIPPED], outcomes
    assert len(service.received) == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_push_worker_killed_before_or_after_its_claim_never_pushes_twice(
    client_as, alex, sam, pair, service, monkeypatch
):
    subscribe(client_as(sam), service.browser())
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    _asked(dialogue, sam)
    (message,) = PushMessage.objects.all()

    def die(*args, **kwargs):
        raise Killed

    # Killed before the claim commits (while locking): rolled back, left for the restart.
    monkeypatch.setattr(push.PushMessage, "save", die)
    with pytest.raises(Killed):
        push.push_deliver(message_id=message.pk)
    monkeypatch.undo()
    message.refresh_from_db()
    assert message.sent_at is None
    # After the restart, the job run again and the sweep come round at once: one push.
    push.clock.clock_set(push.clock.now() + push.SWEEP_EVERY * 2)
    try:
        results = at_once(
            lambda: push.push_deliver(message_id=message.pk).result, push.push_deliver_due
        )
    finally:
        push.clock.clock_set(None)
    deliver, swept = results
    assert (deliver, swept) in [(push.SENT, 0), (push.SKIPPED, 1)], results
    assert len(service.received) == 1
    # Killed between its claim and the send: recorded as sent, never sent again.
    second = push.notify(person=sam, kind=push.YOUR_MOVE, key="another", path="/")
    monkeypatch.setattr(push, "_post", die)
    with pytest.raises(Killed):
        push.push_deliver(message_id=second.pk)
    monkeypatch.undo()
    second.refresh_from_db()
    assert second.sent_at is not None
    assert push.push_deliver(message_id=second.pk).result == push.SKIPPED
    assert len(service.received) == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_real_workers_two_at_once_one_killed_and_restarted_push_each_once(
    vapid, service, tmp_path, settings
):
    from tests.factories import UserFactory

    people = [UserFactory(email=f"p{n}@example.com", display_name=f"P{n}") for n in range(12)]
    for person in people:
        push.subscription_save(
            user=person, data=service.browser().subscription(), login="", device_name="Phone"
        )
    DBTaskResult.objects.all().delete()
    for person in people:
        push.notify(person=person, kind=push.ASKED, key="k", path="/")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_for_tests(),
        "VAPID_PUBLIC_KEY": settings.VAPID_PUBLIC_KEY,
        "VAPID_PRIVATE_KEY": settings.VAPID_PRIVATE_KEY,
        "VAPID_SUBJECT": settings.VAPID_SUBJECT,
        "PUSH_HTTP_ENDPOINTS": "1",
    }
    log = tmp_path / "workers.log"
    first, second = _worker(env, log), _worker(env, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(service.received) < 4:
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)  # one dies mid-run
    first.wait()
    restarted = _worker(env, log)
    try:
        while (
            time.monotonic() < deadline
            and PushMessage.objects.filter(sent_at__isnull=True).exists()
        ):
            time.sleep(0.1)
        # A push its worker held before the claim committed: the sweep after the restart.
        clock.clock_set(clock.now() + push.SWEEP_EVERY * 2)
        try:
            push.push_deliver_due()
        finally:
            clock.clock_set(None)
    finally:
        for proc in (second, restarted):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
    paths = [r.path for r in service.received]
    assert len(paths) == len(set(paths)), "a push was sent twice"
    # Every push is claimed; one claimed by the killed worker may be lost, never doubled.
    assert PushMessage.objects.filter(sent_at__isnull=False).count() == 12
    assert len(paths) >= 11, log.read_text()[-3000:]
    assert all(r.data["title"] == "Your partner would like to talk" for r in service.received)
