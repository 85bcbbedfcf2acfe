"""Workshop pages: the presenter's plan and board, the partners' join form and room.

Every view checks access itself (the presenter: a verified therapist presenting this very
workshop; a partner: their couple joined it); anyone else gets 404, nothing revealed. Errors
come back as the page with a clear message and a 4xx status; nothing is saved."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from couples.http import AuthedRequest
from therapists.workshops import selectors, services
from therapists.workshops.forms import AnnounceForm, SegmentForm, WorkshopForm, WorkshopJoinForm
from therapists.workshops.models import Workshop
from therapists.workshops.services import WorkshopError

BOARD_PAGE = "therapists/workshop_board.html"
ROOM_PAGE = "therapists/workshop_room.html"


def presenter_only(view):
    """The presenter of this workshop (a verified therapist); anyone else: 404."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, public_id: str = "", *args, **kwargs) -> HttpResponse:
        if not selectors.may_present(request.user):
            raise Http404("No such page.")
        if not public_id:
            return view(request, *args, **kwargs)
        workshop = selectors.workshop_for_presenter(user=request.user, public_id=public_id)
        if workshop is None:
            raise Http404("No such workshop.")
        return view(request, workshop, *args, **kwargs)

    return wrapper


def _board_page(
    request: AuthedRequest,
    workshop: Workshop,
    *,
    status: int = 200,
    error: str = "",
    details_form: WorkshopForm | None = None,
    segment_form: SegmentForm | None = None,
    announce_form: AnnounceForm | None = None,
) -> HttpResponse:
    context = {
        **selectors.board(workshop=workshop),
        "details_form": details_form
        or WorkshopForm(
            initial={
                "title": workshop.title,
                "starts_at": workshop.starts_at,
                "stream_url": workshop.stream_url,
            }
        ),
        "segment_form": segment_form or SegmentForm(),
        "announce_form": announce_form or AnnounceForm(),
        "error": error,
        "join_url": request.build_absolute_uri(f"/workshops/join/{workshop.code}/"),
    }
    return render(request, BOARD_PAGE, context, status=status)


def _done(request: AuthedRequest, workshop: Workshop, call) -> HttpResponse:
    """Run a presenter's action; back to the board, or the board with the error."""
    try:
        call()
    except WorkshopError as error:
        return _board_page(request, workshop, status=error.status, error=error.message)
    return redirect("therapists:workshop", public_id=workshop.public_id)


# --- the presenter ------------------------------------------------------------------------


@presenter_only
@require_http_methods(["GET", "POST"])
def workshop_list(request: AuthedRequest) -> HttpResponse:
    form = WorkshopForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                workshop = services.workshop_create(
                    presenter=request.user,
                    title=form.cleaned_data["title"],
                    starts_at=form.cleaned_data["starts_at"],
                    stream_url=form.cleaned_data["stream_url"],
                    token=form.cleaned_data["token"],
                )
            except WorkshopError as error:
                form.add_error(None, error.message)
            else:
                return redirect("therapists:workshop", public_id=workshop.public_id)
        status = 422
    workshops = selectors.workshops_of(presenter=request.user)
    return render(
        request,
        "therapists/workshop_list.html",
        {"form": form, "workshops": workshops},
        status=status,
    )


