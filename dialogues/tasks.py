"""Background jobs about dialogues, run by `manage.py db_worker` (django-tasks' database
backend: several workers at once, each claiming a job with SELECT … FOR UPDATE SKIP LOCKED).

Every job delivers one `Reminder` row and is safe to run any number of times: it locks the
row (skipping one another worker holds), does the work and marks the row sent in the same
transaction. A second worker, a retry or a job left over from a restart finds it sent, or
locked, and does nothing. A job that fails is retried (IMAGO_JOB_RETRIES times, waiting
longer each time) and then recorded: on the row (`failed_at`, the error's class) and as a
failed task result with its traceback (the admin's "DB task results").
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django_tasks import task

from couples import jobs, push
from dialogues import protocol, reminders, services
from dialogues.models import DialogueSession, Reminder
from live import clock

logger = logging.getLogger("imago.jobs")

SENT = "sent"
SKIPPED = "skipped"  # already sent, cancelled, or another worker holds it
MOOT = "moot"  # the dialogue moved on: nothing to say any more
EARLY = "early"  # not due yet by our clock: a later job delivers it


def retry_delay(attempt: int) -> timedelta:
    """30 s, 2 min, 8 min, ... before attempt `attempt + 1`."""
    return timedelta(seconds=30 * 4 ** (attempt - 1))


def reminder_enqueue(reminder: Reminder, *, attempt: int = 1) -> None:
    """Queue the job that delivers this reminder, due at its time (or now)."""
    due = reminder.due_at if attempt == 1 else clock.now() + retry_delay(attempt - 1)
    reminder_send.using(run_after=due).enqueue(reminder.pk, attempt)


@task()
def reminder_send(reminder_id: int, attempt: int = 1) -> str:
    try:
        return reminder_deliver(reminder_id=reminder_id)
    except Exception as error:
        _failed(reminder_id, attempt, error)
        raise  # the task result records this attempt as failed, with its traceback


def _failed(reminder_id: int, attempt: int, error: Exception) -> None:
    name = type(error).__name__[:200]
    with transaction.atomic():
        reminder = Reminder.objects.filter(pk=reminder_id).first()
        if reminder is None:
            return
        reminder.attempts = attempt
        reminder.last_error = name
        if attempt <= settings.IMAGO_JOB_RETRIES:
            reminder.save(update_fields=["attempts", "last_error"])
            reminder_enqueue(reminder, attempt=attempt + 1)
            logger.warning("job failed, will retry", extra={"reminder": reminder_id})
        else:
            reminder.failed_at = clock.now()
            reminder.save(update_fields=["attempts", "last_error", "failed_at"])
            logger.error("job failed for good", extra={"reminder": reminder_id})


def _moot(reminder: Reminder) -> bool:
    session = reminder.session
    if reminder.kind == Reminder.Kind.CANCELLED:
        return False
    # Appointment work: moot once the dialogue is no longer waiting for this very time.
    at = session.scheduled_for
    if reminder.kind == Reminder.Kind.REMINDER and at is not None and at <= clock.now():
        return True  # too late to remind: the time has come
    return (
        not session.waits_for_time
        or at is None
        or reminders.planned_key(at) != reminder.planned_for
    )


def reminder_deliver(*, reminder_id: int) -> str:
    """Do this reminder's work once. Returns what happened (SENT, SKIPPED, MOOT, EARLY)."""
    now = clock.now()
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=reminder_id, sent_at__isnull=True, cancelled_at__isnull=True)
            .select_related(
                "session",
                "session__partner_a",
                "session__partner_b",
                "session__scheduled_by",
                "person",
            )
            .first()
        )
        if reminder is None:
            return SKIPPED
        if reminder.due_at > now:
            return EARLY
        if _moot(reminder):
            reminder.cancelled_at = now
            reminder.save(update_fields=["cancelled_at"])
            return MOOT
        message = None
        if reminder.kind == Reminder.Kind.OPEN:
            # In the database only: opened and marked done in one transaction, exactly once.
            services.session_open_due(session_public_id=reminder.session.public_id)
        elif reminder.kind == Reminder.Kind.REMINDER and reminder.person is not None:
            # "Starts soon": by push, email, both or neither, as the person chose.
            wants = push.channels_for(user=reminder.person, kind=push.STARTING)
            if push.PUSH in wants:
                at = reminder.session.scheduled_for
                push.notify(  # queued with this claim; sent after it commits
                    person=reminder.person,
                    kind=push.STARTING,
                    key=f"{reminder.session.public_id}:{reminder.planned_for}",
                    path=reminders.dialogue_path(reminder.session, reminder.person),
                    minutes=max(1, round((at - now).total_seconds() / 60)) if at else None,
                )
            if push.EMAIL in wants:
                message = reminders.reminder_email(reminder)
        else:
            message = reminders.reminder_email(reminder)
        # The claim: once this commits, no worker will send it again.
        reminder.sent_at = now
        reminder.attempts += 1
        reminder.save(update_fields=["sent_at", "attempts"])
    if message is not None:
        _send_or_release(message, Reminder.objects.filter(pk=reminder.pk), sent_at=None)
    logger.info("reminder delivered", extra={"reminder": reminder_id, "kind": reminder.kind})
    return SENT


