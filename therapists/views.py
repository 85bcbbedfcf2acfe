"""Therapist links from both sides (the partners' consent; the therapist's codes and
invitations), and the therapist's pages: dashboard, couples, the live console, notes and
homework.

Every view checks access itself: a verified therapist, linked, both partners' consent in
force. Anyone else gets 404, and nothing is revealed. Every read of a couple's dialogue is
audited.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from couples.forms import form_token
from couples.http import AuthedRequest
from couples.selectors import partners_of
from dialogues import selectors as dialogue_selectors
from dialogues import services as dialogue_services
from dialogues.models import DialogueSession
from dialogues.selectors import FACILITATOR
from dialogues.services import DialogueError
from practice import selectors as practice_selectors
from practice import services as practice_services
from practice.models import CSI4_EVERY, CSI16_EVERY
from practice.services import PracticeError
from security.audit import audit
from therapists import selectors, services
from therapists.forms import (
    BookingForm,
    CallAdmitForm,
    CoachingForm,
    FacilitatedStartForm,
    HomeworkForm,
    LinkCodeForm,
    NewBookingForm,
    NoteForm,
    TherapistCodeForm,
    TherapistInviteForm,
)
from therapists.services import LinkNotFound, TherapistError

PAGE = "therapists/console.html"
DIALOGUE = "dialogues/dialogue.html"


def therapist_only(view):
    """Signed-in therapists only (verified or not); anyone else: 404."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_therapist or request.user.is_staff:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def _link_or_404(request: AuthedRequest, couple_public_id: str):
    link = selectors.couple_for_therapist(therapist=request.user, couple_public_id=couple_public_id)
    if link is None:
        raise Http404("No such couple.")
    return link


def _session_or_404(request: AuthedRequest, public_id: str) -> DialogueSession:
    session = dialogue_selectors.dialogue_for_facilitator(public_id=public_id, user=request.user)
    if session is None:
        raise Http404("No such dialogue.")
    return session


# --- dashboard and links ---------------------------------------------------------------------


@therapist_only
@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    context = selectors.dashboard(therapist=request.user)
    services.dashboard_satisfaction_read(
        therapist=request.user, couples=context["couples"], request=request
    )
    context["link_code_form"] = LinkCodeForm()
    return render(request, "therapists/dashboard.html", context)


@therapist_only
@require_POST
def link_code_new(request: AuthedRequest) -> HttpResponse:
    form = LinkCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This form can't be read. Please reload the page and try again."))
        return redirect("therapists:dashboard")
    try:
        link = services.link_code_issue(therapist=request.user, token=form.cleaned_data["token"])
    except TherapistError as error:
        messages.error(request, error.message)
    else:
        if link.code:
            messages.success(
                request,
                _("Your new link code is %(code)s. Give it to the couple.") % {"code": link.code},
            )
        else:  # the same form again, after its code was used or cancelled
            messages.info(request, _("That code has been used or cancelled already."))
    return redirect("therapists:dashboard")


@therapist_only
@require_POST
def invitation_accept(request: AuthedRequest, public_id: str) -> HttpResponse:
    try:
        services.therapist_invitation_accept(
            therapist=request.user, link_public_id=public_id, request=request
        )
    except LinkNotFound:
        raise Http404("No such link.") from None
    except TherapistError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Accepted. Your access starts once both partners have consented.")
        )
    return redirect("therapists:dashboard")


@therapist_only
@require_POST
def link_end(request: AuthedRequest, public_id: str) -> HttpResponse:
    try:
        services.therapist_link_end(
            therapist=request.user, link_public_id=public_id, request=request
        )
    except LinkNotFound:
        raise Http404("No such link.") from None
    except TherapistError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The link has ended."))
    return redirect("therapists:dashboard")


# --- one couple --------------------------------------------------------------------------------


