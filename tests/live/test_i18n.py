"""Translation at the cost of a dictionary lookup (live/i18n.py), with Django's answers.

A translation object remembers what it translated: the same answers as Django's own lookup
through its fallback catalogues, without walking them again; a new catalogue (settings
changed) starts a new memo; the memo has a bound. The active language and time zone live in
ContextVars and are exactly as local as in Django's asgiref `Local`: each scenario below runs
with both."""

from __future__ import annotations

import asyncio
import gettext as gettext_module
import threading

import pytest
from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.translation import trans_real

from live import i18n

pytestmark = pytest.mark.shortcut("i18n")  # the shortcut itself (live/fast.py)

MESSAGES = [
    "Cancel",  # in our Spanish catalogue
    "Password",  # in Django's and allauth's
    "A sentence nobody translated",
    "line one\nline two",
]


def fresh(language: str) -> trans_real.DjangoTranslation:
    return trans_real.DjangoTranslation(language)


def test_it_is_installed_when_the_apps_are_ready():
    assert trans_real.DjangoTranslation.gettext is i18n._gettext
    # (a test that changes translation settings makes Django put a new Local in place)
    i18n.install()
    assert isinstance(trans_real._active, i18n.ContextValue)
    assert isinstance(timezone._active, i18n.ContextValue)


@pytest.mark.parametrize("language", ["en-gb", "es"])
def test_a_remembered_answer_is_the_one_django_finds_through_the_catalogues(language):
    memoised = fresh(language)
    for message in MESSAGES:
        walked = i18n._walk(memoised, message)
        assert memoised.gettext(message) == walked
        assert memoised.gettext(message) == walked  # the second time, from the memo
    with translation.override("es"):
        assert translation.gettext("Cancel") == "Cancelar"
        assert translation.pgettext("feeling group", "Hurt") != "Hurt"
        assert translation.pgettext("no such context", "Cancel") == "Cancel"  # as Django does
    with translation.override("en-gb"):
        assert translation.gettext("Cancel") == "Cancel"


def test_a_message_is_looked_up_through_the_fallbacks_once(monkeypatch):
    spanish = fresh("es")
    walks = []

    def counting(self, message):
        walks.append(message)
        return gettext_module.GNUTranslations.gettext(self, message)

    monkeypatch.setattr(i18n, "_walk", counting)
    for _ in range(5):
        spanish.gettext("A sentence nobody translated")
        spanish.gettext("Cancel")
    assert walks == ["A sentence nobody translated", "Cancel"]


def test_new_catalogues_are_not_answered_from_an_old_memo(tmp_path):
    with translation.override("es"):
        assert translation.gettext("Cancel") == "Cancelar"
        before = trans_real._active.value
    # Settings that shape the catalogues make Django build new translation objects.
    with override_settings(LOCALE_PATHS=[tmp_path]), translation.override("es"):
        now = trans_real._active.value
        assert now is not before
        assert now.gettext("Cancel") == i18n._walk(now, "Cancel")


def test_the_memo_stops_growing_at_its_limit(monkeypatch):
    monkeypatch.setattr(i18n, "LIMIT", 3)
    english = fresh("en-gb")
    for i in range(10):
        assert english.gettext(f"message {i}") == f"message {i}"
    assert len(english.__dict__["_imago_memo"]) == 3
    assert english.gettext("message 9") == "message 9"  # still answered, just not kept


@pytest.fixture(params=["django's Local", "ours"])
def active(request, monkeypatch):
    """Runs a test with Django's own stores of the active language and time zone, then with
    ours; returns the language's."""
    ours = request.param == "ours"
    monkeypatch.setattr(timezone, "_active", i18n.ContextValue("t") if ours else Local())
    store = i18n.ContextValue("l") if ours else Local()
    monkeypatch.setattr(trans_real, "_active", store)
    return store


def test_a_time_zone_is_local_to_its_thread_and_task_and_goes_into_sync_to_async(active):
    default = timezone.get_default_timezone_name()
    with timezone.override("Europe/Madrid"):
        seen = []
        thread = threading.Thread(target=lambda: seen.append(timezone.get_current_timezone_name()))
        thread.start()
        thread.join()
        assert seen == [default]
        assert timezone.get_current_timezone_name() == "Europe/Madrid"

    async def one(zone):
        timezone.activate(zone)
        await asyncio.sleep(0)
        inside = await sync_to_async(timezone.get_current_timezone_name)()
        return timezone.get_current_timezone_name(), inside

    async def both():
        return await asyncio.gather(one("Asia/Tokyo"), one("America/Lima"))

    assert asyncio.run(both()) == [("Asia/Tokyo",) * 2, ("America/Lima",) * 2]
    assert timezone.get_current_timezone_name() == default
    timezone.deactivate()  # nothing active: still fine


def test_an_activated_language_is_local_to_its_thread(active):
    translation.activate("es")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(translation.get_language()))
    thread.start()
    thread.join()
    assert seen == ["en-gb"]  # the other thread sees the default
    assert translation.get_language() == "es"
    translation.deactivate()
    assert translation.get_language() == "en-gb"
    translation.deactivate()  # nothing active: still fine
    assert not hasattr(active, "value")


def test_an_activated_language_is_local_to_its_task_and_seen_by_what_it_awaits(active):
    async def one(language, seen):
        translation.activate(language)
        await asyncio.sleep(0)
        seen.append(await inner())

    async def inner():
        await asyncio.sleep(0)
        return translation.get_language()

    async def both():
        seen: list[str] = []
        await asyncio.gather(one("es", seen), one("en-gb", seen))
        return sorted(seen), translation.get_language()

    assert asyncio.run(both()) == (["en-gb", "es"], "en-gb")


@pytest.mark.parametrize("thread_sensitive", [True, False])
def test_a_language_goes_into_sync_to_async_and_back_out(active, thread_sensitive):
    async def scenario():
        translation.activate("es")
        inside = await sync_to_async(translation.get_language, thread_sensitive=thread_sensitive)()

        def switch():
            translation.activate("en-gb")

        await sync_to_async(switch, thread_sensitive=thread_sensitive)()
        return inside, translation.get_language()

    assert asyncio.run(scenario()) == ("es", "en-gb")


def test_a_language_goes_into_async_to_sync(active):
    async def language():
        return translation.get_language()

    with translation.override("es"):
        assert async_to_sync(language)() == "es"
    assert async_to_sync(language)() == "en-gb"
