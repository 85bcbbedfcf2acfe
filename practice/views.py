"""The partners' pages for practice between dialogues: their agreements (on the home page,
live over its socket), caring behaviours and progress. Partners of an active couple with both
partners only; anyone else gets 404 and learns nothing. A linked therapist's views of the
same are on the therapists' couple page (therapists/views.py)."""

from __future__ import annotations

import datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from couples.forms import form_token
from couples.http import AuthedRequest
from couples.models import Couple, User
from couples.selectors import couple_for, partner_of, partners_of
from practice import measures, selectors, services
from practice.forms import CaringItemForm, DaysForm, ExitForm, ReflectionForm, ThanksForm
from practice.models import EXIT_PLEDGES, MIRRORS, PARTNER, SCORES, THERAPIST
from practice.services import NotFound, PracticeError

HOME = "practice/_home.html"
REFLECTION = "practice/reflection.html"
EXITS = "practice/exits.html"
CARING = "practice/caring.html"


def partner_only(view):
    """A partner whose couple has both partners; anyone else: 404."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        couple = couple_for(user=user) if user.is_partner and not user.is_staff else None
        partner = partner_of(user=user, couple=couple) if couple else None
        if couple is None or partner is None:
            raise Http404("No such page.")
        request.couple, request.partner = couple, partner  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


# --- the home page's section -----------------------------------------------------------------


def home_context(*, user: User, couple: Couple | None, error: str = "") -> dict:
    if couple is None or not user.is_partner or partner_of(user=user, couple=couple) is None:
        return {}
    partner = partner_of(user=user, couple=couple)
    assert partner is not None
    caring = selectors.caring_for(user=user, partner=partner, couple=couple)
    today = next((d for d in caring.week if d.day == services.today()), None)
    return {
        "practice_on": True,
        "measure_due": selectors.measure_due(user=user, couple=couple),
        "skip_token": form_token(),
        "agreements": selectors.agreements_open(couple=couple),
        "caring_today": today,
        "practice_error": error,
        "thanks_form": ThanksForm(),
    }


def render_home_part(*, user: User, couple: Couple | None) -> str:
    """For the home socket (dialogues.push.home_part_register): this section, as it is now."""
    context = home_context(user=user, couple=couple)
    if not context:
        return ""
    return render_to_string(f"{HOME}#home_practice", {"user": user, **context})


def _home_answer(request: AuthedRequest, *, done: str = "", error: str = "", status: int = 200):
    """After a write from the home page: the section for htmx (422 with the message on bad
    input, swapped in by imago.js), else back home with a message."""
    if request.htmx:
        context = home_context(user=request.user, couple=request.couple, error=error)  # type: ignore[attr-defined]
        return render(request, f"{HOME}#home_practice", context, status=422 if error else status)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect("home")


def _agreement_write(request: AuthedRequest, write, done: str) -> HttpResponse:
    try:
        write()
    except NotFound:
        raise Http404("No such agreement.") from None
    except PracticeError as error:
        return _home_answer(request, error=error.message)
    return _home_answer(request, done=done)


@partner_only
@require_POST
def agreement_done(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _agreement_write(
        request,
        lambda: services.agreement_mark_done(user=request.user, agreement_public_id=public_id),
        _("Marked done for today. Thank you for keeping it."),
    )


@partner_only
@require_POST
def agreement_thanks(request: AuthedRequest, public_id: str) -> HttpResponse:
    form = ThanksForm(request.POST)
    if not form.is_valid():
        return _home_answer(request, error=_("Please write a short, one-line appreciation."))
    return _agreement_write(
        request,
        lambda: services.agreement_thank(
            user=request.user,
            agreement_public_id=public_id,
            text=form.cleaned_data["text"],
            token=form.cleaned_data["token"],
        ),
        _("Your appreciation was sent."),
    )


@partner_only
@require_POST
def agreement_days(request: AuthedRequest, public_id: str) -> HttpResponse:
    form = DaysForm(request.POST)
    if not form.is_valid():
        return _home_answer(request, error=_("Please choose a number of days from 1 to 90."))
    return _agreement_write(
        request,
        lambda: services.agreement_set_days(
            user=request.user, agreement_public_id=public_id, days=form.cleaned_data["days"]
        ),
        _("The agreement's length was changed."),
    )


# --- caring behaviours -----------------------------------------------------------------------


def _week_of(request: AuthedRequest) -> datetime.date | None:
    raw = request.GET.get("week", "")
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _caring_page(request: AuthedRequest, *, form=None, error: str = "", status: int = 200):
    couple, partner = request.couple, request.partner  # type: ignore[attr-defined]
    view = selectors.caring_for(
        user=request.user, partner=partner, couple=couple, week_of=_week_of(request)
    )
    week = datetime.timedelta(days=7)
    context = {
        "caring": view,
        "partner": partner,
        "item_form": form or CaringItemForm(),
        "error": error,
        "previous_week": view.week_of - week,
        "next_week": view.week_of + week if view.week_of + week <= services.today() else None,
        "today": services.today(),
    }
    return render(request, CARING, context, status=status)


@partner_only
@require_GET
def caring_page(request: AuthedRequest) -> HttpResponse:
    return _caring_page(request)


def _page_write(
    request: AuthedRequest, write, done: str, *, page, then: str, form=None
) -> HttpResponse:
    """A write from one of the practice pages: done (a message, back to `then`), or the
    page again with why not (400), and `form` (what was posted) shown again as it was."""
    try:
        write()
    except NotFound:
        raise Http404("Not found.") from None
    except PracticeError as error:
        return page(request, form=form, error=error.message, status=400)
    messages.success(request, done)
    return redirect(then)


def _caring_write(request: AuthedRequest, write, done: str, form=None) -> HttpResponse:
    return _page_write(request, write, done, page=_caring_page, then="practice:caring", form=form)


@partner_only
@require_POST
def caring_item_add(request: AuthedRequest) -> HttpResponse:
    form = CaringItemForm(request.POST)
    if not form.is_valid():
        return _caring_page(
            request, form=form, error=_("Please write one specific thing."), status=400
        )
    return _caring_write(
        request,
        lambda: services.caring_item_add(
            user=request.user, text=form.cleaned_data["text"], token=form.cleaned_data["token"]
        ),
        _("Added to your list."),
        form=form,
    )


@partner_only
@require_POST
def caring_item_remove(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _caring_write(
        request,
        lambda: services.caring_item_remove(user=request.user, item_public_id=public_id),
        _("Taken off your list."),
    )


@partner_only
@require_POST
def caring_share(request: AuthedRequest) -> HttpResponse:
    return _caring_write(
        request,
        lambda: services.caring_list_share(user=request.user),
        _("Your list is shared with %(name)s.") % {"name": request.partner.display_name},  # type: ignore[attr-defined]
    )


@partner_only
@require_POST
def caring_give(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _caring_write(
        request,
        lambda: services.caring_give(user=request.user, item_public_id=public_id),
        _("Marked for today. Thank you for caring."),
    )


@partner_only
@require_POST
def caring_acknowledge(request: AuthedRequest, public_id: str) -> HttpResponse:
    try:
        services.caring_acknowledge(user=request.user, given_public_id=public_id)
    except NotFound:
        raise Http404("Not found.") from None
    if request.htmx:
        return _home_answer(request)
    messages.success(request, _("Thank you for noticing."))
    return redirect("practice:caring")


# --- closing exits ------------------------------------------------------------------------------


def _exits_page(request: AuthedRequest, *, form=None, error: str = "", status: int = 200):
    couple, partner = request.couple, request.partner  # type: ignore[attr-defined]
    context = {
        "exits": selectors.exits_own(user=request.user, couple=couple),
        "exits_closed": selectors.exits_closing(couple=couple),
        "exit_form": form or ExitForm(),
        "partner": partner,
        "pledges": list(EXIT_PLEDGES),
        "default_days": settings.AGREEMENT_DAYS,
        "error": error,
    }
    return render(request, EXITS, context, status=status)


@partner_only
@require_GET
def exits_page(request: AuthedRequest) -> HttpResponse:
    return _exits_page(request)


def _exit_write(request: AuthedRequest, write, done: str, form=None) -> HttpResponse:
    return _page_write(request, write, done, page=_exits_page, then="practice:exits", form=form)


@partner_only
@require_POST
def exit_add(request: AuthedRequest) -> HttpResponse:
    form = ExitForm(request.POST)
    if not form.is_valid():
        return _exits_page(
            request, form=form, error=_("Please name the exit in a few words."), status=400
        )
    return _exit_write(
        request,
        lambda: services.exit_add(
            user=request.user,
            text=form.cleaned_data["text"],
            avoids=form.cleaned_data["avoids"],
            token=form.cleaned_data["token"],
        ),
        _("Added to your list. Only you can see it."),
        form=form,
    )


@partner_only
@require_POST
def exit_remove(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _exit_write(
        request,
        lambda: services.exit_remove(user=request.user, exit_public_id=public_id),
        _("Taken off your list."),
    )


@partner_only
@require_POST
def exit_close(request: AuthedRequest, public_id: str) -> HttpResponse:
    partner = request.partner  # type: ignore[attr-defined]
    return _exit_write(
        request,
        lambda: services.exit_close(
            user=request.user,
            exit_public_id=public_id,
            how=request.POST.get("how", ""),
            days=request.POST.get("days", ""),
        ),
        _("Agreed. %(name)s sees it and can send you an appreciation.")
        % {"name": partner.display_name},
    )


# --- the childhood reflection -------------------------------------------------------------------


def _reflection_page(request: AuthedRequest, *, form=None, error: str = "", status: int = 200):
    couple, partner = request.couple, request.partner  # type: ignore[attr-defined]
    own = selectors.reflection_own(user=request.user, couple=couple)
    context = {
        "reflection": own,
        "form": form or ReflectionForm(initial=(own.answers if own else {})),
        "partner": partner,
        "partners_reflection": selectors.reflection_shared_by_partner(
            viewer=request.user, partner=partner, couple=couple
        ),
        "error": error,
        "PARTNER": PARTNER,
        "THERAPIST": THERAPIST,
    }
    return render(request, REFLECTION, context, status=status)


@partner_only
@require_http_methods(["GET", "POST"])
def reflection_page(request: AuthedRequest) -> HttpResponse:
    """The private worksheet: the person's own answers, and what their partner shares."""
    if request.method == "GET":
        return _reflection_page(request)
    form = ReflectionForm(request.POST)
    if not form.is_valid():
        return _reflection_page(
            request, form=form, error=_("Please shorten the answers marked below."), status=400
        )
    try:
        services.reflection_save(user=request.user, answers=form.cleaned_data)
    except PracticeError as error:
        return _reflection_page(request, form=form, error=error.message, status=400)
    messages.success(request, _("Saved. Only you can see it unless you choose to share it."))
    return redirect("practice:reflection")