def _booked(request, couple, *, failed: tuple[str, BookingForm] | None = None) -> list:
    """The couple's booked sessions, each with its form to move it (in the therapist's zone)."""
    zone = request.user.zone
    rows = []
    for session in dialogue_selectors.booked_sessions_of(couple_id=couple.pk):
        if failed and failed[0] == session.public_id:
            form = failed[1]
        else:
            assert session.scheduled_for is not None  # booked sessions always have their time
            local = session.scheduled_for.astimezone(zone)
            form = BookingForm(
                prefix=f"move-{session.public_id[:8]}",
                zone_name=zone.key,
                initial={"day": local.date(), "time": local.time(), "minutes": session.minutes},
            )
        rows.append((session, form, session.scheduled_by_id == request.user.pk))
    return rows


def _couple_page(
    request,
    link,
    *,
    note_form=None,
    homework_form=None,
    booking_form=None,
    moving=None,
    start_form=None,
    status=200,
):
    couple = link.couple
    partners_safety = selectors.couple_safety(link=link)
    for item in partners_safety:
        if item.answers is not None:  # a partner's own answers, shared with the therapist
            audit(
                action="therapist.read",
                actor=request.user,
                target=item.partner,
                request=request,
                what="safety_answers",
                couple=couple.public_id,
            )
    measures_view = practice_selectors.measures_for(
        couple=couple, partners=partners_of(couple=couple), viewer=request.user
    )
    if measures_view.any_visible:  # the partners' questionnaire scores
        audit(
            action="therapist.read",
            actor=request.user,
            target=couple,
            request=request,
            what="measures",
        )
    reflections = practice_selectors.reflections_shared_with_therapist(couple=couple)
    for reflection in reflections:  # a partner's own words, shared with the therapist
        audit(
            action="therapist.read",
            actor=request.user,
            target=reflection.author,
            request=request,
            what="childhood_reflection",
            couple=couple.public_id,
        )
    return render(
        request,
        "therapists/couple.html",
        {
            "link": link,
            "couple_view": selectors.linked_couple(link=link),
            "partners_safety": partners_safety,
            "notes": selectors.notes_of(therapist=request.user, couple=couple),
            "note_form": note_form or NoteForm(),
            "homework_form": homework_form or HomeworkForm(),
            "booking_form": booking_form
            or NewBookingForm(partners=partners_of(couple=couple), zone_name=request.user.zone.key),
            "booked": _booked(request, couple, failed=moving),
            "reminder_minutes": settings.IMAGO_REMINDER_MINUTES,
            "start_form": start_form or FacilitatedStartForm(partners=partners_of(couple=couple)),
            "agreements": practice_selectors.agreements_open(couple=couple),
            "caring_lists": practice_selectors.caring_shared_lists(couple=couple),
            "measures_view": measures_view,
            "measure_rhythm": practice_selectors.measure_rhythm(couple=couple),
            "CSI4_EVERY": CSI4_EVERY,
            "CSI16_EVERY": CSI16_EVERY,
            "measure_token": form_token(),
            "reflections": reflections,
        },
        status=status,
    )


