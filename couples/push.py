"""Web Push: a person's devices told about an event while the app is closed (RFC 8030), the
payload encrypted to each browser (RFC 8291, `http_ece`) and signed by our VAPID key (RFC
8292, `py_vapid`), both through `pywebpush`.

For the features above couples (they call `notify`, couples imports none of them):

    push.notify(person=user, kind=push.ADMITTED, key=f"admitted:{session.public_id}",
                path=reverse("therapists:waiting_room", args=[...]))

- `kind` is one of KINDS (each person chooses per kind: push, email, both or neither;
  `channels_for` says which, and `notify` sends nothing they didn't ask for);
- `key` names the event: a second `notify` with the same (person, kind, key) is nothing;
- `path` is where a tap leads. The payload is the kind's fixed words and this link: never a
  topic, never a word anyone wrote.

Call it inside the change's transaction: the job is queued in the same database, so a change
that rolls back plans nothing, and the push is sent by the job runner after the commit, never
inside it. At most once, as reminder emails (dialogues/tasks.py): the worker that locks the
row marks it sent before sending; a second worker skips it; a worker killed before its claim
commits leaves the row to the sweep; one killed after it loses that push rather than send it
twice. A failed push is retried (IMAGO_JOB_RETRIES, longer waits) on the devices that failed,
then recorded (`failed_at`, the error's class, and the failed task with its traceback).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_tasks import task

from couples import jobs
from couples.models import NotificationChoice, PushMessage, PushSubscription, User, login_id
from live import clock

logger = logging.getLogger("imago.jobs")

YOUR_MOVE = "your_move"  # it's your move (when you're not on the page)
ASKED = "asked"  # your partner asked to talk
STARTING = "starting"  # a scheduled dialogue starts soon
ADMITTED = "admitted"  # the therapist let you in from the waiting room
SEGMENT = "segment"  # a workshop segment starts

KINDS = {
    YOUR_MOVE: gettext_lazy("It's my move in a dialogue"),
    ASKED: gettext_lazy("My partner asks to talk"),
    STARTING: gettext_lazy("A scheduled dialogue starts soon"),
    ADMITTED: gettext_lazy("My therapist lets me in from the waiting room"),
    SEGMENT: gettext_lazy("A workshop segment starts"),
}
PUSH, EMAIL = "push", "email"
HOW: dict[str, set[str]] = {
    NotificationChoice.How.PUSH.value: {PUSH},
    NotificationChoice.How.EMAIL.value: {EMAIL},
    NotificationChoice.How.BOTH.value: {PUSH, EMAIL},
    NotificationChoice.How.NEITHER.value: set(),
}
# How long a push waits at the push service for a phone that is off (RFC 8030 TTL).
TTL = {STARTING: 15 * 60, SEGMENT: 10 * 60, ADMITTED: 30 * 60}
DEFAULT_TTL = 12 * 60 * 60
SENT, SKIPPED, MOOT = "sent", "skipped", "moot"


class PushError(Exception):
    """A subscription that can't be saved: a clear message for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Gone(Exception):
    """The push service says the subscription is no more (404/410)."""


def enabled() -> bool:
    """Whether this server can push (its VAPID key pair is set)."""
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


# --- choices -------------------------------------------------------------------------------------


def has_devices(*, user: User) -> bool:
    return PushSubscription.objects.filter(
        person=user, server_key=settings.VAPID_PUBLIC_KEY
    ).exists()


def choice_default(*, user: User, kind: str, devices: bool | None = None) -> str:
    """Push when a device of theirs receives pushes, email otherwise (for "your move" and
    "asked to talk", as long as they haven't turned those emails off)."""
    if devices is None:
        devices = has_devices(user=user)
    if devices and enabled():
        return NotificationChoice.How.PUSH
    if kind in (YOUR_MOVE, ASKED) and not user.your_move_emails:
        return NotificationChoice.How.NEITHER
    return NotificationChoice.How.EMAIL


