"""Which language a page is in: the person's own once signed in (kept on their account), the
footer's choice before that (a cookie), else the browser's Accept-Language; English when none
of those is one we speak. The page says which (`<html lang>`, Content-Language) and caches
vary on it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from couples.models import User

pytestmark = pytest.mark.django_db


def lang_of(response) -> str:
    found = re.search(r'<html lang="([^"]+)">', response.content.decode())
    assert found, "no <html lang>"
    return found[1]


def test_a_first_visit_follows_the_browsers_language():
    client = Client()
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")) == "es"
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")) == "en-gb"


def test_a_language_we_dont_speak_gets_english():
    response = Client().get("/", HTTP_ACCEPT_LANGUAGE="fi-FI,fi;q=0.9")
    assert lang_of(response) == "en-gb"
    assert response["Content-Language"] == "en-gb"


def test_the_page_says_its_language_and_caches_vary_on_it():
    response = Client().get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert response["Content-Language"] == "es"
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary
    assert "Idioma" in response.content.decode()  # the footer's chooser, in Spanish


def test_the_footers_choice_wins_over_the_browser():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB")) == "es"


def test_a_signed_in_person_keeps_the_language_they_arrived_with(alex: User):
    assert alex.language == ""
    client = Client()
    client.force_login(alex)
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="es-ES")) == "es"
    alex.refresh_from_db()
    assert alex.language == "es"
    # From now on it is theirs, whatever this browser (or another) says.
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB")) == "es"


def test_the_accounts_language_wins_over_the_browser_and_the_cookie(alex: User):
    alex.language = "en-gb"
    alex.save()
    client = Client()
    client.force_login(alex)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="es")) == "en-gb"


def test_a_language_no_longer_offered_falls_back_to_the_browser(alex: User):
    User.objects.filter(pk=alex.pk).update(language="xx")
    client = Client()
    client.force_login(alex)
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="es")) == "es"
    alex.refresh_from_db()
    assert alex.language == "xx"  # not overwritten: an unset one is filled, a choice never


def test_the_settings_page_changes_the_accounts_language(alex: User):
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("couples:account_settings"),
        {"language": "es", "time_zone": "Europe/Madrid", "notify_your_move": "email"},
        follow=True,
    )
    alex.refresh_from_db()
    assert alex.language == "es"
    assert lang_of(response) == "es"


def test_the_settings_page_refuses_a_language_we_dont_speak(alex: User):
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("couples:account_settings"),
        {"language": "klingon", "time_zone": "Europe/Madrid"},
    )
    assert response.status_code == 422
    alex.refresh_from_db()
    assert alex.language in ("", "en-gb")  # what the first request kept, or nothing
    assert alex.time_zone == ""


def test_the_site_speaks_the_languages_of_its_catalogues():
    codes = [code for code, _ in settings.LANGUAGES]
    assert codes[0] == settings.LANGUAGE_CODE
    assert "es" in codes
    assert dict(settings.LANGUAGES)["es"] == "español"


def test_the_accounts_language_stays_after_logging_out(alex: User):
    alex.language = "es"
    alex.save()
    client = Client()
    client.force_login(alex)
    client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    client.post(reverse("account_logout"))  # (the test client's logout() drops every cookie)
    assert lang_of(client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-GB")) == "es"
