"""The audited admin: every read, addition, change and deletion made in the admin goes to the
audit trail (mixins every app's admin uses), and the trail and the CSP reports themselves,
read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from security.audit import audit
from security.models import AuditEvent, CspReport

if TYPE_CHECKING:  # the mixin below is always combined with ModelAdmin
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


def _changed_fields(message) -> list[str]:
    """Field names (never values) from the admin's structured change message."""
    fields: list[str] = []
    for part in message if isinstance(message, list) else []:
        for change in part.values():
            fields.extend(change.get("fields", []) if isinstance(change, dict) else [])
    return fields


def _id_of(obj: object) -> str:
    return str(getattr(obj, "public_id", None) or getattr(obj, "pk", ""))


class AuditedReads(_AdminBase):
    """Mixin: every list and every object's page an admin renders goes to the audit trail.

    Who looked, which rows a list showed (their ids; never what was searched for, which may
    be someone's address), which object's page was opened, when and from where.
    """

    def _audit_read(self, request: HttpRequest, response: HttpResponse, page: str) -> None:
        if response.status_code != 200 or not isinstance(response, TemplateResponse):
            return
        context = response.context_data or {}
        if page == "list":
            changelist = context.get("cl")
            if changelist is None:  # an action's own page (it audits what it does)
                return
            shown = [_id_of(obj) for obj in changelist.result_list]
            audit(
                action="admin.listed",
                actor=request.user,
                target_type=self.model._meta.label_lower,
                request=request,
                shown=shown,
                count=len(shown),
            )
            return
        obj = context.get("original") or context.get("object")
        if isinstance(obj, self.model):
            audit(action="admin.viewed", actor=request.user, target=obj, request=request, page=page)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        self._audit_read(request, response, "list")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        self._audit_read(request, response, "change")
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._audit_read(request, response, "history")
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        self._audit_read(request, response, "delete")
        return response


class AuditedAdmin(AuditedReads):
    """Mixin: admin additions, changes and deletions also go to the audit trail, and so does
    every read (AuditedReads)."""

    def log_addition(self, request, obj, message):
        audit(action="admin.added", actor=request.user, target=obj, request=request)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit(
            action="admin.changed",
            actor=request.user,
            target=obj,
            request=request,
            fields=_changed_fields(message),
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit(action="admin.deleted", actor=request.user, target=obj, request=request)
        return super().log_deletions(request, queryset)

    def log_history(self, request, obj, message: str):
        """A line on the object's history page, for actions already audited on their own."""
        return admin.ModelAdmin.log_change(self, request, obj, message)


class ViewOnlyAdmin(AuditedAdmin, admin.ModelAdmin):
    """Browse and act through admin actions; no adding, editing or deleting rows."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Without an object: the change list's actions. With one: the page is view-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- the audit trail -------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedReads, admin.ModelAdmin):
    """Read-only: the trail can be browsed, never edited. Reading it is audited too."""

    list_display = ["created_at", "action", "actor_email", "target_type", "target_id", "ip_address"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_email"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "action",
        "actor",
        "actor_email",
        "target_type",
        "target_id",
        "ip_address",
        "details",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
    actions = None

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CspReport)
class CspReportAdmin(AuditedAdmin, admin.ModelAdmin):
    """Read-only: what the Content-Security-Policy blocked, counted (security/csp.py). Staff
    with the permission may delete rows once dealt with (audited)."""

    list_display = ["directive", "blocked", "document", "count", "first_seen", "last_seen"]
    list_filter = ["directive"]
    search_fields = ["directive", "blocked", "document"]
    fields = ["directive", "blocked", "document", "count", "first_seen", "last_seen"]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
    ordering = ["-count", "directive"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
