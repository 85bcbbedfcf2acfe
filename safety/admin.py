"""Admin for support lines. SafetyScreening is deliberately not registered: its answers are
private to the person."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from safety.models import SupportResource
from security.admin import AuditedAdmin


@admin.register(SupportResource)
class SupportResourceAdmin(AuditedAdmin, admin.ModelAdmin):
    """Support lines shown to a person whose safety answers may need attention."""

    list_display = [
        "name",
        "country",
        "country_name",
        "kind",
        "phone",
        "order",
        "is_active",
        "is_placeholder",
    ]
    list_editable = ["order", "is_active"]
    list_filter = ["country", "kind", "is_active", "is_placeholder"]
    search_fields = ["name", "country", "country_name"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = [
        "country",
        "country_name",
        "kind",
        "name",
        "description",
        "phone",
        "url",
        "order",
        "is_active",
        "is_placeholder",
    ]