@therapist_only
@require_GET
def couple_progress(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The couple's progress page, as they see it (ratings, weeks, agreements, caring)."""
    link = _link_or_404(request, public_id)
    audit(
        action="therapist.read",
        actor=request.user,
        target=link.couple,
        request=request,
        what="progress",
    )
    view = selectors.linked_couple(link=link)
    progress = practice_selectors.progress_for(
        couple=link.couple, partners=partners_of(couple=link.couple)
    )
    measures_view = practice_selectors.measures_for(
        couple=link.couple, partners=partners_of(couple=link.couple), viewer=request.user
    )
    if measures_view.any_visible:
        audit(
            action="therapist.read",
            actor=request.user,
            target=link.couple,
            request=request,
            what="measures",
        )
    return render(
        request,
        "practice/progress.html",
        {
            "progress": progress,
            "for_therapist": True,
            "couple_names": view.names,
            "link": link,
            "measures_view": measures_view,
        },
    )


@therapist_only
@require_POST
def couple_measures(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Change how often the couple is offered each questionnaire, or send one now."""
    link = _link_or_404(request, public_id)
    try:
        if request.POST.get("send_now"):
            practice_services.measure_request(
                couple=link.couple,
                by=request.user,
                instrument=request.POST["send_now"],
                token=request.POST.get("token"),
            )
            done = _("Sent. Each partner is offered it on their home page, to answer or skip.")
        else:
            practice_services.measure_rhythm_set(
                couple=link.couple,
                by=request.user,
                csi4_days=request.POST.get("csi4_days"),
                csi16_days=request.POST.get("csi16_days"),
                token=request.POST.get("token"),
            )
            done = _("Saved. The questionnaires follow the new rhythm.")
    except PracticeError as error:
        messages.error(request, error.message)
    else:
        audit(
            action="therapist.measures",
            actor=request.user,
            target=link.couple,
            request=request,
            send_now=request.POST.get("send_now", "")[:8],
        )
        messages.success(request, done)
    return redirect("therapists:couple", link.couple.public_id)


@therapist_only
@require_GET
def couple_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    link = _link_or_404(request, public_id)
    audit(
        action="therapist.read",
        actor=request.user,
        target=link.couple,
        request=request,
        what="couple",
    )
    return _couple_page(request, link)


@therapist_only
@require_POST
def couple_note(request: AuthedRequest, public_id: str) -> HttpResponse:
    link = _link_or_404(request, public_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(
                therapist=request.user,
                couple=link.couple,
                text=form.cleaned_data["text"],
                token=form.cleaned_data["token"],
            )
        except TherapistError as error:
            form.add_error("text", error.message)
        else:
            messages.success(request, _("Note saved."))
            return redirect("therapists:couple", public_id=public_id)
    return _couple_page(request, link, note_form=form, status=422)


@therapist_only
@require_POST
def dialogue_new(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Start a dialogue for the couple (a Parent-Child Dialogue is best with a therapist
    present), then facilitate it from the console."""
    link = _link_or_404(request, public_id)
    form = FacilitatedStartForm(request.POST, partners=partners_of(couple=link.couple))
    if form.is_valid():
        try:
            session = services.dialogue_start_facilitated(
                therapist=request.user,
                couple=link.couple,
                first=form.partners[form.cleaned_data["first"]],
                kind=form.cleaned_data["kind"],
                topic=form.cleaned_data["topic"],
            )
        except TherapistError as error:
            form.add_error(None, error.message)
        else:
            return redirect("therapists:console", public_id=session.public_id)
    return _couple_page(request, link, start_form=form, status=422)


@therapist_only
@require_POST
def homework_new(request: AuthedRequest, public_id: str) -> HttpResponse:
    link = _link_or_404(request, public_id)
    form = HomeworkForm(request.POST)
    if form.is_valid():
        try:
            services.homework_assign(
                therapist=request.user, couple=link.couple, **form.cleaned_data
            )
        except TherapistError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Homework assigned. The couple sees it on their home page.")
            )
            return redirect("therapists:couple", public_id=public_id)
    return _couple_page(request, link, homework_form=form, status=422)


# --- facilitated sessions -------------------------------------------------------------------


@therapist_only
@require_POST
def session_book(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Book a facilitated session with the couple (linked, with both partners' consent)."""
    link = _link_or_404(request, public_id)
    partners = partners_of(couple=link.couple)
    form = NewBookingForm(request.POST, partners=partners, zone_name=request.user.zone.key)
    if form.is_valid():
        try:
            session = services.facilitated_book(
                therapist=request.user,
                couple=link.couple,
                kind=form.cleaned_data["kind"],
                first=form.cleaned_data["first"],
                **form.cleaned_strings(),
            )
        except LinkNotFound:
            raise Http404("No such couple.") from None
        except TherapistError as error:
            form.add_error(None, error.message)
        else:
            assert session.scheduled_for is not None
            when = session.scheduled_for.astimezone(request.user.zone)
            # Translators: a Django date format (weekday, day, month, time).
            day_fmt = pgettext("date format", "D j M, H:i")
            messages.success(
                request,
                _(
                    "Session booked for %(when)s (%(zone)s). "
                    "Both partners get the calendar file and a reminder."
                )
                % {"when": date_format(when, day_fmt), "zone": request.user.zone.key},
            )
            return redirect("therapists:couple", public_id=public_id)
    return _couple_page(request, link, booking_form=form, status=422)


def _booked_or_404(request: AuthedRequest, public_id: str) -> DialogueSession:
    session = _session_or_404(request, public_id)
    if session.scheduled_by_id != request.user.pk:
        raise Http404("No such session.")
    return session


@therapist_only
@require_POST
def session_move(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Move a booked session to another time (or length); the partners are told."""
    session = _booked_or_404(request, public_id)
    link = _link_or_404(request, session.couple.public_id)
    form = BookingForm(
        request.POST, prefix=f"move-{session.public_id[:8]}", zone_name=request.user.zone.key
    )
    if form.is_valid():
        try:
            services.facilitated_move(
                session_public_id=public_id, therapist=request.user, **form.cleaned_strings()
            )
        except services.NotFound:
            raise Http404("No such session.") from None
        except TherapistError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Session moved. Both partners are told the new time."))
            return redirect("therapists:couple", public_id=link.couple.public_id)
    return _couple_page(request, link, moving=(session.public_id, form), status=422)


@therapist_only
@require_POST
def session_cancel(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Cancel a booked session before it opens; the partners are told."""
    session = _booked_or_404(request, public_id)
    link = _link_or_404(request, session.couple.public_id)
    try:
        services.facilitated_cancel(session_public_id=public_id, therapist=request.user)
    except services.NotFound:
        raise Http404("No such session.") from None
    except TherapistError as error:
        messages.error(request, error.message)
        return redirect("therapists:couple", public_id=link.couple.public_id)
    messages.success(request, _("Session cancelled. Both partners are told."))
    return redirect("therapists:couple", public_id=link.couple.public_id)


@therapist_only
@require_POST
def session_begin(request: AuthedRequest, public_id: str) -> HttpResponse:
    """From the console: open a booked session now, for all three."""
    _booked_or_404(request, public_id)
    return _steered(request, public_id, services.facilitated_open)


# --- the live console --------------------------------------------------------------------------


def _coach_to_key(session: DialogueSession) -> str:
    return f"coach_to.{session.public_id}"


def _last_coach_to(request, session: DialogueSession) -> str:
    """Whom this therapist last coached in this dialogue ("" both, else a partner's slot): the
    console keeps that choice, so a follow-up goes where the last message went."""
    return str(request.session.get(_coach_to_key(session), ""))


def _console_context(request, session: DialogueSession, *, transcript: bool = False) -> dict:
    turns = dialogue_selectors.turns_of(session=session, viewer=request.user)
    context = dialogue_selectors.dialogue_context(
        session=session, viewer=request.user, turns=turns, role=FACILITATOR
    )
    if transcript:  # grouped as the partners' transcript is (dialogues.selectors)
        context.update(
            dialogue_selectors.transcript_of(session=session, viewer=request.user, turns=turns)
        )
    context["coach_form"] = CoachingForm(
        partners=context["console"].partners, initial={"to": _last_coach_to(request, session)}
    )
    context["note_form"] = NoteForm()
    context["waiting_room"] = selectors.waiting_room(session=session)
    context["admit_form"] = CallAdmitForm()
    context["notes"] = selectors.notes_of(
        therapist=request.user, couple=session.couple, session=session
    )
    return context


@therapist_only
@require_GET
def console(request: AuthedRequest, public_id: str) -> HttpResponse:
    session = _session_or_404(request, public_id)
    audit(
        action="therapist.read", actor=request.user, target=session, request=request, what="console"
    )
    return render(request, PAGE, _console_context(request, session))


@therapist_only
@require_GET
def transcript(request: AuthedRequest, public_id: str) -> HttpResponse:
    session = _session_or_404(request, public_id)
    audit(
        action="therapist.read",
        actor=request.user,
        target=session,
        request=request,
        what="transcript",
    )
    context = _console_context(request, session, transcript=True)
    return render(request, "therapists/transcript.html", context)


@therapist_only
@require_POST
def coach(request: AuthedRequest, public_id: str) -> HttpResponse:
    session = _session_or_404(request, public_id)
    console_view = dialogue_selectors.console_for(session=session)
    form = CoachingForm(request.POST, partners=console_view.partners)
    sent = ""
    if form.is_valid():
        try:
            services.coaching_send(
                session_public_id=session.public_id,
                therapist=request.user,
                text=form.cleaned_data["text"],
                to=form.cleaned_data["to"] or "",
                token=form.cleaned_data["token"],
            )
        except (DialogueError, TherapistError) as error:
            form.add_error("text", error.message)
        else:
            to = form.cleaned_data["to"] or ""
            sent = (
                _("Sent privately to %(name)s.") % {"name": dict(console_view.partners)[to]}
                if to
                else _("Sent to both partners.")
            )
            request.session[_coach_to_key(session)] = to  # kept for the next message
            form = CoachingForm(partners=console_view.partners, initial={"to": to})
    status = 422 if form.errors else 200
    if not request.htmx:
        if form.errors:
            messages.error(
                request, "; ".join(str(e) for errs in form.errors.values() for e in errs)
            )
        else:
            messages.success(request, sent)
        return redirect("therapists:console", public_id=public_id)
    return render(
        request,
        f"{PAGE}#coach_panel",
        {"session": session, "coach_form": form, "sent": sent},
        status=status,
    )


def _console_state_response(
    request, session, *, error: str = "", status: int = 200, confirm_rewind: dict | None = None
):
    if not request.htmx:
        if confirm_rewind:  # without htmx: the whole console, asking to confirm
            session.refresh_from_db()
            context = _console_context(request, session)
            context["confirm_rewind"] = confirm_rewind
            return render(request, PAGE, context, status=status)
        if error:
            messages.error(request, error)
        return redirect("therapists:console", public_id=session.public_id)
    session.refresh_from_db()
    context = dialogue_selectors.dialogue_context(
        session=session, viewer=request.user, turns=[], role=FACILITATOR
    )
    context["error"] = error
    context["confirm_rewind"] = confirm_rewind
    return render(request, f"{DIALOGUE}#console_state", context, status=status)


REWIND_CHOOSE = gettext_lazy("Please choose the step to send the dialogue back to.")
REWIND_NOT_HERE = gettext_lazy("The dialogue can't go back to that step from here.")


def _posted_at(request: AuthedRequest) -> int | None:
    raw = request.POST.get("at", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@therapist_only
@require_POST
def rewind(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Two steps: the step chosen is confirmed first (nothing changes until then), and the
    confirmation is refused if the dialogue has moved on meanwhile. "Cancel" changes nothing."""
    session = _session_or_404(request, public_id)
    step = request.POST.get("step", "")[:40]
    if request.POST.get("cancel"):
        return _console_state_response(request, session)
    if not step:
        return _console_state_response(request, session, error=str(REWIND_CHOOSE), status=422)
    if request.POST.get("confirmed") != "yes":
        label = dict(dialogue_selectors.console_for(session=session).rewind_targets).get(step)
        if label is None:
            return _console_state_response(request, session, error=str(REWIND_NOT_HERE), status=422)
        confirm = {"step": step, "label": label, "at": session.step_seq}
        return _console_state_response(request, session, confirm_rewind=confirm)
    at = _posted_at(request)
    if at is None:
        return _console_state_response(
            request, session, error=dialogue_services.REWIND_MOVED_ON, status=422
        )
    try:
        services.session_rewind(
            session_public_id=session.public_id, therapist=request.user, step=step, at=at
        )
    except DialogueError as error:
        return _console_state_response(request, session, error=error.message, status=422)
    return _console_state_response(request, session)


def _steered(request: AuthedRequest, public_id: str, steer) -> HttpResponse:
    """Pause, resume or end from the console: the console's state, or why not."""
    session = _session_or_404(request, public_id)
    try:
        steer(session_public_id=session.public_id, therapist=request.user)
    except DialogueError as error:
        return _console_state_response(request, session, error=error.message, status=422)
    return _console_state_response(request, session)


@therapist_only
@require_POST
def call_admit(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Let a partner (or both) into a booked session's call from its waiting room."""
    session = _session_or_404(request, public_id)
    form = CallAdmitForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.call_admit(
                session_public_id=session.public_id,
                therapist=request.user,
                who=form.cleaned_data["who"],
                token=form.cleaned_data["token"],
            )
        except TherapistError as refused:
            error = refused.message
    else:
        error = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("therapists:console", public_id=public_id)
    context = {
        "session": session,
        "waiting_room": selectors.waiting_room(session=session),
        "admit_form": CallAdmitForm(),
        "admit_error": error,
    }
    return render(request, f"{PAGE}#waiting_room", context, status=422 if error else 200)


@therapist_only
@require_POST
def dialogue_pause(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _steered(request, public_id, services.session_pause_by_facilitator)


@therapist_only
@require_POST
def dialogue_resume(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _steered(request, public_id, services.session_resume_by_facilitator)


@therapist_only
@require_POST
def dialogue_end(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _steered(request, public_id, services.session_end_by_facilitator)


@therapist_only
@require_POST
def session_note(request: AuthedRequest, public_id: str) -> HttpResponse:
    session = _session_or_404(request, public_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(
                therapist=request.user,
                couple=session.couple,
                session=session,
                text=form.cleaned_data["text"],
                token=form.cleaned_data["token"],
            )
        except TherapistError as error:
            form.add_error("text", error.message)
        else:
            form = NoteForm()
    status = 422 if form.errors else 200
    notes = selectors.notes_of(therapist=request.user, couple=session.couple, session=session)
    if not request.htmx:
        if form.errors:
            messages.error(
                request, "; ".join(str(e) for errs in form.errors.values() for e in errs)
            )
        return redirect("therapists:console", public_id=public_id)
    return render(
        request,
        f"{PAGE}#notes_panel",
        {"session": session, "note_form": form, "notes": notes},
        status=status,
    )


# --- partners: homework done -------------------------------------------------------------------


@login_required
@require_POST
def homework_done(request: AuthedRequest, public_id: str) -> HttpResponse:
    try:
        services.homework_mark_done(user=request.user, homework_public_id=public_id)
    except TherapistError as error:
        raise Http404(error.message) from None
    messages.success(request, _("Well done. Your therapist will see it's done."))
    return redirect("home")


# --- links, from the partners' side ---------------------------------------------------------


def _link_decision(request: AuthedRequest, decide, done: str) -> HttpResponse:
    """A partner's decision about a link (consent, decline, withdraw): done, or why not."""
    try:
        decide()
    except LinkNotFound:
        raise Http404("No such therapist link.") from None
    except TherapistError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("home")


@login_required
@require_POST
def link_code_enter(request: AuthedRequest) -> HttpResponse:
    form = TherapistCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please enter the code your therapist gave you."))
        return redirect("home")
    try:
        link = services.link_code_redeem(
            user=request.user, code=form.cleaned_data["code"], request=request
        )
    except TherapistError as error:
        messages.error(request, error.message)
    else:
        assert link.therapist is not None  # a code is only ever issued by a therapist
        name = link.therapist.display_name
        messages.success(
            request,
            _("Thank you. %(name)s will have access once your partner consents too.")
            % {"name": name}
            if not link.is_active
            else _("%(name)s now has access.") % {"name": name},
        )
    return redirect("home")


@login_required
@require_POST
def therapist_invite(request: AuthedRequest) -> HttpResponse:
    form = TherapistInviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please enter your therapist's email address."))
        return redirect("home")
    try:
        link = services.therapist_invite(
            user=request.user,
            email=form.cleaned_data["email"],
            request=request,
            token=form.cleaned_data["token"],
        )
    except TherapistError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "We've emailed %(email)s. Access starts once they accept and your "
                "partner consents too."
            )
            % {"email": link.invited_email},
        )
    return redirect("home")


@login_required
@require_POST
def consent_give(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _link_decision(
        request,
        lambda: services.consent_give(user=request.user, link_public_id=public_id, request=request),
        _("Thank you: your consent is recorded."),
    )


@login_required
@require_POST
def consent_decline(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _link_decision(
        request,
        lambda: services.consent_withdraw(
            user=request.user, link_public_id=public_id, request=request, decline=True
        ),
        _("Declined. The therapist won't have access."),
    )


@login_required
@require_POST
def consent_withdraw(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _link_decision(
        request,
        lambda: services.consent_withdraw(
            user=request.user, link_public_id=public_id, request=request
        ),
        _("Done. The therapist no longer has access."),
    )
