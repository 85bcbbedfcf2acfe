"""What a therapist keeps about a linked couple: private notes and homework.

Both are private text: never logged, never in admin, never over the channel layer.
Notes are for the therapist who wrote them only; homework is shared with the couple.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from couples.models import new_public_id
from dialogues import protocol

MAX_NOTE = 2000
MAX_TITLE = 120
MAX_INSTRUCTIONS = 2000


class TherapistNote(models.Model):
    """A private note about a couple, or about one of its dialogues (`session`)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="therapist_notes"
    )
    couple = models.ForeignKey(
        "couples.Couple", on_delete=models.CASCADE, related_name="therapist_notes"
    )
    session = models.ForeignKey(
        "dialogues.DialogueSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="therapist_notes",
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Note {self.public_id[:6]}"  # never the text


class Homework(models.Model):
    """Practice a therapist assigns to a couple; done by a partner or by a completed dialogue."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="homework")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title = models.CharField(max_length=MAX_TITLE)
    instructions = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    dialogue_kind = models.CharField(
        max_length=32,
        blank=True,
        choices=[(k.value, info.title) for k, info in protocol.KINDS.items()],
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    done_with = models.ForeignKey(
        "dialogues.DialogueSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["done_at", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Homework {self.public_id[:6]}"  # never the title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        if self.is_done or self.due_date is None:
            return False
        return self.due_date < timezone.localdate()
