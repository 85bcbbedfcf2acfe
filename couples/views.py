"""Home page and pairing up. Views are thin: check who is asking, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from couples import selectors, services
from couples.audit import audit
from couples.forms import (
    DeleteAccountForm,
    InviteForm,
    StartCoupleForm,
    TherapistCodeForm,
    TherapistInviteForm,
)
from couples.services import CoupleError

# The link is shown once to its maker; only its hash is stored.
NEW_INVITE_LINK = "new_invitation_link"
# An invitation opened before signing up, offered again on the home page afterwards.
PENDING_INVITATION = "pending_invitation_token"


def _remember_link(request: HttpRequest, issued: services.IssuedInvitation) -> None:
    request.session[NEW_INVITE_LINK] = {
        "invitation": issued.invitation.public_id,
        "url": request.build_absolute_uri(issued.path),
    }


def _remembered_link(request: HttpRequest, invitations) -> str | None:
    remembered = request.session.get(NEW_INVITE_LINK)
    if not remembered:
        return None
    if any(inv.public_id == remembered["invitation"] for inv in invitations):
        return remembered["url"]
    request.session.pop(NEW_INVITE_LINK, None)
    return None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "home_public.html")
    user = request.user
    couple = selectors.couple_for(user=user)
    partner = selectors.partner_of(user=user, couple=couple) if couple else None
    invitations = list(selectors.pending_invitations(couple=couple)) if couple else []
    pending_token = request.session.get(PENDING_INVITATION)
    pending_invite = None
    if pending_token:
        pending_invite = selectors.invitation_by_token(token=pending_token)
        if services.invitation_problem(invitation=pending_invite, user=user):
            request.session.pop(PENDING_INVITATION, None)
            pending_invite = None
    context = {
        "pending_invite": pending_invite,
        "pending_invite_token": pending_token if pending_invite else None,
        "couple": couple,
        "partner": partner,
        "invitations": invitations,
        "invite_link": _remembered_link(request, invitations) if couple and not partner else None,
        "start_form": StartCoupleForm(),
        "invite_form": InviteForm(),
    }
    from dialogues.selectors import home_dialogues
    from therapists.selectors import homework_for_couple

    context.update(home_dialogues(user=user, couple=couple))
    if user.is_therapist and not user.is_staff:
        from therapists.selectors import dashboard

        context.update(dashboard(therapist=user))  # their dashboard is their home page
    if couple and partner and user.is_partner:
        context["therapist_links"] = selectors.couple_therapist_links(couple=couple, viewer=user)
        context["homework"] = homework_for_couple(couple=couple)
        context["code_form"] = TherapistCodeForm()
        context["therapist_invite_form"] = TherapistInviteForm()
    return render(request, "home.html", context)


@login_required
@require_POST
def couple_start(request: HttpRequest) -> HttpResponse:
    form = StartCoupleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please check the email address.")
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
        messages.success(request, f"We've emailed your invitation to {issued.invitation.email}.")
    else:
        messages.success(request, "Your couple is ready. Send the link below to your partner.")
    return redirect("home")


@login_required
@require_POST
def invitation_new(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    couple = selectors.couple_for(user=request.user)
    if couple is None or not form.is_valid():
        problem = "Please check the email address." if couple else "Start a couple first."
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
        messages.success(request, f"We've emailed a new link to {issued.invitation.email}.")
    else:
        messages.success(request, "Here is a new link. Earlier links no longer work.")
    return redirect("home")


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        services.invitation_revoke(user=request.user, invitation_public_id=public_id)
    except CoupleError as error:
        messages.error(request, error.message)
    else:
        request.session.pop(NEW_INVITE_LINK, None)
        messages.success(request, "The invitation link no longer works.")
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
        messages.success(request, f"You're now paired with {found.invited_by.display_name}.")
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
def couple_leave(request: HttpRequest) -> HttpResponse:
    try:
        services.couple_leave(user=request.user)
    except CoupleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "You've left the couple. Your past dialogues are kept.")
    return redirect("home")


# --- your data: download and delete ----------------------------------------------------------


@login_required
@require_GET
def your_data(request: HttpRequest) -> HttpResponse:
    return render(request, "couples/your_data.html")


@login_required
@require_GET
def your_data_export(request: HttpRequest) -> HttpResponse:
    data = selectors.account_export(user=request.user)
    audit(action="account.exported", actor=request.user, target=request.user, request=request)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="imago-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=request.user, request=request)
        # Already logged out everywhere by the service; forget this browser's session too
        # (not logout(), which would write one more audit event about the erased person).
        request.session.flush()
        request.user = AnonymousUser()
        messages.success(request, "Your account has been deleted. Take care.")
        return redirect("home")
    status = 422 if request.method == "POST" else 200
    return render(request, "couples/account_delete.html", {"form": form}, status=status)


# --- therapist links, from the partners' side ------------------------------------------------


@login_required
@require_POST
def therapist_code_enter(request: HttpRequest) -> HttpResponse:
    form = TherapistCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please enter the code your therapist gave you.")
        return redirect("home")
    try:
        link = services.link_code_redeem(
            user=request.user, code=form.cleaned_data["code"], request=request
        )
    except CoupleError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Thank you. {link.therapist.display_name} will have access once your partner "
            "consents too."
            if not link.is_active
            else f"{link.therapist.display_name} now has access.",
        )
    return redirect("home")


@login_required
@require_POST
def therapist_invite(request: HttpRequest) -> HttpResponse:
    form = TherapistInviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please enter your therapist's email address.")
        return redirect("home")
    try:
        link = services.therapist_invite(
            user=request.user, email=form.cleaned_data["email"], request=request
        )
    except CoupleError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"We've emailed {link.invited_email}. Access starts once they accept and your "
            "partner consents too.",
        )
    return redirect("home")


def _consent_action(action, done: str):
    @login_required
    @require_POST
    def view(request: HttpRequest, public_id: str) -> HttpResponse:
        try:
            action(user=request.user, link_public_id=public_id, request=request)
        except services.LinkNotFound:
            raise Http404("No such therapist link.") from None
        except CoupleError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect("home")

    return view


consent_give = _consent_action(services.consent_give, "Thank you: your consent is recorded.")
consent_withdraw = _consent_action(
    services.consent_withdraw, "Done. The therapist no longer has access."
)


def _decline(*, user, link_public_id, request):
    return services.consent_withdraw(
        user=user, link_public_id=link_public_id, request=request, decline=True
    )


consent_decline = _consent_action(_decline, "Declined. The therapist won't have access.")
