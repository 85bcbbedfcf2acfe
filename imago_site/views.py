"""The home page: the one page that shows every part of the product at once, so it lives in
the project, which may import every app (the apps never import each other upwards)."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults
from django.views.decorators.http import require_GET

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
