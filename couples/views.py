"""Pairing up, and your data. Views are thin: check who is asking, call a service, render."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from couples import adapter, languages, push, selectors, services
from couples import devices as devices_
from couples.forms import DeleteAccountForm, InviteForm, StartCoupleForm
from couples.http import AuthedRequest, next_path
from couples.models import NotificationChoice, User, is_public_id, known_zones, login_id
from couples.services import CoupleError
from live import clock
from security.audit import audit

# The link is shown once to its maker; only its hash is stored.
NEW_INVITE_LINK = "new_invitation_link"
# An invitation opened before signing up: logging in returns to it (couples/adapter.py), and
# the home page offers it again.
PENDING_INVITATION = adapter.PENDING_INVITATION


def _remember_link(request: HttpRequest, issued: services.IssuedInvitation) -> None:
    request.session[NEW_INVITE_LINK] = {
        "invitation": issued.invitation.public_id,
        "url": request.build_absolute_uri(issued.path),
    }


def remembered_link(request: HttpRequest, invitations) -> str | None:
    remembered = request.session.get(NEW_INVITE_LINK)
    if not remembered:
        return None
    if any(inv.public_id == remembered["invitation"] for inv in invitations):
        return remembered["url"]
    request.session.pop(NEW_INVITE_LINK, None)
    return None


@login_required
@require_POST
def couple_start(request: AuthedRequest) -> HttpResponse:
    form = StartCoupleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please check the email address."))
        return redirect("home")
    try:
        issued = services.couple_create(
            user=request.user, partner_email=form.cleaned_data["partner_email"]
        )
    except CoupleError as error:
        messages.error(request, error.message)
        return redirect("home")
    _remember_link(request, issued)
    if issued.invitation.email:
        messages.success(
            request,
            _("We've emailed your invitation to %(email)s.") % {"email": issued.invitation.email},
        )
    else:
        messages.success(request, _("Your couple is ready. Send the link below to your partner."))
    return redirect("home")


@login_required
@require_POST
def invitation_new(request: AuthedRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    couple = selectors.couple_for(user=request.user)
    if couple is None or not form.is_valid():
        problem = _("Please check the email address.") if couple else _("Start a couple first.")
        messages.error(request, problem)
        return redirect("home")
    try:
        issued = services.invitation_issue(
            user=request.user, couple=couple, email=form.cleaned_data["partner_email"]
        )
    except CoupleError as error:
        messages.error(request, error.message)
        return redirect("home")
    _remember_link(request, issued)
    if issued.invitation.email:
        messages.success(
            request,
            _("We've emailed a new link to %(email)s.") % {"email": issued.invitation.email},
        )
    else:
        messages.success(request, _("Here is a new link. Earlier links no longer work."))
    return redirect("home")


@login_required
@require_POST
def invitation_revoke(request: AuthedRequest, public_id: str) -> HttpResponse:
    try:
        services.invitation_revoke(user=request.user, invitation_public_id=public_id)
    except CoupleError as error:
        messages.error(request, error.message)
    else:
        request.session.pop(NEW_INVITE_LINK, None)
        messages.success(request, _("The invitation link no longer works."))
    return redirect("home")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invited person lands on: who invited them, and a button to accept."""
    found = selectors.invitation_by_token(token=token)
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        if user is None:
            return redirect(f"/accounts/login/?next={request.path}")
        try:
            services.invitation_accept(user=user, token=token)
        except CoupleError as error:
            messages.error(request, error.message)
            return redirect(request.path)
        request.session.pop(PENDING_INVITATION, None)
        assert found is not None  # invitation_accept refuses a token that finds nothing
        messages.success(
            request,
            _("You're now paired with %(name)s.") % {"name": found.invited_by.display_name},
        )
        return redirect("home")
    problem = services.invitation_problem(invitation=found, user=user)
    if user is None and problem is None:
        request.session[PENDING_INVITATION] = token
    status = 404 if found is None else 200
    return render(
        request,
        "couples/invitation.html",
        {"invitation": found, "problem": problem, "next": request.path},
        status=status,
    )


@login_required
@require_POST
def couple_leave(request: AuthedRequest) -> HttpResponse:
    try:
        services.couple_leave(user=request.user)
    except CoupleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You've left the couple. Your past dialogues are kept."))
    return redirect("home")


