"""The countdown to a scheduled dialogue reads right before imago.js ticks it: "10 min 34 s",
never a raw "634 s", in the reader's language."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from couples.models import User
from dialogues import services
from dialogues.templatetags.countdown import countdown
from tests.helpers import form_token


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(634, "10 min 34 s"), (3900, "1 h 05 min"), (42, "42 s"), (0, "0 s"), ("x", "")],
)
def test_it_formats_seconds_as_the_script_does(seconds, shown):
    with translation.override("en"):
        assert countdown(seconds) == shown


@pytest.mark.django_db
def test_a_scheduled_dialogue_shows_its_countdown_formatted_in_spanish(
    dialogue, alex, sam, client_as
):
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "90"},
        token=form_token(),
    )  # in 90 minutes
    User.objects.filter(pk=alex.pk).update(language="es")
    page = client_as(alex).get(f"/dialogues/{dialogue.public_id}/").content.decode()
    shown = re.findall(r'data-remaining="\d+">([^<]*)<', page)
    assert shown and all(re.fullmatch(r"1 h (29|30) min", text) for text in shown), shown
