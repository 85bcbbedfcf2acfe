"""Site-wide security middleware: where CSP reports go, nothing private in caches, no NUL
bytes, login lifetimes, required 2FA."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import SuspiciousOperation
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _

from couples.http import HtmxRequest
from couples.selectors import two_factor_missing
from live import session_limits

CSP_REPORT_PATH = "/csp-report/"  # security:csp_report
REPORTING_ENDPOINTS = f'csp="{CSP_REPORT_PATH}"'


class ReportingEndpointsMiddleware:
    """Names the endpoint the policy's `report-to csp` means (the Reporting API's header);
    django-csp writes the policy itself (settings.CONTENT_SECURITY_POLICY)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            response["Reporting-Endpoints"] = REPORTING_ENDPOINTS
        return response


class PrivateNoStoreMiddleware:
    """Every response to a signed-in person is private and never stored: no browser cache, no
    proxy, no back button on a shared computer keeps a dialogue, a transcript, a console, a
    couple page or anyone's home page. One rule for every page, partial, download and
    redirect (what `never_cache` does: `Cache-Control: max-age=0, no-cache, no-store,
    must-revalidate, private` and an `Expires` in the past). Visitors' public pages are left
    alone.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class NulByteInRequest(SuspiciousOperation):
    """A NUL byte in a request's address, query or form (logged as django.security.*)."""


def _has_nul(data: QueryDict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )


class RejectNulBytesMiddleware:
    """A NUL byte is never part of an id, a token or anything a person types: a request with
    one in its path, query string or form fields gets a 400 (templates/400.html) before any
    view reads it. PostgreSQL refuses NUL bytes in text outright, which made every lookup of
    such an id a 500; SQLite would have stored them. Uploaded files are not looked into.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or _has_nul(request.GET):
            raise NulByteInRequest("NUL byte in the URL")
        if request.method == "POST" and _has_nul(request.POST):
            raise NulByteInRequest("NUL byte in a form field")
        return self.get_response(request)


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
    """12 hours from login for everyone; 30 idle minutes for therapists and staff, and
    `PARTNER_IDLE_MINUTES` (4 hours) for partners, whose open live pages count as activity.

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
            if reason == session_limits.EXPIRED_IDLE and not strict:
                # Idle by its page requests: a live page of this login may have been open.
                live_at = session_limits.live_seen(session.session_key)
                reason = session_limits.expiry_reason(
                    session, strict=strict, at=at, live_at=live_at
                )
            if reason is not None:
                logout(request)
                if reason == session_limits.EXPIRED_IDLE:
                    words = session_limits.idle_words(strict=strict)
                    text = _(
                        "For your safety you were logged out after %(duration)s without activity."
                    ) % {"duration": words}
                else:
                    text = _("Your session has ended after 12 hours. Please log in again.")
                return _to_login(request, text)
            seen_at = float(session.get(session_limits.SEEN_AT, 0))
            if at - seen_at > session_limits.seen_every(strict=strict):
                session[session_limits.SEEN_AT] = at  # a session write at most this often
        return self.get_response(request)


MFA_OPEN_PREFIXES = ("/accounts/", "/static/", CSP_REPORT_PATH)
# What the pages themselves ask in the background, harmless before the second factor: the
# person's own time zone (sent by every page until they have one, the set-up page included)
# and language. Logging out is an account page (/accounts/logout/).
MFA_OPEN_PATHS = (
    "/account/time-zone/",  # couples:time_zone
    "/language/",  # couples:language
    # The installable app's public files, the same for everyone (no one's data in them).
    "/sw.js",
    "/manifest.webmanifest",
    "/offline/",
)


def is_navigation(request: HtmxRequest) -> bool:
    """A page the person opened (address bar, link, reload): a GET that is neither htmx nor a
    script's fetch (browsers say which with Sec-Fetch-Mode; older ones don't say)."""
    if request.method not in ("GET", "HEAD") or request.htmx:
        return False
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return False
    return request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate"


class MfaRequiredMiddleware:
    """Therapists and staff set up two-factor authentication before anything else.

    Until they have an authenticator app (`couples.selectors.two_factor_missing`, the rule the
    sockets use too), only the account pages (log out, two-factor setup, email, password),
    static files and the two settings pages send in the background answer. A page they open
    is sent to the set-up page; anything else (htmx, a script's fetch, any POST) is refused
    with a 403 and never redirected there: a background request that followed the redirect
    loaded the set-up page again behind the person's back (it used to make a new secret,
    leaving the QR code on the screen stale).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HtmxRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(MFA_OPEN_PREFIXES)
            and request.path not in MFA_OPEN_PATHS
            and two_factor_missing(user=user)
        ):
            text = _(
                "Please set up two-factor authentication first: therapist and staff "
                "accounts need it to protect the couples they work with."
            )
            if not is_navigation(request):
                return JsonResponse({"error": text}, status=403)
            messages.info(request, text)
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


class LanguageMiddleware:
    """Every page is in the person's own language: the one on their account once signed in
    (kept from the first request that has none), before that the one chosen in the footer
    (a cookie) or the browser's `Accept-Language`."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from couples import languages, services

        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated:
            language = languages.supported(user.language)
            if language is None:
                language = translation.get_language_from_request(request)
                services.person_language_set(user=user, language=language, only_if_unset=True)
        if language is None:
            language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        if user is not None and user.is_authenticated:
            languages.remember(request, response, language)
        return response


class TimeZoneMiddleware:
    """Every time is shown in the viewer's own zone (UTC until they have one)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
