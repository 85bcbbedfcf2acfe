"""Dialogue pages. Every view checks that the person is one of the couple's partners."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from couples.http import AuthedRequest
from couples.selectors import calendar_feed_person, couple_for, partner_of
from dialogues import language, protocol, push, reminders, selectors, services
from dialogues.forms import StartDialogueForm, move_posted
from dialogues.models import DialogueSession
from dialogues.services import DialogueError
from safety import selectors as safety

PAGE = "dialogues/dialogue.html"


def _session_or_404(request: AuthedRequest, public_id: str) -> DialogueSession:
    session = selectors.dialogue_for(public_id=public_id, user=request.user)
    if session is None:
        raise Http404("No such dialogue.")
    return session


def _checkin_context(post) -> dict:
    try:
        chosen = int(post.get("intensity", ""))
    except ValueError:
        chosen = None
    return {
        "halt_choices": safety.HALT,
        "intensity_choices": safety.INTENSITY,
        "checked_halt": post.getlist("halt"),
        "chosen_intensity": chosen,
    }


@login_required
@require_http_methods(["GET", "POST"])
def dialogue_new(request: AuthedRequest) -> HttpResponse:
    """Name the topic, after the ground rules and a private check-in. A hot check-in suggests a
    cooling period first; the person may still start anyway."""
    couple = couple_for(user=request.user)
    partner = partner_of(user=request.user, couple=couple) if couple else None
    if couple is None or partner is None:
        messages.info(request, _("You can start a dialogue once your partner has joined you."))
        return redirect("home")
    suggested = selectors.dialogue_kind_suggested(couple=couple)
    asked_for = request.GET.get("kind", "")  # a link to one kind ("Tell them in an Exits …")
    chosen = asked_for if asked_for in {k.value for k in protocol.Kind} else suggested.value
    form = StartDialogueForm(request.POST or None, initial={"kind": chosen})
    cooling = None
    if request.method == "POST" and form.is_valid():
        try:
            checkin = safety.checkin_read(request.POST)
        except safety.SafetyError as error:
            form.add_error(None, error.message)
        else:
            if checkin.suggests_a_pause and request.POST.get("anyway") != "1":
                cooling = checkin
            else:
                try:
                    session = services.dialogue_start(
                        user=request.user,
                        kind=form.cleaned_data["kind"],
                        topic=form.cleaned_data["topic"],
                        aloud=form.cleaned_data["way"] == StartDialogueForm.ALOUD,
                    )
                except DialogueError as error:
                    form.add_error(None, error.message)
                else:
                    return redirect("dialogues:detail", public_id=session.public_id)
    status = 422 if form.errors else 200
    context = {
        "form": form,
        "partner": partner,
        "gate": safety.start_gate(user=request.user, couple=couple, partner=partner),
        "cooling": cooling,
        "suggested": protocol.kind_info(suggested),
        **_checkin_context(request.POST),
    }
    return render(request, "dialogues/new.html", context, status=status)


@login_required
@require_GET
def dialogue_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    session = _session_or_404(request, public_id)
    return render(request, PAGE, selectors.page_context(session=session, viewer=request.user))


@login_required
@require_GET
def dialogue_transcript(request: AuthedRequest, public_id: str) -> HttpResponse:
    session = _session_or_404(request, public_id)
    turns = selectors.turns_of(session=session, viewer=request.user)
    context = selectors.dialogue_context(session=session, viewer=request.user, turns=turns)
    context.update(selectors.transcript_of(session=session, viewer=request.user, turns=turns))
    context["my_mirrors"] = selectors.mirrors_mine(session=session, viewer=request.user)
    return render(request, "dialogues/transcript.html", context)


@login_required
@require_GET
def my_mirrors(request: AuthedRequest, public_id: str) -> HttpResponse:
    """How complete the viewer's own mirrors were in a finished dialogue: the closing panel a
    push brought asks for it (a push is rendered without reading the database). Only for a
    partner of a finished dialogue; never the other partner's."""
    session = _session_or_404(request, public_id)
    mine = selectors.mirrors_mine(session=session, viewer=request.user)
    if mine is None:
        return HttpResponse(_("This dialogue isn't finished yet."), status=409)
    context = {
        "my_mirrors": mine,
        "partner": session.partner_in(protocol.other_slot(session.slot_of(request.user) or "a")),
    }
    response = render(request, f"{PAGE}#my_mirrors", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def dialogue_move(request: AuthedRequest, public_id: str) -> HttpResponse:
    """A move over HTTP: the fallback when the page's socket is down (or without JavaScript),
    and the starting moves, which carry the private check-in (a pause may be suggested)."""
    posted = move_posted(request.POST)
    try:
        checkin = None if request.POST.get("anyway") == "1" else safety.checkin_read(request.POST)
        result = services.move_submit(
            session_public_id=public_id,
            user=request.user,
            move=posted.move,
            payload=posted.payload,
            at=posted.at,
            token=posted.token,
            for_partner=posted.for_partner,
            checkin=checkin,
        )
    except services.DialogueNotFound:
        raise Http404("No such dialogue.") from None
    except (DialogueError, safety.SafetyError) as error:
        return _refused(request, public_id, error)
    if not request.htmx:
        return redirect("dialogues:detail", public_id=public_id)
    # The panel this person's page shows next, as rendered for them once at commit.
    mine = result.fragments.get(result.slot or "")
    html = mine["panel"] if mine is not None else _panel_html(request, public_id)
    return HttpResponse(html)


def _panel_html(request, public_id: str, **refusal: object) -> str:
    html = push.render_panel(public_id=public_id, user=request.user, **refusal)
    if html is None:
        raise Http404("No such dialogue.")
    return html


def _refused(request, public_id: str, error: DialogueError | safety.SafetyError) -> HttpResponse:
    """A move not made: why (422, what they wrote kept unless the form was stale), or, for a
    check-in that runs hot, the suggested pause (nothing saved either way). On the page, the
    same panel a move refused over the socket gets."""
    cooling = error.checkin if isinstance(error, services.PauseSuggested) else None
    if not request.htmx:
        if cooling is None:
            messages.error(request, error.message)
            return redirect("dialogues:detail", public_id=public_id)
        session = _session_or_404(request, public_id)
        context = selectors.page_context(session=session, viewer=request.user)
        return render(request, PAGE, {**context, "cooling": cooling})
    kept = cooling is None and not getattr(error, "stale", False)
    html = _panel_html(
        request,
        public_id,
        error="" if cooling is not None else error.message,
        posted_text=request.POST.get("text", "") if kept else "",
        cooling=cooling,
    )
    return HttpResponse(html, status=200 if cooling is not None else 422)


def _session_changed(request: AuthedRequest, public_id: str, change) -> HttpResponse:
    """A time-out, a resume or an end from the page: the move panel as it is now, or why not
    (422, with the message, nothing saved)."""
    session = _session_or_404(request, public_id)
    try:
        change(session_public_id=session.public_id, user=request.user)
    except DialogueError as error:
        if request.htmx:
            return HttpResponse(_panel_html(request, public_id, error=error.message), status=422)
        context = {
            **selectors.page_context(session=session, viewer=request.user),
            "error": error.message,
        }
        return render(request, PAGE, context, status=422)
    if request.htmx:
        return HttpResponse(_panel_html(request, public_id))
    return redirect("dialogues:detail", public_id=public_id)


@login_required
@require_POST
def writing_aids(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The private writing aids beside a draft, asked as the person types: the step's gentle
    language hints (send, mirror, empathy) and, for a mirror or summary, what it may leave
    out of what the sender said or add. Only for the person whose move it is now; the draft
    is read and forgotten (never saved, never logged)."""
    session = _session_or_404(request, public_id)
    move, text = request.POST.get("move", ""), request.POST.get("text", "")
    if len(text) > protocol.MAX_TEXT or "\x00" in text:
        return HttpResponse(_("This draft can't be read as it is."), status=400)
    for_partner = request.POST.get("for") == "partner"  # together on one device
    step = selectors.writing_step(
        session=session, viewer=request.user, move=move, for_partner=for_partner
    )
    if step is None:
        return HttpResponse(_("This isn't yours to write now."), status=409)
    feedback = None
    if text.strip() and move in protocol.REFLECTING_MOVES:
        said = selectors.mirror_said(
            session=session, viewer=request.user, move=move, for_partner=for_partner
        )
        feedback = language.mirror_feedback(said=said or "", mirror=text)
    context = {"hints": language.hints_for(step.hint, text), "feedback": feedback}
    response = render(request, "dialogues/_writing_aids.html#aids", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def dialogue_pause(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _session_changed(request, public_id, services.session_pause)


@login_required
@require_POST
def dialogue_resume(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _session_changed(request, public_id, services.session_resume)


@login_required
@require_POST
def dialogue_end(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _session_changed(request, public_id, services.session_end)


def _switch(request: AuthedRequest, public_id: str, name: str, change) -> HttpResponse:
    """A said-aloud or one-device switch: `name` must be "1" (on) or "0" (off); anything else
    is refused with a clear message and changes nothing."""
    value = request.POST.get(name, "")
    if value not in ("0", "1"):
        session = _session_or_404(request, public_id)
        message = _("Please choose again: that choice wasn't one of the buttons.")
        if request.htmx:
            return HttpResponse(_panel_html(request, public_id, error=message), status=400)
        return render(
            request,
            PAGE,
            {**selectors.page_context(session=session, viewer=request.user), "error": message},
            status=400,
        )

    def changed(**kwargs):
        return change(value == "1", **kwargs)

    return _session_changed(request, public_id, changed)


@login_required
@require_POST
def dialogue_aloud(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Switch between saying the dialogue aloud and writing it (either partner, any time)."""
    return _switch(
        request,
        public_id,
        "aloud",
        lambda on, **kwargs: services.session_aloud(aloud=on, **kwargs),
    )


@login_required
@require_POST
def dialogue_together(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Start taking both partners' turns on this device (said aloud, with the partner's
    standing permission), or stop it."""
    return _switch(
        request,
        public_id,
        "on",
        lambda on, **kwargs: services.session_together(on=on, **kwargs),
    )


@login_required
@require_POST
def dialogue_cancel(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Cancel an appointment made for later (either partner); the other is told."""
    return _session_changed(request, public_id, services.session_cancel)


@login_required
@require_GET
def dialogue_calendar(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The "Add to calendar" link: the scheduled dialogue as a calendar file, for its
    partners (and the therapist with access, for a session a therapist booked); 404 for
    anyone else and once it no longer waits for its time. The same file the "scheduled"
    email attaches."""
    session = selectors.scheduled_dialogue_for(public_id=public_id, user=request.user)
    if session is None:
        raise Http404("No such scheduled dialogue.")
    response = HttpResponse(
        reminders.appointment_file(session, person=request.user),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'attachment; filename="imago-dialogue.ics"'
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's private calendar feed (the token is the key: no log-in, as calendar apps
    subscribe without one): their scheduled dialogues, with times and links, never a topic."""
    person = calendar_feed_person(token=token)
    if person is None:
        raise Http404("No such calendar.")
    # A calendar app asks without the person's cookie or browser: their own language.
    with translation.override(person.language_code):
        events = [
            reminders.calendar_event(session, at=session.scheduled_for, person=person)
            for session in selectors.scheduled_dialogues_of(user=person)
            if session.scheduled_for is not None
        ]
    response = HttpResponse(
        reminders.calendar_file(events), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="imago.ics"'
    return response
