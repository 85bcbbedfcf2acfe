"""Homework in the admin: metadata only (couple, therapist, dates, done or not). Never its
title or instructions, which the therapist wrote for the couple.

Therapists' private notes are not registered at all: nobody but their author reads them.
"""

from django.contrib import admin

from couples.admin import ViewOnlyAdmin
from therapists.models import Homework

FILTERABLE = {"dialogue_kind", "due_date", "created_at", "done_at", "public_id", "couple"}


@admin.register(Homework)
class HomeworkAdmin(ViewOnlyAdmin):
    list_display = [
        "public_id",
        "couple",
        "therapist",
        "dialogue_kind",
        "due_date",
        "created_at",
        "done_at",
    ]
    list_filter = ["dialogue_kind"]
    search_fields = ["public_id", "couple__public_id", "therapist__email"]  # never the title
    # An explicit list: `title` and `instructions` stay out.
    fields = [
        "public_id",
        "couple",
        "therapist",
        "dialogue_kind",
        "due_date",
        "created_at",
        "done_at",
        "done_by",
        "done_with",
    ]
    readonly_fields = fields
    actions = None

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Filtering by URL on any field (?title__contains=...) would let anyone probe the
        # private text by counting results. Only these:
        return lookup.split("__")[0] in FILTERABLE and super().lookup_allowed(
            lookup, value, request
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("couple", "therapist")
            .defer("title", "instructions")
        )