@presenter_only
@require_GET
def workshop_board(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    return _board_page(request, workshop)


@presenter_only
@require_POST
def workshop_edit(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    form = WorkshopForm(request.POST)
    if not form.is_valid():
        return _board_page(request, workshop, status=422, details_form=form)
    return _done(
        request,
        workshop,
        lambda: services.workshop_update(
            workshop=workshop,
            title=form.cleaned_data["title"],
            starts_at=form.cleaned_data["starts_at"],
            stream_url=form.cleaned_data["stream_url"],
        ),
    )


@presenter_only
@require_POST
def segment_add(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    form = SegmentForm(request.POST)
    if not form.is_valid():
        return _board_page(request, workshop, status=422, segment_form=form)
    data = form.cleaned_data
    return _done(
        request,
        workshop,
        lambda: services.segment_add(
            workshop=workshop,
            kind=data["kind"],
            text=data["text"],
            dialogue_kind=data["dialogue_kind"],
            minutes=data["minutes"],
            token=data["token"],
        ),
    )


@presenter_only
@require_POST
def segment_remove(request: AuthedRequest, workshop: Workshop, segment: str) -> HttpResponse:
    return _done(
        request,
        workshop,
        lambda: services.segment_remove(workshop=workshop, segment_public_id=segment),
    )


@presenter_only
@require_POST
def segment_start(request: AuthedRequest, workshop: Workshop, segment: str) -> HttpResponse:
    rule = request.POST.get("rule", "")
    return _done(
        request,
        workshop,
        lambda: services.segment_start(
            workshop=workshop, segment_public_id=segment, rule=rule, run_now=True
        ),
    )


@presenter_only
@require_POST
def announce(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    form = AnnounceForm(request.POST)
    if not form.is_valid():
        return _board_page(request, workshop, status=422, announce_form=form)
    return _done(
        request,
        workshop,
        lambda: services.workshop_announce(
            workshop=workshop,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            token=form.cleaned_data["token"],
        ),
    )


@presenter_only
@require_POST
def reconvene(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    return _done(request, workshop, lambda: services.workshop_reconvene(workshop=workshop))


@presenter_only
@require_POST
def resume(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    return _done(request, workshop, lambda: services.workshop_resume(workshop=workshop))


@presenter_only
@require_POST
def end(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    return _done(request, workshop, lambda: services.workshop_end(workshop=workshop))


@presenter_only
@require_POST
def help_answered(request: AuthedRequest, workshop: Workshop, attendance: str) -> HttpResponse:
    return _done(
        request,
        workshop,
        lambda: services.help_answered(workshop=workshop, attendance_public_id=attendance),
    )


# --- the partners -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def join(request: AuthedRequest, code: str = "") -> HttpResponse:
    """Enter the code (or follow the link); each partner accepts from their own account."""
    form = WorkshopJoinForm(request.POST or None, initial={"code": code})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                attendance = services.workshop_join(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except WorkshopError as error:
                form.add_error(None, error.message)
                status = error.status if error.status != 404 else 422
            else:
                if attendance.joined_at is None:
                    messages.info(
                        request, _("You've joined. Your partner accepts from their own account.")
                    )
                return redirect("therapists:workshop_room", public_id=attendance.workshop.public_id)
        else:
            status = 422
    places = selectors.places_of(user=request.user)
    return render(
        request, "therapists/workshop_join.html", {"form": form, "places": places}, status=status
    )


def _place_or_404(request: AuthedRequest, public_id: str):
    found = selectors.participant_in(user=request.user, workshop_public_id=public_id)
    if found is None:
        raise Http404("No such workshop.")
    return found


@login_required
@require_GET
def room(request: AuthedRequest, public_id: str) -> HttpResponse:
    workshop, participant = _place_or_404(request, public_id)
    return render(request, ROOM_PAGE, selectors.room(workshop=workshop, participant=participant))


def _room_action(request: AuthedRequest, public_id: str, call) -> HttpResponse:
    workshop, participant = _place_or_404(request, public_id)
    try:
        call()
    except WorkshopError as error:
        context = selectors.room(workshop=workshop, participant=participant)
        return render(request, ROOM_PAGE, {**context, "error": error.message}, status=error.status)
    return redirect("therapists:workshop_room", public_id=public_id)


@login_required
@require_POST
def help_ask(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _room_action(
        request,
        public_id,
        lambda: services.help_ask(user=request.user, workshop_public_id=public_id),
    )


@login_required
@require_POST
def reading(request: AuthedRequest, public_id: str) -> HttpResponse:
    allow = request.POST.get("allow")
    if allow not in ("0", "1"):
        workshop, participant = _place_or_404(request, public_id)
        context = selectors.room(workshop=workshop, participant=participant)
        return render(
            request, ROOM_PAGE, {**context, "error": _("Please choose yes or no.")}, status=422
        )
    return _room_action(
        request,
        public_id,
        lambda: services.reading_set(
            user=request.user, workshop_public_id=public_id, allow=allow == "1"
        ),
    )
