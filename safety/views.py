"""The person's own private safety page: the questions, support lines, and their decision to go
on. Only ever shown to that person; nothing here reaches their partner."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from couples.http import AuthedRequest
from couples.selectors import couple_for, partner_of
from safety import selectors, services
from safety.selectors import SafetyError

PAGE = "safety/safety.html"


def _not_for_partners(request: AuthedRequest) -> HttpResponse | None:
    if not request.user.is_partner:
        messages.info(request, _("These questions are for partners of a couple."))
        return redirect("home")
    return None


def _context(request: AuthedRequest, *, answers=None, error: str = "", retake: bool = False):
    user = request.user
    couple = couple_for(user=user)
    screening = selectors.screening_of(user=user)
    state = selectors.screening_state(user=user, couple=couple)
    country = selectors.country_choice(
        requested=request.GET.get("country", ""), saved=screening.country if screening else ""
    )
    if answers is None:
        answers = (screening.answers or {}) if screening and state != "not_started" else {}
    partner = partner_of(user=user, couple=couple) if couple else None
    return {
        "couple": couple,
        "partner": partner,
        # Where to go once ready: a dialogue, when the partner is ready too.
        "partner_ready": bool(
            couple
            and partner
            and selectors.start_gate(user=user, couple=couple, partner=partner).open
        )
        if state == "ready"
        else False,
        "partner_not_ready": selectors.PARTNER_NOT_READY,
        "screening": screening if state != "not_started" else None,
        "state": state,
        "asking": couple is not None and (state == "not_started" or retake or bool(error)),
        "items": [(q, answers.get(q.key, "")) for q in selectors.QUESTIONS],
        "answers_view": selectors.answers_view(screening) if screening else [],
        "countries": selectors.support_countries(),
        "country": country,
        "resources": selectors.support_resources(country=country),
        "error": error,
    }


@never_cache
@login_required
@require_GET
def screening_page(request: AuthedRequest) -> HttpResponse:
    refused = _not_for_partners(request)
    if refused:
        return refused
    context = _context(request, retake=request.GET.get("retake") == "1")
    return render(request, PAGE, context)


@never_cache
@login_required
@require_POST
def screening_answer(request: AuthedRequest) -> HttpResponse:
    refused = _not_for_partners(request)
    if refused:
        return refused
    answers = {q.key: request.POST.get(q.key, "") for q in selectors.QUESTIONS}
    try:
        services.screening_save(
            user=request.user, answers=answers, country=request.POST.get("country", "")
        )
    except SafetyError as error:
        context = _context(request, answers=answers, error=error.message)
        return render(request, PAGE, context, status=422)
    return redirect("safety:page")


def _decision(request: AuthedRequest, service, field: str) -> HttpResponse:
    """A yes/no decision of the person's own (going on, sharing with a therapist)."""
    refused = _not_for_partners(request)
    if refused:
        return refused
    value = request.POST.get(field)
    if value not in ("0", "1"):
        messages.error(request, _("Something went wrong with that button; please try again."))
        return redirect("safety:page")
    try:
        service(user=request.user, **{field: value == "1"})
    except SafetyError as error:
        messages.error(request, error.message)
    return redirect("safety:page")


@login_required
@require_POST
def screening_ready(request: AuthedRequest) -> HttpResponse:
    return _decision(request, services.screening_set_ready, "ready")


@login_required
@require_POST
def screening_share(request: AuthedRequest) -> HttpResponse:
    return _decision(request, services.screening_set_shared, "shared")


@require_GET
def neutral_page(request: HttpRequest) -> HttpResponse:
    """Where "Exit" leads: a plain page that says nothing about Imago or anyone's dialogue."""
    return render(request, "notes.html")
