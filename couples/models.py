"""People and couples: accounts, couples, invitations to pair up."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_public_id() -> str:
    """An unguessable id for URLs (128 random bits)."""
    return secrets.token_urlsafe(16)


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
        PARTNER = "partner", "Partner"
        THERAPIST = "therapist", "Therapist"

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=60, help_text="How your partner and therapist see you."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PARTNER)
    therapist_verified_at = models.DateTimeField(null=True, blank=True)
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name or self.email

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
    created_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)
    ended_at = models.DateTimeField(null=True, blank=True)

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
    joined_at = models.DateTimeField(default=timezone.now)
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


class Invitation(models.Model):
    """A single-use link inviting someone to join a couple. Only the token's hash is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations_sent"
    )
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
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

    def __str__(self) -> str:
        return f"Invitation {self.public_id[:6]} ({self.status})"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class AuditEvent(models.Model):
    """Append-only record of who did what to which object, when and from where.

    Never holds private text: `details` carries ids and short codes only.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or 'system'}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class SafetyScreening(models.Model):
    """A person's private answers to the safety questions asked before joint dialogue.

    One per person, overwritten when retaken (we keep no older answers). `answers` is private
    text: never logged, never shown in admin, never shown to the partner. The partner only ever
    learns whether this person is ready to start, never why not.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_screening"
    )
    # The couple the answers are about: a new partner means new questions.
    couple = models.ForeignKey(
        Couple, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answers = models.JSONField(default=dict, blank=True)
    needs_attention = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The person's own decision to go on to joint dialogue; only they can set it.
    ready = models.BooleanField(default=False)
    ready_at = models.DateTimeField(null=True, blank=True)
    shared_with_therapist = models.BooleanField(default=False)
    country = models.CharField(max_length=2, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        # Never the answers.
        return f"Safety questions of user {self.user_id}"


class SupportResource(models.Model):
    """A crisis, domestic-violence or other support line shown to a person who may need it.

    An empty country is the default, shown where no country-specific lines are set up.
    """

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", "Emergency"
        CRISIS = "crisis", "Crisis line"
        DOMESTIC_VIOLENCE = "domestic_violence", "Domestic-violence line"
        ADDICTION = "addiction", "Addiction support"
        OTHER = "other", "Other support"

    country = models.CharField(
        max_length=2,
        blank=True,
        db_index=True,
        help_text="Two-letter country code (GB, US, …). Leave empty for the default lines, "
        "shown where a country has none of its own.",
    )
    country_name = models.CharField(max_length=60, blank=True, help_text="e.g. United Kingdom")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=240, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    url = models.URLField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    is_placeholder = models.BooleanField(
        default=False, help_text="Shipped as an example: check it and untick before launch."
    )

    class Meta:
        ordering = ["country", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.country or 'default'}: {self.name}"


def new_link_code() -> str:
    """A short code a therapist reads out or sends to a couple: 10 letters, about 50 bits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class TherapistLink(models.Model):
    """A therapist's access to one couple. Access needs the therapist (verified) and BOTH
    partners' active consent; either partner withdrawing ends the link at once.

    Made in two ways: the therapist issues a `code` a partner enters (couple empty until then),
    or a partner invites a therapist by `invited_email` (therapist empty until they accept).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for consent"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class EndReason(models.TextChoices):
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Consent withdrawn"
        THERAPIST = "therapist", "Ended by the therapist"
        COUPLE_ENDED = "couple_ended", "The couple ended"
        EXPIRED = "expired", "Expired"
        UNVERIFIED = "unverified", "The therapist is no longer verified"
        DEACTIVATED = "deactivated", "The therapist's account was switched off"
        DELETED = "deleted", "The therapist's account was deleted"
        STAFF = "staff", "Ended by our team"

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="therapist_links",
    )
    couple = models.ForeignKey(
        Couple, on_delete=models.CASCADE, null=True, blank=True, related_name="therapist_links"
    )
    code = models.CharField(max_length=16, unique=True, null=True, blank=True)
    invited_email = models.EmailField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)  # for unused codes and invitations
    therapist_accepted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    activated_at = models.DateTimeField(null=True, blank=True)  # access began (both consented)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapist", "couple"],
                condition=Q(
                    status__in=["pending", "active"], therapist__isnull=False, couple__isnull=False
                ),
                name="one_open_link_per_therapist_and_couple",
            )
        ]

    def __str__(self) -> str:
        return f"Therapist link {self.public_id[:6]} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.ACTIVE)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def access_group(self) -> str:
        """The channel group of this link's open console sockets (closed when access ends)."""
        return f"therapist-access.{self.public_id}"


class Consent(models.Model):
    """One partner's consent to one therapist link, given and perhaps withdrawn in their account."""

    link = models.ForeignKey(TherapistLink, on_delete=models.CASCADE, related_name="consents")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="therapist_consents"
    )
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["given_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["link", "partner"], name="one_consent_per_partner")
        ]

    def __str__(self) -> str:
        return f"Consent of {self.partner_id} to link {self.link_id}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
