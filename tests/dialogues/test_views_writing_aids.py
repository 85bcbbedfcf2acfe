"""The private writing aids (dialogues.views.writing_aids): the step's gentle language hints
for whoever writes it now (send, mirror, empathy), and for the receiver at a mirror or summary
what their draft leaves out or adds; the sender, a therapist, anyone else, or the writer at
another step, gets a clear refusal. The draft is never saved or logged. And afterwards, how
complete each person's mirrors were."""

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
        f"/dialogues/{session.public_id}/writing-aids/", {"move": move, "text": text}
    )


def test_the_receiver_sees_what_their_draft_leaves_out_and_adds(client_as, mirroring, caplog):
    turns = Turn.objects.count()
    with caplog.at_level(logging.DEBUG):
        response = _ask(client_as("sam"), mirroring)
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "unimportant, look, phone, eat" in page or "look, phone, unimportant, eat" in page
    assert "“but”, “never”" in page
    assert 'class="hint"' in page and "You wrote “but”" in page  # the mirror's hint too
    assert "zq-draft" not in caplog.text and Turn.objects.count() == turns  # never saved


@pytest.mark.parametrize(
    "who, status",
    [("alex", 409), ("therapist", 404), ("outsider", 404), ("staff", 404), ("single", 404)],
)
def test_no_one_else_gets_it(client_as, mirroring, link, who, status):
    response = _ask(client_as(who), mirroring)
    assert response.status_code == status
    assert b"unimportant" not in response.content and b"You wrote" not in response.content


def test_the_linked_therapist_gets_nothing_either(client_as, mirroring, link):
    response = _ask(client_as(link.therapist), mirroring)
    assert response.status_code == 404 and b"You wrote" not in response.content


def test_another_dialogues_id_is_refused(client_as, mirroring):
    response = client_as("sam").post(
        "/dialogues/not-a-dialogue/writing-aids/", {"move": "mirror", "text": DRAFT}
    )
    assert response.status_code == 404


def test_the_anonymous_are_sent_to_sign_in(client_as, mirroring):
    assert _ask(client_as("anonymous"), mirroring).status_code == 302


@pytest.mark.parametrize("move", ["summary", "send", "got_it", "", "nonsense"])
def test_it_is_only_for_the_step_at_hand(client_as, mirroring, move):
    response = _ask(client_as("sam"), mirroring, move=move)
    assert response.status_code == 409 and b"isn't yours to write now" in response.content


def test_it_stops_during_a_time_out(client_as, mirroring, sam):
    services.session_pause(session_public_id=mirroring.public_id, user=sam)
    assert _ask(client_as("sam"), mirroring).status_code == 409


def test_it_asks_for_a_post(client_as, mirroring):
    response = client_as("sam").get(f"/dialogues/{mirroring.public_id}/writing-aids/")
    assert response.status_code == 405


# --- the language hints, for every step that has them -----------------------------------


def test_the_sender_gets_the_send_hints_for_their_draft(client_as, dialogue, sam, caplog):
    _move(dialogue, sam, "accept_now")
    turns = Turn.objects.count()
    with caplog.at_level(logging.DEBUG):
        response = _ask(client_as("alex"), dialogue, "zq: you always leave", move="send")
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "You wrote “you always”." in page and "mirror-feedback" not in page
    assert "zq:" not in caplog.text and Turn.objects.count() == turns
    # The receiver, who doesn't write the send, is refused.
    assert _ask(client_as("sam"), dialogue, "you always", move="send").status_code == 409


def test_a_kind_draft_gets_no_hint(client_as, dialogue, sam):
    _move(dialogue, sam, "accept_now")
    response = _ask(client_as("alex"), dialogue, "When you came home late, I felt lonely.", "send")
    assert response.status_code == 200 and b"hint" not in response.content


def test_the_empathy_step_gets_its_hint(client_as, mirroring, alex, sam):
    for who, move, payload in [
        (sam, "mirror", {"text": "You feel lonely."}),
        (alex, "got_it", {}),
        (sam, "ask_more", {}),
        (alex, "thats_all", {}),
        (sam, "summary", {"text": "Lonely."}),
        (alex, "got_it_all", {}),
        (sam, "validate", {"text": "That makes sense."}),
        (alex, "acknowledge", {"text": ""}),
    ]:
        _move(mirroring, who, move, **payload)
    response = _ask(client_as("sam"), mirroring, "You feel like a guest.", move="empathize")
    assert response.status_code == 200
    assert "You wrote “feel like”." in response.content.decode()
    assert _ask(client_as("alex"), mirroring, "feel like", move="empathize").status_code == 409


def test_the_page_carries_no_copy_of_the_rules(client_as, dialogue, sam):
    _move(dialogue, sam, "accept_now")
    page = client_as("alex").get(f"/dialogues/{dialogue.public_id}/").content.decode()
    assert "hint-rules" not in page and "writing-aids/" in page


@pytest.mark.parametrize("text", ["x" * 2001, "so\x00you"])
def test_it_refuses_bad_drafts(client_as, mirroring, text):
    assert _ask(client_as("sam"), mirroring, text=text).status_code == 400


def test_an_empty_draft_gets_no_feedback(client_as, mirroring):
    response = _ask(client_as("sam"), mirroring, text="  ")
    assert response.status_code == 200 and b"Maybe not" not in response.content


def test_only_the_receivers_page_asks_for_it(client_as, mirroring):
    receiver = client_as("sam").get(f"/dialogues/{mirroring.public_id}/").content.decode()
    sender = client_as("alex").get(f"/dialogues/{mirroring.public_id}/").content.decode()
    assert "writing-aids/" in receiver and 'class="writing-aids"' in receiver
    assert "writing-aids" not in sender


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


def test_together_on_one_device_the_partners_move_gets_its_aids_while_allowed(
    client_as, pair, alex, sam
):
    from couples import services as couple_services

    session = services.dialogue_start(user=alex, kind="intentional", topic="Far", aloud=True)
    couple_services.device_sharing_allow(user=sam)
    services.session_together(session_public_id=session.public_id, user=alex, on=True)
    _move(session, sam, "accept_now")
    _move(session, alex, "send", text=SAID)
    url = f"/dialogues/{session.public_id}/writing-aids/"
    for_sam = {"move": "mirror", "text": DRAFT, "for": "partner"}
    response = client_as("alex").post(url, for_sam)
    assert response.status_code == 200 and "“but”, “never”" in response.content.decode()
    assert client_as("alex").post(url, {"move": "mirror", "text": DRAFT}).status_code == 409
    assert client_as("sam").post(url, for_sam).status_code == 409  # not Sam's device's turn
    couple_services.device_sharing_revoke(user=sam)
    assert client_as("alex").post(url, for_sam).status_code == 409
