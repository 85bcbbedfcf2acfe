"""The audit trail and the Content-Security-Policy reports. Both tables kept their names from
when they were couples' models (security/migrations/0001_initial.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from live import clock


class AuditEvent(models.Model):
    """Append-only record of who did what to which object, when and from where.

    Never holds private text: `details` carries ids and short codes only.
    """

    created_at = models.DateTimeField(default=clock.now, db_index=True)
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
        db_table = "couples_auditevent"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or 'system'}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class CspReport(models.Model):
    """One kind of Content-Security-Policy violation browsers reported, and how often
    (security/csp.py). Never a full URL: the directive, the blocked scheme and host, and the
    page's path without its query, random ids masked."""

    directive = models.CharField(max_length=64)
    blocked = models.CharField(max_length=120, blank=True)
    document = models.CharField(max_length=200, blank=True)
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=clock.now)
    last_seen = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        db_table = "couples_cspreport"
        ordering = ["-count", "directive"]
        verbose_name = _("security policy report")  # CSP: Content-Security-Policy
        constraints = [
            models.UniqueConstraint(
                fields=["directive", "blocked", "document"], name="one_row_per_csp_report_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.directive} {self.blocked or '-'} on {self.document or '-'}"