@login_required
@require_POST
def two_factor_hint_dismiss(request: AuthedRequest) -> HttpResponse:
    """A partner's "no thanks" to the home page's two-factor suggestion (partners only:
    therapists and staff must use two-factor authentication)."""
    if not request.user.is_partner:
        raise Http404
    services.two_factor_hint_dismiss(user=request.user)
    if request.htmx:
        return HttpResponse("")  # the suggestion swaps itself out
    messages.info(
        request, _("You can turn on two-factor authentication any time from your account pages.")
    )
    return redirect("home")


# --- signed-in devices (allauth's user sessions) -------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def devices(request: AuthedRequest) -> HttpResponse:
    """Where the person is logged in; they may sign out one other device, or all the others."""
    if request.method == "POST":
        device = request.POST.get("device")
        ended = devices_.devices_sign_out(user=request.user, request=request, device=device)
        if ended:
            text = (
                _("That device is signed out.")
                if device
                else _("Your other devices are signed out.")
            )
            messages.success(request, text)
        else:
            messages.info(request, _("That device was already signed out."))
        return redirect("couples:devices")
    listed = devices_.devices_of(user=request.user, request=request)
    context = {"devices": listed, "pushes": push.subscriptions_of(user=request.user)}
    return render(request, "couples/devices.html", context)


# --- Web Push: turning it on (settings) and off (devices page, or the browser itself) ---------

PUSH_BODY_MAX = 4096  # a subscription is a few hundred bytes


@login_required
@require_POST
def push_subscribe(request: AuthedRequest) -> HttpResponse:
    """The browser's push subscription, sent by imago.js after the person clicked "Turn on"
    (its permission was asked on that click)."""
    if len(request.body) > PUSH_BODY_MAX:
        return JsonResponse({"error": _("That is too long.")}, status=413)
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not request.session.session_key:
        request.session.save()
    try:
        subscription = push.subscription_save(
            user=request.user,
            data=data,
            login=login_id(request.session.session_key or ""),
            device_name=devices_.device_name(request.META.get("HTTP_USER_AGENT", "")),
        )
    except push.PushError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse(
        {"id": subscription.public_id, "message": _("Notifications are on for this device.")},
        status=201,
    )


@login_required
@require_POST
def push_unsubscribe(request: AuthedRequest) -> HttpResponse:
    """Turn one device's notifications off: from the devices page (its id), or from the
    browser itself (its endpoint, as JSON)."""
    if request.content_type == "application/json":
        if len(request.body) > PUSH_BODY_MAX:
            return JsonResponse({"error": _("That is too long.")}, status=413)
        try:
            endpoint = json.loads(request.body.decode("utf-8")).get("endpoint")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            endpoint = None
        removed = push.subscription_remove_endpoint(user=request.user, endpoint=endpoint)
        return JsonResponse({"removed": removed})
    public_id = request.POST.get("subscription", "")
    if not is_public_id(public_id):
        return render(
            request, "400.html", {"message": _("That device isn't on your list.")}, status=400
        )
    if push.subscription_remove(user=request.user, public_id=public_id):
        messages.success(request, _("That device won't get notifications any more."))
    else:
        messages.info(request, _("That device already doesn't get notifications."))
    return redirect("couples:devices")


# --- your data: download and delete ----------------------------------------------------------


@login_required
@require_GET
def your_data(request: HttpRequest) -> HttpResponse:
    return render(request, "couples/your_data.html")


@login_required
@require_GET
def your_data_export(request: AuthedRequest) -> HttpResponse:
    data = selectors.account_export(user=request.user)
    audit(action="account.exported", actor=request.user, target=request.user, request=request)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    stamp = clock.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="imago-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: AuthedRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=request.user)
        # Already logged out everywhere by the service; forget this browser's session too
        # (not logout(), which would write one more audit event about the erased person).
        request.session.flush()
        anonymous: HttpRequest = request  # signed out from here on
        anonymous.user = AnonymousUser()
        messages.success(request, _("Your account has been deleted. Take care."))
        return redirect("home")
    status = 422 if request.method == "POST" else 200
    return render(request, "couples/account_delete.html", {"form": form}, status=status)


# --- account settings: time zone, "your move" emails, the private calendar feed --------------

