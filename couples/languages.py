"""The languages the app speaks: English and one more for each catalogue in locale/ (settings).

A person's language is kept on their account (`User.language`); these helpers say which
codes are offered and which one a person's pages, pushes and emails use."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def supported(code: str | None) -> str | None:
    """The offered language this code means ("es-MX" -> "es"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None


def offered(code: str | None) -> str | None:
    """This code if it is exactly one of the offered languages (any case), else None: what a
    person chooses from a list must be on it ("es-MX" is not, though it would mean "es")."""
    found = supported(code)
    return found if found is not None and (code or "").strip().lower() == found else None


def language_of(person: object) -> str:
    """The language to use for this person (a user, or anyone with a `language`): theirs if
    it is offered, else the site's default."""
    return supported(getattr(person, "language", "")) or settings.LANGUAGE_CODE


def choices() -> list[tuple[str, str]]:
    """(code, name in that language), for a chooser."""
    return [(code, name) for code, name in settings.LANGUAGES]


def remember(request: HttpRequest, response: HttpResponse, language: str) -> None:
    """Keep the language in this browser's cookie too, so that the pages after logging out
    (the log-in page, a password reset) stay in it."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) == language:
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