def _send_or_release(message, claim, **release) -> None:
    """Send after the claim committed. If sending fails, release the claim (so a retry may
    send it) and raise. A worker killed right here leaves the claim: that email is lost, and
    recorded as sent, rather than ever sent twice."""
    try:
        message.send()
    except Exception:
        if release:
            claim.update(**release)
        else:
            claim.delete()
        raise


def your_move_enqueue(*, session_id: int, people: list[int], step_seq: int, due, now: bool) -> None:
    your_move_send.using(run_after=due).enqueue(session_id, people, step_seq, now)


@task()
def your_move_send(
    session_id: int, people: list[int], step_seq: int, now: bool, attempt: int = 1
) -> int:
    """Email each person still waited on at this step (once; see `your_move_deliver`). Those
    whose email failed are tried again later; this attempt is then recorded as failed."""
    sent, failed, error = 0, [], None
    for pk in people:
        try:
            result = your_move_deliver(
                session_id=session_id, person_id=pk, step_seq=step_seq, now=now
            )
        except Exception as exc:
            failed.append(pk)
            error = exc
            continue
        sent += result == SENT
    if error is not None:
        if attempt <= settings.IMAGO_JOB_RETRIES:
            your_move_send.using(run_after=clock.now() + retry_delay(attempt)).enqueue(
                session_id, failed, step_seq, now, attempt + 1
            )
            logger.warning("job failed, will retry", extra={"session_id": session_id})
        else:
            logger.error("job failed for good", extra={"session_id": session_id})
        raise error
    return sent