def choices_of(*, user: User) -> dict[str, str]:
    """Every kind's choice for this person (theirs, or the default)."""
    chosen = dict(NotificationChoice.objects.filter(person=user).values_list("kind", "how"))
    devices = has_devices(user=user)
    return {
        kind: chosen.get(kind) or choice_default(user=user, kind=kind, devices=devices)
        for kind in KINDS
    }


def channels_for(*, user: User, kind: str) -> set[str]:
    """How this person hears about this kind of event now: {"push"}, {"email"}, both, none.
    "push" only while a device of theirs receives pushes."""
    row = NotificationChoice.objects.filter(person=user, kind=kind).first()
    how = row.how if row else choice_default(user=user, kind=kind)
    channels = set(HOW.get(how, set()))
    if PUSH in channels and not (enabled() and has_devices(user=user)):
        channels.discard(PUSH)
    return channels


def choices_set(*, user: User, choices: dict[str, str]) -> None:
    """Save a person's choice per kind (unknown kinds or values are refused)."""
    for kind, how in choices.items():
        if kind not in KINDS or how not in HOW:
            raise PushError(_("Please choose one of the options for each kind of notice."))
    with transaction.atomic():
        for kind, how in choices.items():
            NotificationChoice.objects.update_or_create(
                person=user, kind=kind, defaults={"how": how}
            )
        # The "your move" emails' own switch follows (dialogues/tasks.py reads the choice).
        if YOUR_MOVE in choices:
            wants_email = EMAIL in HOW[choices[YOUR_MOVE]]
            User.objects.filter(pk=user.pk).update(your_move_emails=wants_email)
            user.your_move_emails = wants_email


# --- subscriptions -------------------------------------------------------------------------------

ENDPOINT_MAX = PushSubscription._meta.get_field("endpoint").max_length or 1000


def _incomplete(what: str) -> str:
    return _("This browser sent an incomplete subscription (%(what)s).") % {"what": what}


def _b64(value: object, *, length: int, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise PushError(_incomplete(what))
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise PushError(_incomplete(what)) from None
    if len(raw) != length:
        raise PushError(_incomplete(what))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _endpoint(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > ENDPOINT_MAX or "\x00" in value:
        raise PushError(_incomplete("endpoint"))
    parts = urlsplit(value)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and settings.IMAGO_PUSH_HTTP_ENDPOINTS
    )
    if not secure or not parts.hostname:
        raise PushError(_("This browser's push service isn't one we can reach."))
    return value


def subscription_save(
    *, user: User, data: object, login: str, device_name: str
) -> PushSubscription:
    """Turn pushes on for this browser (the subscription its push manager made: endpoint,
    keys). Saving it again is nothing new; a browser that changed hands is theirs now."""
    if not enabled():
        raise PushError(_("Notifications aren't set up on this server."))
    if not isinstance(data, dict):
        raise PushError(_incomplete("JSON"))
    keys = data.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    endpoint = _endpoint(data.get("endpoint"))
    p256dh = _b64(keys.get("p256dh"), length=65, what="p256dh")
    auth = _b64(keys.get("auth"), length=16, what="auth")
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    with transaction.atomic():
        PushSubscription.objects.filter(endpoint_hash=digest).exclude(person=user).delete()
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint_hash=digest,
            defaults={
                "person": user,
                "endpoint": endpoint,
                "p256dh": p256dh,
                "auth": auth,
                "login": login,
                "device_name": device_name[:100],
                "server_key": settings.VAPID_PUBLIC_KEY,
            },
        )
    return subscription


def subscription_remove(*, user: User, public_id: str) -> int:
    """Turn pushes off for one of this person's devices (theirs only)."""
    deleted, _ = PushSubscription.objects.filter(person=user, public_id=public_id).delete()
    return deleted