NEW_FEED_URL = "new_calendar_feed_url"


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: AuthedRequest) -> HttpResponse:
    """Language, time zone (every time is shown in it) and which emails to get."""
    error = ""
    if request.method == "POST":
        try:
            if "language" in request.POST:  # the page always sends it
                services.person_language_set(user=request.user, language=request.POST["language"])
                translation.activate(request.user.language)  # the message below is in it
            services.person_time_zone_set(user=request.user, zone=request.POST.get("time_zone", ""))
        except CoupleError as exc:
            error = exc.message
        else:
            chosen = {
                kind: request.POST[f"notify_{kind}"]
                for kind in push.KINDS
                if f"notify_{kind}" in request.POST
            }
            try:
                push.choices_set(user=request.user, choices=chosen)
            except push.PushError as exc:
                error = exc.message
            else:
                messages.success(request, _("Saved."))
                return redirect("couples:account_settings")
    choices = push.choices_of(user=request.user)
    context = {
        "notify_kinds": [(kind, label, choices[kind]) for kind, label in push.KINDS.items()],
        "notify_options": NotificationChoice.How.choices,
        "push_enabled": push.enabled(),
        "vapid_public_key": settings.VAPID_PUBLIC_KEY,
        # Whether this login turned pushes on: a browser still subscribed from someone
        # else's login (logged out since) isn't shown as "on" for this person.
        "push_here": push.subscribed_here(
            user=request.user, login=login_id(request.session.session_key or "")
        ),
        "zones": sorted(known_zones()),
        "languages": languages.choices(),
        "error": error,
        "feed_open": selectors.calendar_feed_open(user=request.user),
        **_device_sharing_context(request.user),
        "feed_url": request.session.pop(NEW_FEED_URL, None),
        "your_move_minutes": settings.IMAGO_YOUR_MOVE_AFTER_MINUTES,
    }
    return render(request, "couples/account_settings.html", context, status=422 if error else 200)


@require_POST
def language_choose(request: HttpRequest) -> HttpResponse:
    """The footer's language chooser, signed in or not: kept in a cookie, and on the account
    of whoever is signed in (their emails follow it too). Back to the page it was chosen on."""
    code = request.POST.get("language", "")
    user = request.user
    try:
        if user.is_authenticated:
            services.person_language_set(user=user, language=code)
        elif languages.offered(code) is None:
            raise CoupleError(_("Please choose a language from the list."))
    except CoupleError as exc:
        return render(request, "400.html", {"message": exc.message}, status=400)
    # A path only: a bare word would be taken for a view name (NoReverseMatch, a 500).
    response = HttpResponseRedirect(next_path(request.POST.get("next"), default=reverse("home")))
    languages.remember(request, response, languages.offered(code) or settings.LANGUAGE_CODE)
    return response


@login_required
@require_POST
def time_zone_detect(request: AuthedRequest) -> HttpResponse:
    """The browser's own zone, sent on a first visit: kept only if none is set yet."""
    try:
        changed = services.person_time_zone_set(
            user=request.user, zone=request.POST.get("time_zone", ""), only_if_unset=True
        )
    except CoupleError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"changed": changed})


@login_required
@require_POST
def calendar_feed_new(request: AuthedRequest) -> HttpResponse:
    token = services.calendar_feed_new(user=request.user)
    request.session[NEW_FEED_URL] = request.build_absolute_uri(
        reverse("dialogues:feed", args=[token])
    )
    return redirect("couples:account_settings")


@login_required
@require_POST
def calendar_feed_revoke(request: AuthedRequest) -> HttpResponse:
    services.calendar_feed_revoke(user=request.user)
    messages.success(request, _("Your calendar feed is turned off. Its link no longer works."))
    return redirect("couples:account_settings")


def _device_sharing_context(user: User) -> dict:
    """Whether this partner lets the other take their turns on one device (and who that is)."""
    couple = selectors.couple_for(user=user)
    partner = selectors.partner_of(user=user, couple=couple) if couple else None
    allowed = couple is not None and selectors.device_sharing_allowed(
        couple_id=couple.pk, granted_by_id=user.pk
    )
    return {"sharing_partner": partner, "sharing_allowed": allowed}


@login_required
@require_POST
def device_sharing(request: AuthedRequest) -> HttpResponse:
    """Allow (once, until withdrawn) or withdraw the partner taking this person's turns in a
    said-aloud dialogue on the partner's device. Audited either way."""
    allow = request.POST.get("allow", "")
    if allow not in ("0", "1"):
        messages.error(request, _("Please choose again: that choice wasn't one of the buttons."))
        return redirect("couples:account_settings")
    if allow == "1":
        try:
            services.device_sharing_allow(user=request.user, request=request)
        except CoupleError as exc:
            messages.error(request, exc.message)
            return redirect("couples:account_settings")
        messages.success(
            request,
            _("Allowed. Your partner can now take both your turns on their device, said aloud."),
        )
    else:
        services.device_sharing_revoke(user=request.user, request=request)
        messages.success(
            request, _("Withdrawn. Any dialogue on one device for you both has stopped.")
        )
    return redirect("couples:account_settings")
