"""What the dialogue page is made of, for one person: the move panel's forms and the line a
screen reader hears for each new turn."""

import pytest

from dialogues import selectors, services
from dialogues.models import Turn

pytestmark = pytest.mark.django_db


def move(dialogue, user, name, **payload):
    services.move_submit(
        session_public_id=dialogue.public_id, user=user, move=name, payload=payload
    )
    dialogue.refresh_from_db()


def to_check(dialogue, alex, sam):
    """Sam accepted, Alex shared, Sam mirrored: Alex checks whether Sam got it."""
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="When you sleep in, I feel lonely.")
    move(dialogue, sam, "mirror", text="You feel lonely when I sleep in.")


def announcement(dialogue, viewer) -> str:
    turn = Turn.objects.filter(session=dialogue).order_by("-seq").first()
    return selectors.turn_view(turn, viewer=viewer).announcement


def test_a_check_offers_the_stems_only_in_the_correction_box(dialogue, alex, sam):
    to_check(dialogue, alex, sam)
    panel = selectors.panel_for(session=dialogue, viewer=alex)
    by_name = {form.name: form for form in panel.forms}
    assert by_name["got_it"].stems == () and not by_name["got_it"].opens_first
    assert by_name["not_quite"].opens_first
    assert by_name["not_quite"].stems and "Yes, you got it." not in by_name["not_quite"].stems
    assert by_name["not_quite"].send_label != "Yes, you got it"
    assert panel.step.stems == ()


def test_it_is_your_move_only_when_you_may_act_and_there_is_no_time_out(dialogue, alex, sam):
    assert selectors.panel_for(session=dialogue, viewer=sam).your_move
    assert not selectors.panel_for(session=dialogue, viewer=alex).your_move
    move(dialogue, sam, "accept_now")
    services.session_pause(session_public_id=dialogue.public_id, user=sam)
    dialogue.refresh_from_db()
    assert not selectors.panel_for(session=dialogue, viewer=alex).your_move


def test_a_correction_is_announced_once_in_plain_words(dialogue, alex, sam):
    to_check(dialogue, alex, sam)
    move(dialogue, alex, "not_quite", text="Not quite: on Sundays especially.")
    assert announcement(dialogue, sam) == "Alex said not quite: on Sundays especially."


def test_an_answer_is_announced_with_its_words_and_a_move_without_words_as_itself(
    dialogue, alex, sam
):
    to_check(dialogue, alex, sam)
    move(dialogue, alex, "got_it")
    assert announcement(dialogue, sam) == "Alex said: Yes, you got it."
    move(dialogue, sam, "ask_more")
    assert announcement(dialogue, alex) == "Sam asked: Is there more?"
    move(dialogue, alex, "thats_all")
    move(dialogue, sam, "summary", text="Lonely when I sleep in")
    assert announcement(dialogue, alex) == "Sam summed up: Lonely when I sleep in."
    move(dialogue, alex, "got_it_all")
    move(dialogue, sam, "validate", text="That makes sense.")
    move(dialogue, alex, "acknowledge", text="")
    assert announcement(dialogue, sam) == "Alex acknowledged."
    move(dialogue, sam, "empathize", text="I imagine you feel sad.", feelings=["sad"])
    move(dialogue, alex, "confirm")
    move(dialogue, alex, "make_requests", items=["Breakfast on Sunday?", "Wake me at nine"])
    assert announcement(dialogue, sam) == (
        "Alex made requests: Breakfast on Sunday? Wake me at nine."
    )
    move(dialogue, sam, "give", choice=1, text="")
    assert announcement(dialogue, alex) == "Sam chose a gift: Wake me at nine."
    move(dialogue, alex, "switch_roles")
    assert announcement(dialogue, sam) == "Alex switched roles."