@partner_only
@require_POST
def reflection_share(request: AuthedRequest) -> HttpResponse:
    audience = request.POST.get("audience", "")
    shared = request.POST.get("shared") == "1"
    try:
        services.reflection_share(user=request.user, audience=audience, shared=shared)
    except NotFound:
        raise Http404("Not found.") from None
    except PracticeError as error:
        return _reflection_page(request, error=error.message, status=400)
    if audience == PARTNER:
        name = {"name": request.partner.display_name}  # type: ignore[attr-defined]
        done = _("Shared with %(name)s.") if shared else _("No longer shared with %(name)s.")
        done %= name
    else:
        done = (
            _("Shared with your therapist.")
            if shared
            else _("No longer shared with your therapist.")
        )
    messages.success(request, done)
    return redirect("practice:reflection")


# --- progress --------------------------------------------------------------------------------


@partner_only
@require_GET
def progress_page(request: AuthedRequest) -> HttpResponse:
    couple = request.couple  # type: ignore[attr-defined]
    partners = partners_of(couple=couple)
    progress = selectors.progress_for(couple=couple, partners=partners)
    sharing = selectors.sharing_of(couple=couple, person=request.user)
    context = {
        "progress": progress,
        "for_therapist": False,
        "measures_view": selectors.measures_for(
            couple=couple, partners=partners, viewer=request.user
        ),
        "mirrors": selectors.mirrors_for(couple=couple, partners=partners, viewer=request.user),
        "scores_shared": bool(sharing and sharing.scores_shared_at),
        "mirrors_shared": bool(sharing and sharing.mirrors_shared_at),
        "SCORES": SCORES,
        "MIRRORS": MIRRORS,
        "partner_name": request.partner.display_name,  # type: ignore[attr-defined]
    }
    return render(request, "practice/progress.html", context)


