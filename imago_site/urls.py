from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from imago_site import views as site_views
from safety import views as safety_views

# The admin has no log-in form of its own: allauth's is throttled and asks for the second
# factor. Logged-in people who aren't staff get a 403 instead of a loop.
# (mypy won't have a method replaced; this is allauth's documented way to wrap the admin login.)
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]


def admin_password_change(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """Staff change their own password where everyone does (allauth's page), never here."""
    return redirect("account_change_password")


# (A redirect, where the stubs expect the admin's own page.)
admin.site.password_change = admin_password_change  # type: ignore[method-assign,assignment]
admin.site.site_header = _("Imago administration")
admin.site.site_title = _("Imago admin")

urlpatterns = [
    path("", site_views.home, name="home"),
    path("notes/", safety_views.neutral_page, name="notes"),
    # The installable app (at the root: a service worker's scope is its own folder).
    path("manifest.webmanifest", site_views.manifest, name="manifest"),
    path("sw.js", site_views.service_worker, name="service_worker"),
    path("offline/", site_views.offline, name="offline"),
    path("", include("security.urls")),
    path("", include("couples.urls")),
    path("", include("safety.urls")),
    path("", include("dialogues.urls")),
    path("", include("practice.urls")),
    path("", include("therapists.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "imago_site.views.server_error"  # a calm 503 while Redis is unreachable
