"""The home page: the one page that shows every part of the product at once, so it lives in
the project, which may import every app (the apps never import each other upwards)."""

from __future__ import annotations

import copy
import hashlib
import json
import sys

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET, require_safe

from couples import selectors as couple_selectors
from couples import services as couple_services
from couples import views as couple_views
from couples.forms import InviteForm, StartCoupleForm
from dialogues import selectors as dialogue_selectors
from live import CACHE_UNREACHABLE
from practice import views as practice_views
from therapists import selectors as therapist_selectors
from therapists.forms import LinkCodeForm, TherapistCodeForm, TherapistInviteForm


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "home_public.html")
    user = request.user
    couple = couple_selectors.couple_for(user=user)
    partner = couple_selectors.partner_of(user=user, couple=couple) if couple else None
    invitations = list(couple_selectors.pending_invitations(couple=couple)) if couple else []
    pending_token = request.session.get(couple_views.PENDING_INVITATION)
    pending_invite = None
    if pending_token:
        pending_invite = couple_selectors.invitation_by_token(token=pending_token)
        if couple_services.invitation_problem(invitation=pending_invite, user=user):
            request.session.pop(couple_views.PENDING_INVITATION, None)
            pending_invite = None
    context = {
        "pending_invite": pending_invite,
        "pending_invite_token": pending_token if pending_invite else None,
        "couple": couple,
        "partner": partner,
        "invitations": invitations,
        "invite_link": couple_views.remembered_link(request, invitations)
        if couple and not partner
        else None,
        "start_form": StartCoupleForm(),
        "suggest_two_factor": couple_selectors.two_factor_suggested(user=user, partner=partner),
        "invite_form": InviteForm(),
    }
    context.update(dialogue_selectors.home_dialogues(user=user, couple=couple))
    if user.is_therapist and not user.is_staff:
        context.update(
            therapist_selectors.dashboard(therapist=user)
        )  # their dashboard is their home page
        context["link_code_form"] = LinkCodeForm()
    if couple and partner and user.is_partner:
        context["therapist_links"] = therapist_selectors.couple_therapist_links(
            couple=couple, viewer=user
        )
        context["homework"] = therapist_selectors.homework_for_couple(couple=couple)
        context.update(practice_views.home_context(user=user, couple=couple))
        context["code_form"] = TherapistCodeForm()
        context["therapist_invite_form"] = TherapistInviteForm()
    return render(request, "home.html", context)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """The 500 page; but when what failed is Redis being unreachable (nothing the person did,
    and over in seconds), a calm 503 that says so. Like Django's: no request context, no
    database."""
    if isinstance(sys.exc_info()[1], CACHE_UNREACHABLE):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "5"
        return response
    return defaults.server_error(request, template_name)


# --- the installable app: manifest, service worker, offline page ------------------------------

APP_ICONS = [
    ("img/app/icon-192.png", "192x192", "any"),
    ("img/app/icon-512.png", "512x512", "any"),
    ("img/app/maskable-192.png", "192x192", "maskable"),
    ("img/app/maskable-512.png", "512x512", "maskable"),
]
# What the service worker keeps so the app opens at once, and offline: public files only.
APP_SHELL = [
    "css/imago.css",
    "js/imago.js",
    "img/favicon.svg",
    "img/favicon-your-move.svg",
    *(icon for icon, _size, _purpose in APP_ICONS),
]
BACKGROUND = "#f8f5f0"  # --bg in static/css/imago.css
THEME = "#2c6a64"  # --accent


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest: installable, opening at home in its own window."""
    data = {
        "id": "/",
        "name": "Imago",
        "short_name": "Imago",
        "description": _("Guided Imago dialogues for couples, step by step."),
        "lang": translation.get_language() or settings.LANGUAGE_CODE,
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "icons": [
            {"src": static(src), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for src, sizes, purpose in APP_ICONS
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from the site's root so its scope is every page. Its
    version follows the files it keeps, so a deploy that changes them replaces it."""
    shell = [static(path) for path in APP_SHELL]
    offline_url = reverse("offline")
    version = hashlib.sha256(
        "\n".join([*shell, offline_url, translation.get_language() or ""]).encode()
    ).hexdigest()[:12]
    body = loader.render_to_string(
        "sw.js",
        {
            "version": version,
            "shell": json.dumps([offline_url, *shell]),
            "offline_url": json.dumps(offline_url),
            "static_prefix": json.dumps(settings.STATIC_URL),
            "icon": json.dumps(static("img/app/icon-192.png")),
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Always asked for afresh, so a new version is found on the next visit.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    """The calm page the service worker shows when there is no network. The same for
    everyone (it is kept on the device): no name, no form, nothing of anyone's. What the
    person last saw on their home page is filled in on the device itself (imago.js)."""
    anonymous = copy.copy(request)
    anonymous.user = AnonymousUser()
    return render(anonymous, "offline.html")