def your_move_deliver(*, session_id: int, person_id: int, step_seq: int, now: bool) -> str:
    """One "it's your move" email, if this person is still the one waited on at this step,
    isn't on the page (when asked at once), wants these emails, and got none since their own
    last move. The `Reminder` row it inserts is the claim: its unique key (session, person,
    step) lets one worker send, and a second one waits on the row and then finds it."""
    planned_for = f"step:{step_seq}"
    with transaction.atomic():
        session = (
            DialogueSession.objects.select_related("partner_a", "partner_b")
            .filter(pk=session_id)
            .first()
        )
        if session is None:
            return MOOT
        slot = session.slot_of_pk(person_id)
        person = session.partner_in(slot) if slot else None
        kind = push.ASKED if session.step == protocol.APPOINTMENT else push.YOUR_MOVE
        wants = push.channels_for(user=person, kind=kind) if person is not None else set()
        if not person or not person.email:
            wants.discard(push.EMAIL)
        if (
            person is None
            or not wants
            or not person.is_active
            or not session.is_live
            or session.status != DialogueSession.Status.ACTIVE
            or session.step_seq != step_seq
            or slot not in protocol.whose_turn(session.protocol_state)
        ):
            return MOOT
        if now and reminders.person_is_online(person.pk):
            return MOOT  # on the page already: it tells them
        last_own = session.turns.filter(actor=person).order_by("-seq").first()
        since = last_own.created_at if last_own else session.created_at
        already = Reminder.objects.filter(
            session=session, person=person, kind=Reminder.Kind.YOUR_MOVE, sent_at__gte=since
        )
        if already.exists():
            return SKIPPED  # one while they are waited on, not one per step
        stamp = clock.now()
        try:
            with transaction.atomic():
                reminder = Reminder.objects.create(
                    session=session,
                    person=person,
                    kind=Reminder.Kind.YOUR_MOVE,
                    planned_for=planned_for,
                    due_at=stamp,
                    sent_at=stamp,
                    attempts=1,
                )
        except IntegrityError:
            return SKIPPED  # another worker claimed it
        if push.PUSH in wants:
            push.notify(  # queued with this claim; sent by its own job after the commit
                person=person,
                kind=kind,
                key=f"{session.public_id}:{step_seq}",
                path=reminders.dialogue_path(session, person),
            )
        message = reminders.reminder_email(reminder) if push.EMAIL in wants else None
    # The claim (the row, unique per person and step) has committed: now send.
    if message is not None:
        _send_or_release(message, Reminder.objects.filter(pk=reminder.pk))
    logger.info("your-move notice sent", extra={"session": session.public_id})
    return SENT


YOUR_MOVE_HORIZON = timedelta(hours=1)  # how long a sweep missed (workers down) is made up for


def your_move_deliver_due() -> int:
    """The "it's your move" emails of those waited on for YOUR_MOVE_AFTER_MINUTES: each live
    dialogue whose last change is that old (and at most YOUR_MOVE_HORIZON older), unless an
    email went out since. `your_move_deliver` decides for each person, once."""
    if not settings.IMAGO_YOUR_MOVE_EMAILS:
        return 0
    latest = clock.now() - timedelta(minutes=settings.IMAGO_YOUR_MOVE_AFTER_MINUTES)
    emailed = Reminder.objects.filter(
        session=OuterRef("pk"), kind=Reminder.Kind.YOUR_MOVE, sent_at__gte=OuterRef("updated_at")
    )
    waiting = (
        DialogueSession.objects.filter(
            status=DialogueSession.Status.ACTIVE,
            updated_at__lte=latest,
            updated_at__gt=latest - YOUR_MOVE_HORIZON,
        )
        .exclude(Exists(emailed))
        .select_related("partner_a", "partner_b")
    )
    sent = 0
    for session in waiting:
        if protocol.is_scheduled(session.protocol_state):
            continue  # an appointment: the reminders say when
        for pk in reminders.waited_on(session):
            result = your_move_deliver(
                session_id=session.pk, person_id=pk, step_seq=session.step_seq, now=False
            )
            sent += result == SENT
    return sent


def reminders_deliver_due(*, grace: timedelta = timedelta(0)) -> int:
    """Deliver every reminder due by our clock (`grace` ago: the sweep leaves the newest to
    their own jobs). Returns how many were sent."""
    due = Reminder.objects.filter(
        sent_at__isnull=True,
        cancelled_at__isnull=True,
        failed_at__isnull=True,
        due_at__lte=clock.now() - grace,
    ).values_list("pk", flat=True)
    return sum(reminder_deliver(reminder_id=pk) == SENT for pk in list(due))


SWEEP_EVERY = timedelta(minutes=1)


@task()
def reminders_sweep() -> int:
    """Every minute: deliver what is overdue (a job lost when a worker was killed mid-job)
    and the "it's your move" emails now due, then queue the next sweep."""
    try:
        return reminders_deliver_due(grace=SWEEP_EVERY) + your_move_deliver_due()
    finally:
        jobs.next_run(reminders_sweep, at=clock.now() + SWEEP_EVERY)


jobs.periodic_register(reminders_sweep, lambda now: now + SWEEP_EVERY)


reminders.queue_register(reminder=reminder_enqueue, your_move=your_move_enqueue)
