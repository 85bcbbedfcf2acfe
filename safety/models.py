"""A person's private safety screening, and the support lines shown to someone who may need
them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from live import clock
from security.encrypted import EncryptedJSONField


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
        "couples.Couple", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answers = EncryptedJSONField(default=dict, blank=True)
    needs_attention = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The person's own decision to go on to joint dialogue; only they can set it.
    ready = models.BooleanField(default=False)
    ready_at = models.DateTimeField(null=True, blank=True)
    shared_with_therapist = models.BooleanField(default=False)
    country = models.CharField(max_length=2, blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        db_table = "couples_safetyscreening"  # made in couples/ before safety/ had an app
        verbose_name = _("safety questions")
        verbose_name_plural = _("safety questions")

    def __str__(self) -> str:
        # Never the answers.
        return f"Safety questions of user {self.user_id}"


class SupportResource(models.Model):
    """A crisis, domestic-violence or other support line shown to a person who may need it.

    An empty country is the default, shown where no country-specific lines are set up.
    """

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency")
        CRISIS = "crisis", _("Crisis line")
        DOMESTIC_VIOLENCE = "domestic_violence", _("Domestic-violence line")
        ADDICTION = "addiction", _("Addiction support")
        OTHER = "other", _("Other support")

    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        db_index=True,
        help_text=_(
            "Two-letter country code (GB, US, …). Leave empty for the default lines, "
            "shown where a country has none of its own."
        ),
    )
    country_name = models.CharField(
        _("country name"), max_length=60, blank=True, help_text=_("e.g. United Kingdom")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    # The line's own name, description and number are written by staff, as the line says them.
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=240, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    url = models.URLField(_("web address"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    is_placeholder = models.BooleanField(
        _("placeholder"),
        default=False,
        help_text=_("Shipped as an example: check it and untick before launch."),
    )

    class Meta:
        db_table = "couples_supportresource"  # made in couples/ before safety/ had an app
        ordering = ["country", "order", "pk"]
        verbose_name = _("support resource")
        verbose_name_plural = _("support resources")

    def __str__(self) -> str:
        # Translators: a support line in the admin's lists, when it has no country.
        country = self.country or gettext("default")
        return f"{country}: {self.name}"
