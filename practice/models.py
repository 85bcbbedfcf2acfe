"""Agreements, caring behaviours and the childhood reflection. What partners write here is as
private as dialogue text: encrypted at rest, never logged, never in the admin, in each
partner's export (a reflection only in its author's), erased when its author deletes their
account."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from couples.models import new_public_id
from live import clock
from security.encrypted import EncryptedCharField, EncryptedJSONField, EncryptedTextField

if TYPE_CHECKING:
    from couples.models import User

FORM_TOKEN = 64
MAX_APPRECIATION = 200  # one line
MAX_CARING = 200
MAX_CARING_ITEMS = 30
MIN_DAYS, MAX_DAYS = 1, 90
MAX_EXIT = 200  # one line
MAX_EXITS = 20
# Closing an exit, or reducing it: what the agreement then says the giver agreed to. Stored as
# its key (Agreement.pledge) beside the giver's own words, and phrased when read, in the
# reader's language.
EXIT_PLEDGES = {
    # Translators: what a partner agreed to, shown as "You agreed to close my exit: work late".
    "shut": _("close my exit: %(exit)s"),
    # Translators: what a partner agreed to, shown as "You agreed to reduce my exit: work late".
    "lessen": _("reduce my exit: %(exit)s"),
}
# Practices a therapist's homework can ask for ("do three caring behaviours a week").
CARING = "caring"
AGREEMENT_DAY = "agreement_day"
PRACTICES = {
    CARING: _("Caring behaviours given"),
    AGREEMENT_DAY: _("Days an agreement was kept"),
}


class Agreement(models.Model):
    """The gift a partner chose at the end of a request: "Sam agreed to … for the next 14 days".

    `giver` chose it (the receiver of the request's round), `receiver` asked for it; `text` is
    the request chosen (the receiver's words), copied from the gift turn."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    # One agreement per gift turn, in the database: a gift heard twice makes one agreement.
    gift_turn = models.OneToOneField(
        "dialogues.Turn", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    session = models.ForeignKey(
        "dialogues.DialogueSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = EncryptedTextField()
    # An exit its giver chose to close: the agreement's text is the giver's own words (a gift
    # quotes the receiver's request). One agreement per exit.
    exit = models.OneToOneField(
        "practice.Exit", on_delete=models.SET_NULL, null=True, blank=True, related_name="closed_by"
    )
    giver_wrote = models.BooleanField(default=False)  # whose words `text` is (for erasing)
    # An exit closed: how (an EXIT_PLEDGES key); `text` then holds the exit's words only.
    pledge = models.CharField(max_length=8, blank=True, default="")
    starts_on = models.DateField()
    days = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-starts_on", "-pk"]

    def __str__(self) -> str:
        return f"Agreement {self.public_id[:6]}"  # never the text

    @property
    def ends_on(self) -> datetime.date:
        return self.starts_on + datetime.timedelta(days=self.days - 1)

    def is_open_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on

    @property
    def writer(self) -> User | None:
        """Whose words `text` is: the giver's (an exit closed) or the receiver's request."""
        return self.giver if self.giver_wrote else self.receiver

    def phrased(self, words: str) -> str:
        """What was agreed to, in the active language: a pledge phrased around `words` (the
        stored words, or a rendering of them), or the words alone (a gift's request)."""
        if self.pledge in EXIT_PLEDGES:
            return str(EXIT_PLEDGES[self.pledge]) % {"exit": words}
        return words


class AgreementDay(models.Model):
    """One day the giver kept the agreement (one row per agreement and day, in the database)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="days_done")
    day = models.DateField()
    done_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "day"], name="one_mark_per_agreement_day")
        ]

    def __str__(self) -> str:
        return f"Agreement day {self.day}"


class AgreementThanks(models.Model):
    """A one-line appreciation the receiver sends the giver for keeping the agreement."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="thanks")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = EncryptedCharField(max_length=MAX_APPRECIATION)
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_thanks_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Thanks {self.public_id[:6]}"


class CaringList(models.Model):
    """One partner's "I feel loved when you…" list in one couple: private until they share it."""

    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["couple", "author"], name="one_caring_list_per_author")
        ]

    def __str__(self) -> str:
        return f"Caring list {self.pk}"


class CaringBehaviour(models.Model):
    """One item of a caring list: "I feel loved when you … bring me coffee in bed"."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    caring_list = models.ForeignKey(CaringList, on_delete=models.CASCADE, related_name="items")
    text = EncryptedCharField(max_length=MAX_CARING)
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=clock.now)
    removed_at = models.DateTimeField(null=True, blank=True)  # kept for the week's history

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["caring_list", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_caring_item_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Caring behaviour {self.public_id[:6]}"  # never the text


class CaringGiven(models.Model):
    """A partner gave one caring behaviour from the other's list on a day (one a day, each)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    behaviour = models.ForeignKey(CaringBehaviour, on_delete=models.CASCADE, related_name="given")
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(default=clock.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["day", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "giver", "day"], name="one_caring_given_per_partner_day"
            )
        ]

    def __str__(self) -> str:
        return f"Caring given {self.public_id[:6]}"


class Exit(models.Model):
    """One way a partner steps out of the relationship to avoid closeness or tension (work,
    the phone, TV, going out …), and what they avoid by it: on their own list, private."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = EncryptedCharField(max_length=MAX_EXIT)
    avoids = EncryptedCharField(max_length=MAX_EXIT, blank=True)
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=clock.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_exit_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Exit {self.public_id[:6]}"  # never the text


# The childhood reflection worksheet: (key, question, a gentle prompt). Each partner answers
# alone; any answer may stay empty.
MAX_REFLECTION = 2000
REFLECTION_QUESTIONS = (
    (
        "caregivers_positive",
        _("The good in the people who raised you"),
        _("Their positive traits, as you remember them: warm, funny, steady, there for you …"),
    ),
    (
        "caregivers_negative",
        _("What was hard about them"),
        _("Their negative traits: busy, critical, distant, unpredictable, anxious …"),
    ),
    (
        "wanted_most",
        _("What you wanted most as a child and didn't get"),
        _("To be listened to, held, noticed, allowed to make mistakes …"),
    ),
    (
        "reactions",
        _("How you reacted then"),
        _("What you did to cope: went quiet, tried harder, got angry, hid away …"),
    ),
    (
        "feelings_now",
        _("The feelings today's frustrations bring back"),
        _("When you and your partner struggle now, which old feelings return?"),
    ),
)
REFLECTION_KEYS = tuple(key for key, _question, _prompt in REFLECTION_QUESTIONS)
# Whom a reflection can be shared with, each separately and revocably.
PARTNER, THERAPIST = "partner", "therapist"


class ChildhoodReflection(models.Model):
    """One partner's childhood reflection, in one couple: private to its author until they
    share it with their partner and/or their linked therapist (each may be withdrawn)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    answers = EncryptedJSONField(default=dict)  # REFLECTION_KEYS -> text
    shared_with_partner_at = models.DateTimeField(null=True, blank=True)
    shared_with_therapist_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["couple", "author"], name="one_reflection_per_author")
        ]

    def __str__(self) -> str:
        return f"Childhood reflection {self.public_id[:6]}"  # never the answers

    def answered(self) -> list[tuple[str, str]]:
        """(question, answer) for each question answered, in the worksheet's order (the
        question in the active language)."""
        answers = self.answers or {}
        return [
            (str(q), answers[key]) for key, q, _prompt in REFLECTION_QUESTIONS if answers.get(key)
        ]


