"""A translation object remembers what it translated (imago_site/translation_memo.py): the
same answers as Django's own lookup through its fallback catalogues, without walking them
again; a new catalogue (settings changed) starts a new memo; the memo has a bound."""

from __future__ import annotations

import gettext as gettext_module

import pytest
from django.test import override_settings
from django.utils import translation
from django.utils.translation import trans_real

from imago_site import translation_memo

MESSAGES = [
    "Cancel",  # in our Spanish catalogue
    "Password",  # in Django's and allauth's
    "A sentence nobody translated",
    "line one\nline two",
]


def fresh(language: str) -> trans_real.DjangoTranslation:
    return trans_real.DjangoTranslation(language)


def test_it_is_installed_when_the_apps_are_ready():
    assert trans_real.DjangoTranslation.gettext is translation_memo._gettext


@pytest.mark.parametrize("language", ["en-gb", "es"])
def test_a_remembered_answer_is_the_one_django_finds_through_the_catalogues(language):
    memoised = fresh(language)
    for message in MESSAGES:
        walked = translation_memo._walk(memoised, message)
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

    monkeypatch.setattr(translation_memo, "_walk", counting)
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
        assert now.gettext("Cancel") == translation_memo._walk(now, "Cancel")


def test_the_memo_stops_growing_at_its_limit(monkeypatch):
    monkeypatch.setattr(translation_memo, "LIMIT", 3)
    english = fresh("en-gb")
    for i in range(10):
        assert english.gettext(f"message {i}") == f"message {i}"
    assert len(english.__dict__["_imago_memo"]) == 3
    assert english.gettext("message 9") == "message 9"  # still answered, just not kept
