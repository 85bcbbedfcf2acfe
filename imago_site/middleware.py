"""Site-wide security middleware: Content Security Policy, login lifetimes, required 2FA."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from couples import session_limits
from couples.http import HtmxRequest

CSP_REPORT_PATH = "/csp-report/"  # couples:csp_report
REPORTING_ENDPOINTS = f'csp="{CSP_REPORT_PATH}"'

# No inline scripts or styles anywhere, no eval: htmx is told not to need them (base.html).
# connect-src 'self' covers the same-origin ws:/wss: websocket (CSP level 3).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # data: for the two-factor QR code allauth renders
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        # Violations are reported to us and counted in the admin (couples/csp.py): report-to
        # for browsers with the Reporting API (the endpoint is named in Reporting-Endpoints),
        # report-uri for the others.
        f"report-uri {CSP_REPORT_PATH}",
        "report-to csp",
    ]
)
# The same policy for the Django admin: its scripts are all files, and its one inline <style>
# (change lists with no action bar at all) is never printed here, since every list has one.


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CSP
            response["Reporting-Endpoints"] = REPORTING_ENDPOINTS
        return response


def _to_login(request: HtmxRequest, message: str) -> HttpResponse:
    url = reverse("account_login")
    if request.method == "GET" and not request.htmx:
        url += "?" + urlencode({"next": request.get_full_path()})
    messages.info(request, message)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SessionLimitsMiddleware:
    """12 hours from login for everyone; 30 idle minutes for therapists and staff.

    Enforced here from the login time stored in the session (couples/signals.py), not by the
    cookie's age alone, which every save of the session slides forward.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HtmxRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            strict = session_limits.is_strict(user)
            at = session_limits.now()
            if session.get(session_limits.LOGIN_AT) is None:
                session[session_limits.LOGIN_AT] = at  # a login from before this rule
            reason = session_limits.expiry_reason(session, strict=strict, at=at)
            if reason is not None:
                logout(request)
                if reason == session_limits.EXPIRED_IDLE:
                    text = "For your safety you were logged out after 30 minutes without activity."
                else:
                    text = "Your session has ended after 12 hours. Please log in again."
                return _to_login(request, text)
            if strict and at - float(session.get(session_limits.SEEN_AT, 0)) > 30:
                session[session_limits.SEEN_AT] = at  # at most one session write per 30 s
        return self.get_response(request)


MFA_OPEN_PREFIXES = ("/accounts/", "/static/", CSP_REPORT_PATH)


class MfaRequiredMiddleware:
    """Therapists and staff set up two-factor authentication before anything else.

    Until they have an authenticator app, only the account pages (log out, two-factor setup,
    email, password) and static files answer; everything else sends them to the setup page.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HtmxRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and session_limits.is_strict(user)
            and not request.path.startswith(MFA_OPEN_PREFIXES)
            and not mfa_enabled(user)
        ):
            url = reverse("mfa_activate_totp")
            messages.info(
                request,
                "Please set up two-factor authentication first: therapist and staff "
                "accounts need it to protect the couples they work with.",
            )
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
        return self.get_response(request)


def mfa_enabled(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()