# --- outcome measures (practice/measures.py has the instruments) -----------------------------

# The rhythms a linked therapist may choose, in days (0: not offered).
CSI4_EVERY = (7, 14, 28, 0)
CSI16_EVERY = (30, 60, 90, 0)
SCORES, MIRRORS = "scores", "mirrors"  # what a partner may share with the other


class MeasureAnswer(models.Model):
    """One partner's answers to one questionnaire (practice/measures.py), or their skipping
    it (`skipped`, no answers). The answers are as private as dialogue text: encrypted at
    rest, never logged, never in the admin; the total is computed when read, never stored."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(max_length=8)  # a measures.INSTRUMENTS key
    answers = EncryptedJSONField(default=dict, blank=True)  # item key -> points
    skipped = models.BooleanField(default=False)
    language = models.CharField(max_length=8, blank=True)  # the wording it was answered in
    client_token = models.CharField(max_length=FORM_TOKEN, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "client_token"],
                condition=Q(client_token__isnull=False),
                name="one_measure_per_form_token",
            )
        ]
        indexes = [models.Index(fields=["person", "created_at"], name="measure_person_time")]

    def __str__(self) -> str:
        return f"Measure {self.public_id[:6]}"  # never the answers


class MeasureRhythm(models.Model):
    """How often a couple's partners are offered each questionnaire, as their linked therapist
    set it (no row: every week / every month), and a questionnaire the therapist asked for now
    (offered to each partner until they answer or skip it)."""

    couple = models.OneToOneField("couples.Couple", on_delete=models.CASCADE, related_name="+")
    csi4_days = models.PositiveSmallIntegerField(default=7)
    csi16_days = models.PositiveSmallIntegerField(default=30)
    requested = models.CharField(max_length=8, blank=True)  # a measures.INSTRUMENTS key
    requested_at = models.DateTimeField(null=True, blank=True)
    # The form that asked last: the same form sent again asks nothing more.
    request_token = models.CharField(max_length=FORM_TOKEN, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"Measure rhythm of couple {self.couple_id}"


class MeasureSharing(models.Model):
    """What one partner shares with the other: their questionnaire scores, how complete
    their mirrors were (each revocable)."""

    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scores_shared_at = models.DateTimeField(null=True, blank=True)
    mirrors_shared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["couple", "person"], name="one_sharing_per_person")
        ]

    def __str__(self) -> str:
        return f"Measure sharing {self.pk}"
