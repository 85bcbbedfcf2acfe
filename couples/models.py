"""People and couples: accounts, couples, invitations to pair up."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from live import clock


def new_public_id() -> str:
    """An unguessable id for URLs (128 random bits)."""
    return secrets.token_urlsafe(16)


_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what token_urlsafe makes, with room to spare


def is_token(value: object) -> bool:
    """Whether a value from a URL, a form or a frame could be a token we made at all
    (`secrets.token_urlsafe`: a public id, a form's one-time token): anything else (empty,
    long, a NUL byte, markup) is refused without asking the database."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


# Said when a write comes without its form's one-time token, as when its form is stale.
FORM_OUT_OF_DATE = _(
    "This form is out of date, so nothing was saved. Please reload the page and try again."
)


def form_token_given(value: object) -> str | None:
    """The one-time token a write form carries (a move's, a coaching message's, a caring
    item's, …), stripped; None when there is none. Every write that takes one requires it:
    without one, identical posts (a double-click, a retried request) can't be told apart,
    so each would save again. Whether it could be one we made is `is_token`'s to say."""
    token = value.strip() if isinstance(value, str) else ""
    return token or None


def is_public_id(value: object) -> bool:
    """Whether a value could be one of our public ids (`new_public_id`) at all."""
    return is_token(value)


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The IANA zone of this name, or UTC if it is empty or unknown."""
    if name and name in known_zones():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


_ZONES: frozenset[str] = frozenset()


def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine knows (tzdata)."""
    global _ZONES
    if not _ZONES:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def login_id(session_key: str) -> str:
    """The id of one login on one device: a hash of its session key (the key itself never
    leaves the cookie; a row's number would be guessable). The devices page signs a login out
    by it, and its pushes are found by it."""
    return hashlib.sha256(f"device:{session_key}".encode()).hexdigest()[:32]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person: a partner, a therapist, or staff (is_staff). Email is the login."""

    class Kind(models.TextChoices):
        PARTNER = "partner", _("Partner")
        THERAPIST = "therapist", _("Therapist")

    # Django's way to drop AbstractUser's fields; django-stubs can't express it.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(
        max_length=60, help_text=_("How your partner and therapist see you.")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PARTNER)
    therapist_verified_at = models.DateTimeField(null=True, blank=True)
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    # A partner said "no thanks" to the home page's suggestion of two-factor authentication.
    two_factor_hint_dismissed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # An IANA zone ("Europe/Berlin"): every time is shown in it. Empty until the browser
    # says (first visit) or the person chooses one; UTC meanwhile.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # The language of their pages, pushes and emails (a code from settings.LANGUAGES; no
    # choices here, so adding a language needs no migration). Empty until the first request.
    language = models.CharField(max_length=16, blank=True, default="")
    # One email with a link when it's their move and they aren't there (can be turned off).
    your_move_emails = models.BooleanField(default=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    # An email-login manager; django-stubs insists on AbstractUser's username-based one.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def zone(self) -> ZoneInfo:
        """This person's time zone (UTC until known)."""
        return zone_or_utc(self.time_zone)

    @property
    def language_code(self) -> str:
        """The language this person is addressed in (the site's default until known)."""
        from couples.languages import language_of

        return language_of(self)

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def is_therapist(self) -> bool:
        return self.kind == self.Kind.THERAPIST

    @property
    def is_verified_therapist(self) -> bool:
        return self.is_therapist and self.therapist_verified_at is not None

    @property
    def is_partner(self) -> bool:
        return self.kind == self.Kind.PARTNER and not self.is_staff


class Couple(models.Model):
    """Two partners. Inactive once either leaves; its history is kept."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    is_active = models.BooleanField(default=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Retention (couples/retention.py): when both partners were told that this ended couple's
    # content would be erased (once only), and when it was.
    purge_warned_at = models.DateTimeField(null=True, blank=True)
    content_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Couple {self.public_id[:6]}"


class Membership(models.Model):
    """A person's place in a couple. One active membership per person, enforced by the database."""

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(default=clock.now)
    left_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_active=True), name="one_active_couple_per_person"
            ),
            models.UniqueConstraint(fields=["couple", "user"], name="one_membership_per_couple"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.couple}"


class DeviceSharing(models.Model):
    """A partner's standing permission for the other partner to take their turns in a
    said-aloud dialogue on the other's device ("together on one device"), given once from
    their own account, revocable from their settings. Audited when given and withdrawn."""

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    granted_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "granted_by"],
                condition=Q(revoked_at__isnull=True),
                name="one_standing_device_sharing",
            )
        ]

    def __str__(self) -> str:
        return f"Device sharing {self.pk}"


class Invitation(models.Model):
    """A single-use link inviting someone to join a couple. Only the token's hash is stored.

    A couple has at most one open invitation (neither accepted nor revoked), enforced by the
    database. Expiry can't be part of the constraint, so an expired link still holds the
    place until a new link revokes it (`services.invitation_issue`).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations_sent"
    )
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_accepted",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["couple"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_couple",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation {self.public_id[:6]} ({self.status})"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= clock.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class CalendarFeed(models.Model):
    """A person's private calendar feed: a long random token in the URL (only its hash is
    kept, so it is shown once), revocable. At most one open feed per person."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(revoked_at__isnull=True), name="one_open_feed"
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.pk}"


# --- Web Push (couples/push.py) -----------------------------------------------------------------


class PushSubscription(models.Model):
    """One browser on one device that receives this person's pushes (RFC 8030): the push
    service's endpoint and the browser's keys for encrypting to it (RFC 8291). Removed when
    they turn it off, log out on that device, delete their account, or the push service
    says it is gone."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    endpoint = models.URLField(max_length=1000)
    # A URL column this long can't carry a unique index everywhere: its hash does.
    endpoint_hash = models.CharField(max_length=64, unique=True)
    p256dh = models.CharField(max_length=100)  # the browser's P-256 public key, base64url
    auth = models.CharField(max_length=40)  # its 16-byte authentication secret, base64url
    device_name = models.CharField(max_length=100, blank=True)
    # The VAPID public key it was made for: after a rotation the old ones can't receive.
    server_key = models.CharField(max_length=100, blank=True)
    # The login that turned it on (couples.devices.login_id): logging out there removes it.
    login = models.CharField(max_length=32, blank=True, db_index=True)
    created_at = models.DateTimeField(default=clock.now)
    last_push_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Push subscription {self.public_id}"


class PushMessage(models.Model):
    """One push to one person about one event (all their devices get it). The row is the
    claim, as a reminder's is: planned in the change that calls for it, unique per event
    (a second plan is nothing), marked sent by the one worker that locks it before sending."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=100)  # the event: a dialogue and its step, a session…
    path = models.CharField(max_length=200)  # where a tap leads (a page, never a word said)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(default=clock.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "key"], name="one_push_per_event")
        ]

    def __str__(self) -> str:
        return f"Push {self.kind} {self.pk}"


class NotificationChoice(models.Model):
    """How a person wants to hear about one kind of event: push, email, both or neither.
    No row: the default (push when a device receives them, email otherwise)."""

    class How(models.TextChoices):
        PUSH = "push", _("Notification on my devices")
        EMAIL = "email", _("Email")
        BOTH = "both", _("Both")
        NEITHER = "neither", _("Neither")

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    how = models.CharField(max_length=10, choices=How.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="one_choice_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.how}"
