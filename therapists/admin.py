"""Therapist links, consents and homework in the admin: metadata only. Never a link code or
a homework's title or instructions, which the therapist wrote for the couple.

Therapists' private notes are not registered at all: nobody but their author reads them.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy, ngettext

from security.admin import ViewOnlyAdmin
from therapists import services
from therapists.models import Consent, Homework, TherapistLink

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
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
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


# --- therapist links and consent ----------------------------------------------------------
# Metadata only: who, which couple, when, and whether access is in force. Never the link code
# (a credential) and nothing a couple or therapist wrote. Notes are not in the admin at all.


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    can_delete = False
    fields = ["partner", "given_at", "withdrawn_at"]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TherapistLink)
class TherapistLinkAdmin(ViewOnlyAdmin):
    list_display = [
        "public_id",
        "therapist",
        "couple",
        "status",
        "created_at",
        "activated_at",
        "ended_at",
        "end_reason",
    ]
    list_filter = ["status", "end_reason"]
    search_fields = ["public_id", "therapist__email", "invited_email", "couple__public_id"]
    fields = [
        "public_id",
        "therapist",
        "couple",
        "invited_email",
        "created_by",
        "created_at",
        "expires_at",
        "therapist_accepted_at",
        "status",
        "activated_at",
        "ended_at",
        "end_reason",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
    inlines = [ConsentInline]
    actions = ["end_access"]

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # No filtering by URL on the code (?code__startswith=...): it would reveal open codes.
        return not lookup.startswith("code") and super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("therapist", "couple").defer("code_hash")
        )

    @admin.action(
        description=gettext_lazy("End the therapist's access (closes their live console)"),
        permissions=["change"],
    )
    def end_access(self, request, queryset):
        ended = 0
        for link in queryset:
            if link.is_open:
                services.therapist_link_end_by_staff(link=link, by=request.user, request=request)
                self.log_history(request, link, "Access ended")
                ended += 1
        self.message_user(
            request,
            ngettext("%(count)d therapist link ended.", "%(count)d therapist links ended.", ended)
            % {"count": ended},
        )


@admin.register(Consent)
class ConsentAdmin(ViewOnlyAdmin):
    list_display = ["link", "partner", "given_at", "withdrawn_at"]
    search_fields = ["link__public_id", "partner__email"]
    fields = ["link", "partner", "given_at", "withdrawn_at"]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("link", "partner")
