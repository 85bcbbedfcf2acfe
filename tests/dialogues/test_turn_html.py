"""Each turn's HTML is rendered once per reader and kept in the worker's memory: pages and
snapshots reuse it, and anything that changes how a turn reads renders it afresh."""

import pytest

from dialogues import push, services, turn_html
from dialogues.models import Turn
from dialogues.templatetags import transcript
from tests.helpers import form_token, page_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def talked(dialogue, alex, sam):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "When the week gets busy I feel far from you."},
        token=form_token(),
    )
    return dialogue


@pytest.fixture
def renders(monkeypatch):
    """The turns rendered from the template (not served from memory)."""
    seen = []
    original = transcript.turn_view

    def counted(turn, *, viewer):
        seen.append((turn.seq, viewer.pk))
        return original(turn, viewer=viewer)

    monkeypatch.setattr(transcript, "turn_view", counted)
    return seen


def snapshot(session, user, role="partner") -> str:
    return push.render_snapshot(public_id=session.public_id, user=user, role=role).html


def test_a_second_snapshot_renders_no_turn_and_reads_the_same(talked, alex, renders):
    first = snapshot(talked, alex)
    assert sorted(renders) == [(seq, alex.pk) for seq in talked.turns.values_list("seq", flat=True)]
    renders.clear()
    assert snapshot(talked, alex) == first
    assert renders == []


def test_each_reader_has_their_own_html(talked, alex, sam, renders):
    mine, theirs = snapshot(talked, alex), snapshot(talked, sam)
    assert {pk for _seq, pk in renders} == {alex.pk, sam.pk}
    assert "You" in mine and "Alex" in theirs


def test_a_snapshot_reuses_what_the_step_rendered_as_it_committed(
    talked, alex, sam, renders, django_capture_on_commit_callbacks
):
    page_open(talked, alex)  # Alex's page is open: the step is rendered for both as it commits
    with django_capture_on_commit_callbacks(execute=True):
        services.move_submit(
            session_public_id=talked.public_id,
            user=sam,
            move="mirror",
            payload={"text": "If I got it, you feel far from me."},
            token=form_token(),
        )  # rendered once per audience as it commits
    newest = talked.turns.order_by("-seq").first().seq
    assert (newest, sam.pk) in renders and (newest, alex.pk) in renders
    renders.clear()
    snapshot(talked, sam)
    snapshot(talked, alex)
    assert newest not in {seq for seq, _pk in renders}  # from memory, for both


def test_a_changed_name_renders_the_turn_again(talked, alex, sam):
    assert "Alex" in snapshot(talked, sam)
    alex.display_name = "Alexandra"
    alex.save(update_fields=["display_name"])
    assert "Alexandra" in snapshot(talked, sam)


def test_words_erased_since_are_never_served_from_memory(talked, alex, sam):
    assert "far from you" in snapshot(talked, sam)
    turn = Turn.objects.get(session=talked, move="send")
    turn.text, turn.data = "", {"removed": True}
    Turn.objects.bulk_update([turn], ["text", "data"])  # as turns_erase_by does
    html = snapshot(talked, sam)
    assert "far from you" not in html and "removed by its author" in html


def test_another_language_is_another_rendering(talked, alex, sam, renders):
    english = snapshot(talked, sam)
    renders.clear()
    sam.language = "es"
    sam.save(update_fields=["language"])
    spanish = snapshot(talked, sam)
    assert len(renders) == talked.turns.count()  # every turn rendered again, in Spanish
    assert spanish != english and "Terminar el diálogo" in spanish


def test_the_memory_holds_at_most_the_configured_number_of_turns(talked, alex, sam, settings):
    settings.IMAGO_TURN_HTML_CACHE = 2
    snapshot(talked, alex)
    snapshot(talked, sam)
    assert turn_html.cached_count() == 2
    settings.IMAGO_TURN_HTML_CACHE = 0
    snapshot(talked, alex)
    assert turn_html.cached_count() == 0
