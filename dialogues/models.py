"""Dialogue sessions and their turns. The protocol itself lives in dialogues/protocol.py."""

from __future__ import annotations

import copy
from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from couples.models import new_public_id
from dialogues import protocol
from live import clock, dialogue_group
from security.encrypted import EncryptedCharField, EncryptedJSONField, EncryptedTextField

# (session) -> its title, or None: how an app that makes dialogues without a topic names them
# (a workshop's practice), registered from its apps.ready; asked when read, so in the
# reader's language.
TitleNamer = Callable[["DialogueSession"], "str | None"]
_title_namers: list[TitleNamer] = []


def title_namer_register(namer: TitleNamer) -> None:
    if namer not in _title_namers:
        _title_namers.append(namer)


MAX_TOPIC = 200  # a topic's characters: one short sentence


class DialogueSession(models.Model):
    """One dialogue of a couple on one topic: a sequence of turns, driven by the protocol.

    `state` is the protocol's State (as a dict); `step` and `round` copy it for listing.
    `seq` is the number of the last turn; every change to the session is a turn.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("In progress")
        PAUSED = "paused", _("Time-out")
        COMPLETED = "completed", _("Completed")
        ENDED = "ended", _("Ended early")
        # A facilitated session a therapist booked for a set time: it waits (and doesn't
        # stand in the way of the couple's own dialogues) until its time opens it.
        PLANNED = "planned", _("Planned")

    LIVE = (Status.ACTIVE, Status.PAUSED)
    # Waiting for an appointed time: a partner's appointment (live) or a booked session.
    WAITING = (Status.ACTIVE, Status.PLANNED)

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey(
        "couples.Couple", on_delete=models.CASCADE, related_name="dialogue_sessions"
    )
    kind = models.CharField(
        max_length=32, choices=[(k.value, info.title) for k, info in protocol.KINDS.items()]
    )
    topic = EncryptedCharField(max_length=MAX_TOPIC)
    partner_a = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    partner_b = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.JSONField()
    step = models.CharField(max_length=40)
    round = models.PositiveSmallIntegerField(default=1)
    seq = models.PositiveIntegerField(default=0)
    # The turn number at which the current step began: forms carry it to detect staleness.
    step_seq = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    # During a time-out: the slots ("a", "b") of the partners who are ready to go on.
    ready_to_resume = models.JSONField(default=list, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # A facilitated session: the linked therapist who booked it, and its length in minutes.
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # Together on one device (a said-aloud dialogue): the partner whose device takes both
    # partners' turns, with the other's standing permission (couples.DeviceSharing).
    shared_device = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["couple"],
                condition=Q(status__in=["active", "paused"]),
                name="one_live_dialogue_per_couple",
            )
        ]

    def __str__(self) -> str:
        # Never the topic: it is private text.
        return f"{self.get_kind_display()} {self.public_id[:6]}"

    @property
    def protocol_state(self) -> protocol.State:
        # Read many times a render: parsed again only when the stored state has changed
        # (compared with a deep copy, so a change made in place is seen too).
        source, parsed = self.__dict__.get("_protocol_state", (None, None))
        if parsed is None or source != self.state:
            parsed = protocol.State.from_dict(self.state)
            self.__dict__["_protocol_state"] = (copy.deepcopy(self.state), parsed)
        return parsed

    @property
    def said_aloud(self) -> bool:
        """Said aloud (the protocol's `State.aloud`) as it is now or was when it ended."""
        return bool((self.state or {}).get("aloud"))

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def is_planned(self) -> bool:
        """A facilitated session booked for later, not open yet."""
        return self.status == self.Status.PLANNED

    @property
    def title(self) -> str:
        """The topic a partner named, as written; a session a therapist booked has none, and
        is called after its therapist in the reader's (active) language; one another app made
        (a workshop's practice) is named by it (`title_namer_register`)."""
        if self.topic:
            return self.topic
        if self.scheduled_by_id is None:
            for namer in _title_namers:
                if (named := namer(self)) is not None:
                    return named
        by = self.scheduled_by.display_name if self.scheduled_by else gettext("your therapist")
        return gettext("Session with %(name)s") % {"name": by}

    @property
    def topic_lang(self) -> str:
        """The language of the topic's words (its starter's), or "" for a title we phrase."""
        return self.partner_a.language_code if self.topic and self.partner_a else ""

    @property
    def is_facilitated(self) -> bool:
        """Booked by a therapist (`scheduled_by`), whether or not it has opened yet."""
        return self.scheduled_by_id is not None

    @property
    def waits_for_time(self) -> bool:
        """An appointment or a booked session waiting for its time (the protocol's scheduled
        step, not yet open, not cancelled)."""
        return self.status in self.WAITING and protocol.is_scheduled(self.protocol_state)

    @property
    def was_cancelled(self) -> bool:
        """Ended while it waited for its appointed time (a partner cancelled the appointment,
        or the therapist the session they booked): it never began."""
        return self.status == self.Status.ENDED and self.step == protocol.SCHEDULED

    @property
    def status_label(self) -> str:
        """The status as people read it: a dialogue cancelled before it began says so,
        rather than "Ended early"."""
        return str(_("Cancelled")) if self.was_cancelled else str(self.get_status_display())

    @property
    def is_paused(self) -> bool:
        return self.status == self.Status.PAUSED

    @property
    def group_name(self) -> str:
        return dialogue_group(self.public_id)

    def slot_of(self, user) -> str | None:
        if user is None or not getattr(user, "pk", None):
            return None
        if user.pk == self.partner_a_id:
            return "a"
        if user.pk == self.partner_b_id:
            return "b"
        return None

    def slot_of_pk(self, pk: int | None) -> str | None:
        if pk is None:
            return None
        return "a" if pk == self.partner_a_id else "b" if pk == self.partner_b_id else None

    def partner_in(self, slot: str):
        return self.partner_a if slot == "a" else self.partner_b

    def partner_pk(self, slot: str) -> int | None:
        """The partner's id in this slot, without loading them."""
        return self.partner_a_id if slot == "a" else self.partner_b_id

    def refresh_progress(self) -> None:
        """Read again what moves change (state, step, status, ...), keeping the partners and
        couple already loaded: they never change, and reloading them costs two queries."""
        fixed = {"id", "public_id", "couple", "partner_a", "partner_b", "kind", "created_at"}
        self.refresh_from_db(
            fields=[f.name for f in self._meta.concrete_fields if f.name not in fixed]
        )


class Turn(models.Model):
    """One saved step of a dialogue, in order. Text is private: never logged, never in admin."""

    class Kind(models.TextChoices):
        MOVE = "move", _("Protocol move")
        EVENT = "event", _("Session event")  # started, time-out, ready, resumed, ended, rewind
        COACHING = "coaching", _("Coaching")  # a therapist's message, to both or to one partner

    session = models.ForeignKey(DialogueSession, on_delete=models.CASCADE, related_name="turns")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MOVE)
    round = models.PositiveSmallIntegerField(default=1)
    step = models.CharField(max_length=40)
    move = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_role = models.CharField(max_length=16, blank=True)  # sender, receiver, facilitator
    # Who may see this turn: NULL is everyone in the session; else only this partner (and the
    # facilitator who wrote it). Every per-person rendering filters on it.
    visible_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    # Together on one device: the partner on whose device this move was made for `actor`
    # (NULL: the actor made it on their own).
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Encrypted at rest (security/encrypted.py): no SQL lookups on them, filter on step/move.
    text = EncryptedTextField(blank=True)
    data = EncryptedJSONField(default=dict, blank=True)
    # NULL, not "", so the partial unique constraint ignores turns without a form token.
    client_token = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="one_turn_per_seq"),
            models.UniqueConstraint(
                fields=["session", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_turn_per_form_token",
            ),
        ]

    def __str__(self) -> str:
        return f"Turn {self.seq} ({self.step}/{self.move})"


