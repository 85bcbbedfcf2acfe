"""How complete one's own mirrors were, on the finished dialogue's own page and transcript:
each partner sees only their own figure (computed again, never stored), the other partner,
a therapist and anyone else never see it, and said-aloud mirrors say "said aloud" rather
than a made-up figure."""

from __future__ import annotations

import pytest

from dialogues import selectors, services
from tests.helpers import move

pytestmark = pytest.mark.django_db

SAID = (
    "When you look at your phone during dinner, I feel lonely and unimportant. "
    "I'd like us to put our phones away while we eat."
)
SAM_KEPT = "Your mirrors kept 33 % of what Alex said."


@pytest.fixture
def finished(dialogue, alex, sam):
    """Alex sent, Sam mirrored a third of it, then Sam ended the dialogue."""
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text=SAID)
    move(dialogue, sam, "mirror", text="You feel lonely at dinner.")
    services.session_end(session_public_id=dialogue.public_id, user=sam)
    dialogue.refresh_from_db()
    return dialogue


def _pages(client, session):
    detail = client.get(f"/dialogues/{session.public_id}/")
    transcript = client.get(f"/dialogues/{session.public_id}/transcript/")
    return detail, transcript


def test_the_receiver_sees_their_own_on_the_page_and_the_transcript(client_as, finished):
    detail, transcript = _pages(client_as("sam"), finished)
    assert detail.status_code == transcript.status_code == 200
    assert SAM_KEPT in detail.content.decode()
    assert SAM_KEPT in transcript.content.decode()
    assert "Only you see this." in detail.content.decode()


def test_the_other_partner_never_sees_it(client_as, finished):
    detail, transcript = _pages(client_as("alex"), finished)
    for page in (detail.content.decode(), transcript.content.decode()):
        assert "33 %" not in page and "Your mirrors kept" not in page
    fragment = client_as("alex").get(f"/dialogues/{finished.public_id}/my-mirrors/")
    assert fragment.status_code == 200 and b"33 %" not in fragment.content


def test_sharing_on_the_progress_page_still_shows_it_only_there(client_as, finished, sam):
    from practice import services as practice_services

    practice_services.measure_share(user=sam, what="mirrors", shared=True)
    detail, transcript = _pages(client_as("alex"), finished)
    assert b"33 %" not in detail.content and b"33 %" not in transcript.content


@pytest.mark.parametrize("who", ["therapist", "outsider", "staff", "single"])
def test_no_one_else_reaches_it(client_as, finished, link, who):
    for response in (
        *_pages(client_as(who), finished),
        client_as(who).get(f"/dialogues/{finished.public_id}/my-mirrors/"),
    ):
        assert response.status_code in (302, 403, 404)
        assert b"33 %" not in response.content


def test_the_linked_therapists_transcript_does_not_show_it(client_as, finished, link):
    response = client_as(link.therapist).get(
        f"/therapist/dialogues/{finished.public_id}/transcript/"
    )
    assert response.status_code == 200  # the therapist reads the transcript (audited) …
    assert b"Your mirrors kept" not in response.content and b"33 %" not in response.content


def test_the_anonymous_are_sent_to_sign_in(client_as, finished):
    response = client_as("anonymous").get(f"/dialogues/{finished.public_id}/my-mirrors/")
    assert response.status_code == 302


def test_the_closing_panel_a_push_brings_asks_for_it(client_as, dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text=SAID)
    move(dialogue, sam, "mirror", text="You feel lonely at dinner.")
    response = client_as("sam").post(
        f"/dialogues/{dialogue.public_id}/end/", HTTP_HX_REQUEST="true"
    )
    panel = response.content.decode()
    assert response.status_code == 200 and "my-mirrors/" in panel and "33 %" not in panel
    fragment = client_as("sam").get(f"/dialogues/{dialogue.public_id}/my-mirrors/")
    assert fragment.status_code == 200 and "no-store" in fragment["Cache-Control"]
    assert SAM_KEPT in fragment.content.decode()


def test_a_live_dialogue_has_none_yet(client_as, dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    response = client_as("sam").get(f"/dialogues/{dialogue.public_id}/my-mirrors/")
    assert response.status_code == 409
    assert (
        b"Your mirrors kept"
        not in client_as("sam").get(f"/dialogues/{dialogue.public_id}/").content
    )


def test_a_said_aloud_mirror_says_so_and_makes_up_no_figure(client_as, pair, alex, sam):
    session = services.dialogue_start(user=alex, kind="intentional", topic="Far", aloud=True)
    move(session, sam, "accept_now")
    move(session, alex, "send")
    move(session, sam, "mirror")
    services.session_end(session_public_id=session.public_id, user=alex)
    session.refresh_from_db()
    mine = selectors.mirrors_summary(session=session, person=sam)
    assert mine.shares == [] and mine.kept is None and mine.aloud == 1
    detail, transcript = _pages(client_as("sam"), session)
    for page in (detail.content.decode(), transcript.content.decode()):
        assert "One mirror was said aloud, so there is nothing written to measure." in page
        assert "Your mirrors kept" not in page and "% of what" not in page


def test_nothing_is_said_when_there_were_no_mirrors(client_as, dialogue, sam):
    move(dialogue, sam, "accept_now")
    services.session_end(session_public_id=dialogue.public_id, user=sam)
    detail, transcript = _pages(client_as("sam"), dialogue)
    assert b"Your mirrors kept" not in detail.content and b"said aloud, so" not in detail.content
    assert b"How complete your mirrors were" not in transcript.content
