"""Admin for accounts and couples. Shows metadata only, never anything a couple wrote.

Every change made here, and every list or page read here, is written to the audit trail
(security/admin.py's AuditedAdmin). Staff reach the admin only through allauth's login
(throttled, two-factor): see imago_site/urls.py.

Nobody takes over an account from here: no one (superusers included) sets or resets a
password, changes an email address or adds an account or an address; the owner does that
through the normal reset and email pages. Only superusers change a person's kind or staff
rights.
"""

from __future__ import annotations

from allauth.account.admin import EmailAddressAdmin as BaseEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from couples import services
from couples.models import Couple, Invitation, Membership, User
from couples.services import CoupleError
from live import clock
from security.admin import AuditedAdmin, ViewOnlyAdmin
from security.models import AuditEvent

# --- people ----------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Kept in the audit trail, e.g. “Licence 12345 checked on the state register”."
        ),
    )


class VerifiedFilter(admin.SimpleListFilter):
    title = gettext_lazy("therapist verification")
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("Verified therapists")),
            ("no", _("Therapists waiting for verification")),
        ]

    def queryset(self, request, queryset):
        therapists = queryset.filter(kind=User.Kind.THERAPIST)
        if self.value() == "yes":
            return therapists.filter(therapist_verified_at__isnull=False)
        if self.value() == "no":
            return therapists.filter(therapist_verified_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "kind_shown",
        "is_verified",
        "is_active",
        "is_staff",
        "last_login",
    ]
    list_filter = ["kind", "is_active", VerifiedFilter, "is_staff"]
    search_fields = ["email", "display_name"]
    # Never editable here, by anyone: the email address (the login, and where password resets
    # go) and the password, which isn't even shown. The owner changes both on their own pages.
    readonly_fields = [
        "email",
        "public_id",
        "last_login",
        "date_joined",
        "is_active",
        "therapist_verified_at",
        "verification_history",
    ]
    fieldsets = (
        (None, {"fields": ("email", "public_id")}),
        (gettext_lazy("Person"), {"fields": ("display_name", "kind")}),
        (gettext_lazy("Therapist"), {"fields": ("therapist_verified_at", "verification_history")}),
        (gettext_lazy("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (gettext_lazy("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    actions = ["deactivate", "reactivate", "verify_therapists", "unverify_therapists"]

    @admin.display(description=gettext_lazy("Kind"), ordering="kind")
    def kind_shown(self, obj: User) -> str:
        """What the account is: an admin or staff account says so (its `kind` field keeps its
        default, "partner", which it is not)."""
        if obj.is_superuser:
            return pgettext("kind of account", "Admin")
        if obj.is_staff:
            return pgettext("kind of account", "Staff")
        return obj.get_kind_display()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only superusers hand out staff rights, or turn a partner into a therapist.
            fields += ["kind", "is_staff", "is_superuser"]
        return fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # people sign up (and verify their address) themselves

    def user_change_password(self, request, id, form_url=""):
        # Setting someone's password is taking over their account: nobody does it here.
        # A person who lost theirs uses "Forgot your password?" on the log-in page.
        raise PermissionDenied

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # accounts are deactivated here; deleting is the person's own choice

    @admin.display(boolean=True, description=gettext_lazy("verified"))
    def is_verified(self, user: User) -> bool | None:
        return user.is_verified_therapist if user.is_therapist else None

    @admin.display(description=gettext_lazy("verification history"))
    def verification_history(self, user: User) -> str:
        events = AuditEvent.objects.filter(
            target_type="couples.user",
            target_id=user.public_id,
            action__in=["therapist.verified", "therapist.unverified"],
        ).order_by("-created_at")[:20]
        if not events:
            return "—"
        return format_html_join(
            "",
            "<p>{}: {} by {} — {}</p>",
            (
                (
                    timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
                    e.action.split(".")[1],
                    e.actor_email or "system",
                    e.details.get("reason", ""),
                )
                for e in events
            ),
        )

    @admin.action(
        description=gettext_lazy("Deactivate (log out everywhere, close live connections)"),
        permissions=["change"],
    )
    def deactivate(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                services.user_deactivate(user=user, by=request.user, request=request)
            except CoupleError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            self.log_history(request, user, "Deactivated")
            done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d account deactivated and logged out.",
                    "%(count)d accounts deactivated and logged out.",
                    done,
                )
                % {"count": done},
            )

    @admin.action(description=gettext_lazy("Reactivate"), permissions=["change"])
    def reactivate(self, request, queryset):
        for user in queryset:
            services.user_reactivate(user=user, by=request.user, request=request)
            self.log_history(request, user, "Reactivated")
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)d account reactivated.", "%(count)d accounts reactivated.", count)
            % {"count": count},
        )

    def _with_reason(self, request, queryset, *, verify: bool):
        """An admin action with an intermediate page asking for the reason."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for user in queryset:
                change = services.therapist_verify if verify else services.therapist_unverify
                try:
                    change(
                        therapist=user,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                        request=request,
                    )
                except CoupleError as error:
                    self.message_user(request, error.message, messages.ERROR)
                    continue
                self.log_history(request, user, "Verified" if verify else "Verification removed")
                done += 1
            if done:
                if verify:
                    text = ngettext(
                        "%(count)d therapist verified.", "%(count)d therapists verified.", done
                    )
                else:
                    text = ngettext(
                        "%(count)d therapist no longer verified.",
                        "%(count)d therapists no longer verified.",
                        done,
                    )
                self.message_user(request, text % {"count": done})
            return None
        return TemplateResponse(
            request,
            "admin/couples/user/therapist_verification.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Verify therapists") if verify else _("Remove therapist verification"),
                "opts": self.model._meta,
                "people": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "verify": verify,
            },
        )

    @admin.action(
        description=gettext_lazy("Verify therapists (asks for a reason)"), permissions=["change"]
    )
    def verify_therapists(self, request, queryset):
        return self._with_reason(request, queryset, verify=True)

    @admin.action(
        description=gettext_lazy("Remove therapist verification (asks for a reason)"),
        permissions=["change"],
    )
    def unverify_therapists(self, request, queryset):
        return self._with_reason(request, queryset, verify=False)


admin.site.unregister(Group)  # permissions come from is_staff / is_superuser, not groups


admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(AuditedAdmin, BaseEmailAddressAdmin):
    """Read only. Adding an address, changing one or marking one verified would let whoever
    did it reset that person's password: only the owner manages their addresses."""

    fields = ["user", "email", "verified", "primary"]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
    actions = None  # allauth's "mark verified" included

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(Authenticator)
# Signed-in devices (network addresses, browsers) are their owner's to see and end
# (/accounts/sessions/); staff end every login of a person by deactivating them.
admin.site.unregister(UserSession)