class Reminder(models.Model):
    """One piece of scheduled work about a dialogue, done once: an email to one person (the
    calendar file, the reminder before, "it's your move"), or opening the dialogue at its
    time (`person` empty). A background job delivers it (dialogues/tasks.py): it claims the
    row with a lock, does the work and marks it sent in one transaction, so two workers, a
    retry or a restart never do it twice. What it says is rendered when sent, from the
    session; the row holds no text."""

    class Kind(models.TextChoices):
        SCHEDULED = "planned", _("Appointment made (calendar file)")
        CANCELLED = "cancelled", _("Appointment cancelled")
        REMINDER = "reminder", _("Reminder before the time")
        OPEN = "open", _("Open the dialogue at its time")
        YOUR_MOVE = "your_move", _("It's your move")

    session = models.ForeignKey(DialogueSession, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    due_at = models.DateTimeField()
    # The appointment (or, for "your move", the step) this was planned for: a later change
    # makes it moot, and the same plan is never made twice.
    planned_for = models.CharField(max_length=40)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)  # an exception's class, no text
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "person", "kind", "planned_for"],
                condition=Q(person__isnull=False),
                name="one_reminder_per_plan",
            ),
            models.UniqueConstraint(
                fields=["session", "kind", "planned_for"],
                condition=Q(person__isnull=True),
                name="one_opening_per_plan",
            ),
        ]
        indexes = [models.Index(fields=["due_at"], name="reminder_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_at:%Y-%m-%d %H:%M}"
