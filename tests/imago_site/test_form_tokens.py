"""Every form that posts to a write requiring a one-time token carries one, on every page that
shows it: a form without one would be refused every time (couples.models.form_token_given).

Each page is rendered as the person who sees its write forms; every form on it whose action is
one of those writes must hold a non-empty `token`, and between them the pages show every such
write at least once (so a new page or write can't slip past unchecked)."""

from __future__ import annotations

import re

import pytest
from django.urls import resolve

from dialogues import services as dialogue_services
from practice.models import Agreement
from tests.helpers import form_token, token_in_form
from tests.practice.conftest import give_gift

pytestmark = pytest.mark.django_db

# The writes whose service requires its form's token (dialogues.services.move_submit,
# practice.services._token, therapists.services._form_token).
TOKEN_WRITES = {
    "dialogues:move",
    "practice:agreement_thanks",
    "practice:caring_add",
    "practice:exit_add",
    "practice:measure",
    "practice:measure_skip",
    "therapists:couple_measures",
    "therapists:code_new",
    "therapists:therapist_invite",
    "therapists:couple_note",
    "therapists:homework_new",
    "therapists:coach",
    "therapists:session_note",
}


def token_write_forms(page: str) -> list[tuple[str, str]]:
    """(write, form markup) for each form on the page posting to a write in TOKEN_WRITES."""
    found = []
    for form in re.findall(r"<form\b.*?</form>", page, re.DOTALL):
        action = re.search(r'\saction="([^"]*)"', form)
        if action is None:
            continue
        name = resolve(action[1]).view_name
        if name in TOKEN_WRITES:
            found.append((name, form))
    return found


@pytest.fixture
def pages(client_as, pair, alex, sam, therapist, link):
    """(who, what) -> the page's HTML, for every page showing a token write form."""
    give_gift(alex, sam)  # an agreement (and that dialogue over): Alex, its receiver, thanks
    assert Agreement.objects.filter(receiver=alex).exists()
    dialogue = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Sundays")
    alex_client, sam_client = client_as(alex), client_as(sam)
    therapist_client = client_as(therapist)
    shown = {
        ("alex", "home"): alex_client.get("/"),
        ("alex", "caring"): alex_client.get("/between/caring/"),
        ("alex", "exits"): alex_client.get("/between/exits/"),
        ("alex", "questionnaire"): alex_client.get("/between/questionnaire/csi16/"),
        ("sam", "dialogue, asked to talk"): sam_client.get(f"/dialogues/{dialogue.public_id}/"),
        # Sam is heated: the cooling panel offers a later time or to start anyway.
        ("sam", "cooling panel"): sam_client.post(
            f"/dialogues/{dialogue.public_id}/move/",
            {"move": "accept_now", "at": "1", "intensity": "9", "token": form_token()},
            HTTP_HX_REQUEST="true",
        ),
    }
    dialogue_services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    shown[("alex", "dialogue, sending")] = alex_client.get(f"/dialogues/{dialogue.public_id}/")
    shown[("therapist", "dashboard")] = therapist_client.get("/therapist/")
    shown[("therapist", "couple")] = therapist_client.get(f"/therapist/couples/{pair.public_id}/")
    shown[("therapist", "console")] = therapist_client.get(
        f"/therapist/dialogues/{dialogue.public_id}/"
    )
    for key, response in shown.items():
        assert response.status_code == 200, key
    return {key: response.content.decode() for key, response in shown.items()}


def test_every_write_form_on_every_page_carries_its_token(pages):
    seen = set()
    for key, page in pages.items():
        forms = token_write_forms(page)
        assert forms, f"no token write form on {key}"
        for name, form in forms:
            assert token_in_form(form), f"the {name} form on {key} has no token"
            seen.add(name)
    assert seen == TOKEN_WRITES, f"never shown: {TOKEN_WRITES - seen}"


def test_the_move_forms_on_a_page_each_have_their_own_token(pages):
    """A token is one showing of a form: the move forms on one page differ from each other
    (else one move's token would find the other's turn)."""
    for key, page in pages.items():
        moves = [
            token_in_form(form)
            for name, form in token_write_forms(page)
            if name == "dialogues:move"
        ]
        assert len(moves) == len(set(moves)), key
