"""The one setting that names the hot path's shortcuts (live/fast.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from live import fast

ALL = {"prepared", "i18n", "dispatch", "audiences"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", ALL),
        ("", ALL),
        ("on", ALL),
        (True, ALL),
        ("0", set()),
        ("off", set()),
        (False, set()),
        ("prepared", {"prepared"}),
        ("prepared, i18n", {"prepared", "i18n"}),
        ("-dispatch", ALL - {"dispatch"}),
        ("-dispatch,-I18N", {"prepared", "audiences"}),
        ({"dispatch"}, {"dispatch"}),
        (set(), set()),
    ],
)
def test_the_setting_names_which_shortcuts_are_on(value, expected):
    assert fast.shortcuts(value) == expected


@pytest.mark.parametrize("value", ["prepard", "-dispatch,i18n", "-nothing", ",", "2", "all but"])
def test_a_setting_that_names_no_known_set_of_shortcuts_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="FAST_PATH"):
        fast.shortcuts(value)


@pytest.mark.parametrize(
    ("value", "on"),
    [("1", ALL), ("0", set()), ("-prepared", ALL - {"prepared"}), ("dispatch", {"dispatch"})],
)
def test_each_shortcut_asks_the_setting_for_itself(settings, value, on):
    settings.IMAGO_FAST_PATH = value
    assert {name for name in ALL if fast.on(name)} == on


def test_asking_for_a_shortcut_that_does_not_exist_is_a_programming_error():
    with pytest.raises(ValueError, match="no shortcut named 'cache'"):
        fast.on("cache")