def subscription_remove_endpoint(*, user: User, endpoint: object) -> int:
    """This browser turns its own pushes off (it knows its endpoint, not our id)."""
    if not isinstance(endpoint, str) or len(endpoint) > ENDPOINT_MAX:
        return 0
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    deleted, _ = PushSubscription.objects.filter(person=user, endpoint_hash=digest).delete()
    return deleted


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs) -> None:
    """Logging out on a device ends its pushes: the next person here gets none of them."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        subscriptions_remove_for_login(login=login_id(session_key))


def subscriptions_remove_for_login(*, login: str) -> int:
    """Logging out on a device (or signing it out from another) ends its pushes."""
    if not login:
        return 0
    deleted, _ = PushSubscription.objects.filter(login=login).delete()
    return deleted


def subscriptions_remove_all(*, user: User) -> int:
    """Account deletion: no device hears of this person again."""
    deleted, _ = PushSubscription.objects.filter(person=user).delete()
    PushMessage.objects.filter(person=user).delete()
    NotificationChoice.objects.filter(person=user).delete()
    return deleted


def subscribed_here(*, user: User, login: str) -> bool:
    return PushSubscription.objects.filter(person=user, login=login).exists()


def subscriptions_of(*, user: User) -> list[PushSubscription]:
    return list(PushSubscription.objects.filter(person=user))


# --- planning and sending ------------------------------------------------------------------------


def notify(
    *, person: User, kind: str, key: str, path: str, minutes: int | None = None
) -> PushMessage | None:
    """Plan one push to this person about one event (see the module's docstring). Nothing if
    they don't want pushes of this kind, or no device of theirs receives them, or the same
    event was planned before. Returns the planned row."""
    if kind not in KINDS:
        raise ValueError(f"unknown push kind {kind!r}")
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError("a push links to one of our own pages")
    if not person.is_active or PUSH not in channels_for(user=person, kind=kind):
        return None
    message, created = PushMessage.objects.get_or_create(
        person=person, kind=kind, key=key[:100], defaults={"path": path[:200], "minutes": minutes}
    )
    if not created:
        return None
    push_send.using(run_after=message.due_at).enqueue(message.pk)
    return message


def payload(message: PushMessage) -> dict[str, str]:
    """What a device receives: the event's fixed words and a link, in the person's language."""
    with translation.override(message.person.language_code):
        if message.kind == YOUR_MOVE:
            title, body = _("It's your move"), _("Your partner is waiting for your next step.")
        elif message.kind == ASKED:
            title, body = _("Your partner would like to talk"), _("Say whether now is a good time.")
        elif message.kind == STARTING:
            minutes = message.minutes or settings.IMAGO_REMINDER_MINUTES
            title = ngettext(
                "A dialogue starts in %(minutes)s minute",
                "A dialogue starts in %(minutes)s minutes",
                minutes,
            ) % {"minutes": minutes}
            body = _("Find a quiet moment; it opens by itself.")
        elif message.kind == ADMITTED:
            title, body = _("Your therapist let you in"), _("Your session is ready. Join now.")
        else:
            title, body = _("A workshop segment starts"), _("Join the others now.")
    return {
        "title": str(title),
        "body": str(body),
        "url": settings.SITE_URL + message.path,
        "tag": f"imago-{message.kind}",
    }


def _post(subscription: PushSubscription, data: dict[str, str], *, ttl: int) -> None:
    """Encrypt and send one push (pywebpush: aes128gcm, a VAPID JWT for the endpoint's
    origin). Raises Gone on 404/410, another error on any other failure."""
    from pywebpush import WebPushException, webpush

    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(data),
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            content_encoding="aes128gcm",
            ttl=ttl,
            timeout=10,
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in (404, 410):
            raise Gone(str(status)) from None
        raise


@dataclass
class Outcome:
    result: str
    failed: list[int]
    error: Exception | None = None


def push_deliver(*, message_id: int, only: list[int] | None = None) -> Outcome:
    """Send this push once. First attempt: claim the row (locked, marked sent, committed),
    then send to every device. A retry (`only`): the devices that failed before, the claim
    already held."""
    now = clock.now()
    if only is None:
        with transaction.atomic():
            message = (
                PushMessage.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=message_id, sent_at__isnull=True, failed_at__isnull=True)
                .select_related("person")
                .first()
            )
            if message is None:
                return Outcome(SKIPPED, [])
            # The claim: once this commits, no worker sends it again.
            message.sent_at = now
            message.attempts += 1
            message.save(update_fields=["sent_at", "attempts"])
    else:
        message = PushMessage.objects.select_related("person").filter(pk=message_id).first()
        if message is None:
            return Outcome(MOOT, [])
    # Made for a key we no longer have (rotated): they can't receive; the browser makes a
    # new one on its next visit (imago.js).
    PushSubscription.objects.filter(person_id=message.person_id).exclude(
        server_key=settings.VAPID_PUBLIC_KEY
    ).delete()
    subscriptions = PushSubscription.objects.filter(person_id=message.person_id)
    if only is not None:
        subscriptions = subscriptions.filter(pk__in=only)
    data = payload(message)
    ttl = TTL.get(message.kind, DEFAULT_TTL)
    failed: list[int] = []
    error: Exception | None = None
    sent = 0
    for subscription in subscriptions:
        try:
            _post(subscription, data, ttl=ttl)
        except Gone:
            subscription.delete()  # the browser unsubscribed, or the app was removed
            logger.info("push subscription gone", extra={"kind": message.kind})
            continue
        except Exception as exc:
            failed.append(subscription.pk)
            error = exc
            continue
        sent += 1
        PushSubscription.objects.filter(pk=subscription.pk).update(last_push_at=now)
    logger.info("push delivered", extra={"kind": message.kind, "devices": sent})
    return Outcome(SENT if sent or not failed else SKIPPED, failed, error)


def retry_delay(attempt: int) -> timedelta:
    """30 s, 2 min, 8 min, ... before attempt `attempt + 1` (as the emails wait)."""
    return timedelta(seconds=30 * 4 ** (attempt - 1))


@task()
def push_send(message_id: int, attempt: int = 1, only: list[int] | None = None) -> str:
    outcome = push_deliver(message_id=message_id, only=only)
    if outcome.error is None:
        return outcome.result
    name = type(outcome.error).__name__[:200]
    if attempt <= settings.IMAGO_JOB_RETRIES:
        PushMessage.objects.filter(pk=message_id).update(attempts=attempt + 1, last_error=name)
        push_send.using(run_after=clock.now() + retry_delay(attempt)).enqueue(
            message_id, attempt + 1, outcome.failed
        )
        logger.warning("push failed, will retry", extra={"push": message_id})
    else:
        PushMessage.objects.filter(pk=message_id).update(
            attempts=attempt, last_error=name, failed_at=clock.now()
        )
        logger.error("push failed for good", extra={"push": message_id})
    raise outcome.error  # the task result records this attempt as failed, with its traceback


PUSH_HORIZON = timedelta(minutes=10)  # a push later than this says nothing useful any more
SWEEP_EVERY = timedelta(minutes=1)


def push_deliver_due() -> int:
    """The pushes a killed worker left before its claim committed (due more than a sweep
    ago, less than PUSH_HORIZON), each sent once."""
    now = clock.now()
    due = PushMessage.objects.filter(
        sent_at__isnull=True,
        failed_at__isnull=True,
        due_at__lte=now - SWEEP_EVERY,
        due_at__gt=now - PUSH_HORIZON,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        sent += push_deliver(message_id=pk).result == SENT
    return sent


@task()
def push_sweep() -> int:
    try:
        return push_deliver_due()
    finally:
        jobs.next_run(push_sweep, at=clock.now() + SWEEP_EVERY)


jobs.periodic_register(push_sweep, lambda now: now + SWEEP_EVERY)


def vapid_pair() -> tuple[str, str]:
    """A new VAPID key pair (P-256), base64url: (public, private). The public key is what
    browsers subscribe with (applicationServerKey); the private one signs every push."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return b64(public), b64(private)


def context(request) -> dict[str, str]:
    """Template context: the key a signed-in person's browser subscribes with (base.html),
    so a browser subscribed with a rotated-out key makes a new subscription by itself."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not enabled():
        return {}
    return {"push_key": settings.VAPID_PUBLIC_KEY}
