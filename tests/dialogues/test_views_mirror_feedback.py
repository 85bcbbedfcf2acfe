"""The private mirror feedback: the receiver at a mirror or summary gets it for their draft;
the sender, a therapist, anyone else, or the receiver at another step, gets nothing. The
draft is never saved or logged. And afterwards, how complete each person's mirrors were."""

from __future__ import annotations

import logging

import pytest

from dialogues import selectors, services
from dialogues.models import Turn
from practice import selectors as practice_selectors
from practice import services as practice_services
from tests.helpers import form_token

pytestmark = pytest.mark.django_db

SAID = (
    "When you look at your phone during dinner, I feel lonely and unimportant. "
    "I'd like us to put our phones away while we eat."
)
DRAFT = "zq-draft: so you feel lonely at dinner, but you never put yours away"


def _move(session, user, move, **payload):
    services.move_submit(
        session_public_id=session.public_id,
        user=user,
        move=move,
        payload=payload,
        token=form_token(),
    )


@pytest.fixture
def mirroring(dialogue, alex, sam):
    """Alex has sent; it is Sam's mirror."""
    _move(dialogue, sam, "accept_now")
    _move(dialogue, alex, "send", text=SAID)
    dialogue.refresh_from_db()
    return dialogue


def _ask(client, session, text=DRAFT, move="mirror"):
    return client.post(
        f"/dialogues/{session.public_id}/mirror-feedback/", {"move": move, "text": text}
    )


def test_the_receiver_sees_what_their_draft_leaves_out_and_adds(client_as, mirroring, caplog):
    turns = Turn.objects.count()
    with caplog.at_level(logging.DEBUG):
        response = _ask(client_as("sam"), mirroring)
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "unimportant, look, phone, eat" in page or "look, phone, unimportant, eat" in page
    assert "“but”, “never”" in page
    assert "zq-draft" not in caplog.text and Turn.objects.count() == turns  # never saved


@pytest.mark.parametrize("who", ["alex", "therapist", "outsider", "staff", "single"])
def test_no_one_else_gets_it(client_as, mirroring, link, who):
    response = _ask(client_as(who), mirroring)
    assert response.status_code in (204, 404)
    assert b"unimportant" not in response.content


def test_the_anonymous_are_sent_to_sign_in(client_as, mirroring):
    assert _ask(client_as("anonymous"), mirroring).status_code == 302


def test_it_is_only_for_the_step_at_hand(client_as, mirroring):
    assert _ask(client_as("sam"), mirroring, move="summary").status_code == 204
    assert _ask(client_as("sam"), mirroring, move="send").status_code == 204


def test_it_stops_during_a_time_out(client_as, mirroring, sam):
    services.session_pause(session_public_id=mirroring.public_id, user=sam)
    assert _ask(client_as("sam"), mirroring).status_code == 204


@pytest.mark.parametrize("text", ["x" * 2001, "so\x00you"])
def test_it_refuses_bad_drafts(client_as, mirroring, text):
    assert _ask(client_as("sam"), mirroring, text=text).status_code == 400


def test_an_empty_draft_gets_no_feedback(client_as, mirroring):
    response = _ask(client_as("sam"), mirroring, text="  ")
    assert response.status_code == 200 and b"Maybe not" not in response.content


def test_only_the_receivers_page_asks_for_it(client_as, mirroring):
    receiver = client_as("sam").get(f"/dialogues/{mirroring.public_id}/").content.decode()
    sender = client_as("alex").get(f"/dialogues/{mirroring.public_id}/").content.decode()
    assert "mirror-feedback/" in receiver and 'class="mirror-feedback"' in receiver
    assert "mirror-feedback" not in sender


def test_it_measures_how_complete_each_mirror_was(mirroring, alex, sam):
    _move(mirroring, sam, "mirror", text="You feel lonely at dinner.")
    _move(mirroring, alex, "not_quite", text="Also unimportant.")
    _move(mirroring, sam, "mirror", text=SAID.replace("I feel", "you feel"))
    assert selectors.mirrors_kept(session=mirroring, person=sam) == [33, 100]
    assert selectors.mirrors_kept(session=mirroring, person=alex) == []


def test_the_progress_page_shows_each_their_own_until_shared(client_as, mirroring, alex, sam):
    _move(mirroring, sam, "mirror", text="You feel lonely at dinner.")
    services.session_end(session_public_id=mirroring.public_id, user=sam)
    view = practice_selectors.mirrors_for(couple=mirroring.couple, partners=[alex, sam], viewer=sam)
    assert [r.kept for r in view.rows] == [[33]]
    assert practice_selectors.mirrors_for(
        couple=mirroring.couple, partners=[alex, sam], viewer=alex
    ).people == [alex]
    assert (
        "kept 33 % of what Alex said" in client_as("sam").get("/between/progress/").content.decode()
    )
    assert "kept 33 %" not in client_as("alex").get("/between/progress/").content.decode()
    practice_services.measure_share(user=sam, what="mirrors", shared=True)
    assert (
        "kept 33 % of what Alex said"
        in client_as("alex").get("/between/progress/").content.decode()
    )