@admin.register(Authenticator)
class AuthenticatorAdmin(AuditedAdmin, admin.ModelAdmin):
    """Two-factor devices: metadata only (never the secret). Delete one to reset a lost phone."""

    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- couples -------------------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    fields = ["user", "joined_at", "left_at", "is_active"]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Couple)
class CoupleAdmin(ViewOnlyAdmin):
    list_display = ["public_id", "members", "created_at", "is_active", "ended_at"]
    list_filter = ["is_active"]
    search_fields = ["public_id", "memberships__user__email"]
    fields = ["public_id", "created_by", "created_at", "is_active", "ended_at"]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__user")

    @admin.display(description=gettext_lazy("partners"))
    def members(self, couple: Couple) -> str:
        return ", ".join(m.user.email for m in couple.memberships.all())


class InvitationStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Invitation.Status.choices

    def queryset(self, request, queryset):
        now = clock.now()
        value = self.value()
        if value == Invitation.Status.ACCEPTED:
            return queryset.filter(accepted_at__isnull=False)
        if value == Invitation.Status.REVOKED:
            return queryset.filter(accepted_at__isnull=True, revoked_at__isnull=False)
        open_ = queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        if value == Invitation.Status.EXPIRED:
            return open_.filter(expires_at__lte=now)
        if value == Invitation.Status.PENDING:
            return open_.filter(expires_at__gt=now)
        return queryset


@admin.register(Invitation)
class InvitationAdmin(ViewOnlyAdmin):
    list_display = ["public_id", "invited_by", "email", "created_at", "expires_at", "status"]
    list_filter = [InvitationStatusFilter]
    search_fields = ["public_id", "email", "invited_by__email"]
    fields = [
        "public_id",
        "couple",
        "invited_by",
        "email",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "status",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # stubs: `fields` may nest groups
    actions = ["revoke"]

    @admin.action(
        description=gettext_lazy("Revoke (the link stops working)"), permissions=["change"]
    )
    def revoke(self, request, queryset):
        revoked = 0
        for invitation in queryset:
            if services.invitation_revoke_by_staff(
                invitation=invitation, by=request.user, request=request
            ):
                self.log_history(request, invitation, "Revoked")
                revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d invitation revoked.", "%(count)d invitations revoked.", revoked)
            % {"count": revoked},
        )
