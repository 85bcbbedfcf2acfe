"""A therapist's links to couples (with each partner's consent), and what they keep about a
linked couple: private notes and homework.

Notes and homework are private text: never logged, never in admin, never over the channel
layer. Notes are for the therapist who wrote them only; homework is shared with the couple.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couples.models import new_public_id
from dialogues import protocol
from live import clock
from practice.models import PRACTICES
from security.encrypted import EncryptedCharField, EncryptedTextField

MAX_NOTE = 2000
# Forms that save something carry a one-time token (`forms.OneTimeForm`), stored as
# `client_token`: a replayed or double-clicked post finds the row the first one saved and
# saves nothing again, as a move does (dialogues' `Turn.client_token`). NULL, not "", so the
# partial unique constraints ignore rows saved without one.
FORM_TOKEN = 64
MAX_TITLE = 120
MAX_INSTRUCTIONS = 2000


def limit_text(limit: int) -> str:
    """A length limit written the reader's way ("2,000", "2 000")."""
    return number_format(limit, force_grouping=True)


def new_link_code() -> str:
    """A short code a therapist reads out or sends to a couple: 10 letters, about 50 bits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    raw = "".join(secrets.choice(alphabet) for _i in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class TherapistLink(models.Model):
    """A therapist's access to one couple. Access needs the therapist (verified) and BOTH
    partners' active consent; either partner withdrawing ends the link at once.

    Made in two ways: the therapist issues a `code` a partner enters (couple empty until then),
    or a partner invites a therapist by `invited_email` (therapist empty until they accept).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for consent")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    class EndReason(models.TextChoices):
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Consent withdrawn")
        THERAPIST = "therapist", _("Ended by the therapist")
        COUPLE_ENDED = "couple_ended", _("The couple ended")
        EXPIRED = "expired", pgettext_lazy("why a therapist link ended", "Expired")
        UNVERIFIED = "unverified", _("The therapist is no longer verified")
        DEACTIVATED = "deactivated", _("The therapist's account was switched off")
        DELETED = "deleted", _("The therapist's account was deleted")
        STAFF = "staff", _("Ended by our team")

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="therapist_links",
    )
    couple = models.ForeignKey(
        "couples.Couple",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="therapist_links",
    )
    # Only a hash of an open link code (couples.models.hash_token, like calendar feed tokens):
    # the code itself is shown to the therapist once, when made (`code` below), never stored.
    code_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    invited_email = models.EmailField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField(null=True, blank=True)  # for unused codes and invitations
    therapist_accepted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    activated_at = models.DateTimeField(null=True, blank=True)  # access began (both consented)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    # The one-time token of the form that made it (a code, an invitation): see FORM_TOKEN.
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001

    # The clear code, on the instance that made it only (services.link_code_issue): not a field.
    code: str | None = None

    class Meta:
        db_table = "couples_therapistlink"  # made in couples/ before links moved here
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_link_per_form_token",
            ),
            models.UniqueConstraint(
                fields=["therapist", "couple"],
                condition=Q(
                    status__in=["pending", "active"], therapist__isnull=False, couple__isnull=False
                ),
                name="one_open_link_per_therapist_and_couple",
            ),
        ]

    def __str__(self) -> str:
        return f"Therapist link {self.public_id[:6]} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.ACTIVE)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Consent(models.Model):
    """One partner's consent to one therapist link, given and perhaps withdrawn in their account."""

    link = models.ForeignKey(TherapistLink, on_delete=models.CASCADE, related_name="consents")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="therapist_consents"
    )
    given_at = models.DateTimeField(default=clock.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "couples_consent"  # made in couples/ before links moved here
        ordering = ["given_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["link", "partner"], name="one_consent_per_partner")
        ]

    def __str__(self) -> str:
        return f"Consent of {self.partner_id} to link {self.link_id}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


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
    text = EncryptedTextField()
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapist", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_note_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Note {self.public_id[:6]}"  # never the text


class Homework(models.Model):
    """Practice a therapist assigns to a couple; done by a partner or by a completed dialogue."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="homework")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title = EncryptedCharField(max_length=MAX_TITLE)
    instructions = EncryptedTextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    dialogue_kind = models.CharField(
        max_length=32,
        blank=True,
        choices=[(k.value, info.title) for k, info in protocol.KINDS.items()],
    )
    # A practice between dialogues to do `practice_target` times within a week (caring
    # behaviours given, agreement days kept): what the couple records completes it.
    practice = models.CharField(max_length=32, blank=True, choices=list(PRACTICES.items()))
    practice_target = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
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
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["done_at", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_homework_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Homework {self.public_id[:6]}"  # never the title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        if self.is_done or self.due_date is None:
            return False
        return self.due_date < timezone.localdate(clock.now())


class CallAdmission(models.Model):
    """A partner the therapist let into a facilitated session's call from its waiting room
    (dialogues/calls.py asks, through a gate this app registers). Ids only: no text."""

    session = models.ForeignKey(
        "dialogues.DialogueSession", on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "partner"], name="one_call_admission_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"call admission {self.pk}"


# Workshops have their own package (one presenter, many couples); their models load with these.
from therapists.workshops.models import (  # noqa: E402, F401
    Announcement,
    Attendance,
    Participant,
    Practice,
    Segment,
    SegmentRun,
    Workshop,
)
