"""The one setting that names the hot path's shortcuts (live/fast.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from live import fast


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", {"prepared"}),
        ("", {"prepared"}),
        ("on", {"prepared"}),
        (True, {"prepared"}),
        ("0", set()),
        ("off", set()),
        (False, set()),
        ("prepared", {"prepared"}),
        (" Prepared ", {"prepared"}),
        ("-prepared", set()),
        ({"prepared"}, {"prepared"}),
        (set(), set()),
    ],
)
def test_the_setting_names_which_shortcuts_are_on(value, expected):
    assert fast.shortcuts(value) == expected


@pytest.mark.parametrize(
    "value",
    # Misspelt, mixed, empty names; and the shortcuts removed for paying under 10 %
    # (docs/performance.md): naming one is refused rather than silently ignored.
    ["prepard", "-prepared,prepared", ",", "2", "i18n", "-render", "dispatch"],
)
def test_a_setting_that_names_no_known_set_of_shortcuts_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="FAST_PATH"):
        fast.shortcuts(value)


@pytest.mark.parametrize(("value", "on"), [("1", True), ("0", False), ("-prepared", False)])
def test_each_shortcut_asks_the_setting_for_itself(settings, value, on):
    settings.IMAGO_FAST_PATH = value
    assert fast.on("prepared") is on


def test_asking_for_a_shortcut_that_does_not_exist_is_a_programming_error():
    with pytest.raises(ValueError, match="no shortcut named 'i18n'"):
        fast.on("i18n")
