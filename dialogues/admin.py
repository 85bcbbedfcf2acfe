"""Dialogue sessions in the admin: metadata only. Never the topic, never a turn's text.

Turns are not registered at all: there is nothing in them staff need to see.
"""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from dialogues.models import DialogueSession
from security.admin import AuditedAdmin, ViewOnlyAdmin

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _TurnCount(TypedDict):
        turn_count: int  # annotated by get_queryset


FILTERABLE = {"kind", "status", "created_at", "ended_at", "public_id", "couple"}


@admin.register(DialogueSession)
class DialogueSessionAdmin(ViewOnlyAdmin):
    list_display = ["public_id", "couple", "kind", "status", "created_at", "ended_at", "turns"]
    list_filter = ["kind", "status"]
    search_fields = ["public_id", "couple__public_id"]  # never the topic
    date_hierarchy = "created_at"
    # An explicit list: `topic` and `state` (which holds the protocol's working data) stay out.
    fields = [
        "public_id",
        "couple",
        "kind",
        "status",
        "step",
        "round",
        "partner_a",
        "partner_b",
        "created_at",
        "updated_at",
        "scheduled_for",
        "ended_at",
        "turns",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Django allows filtering on any field of the model by URL (?topic__contains=...),
        # which would let anyone probe private text by counting results. Only these:
        return lookup.split("__")[0] in FILTERABLE and super().lookup_allowed(
            lookup, value, request
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("couple")
            .annotate(turn_count=Count("turns"))
            .defer("topic", "state")
        )

    @admin.display(description=_("turns"), ordering="turn_count")
    def turns(self, session: "WithAnnotations[DialogueSession, _TurnCount]") -> int:
        return session.turn_count


# Background jobs (dialogues/tasks.py): their arguments are ids only. django-tasks-db's own
# read-only admin, with every staff read audited like every other admin page.
admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(AuditedAdmin, DBTaskResultAdmin):
    search_fields = ("task_path",)  # which job: never its arguments