# --- outcome measures ---------------------------------------------------------------------------


def _instrument_or_404(code: str) -> measures.Instrument:
    instrument = measures.INSTRUMENTS.get(code)
    if instrument is None:
        raise Http404("No such questionnaire.")
    return instrument


def _measure_page(
    request: AuthedRequest,
    instrument: measures.Instrument,
    *,
    chosen: dict | None = None,
    token: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    language = translation.get_language() or ""
    context = {
        "instrument": instrument,
        "rows": [(item, (chosen or {}).get(item.key, "")) for item in instrument.items],
        "pair_keys": measures.PAIR_KEYS,
        "token": token or form_token(),
        "skip_token": form_token(),
        "validated": measures.validated_in(language),
        "citation": measures.CITATION,
        "error": error,
    }
    return render(request, "practice/measure.html", context, status=status)


@partner_only
@require_http_methods(["GET", "POST"])
def measure_page(request: AuthedRequest, code: str) -> HttpResponse:
    """A questionnaire: every question on one page; optional, and skippable."""
    instrument = _instrument_or_404(code)
    if request.method == "GET":
        return _measure_page(request, instrument)
    answers = {key: request.POST.get(key, "") for key in instrument.keys}
    token = request.POST.get("token", "")
    try:
        services.measure_answer(
            user=request.user, instrument=instrument.code, answers=answers, token=token
        )
    except NotFound:
        raise Http404("No such page.") from None
    except PracticeError as error:
        chosen = {k: v for k, v in answers.items() if isinstance(v, str) and v.isdigit()}
        safe_token = token if token and len(token) <= 64 and token.isprintable() else ""
        return _measure_page(
            request, instrument, chosen=chosen, token=safe_token, error=error.message, status=400
        )
    messages.success(
        request,
        _("Thank you. Your answers are saved; only you see them unless you share your scores."),
    )
    return redirect("practice:progress")


@partner_only
@require_POST
def measure_skip(request: AuthedRequest, code: str) -> HttpResponse:
    instrument = _instrument_or_404(code)
    try:
        services.measure_skip(
            user=request.user, instrument=instrument.code, token=request.POST.get("token")
        )
    except NotFound:
        raise Http404("No such page.") from None
    except PracticeError as error:
        messages.error(request, error.message)
        return redirect("home")
    messages.info(request, _("Skipped. It will be offered again another time."))
    return redirect("home")


@partner_only
@require_POST
def measure_share(request: AuthedRequest) -> HttpResponse:
    what = request.POST.get("what", "")
    shared = request.POST.get("shared") == "1"
    try:
        services.measure_share(user=request.user, what=what, shared=shared)
    except NotFound:
        raise Http404("No such page.") from None
    except PracticeError as error:
        messages.error(request, error.message)
        return redirect("practice:progress")
    name = {"name": request.partner.display_name}  # type: ignore[attr-defined]
    done = _("Shared with %(name)s.") if shared else _("No longer shared with %(name)s.")
    messages.success(request, done % name)
    return redirect("practice:progress")
