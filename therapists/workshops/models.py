"""Workshops: one presenter (a verified therapist), many couples practising at once.

A workshop has an ordered plan of segments (teach, practise, reconvene, break). Couples join
with its code, each partner from their own account; the presenter sees progress only (who is
present, which step, who asked for help), never text unless both partners allowed reading.
The practice dialogues are the couple's own (`dialogues.DialogueSession`); a `Practice` row
only says which workshop segment made one, so the couple keeps it after the workshop.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from couples.models import new_public_id
from dialogues import protocol
from live import clock

MAX_WORKSHOP_TITLE = 120
MAX_SEGMENT_TEXT = 1000
MAX_ANNOUNCEMENT = 280
MAX_SEGMENT_MINUTES = 180
MAX_SEGMENTS = 40
MAX_STREAM_URL = 500
FORM_TOKEN = 64


def new_workshop_code() -> str:
    """A code the presenter reads out to the room: 8 letters, about 40 bits, no 0/O, 1/I.
    Joining also needs a signed-in, paired account, so guessing one gains nothing alone."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _i in range(8))
    return f"{raw[:4]}-{raw[4:]}"


class Workshop(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open for joining")
        LIVE = "live", _("In progress")
        ENDED = "ended", _("Ended")

    class SenderRule(models.TextChoices):
        SENT_LESS = "sent_less", _("The partner who has been the sender less often")
        NOT_TODAY = "not_today", _("The partner who hasn't been the sender today")

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workshops"
    )
    title = models.CharField(max_length=MAX_WORKSHOP_TITLE)
    starts_at = models.DateTimeField()
    code = models.CharField(max_length=16, unique=True, default=new_workshop_code)
    stream_url = models.URLField(max_length=MAX_STREAM_URL, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    # What the room does now: the current segment, when it began and when its time is up,
    # and whether the group has been called back (every practice paused).
    current = models.ForeignKey(
        "therapists.Segment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_since = models.DateTimeField(null=True, blank=True)
    current_until = models.DateTimeField(null=True, blank=True)
    reconvened = models.BooleanField(default=False)
    sender_rule = models.CharField(
        max_length=16, choices=SenderRule.choices, default=SenderRule.SENT_LESS
    )
    created_at = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["presenter", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_workshop_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Workshop {self.public_id[:6]}"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.ENDED


class Segment(models.Model):
    class Kind(models.TextChoices):
        TEACH = "teach", _("Teach")
        PRACTISE = "practise", _("Practise")
        RECONVENE = "reconvene", _("Reconvene")
        BREAK = "break", _("Break")

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="segments")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.CharField(max_length=MAX_SEGMENT_TEXT, blank=True)
    dialogue_kind = models.CharField(
        max_length=32,
        blank=True,
        choices=[(k.value, info.title) for k, info in protocol.KINDS.items()],
    )
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["workshop", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_segment_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Segment {self.position} ({self.kind})"

    @property
    def is_practice(self) -> bool:
        return self.kind == self.Kind.PRACTISE


class Attendance(models.Model):
    """A couple in a workshop. It has joined once both partners accepted (`joined_at`);
    until then the first partner's acceptance waits for the other's."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="attendances")
    couple = models.ForeignKey(
        "couples.Couple", on_delete=models.CASCADE, related_name="workshop_attendances"
    )
    joined_at = models.DateTimeField(null=True, blank=True)
    help_at = models.DateTimeField(null=True, blank=True)  # "We'd like help", until answered

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "couple"], name="one_attendance_per_couple")
        ]

    def __str__(self) -> str:
        return f"Attendance {self.pk}"


class Participant(models.Model):
    """One partner's acceptance of what the presenter sees; whether they allow reading their
    practice (both must, revocable, audited); and whether their workshop page is open."""

    attendance = models.ForeignKey(Attendance, on_delete=models.CASCADE, related_name="people")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workshop_places"
    )
    accepted_at = models.DateTimeField(default=clock.now)
    reading_allowed_at = models.DateTimeField(null=True, blank=True)
    present = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["attendance", "partner"], name="one_participant_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"Participant {self.pk}"


class Practice(models.Model):
    """A practice dialogue a workshop segment started for one couple. The dialogue is the
    couple's; this row is the presenter's only link to it."""

    attendance = models.ForeignKey(Attendance, on_delete=models.CASCADE, related_name="practices")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="practices")
    session = models.OneToOneField(
        "dialogues.DialogueSession", on_delete=models.CASCADE, related_name="workshop_practice"
    )
    started_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["attendance", "segment"], name="one_practice_per_couple_and_segment"
            )
        ]

    def __str__(self) -> str:
        return f"Practice {self.pk}"


class SegmentRun(models.Model):
    """A practice segment started: one row however many times "Start" is pressed, and the one
    background job that starts every present couple's dialogue (`done_at` once it ran)."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="runs")
    segment = models.OneToOneField(Segment, on_delete=models.CASCADE, related_name="run")
    rule = models.CharField(max_length=16, choices=Workshop.SenderRule.choices)
    started_at = models.DateTimeField(default=clock.now)
    done_at = models.DateTimeField(null=True, blank=True)
    started = models.PositiveIntegerField(default=0)  # dialogues it started
    skipped = models.PositiveIntegerField(default=0)  # couples it couldn't start (not ready)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Run {self.pk}"


class Announcement(models.Model):
    """What the presenter says to every participant: a short message, or a nudge."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        TWO_MINUTES = "two_minutes", _("Two minutes left")
        TIME = "time", _("Time")

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="announcements")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MESSAGE)
    text = models.CharField(max_length=MAX_ANNOUNCEMENT, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_announcement_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Announcement {self.pk} ({self.kind})"
