"""Reads shaped for pages: a transcript grouped as the protocol shapes a dialogue, the same for
every kind and every reader; the gifts agreed, on the home page; the move panel's forms and the
line a screen reader hears for each new turn."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from dialogues import protocol, selectors, services
from dialogues.models import Turn
from tests.helpers import form_token, move, play, round_moves

pytestmark = pytest.mark.django_db


def sections_for(session, viewer):
    session.refresh_from_db()
    turns = selectors.turns_of(session=session, viewer=viewer)
    return selectors.transcript_sections(session=session, viewer=viewer, turns=turns)


def shape(sections):
    return [(s.phase.value, s.round, s.title, s.sender, s.receiver) for s in sections]


def test_an_intentional_dialogue_reads_as_appointment_rounds_and_closing(dialogue, alex, sam):
    play(
        dialogue,
        [
            (sam, "accept_now", {}),
            *round_moves(alex, sam),
            (sam, "switch_roles", {}),
            *round_moves(sam, alex, gift=""),
            (alex, "go_to_closing", {}),
            (alex, "close", {"text": "Your patience.", "rating": 5}),
        ],
    )
    sections = sections_for(dialogue, alex)
    assert shape(sections) == [
        ("opening", 0, "Making the appointment", "", ""),
        ("round", 1, "Round 1", "You", "Sam"),
        ("round", 2, "Round 2", "Sam", "You"),
        ("ending", 0, "Closing", "", ""),
    ]
    assert [t.phrase for t in sections[0].turns] == ["asked to talk", "is available now"]
    assert sections[1].turns[-1].phrase == "switched roles"  # the decision ends its round
    assert sections[2].turns[-1].phrase == "moved on to closing"
    assert sum(len(s.turns) for s in sections) == dialogue.seq  # every turn, once, in order
    assert sections[1].gift == selectors.Gift(giver="Sam", to="you", text="Wake me at nine?")
    assert sections[2].gift is None
    assert shape(sections_for(dialogue, sam))[1] == ("round", 1, "Round 1", "Alex", "You")


def test_time_outs_and_coaching_stay_in_the_round_they_happened_in(
    dialogue, alex, sam, therapist, link
):
    from therapists import services as therapist_services

    play(dialogue, [(sam, "accept_now", {}), *round_moves(alex, sam)[:3]])
    services.session_pause(session_public_id=dialogue.public_id, user=sam)
    services.session_resume(session_public_id=dialogue.public_id, user=sam)
    services.session_resume(session_public_id=dialogue.public_id, user=alex)
    therapist_services.coaching_send(
        session_public_id=dialogue.public_id,
        therapist=therapist,
        text="Only Sam.",
        to="b",
        token=form_token(),
    )
    for_alex = sections_for(dialogue, alex)
    assert shape(for_alex)[1:] == [("round", 1, "Round 1", "You", "Sam")]
    phrases = [t.phrase for t in for_alex[1].turns]
    assert phrases[-4:] == [
        "said",
        "called a time-out",
        "is ready to go on",
        "resumed the dialogue",
    ]
    assert "Only Sam." not in [t.text for s in for_alex for t in s.turns]  # not Alex's to read
    for_therapist = sections_for(dialogue, therapist)
    assert shape(for_therapist)[1] == ("round", 1, "Round 1", "Alex", "Sam")
    assert for_therapist[1].turns[-1].text == "Only Sam."


def test_an_appreciation_dialogue_has_two_rounds_with_roles_swapped(pair, alex, sam):
    session = services.dialogue_start(user=alex, kind="appreciation", topic="Thanks")
    play(
        session,
        [
            (sam, "accept_now", {}),
            (alex, "appreciate", {"text": "Your calm."}),
            (sam, "mirror", {"text": "My calm."}),
            (alex, "got_it", {}),
            (sam, "appreciate", {"text": "Your jokes."}),
            (alex, "mirror", {"text": "My jokes."}),
            (sam, "got_it", {}),
        ],
    )
    assert session.status == "completed"
    assert shape(sections_for(session, sam)) == [
        ("opening", 0, "Making the appointment", "", ""),
        ("round", 1, "Round 1", "Alex", "You"),
        ("round", 2, "Round 2", "You", "Alex"),
    ]


def test_a_behaviour_change_request_shows_its_gift(pair, alex, sam):
    session = services.dialogue_start(user=alex, kind="behavior_change", topic="Dishes")
    play(
        session,
        [
            (sam, "accept_now", {}),
            (alex, "make_requests", {"items": ["Wash up on Mondays?"]}),
            (sam, "give", {"choice": "0", "text": "Gladly."}),
        ],
    )
    context = selectors.transcript_of(
        session=session, viewer=alex, turns=selectors.turns_of(session=session, viewer=alex)
    )
    assert context["gifts"] == [selectors.Gift(giver="Sam", to="you", text="Wash up on Mondays?")]
    assert context["gifts"][0].line == "Sam agreed to give you"


def test_an_empty_acknowledgement_is_an_empty_turn_and_words_are_not(dialogue, alex, sam):
    play(dialogue, [(sam, "accept_now", {}), *round_moves(alex, sam)])
    views = [v for s in sections_for(dialogue, sam) for v in s.turns]
    empty = [v.phrase for v in views if v.is_empty]
    assert empty == ["acknowledged"]
    assert not any(v.is_empty for v in views if v.is_event or v.text or v.said)


def test_the_home_page_reads_every_past_dialogues_gifts_in_one_query(pair, alex, sam):
    def past_dialogue(gift):
        session = services.dialogue_start(user=alex, kind="behavior_change", topic="Dishes")
        play(
            session,
            [
                (sam, "accept_now", {}),
                (alex, "make_requests", {"items": [gift]}),
                (sam, "give", {"choice": "0"}),
            ],
        )

    def home():
        with CaptureQueriesContext(connection) as ctx:
            shown = selectors.home_dialogues(user=alex, couple=pair)
        return shown, len(ctx.captured_queries)

    past_dialogue("One?")
    shown, one = home()
    past_dialogue("Two?")
    past_dialogue("Three?")
    shown, three = home()
    assert three == one
    assert [[g.text for g in p.gifts] for p in shown["past_dialogues"]] == [
        ["Three?"],
        ["Two?"],
        ["One?"],
    ]
    assert shown["past_dialogues"][0].gifts[0].line == "Sam agreed to give you"


def test_a_gift_whose_author_deleted_their_account_is_not_listed(pair, alex, sam):
    session = services.dialogue_start(user=alex, kind="behavior_change", topic="Dishes")
    play(
        session,
        [
            (sam, "accept_now", {}),
            (alex, "make_requests", {"items": ["Wash up?"]}),
            (sam, "give", {"choice": "0"}),
        ],
    )
    services.turns_erase_by(user=sam)  # the giver's own turn is emptied
    assert selectors.home_dialogues(user=alex, couple=pair)["past_dialogues"][0].gifts == []


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
    assert by_name["not_quite"].sends_with != "Yes, you got it"
    assert panel.step.stems == ()


def test_the_panel_is_plain_values_read_in_the_language_it_was_built_in(dialogue, alex, sam):
    # The template reads the panel and asks the protocol nothing: its step and forms are plain
    # values, read once, in the viewer's language, whatever language is active when rendered.
    to_check(dialogue, alex, sam)
    with translation.override("es"):
        panel = selectors.panel_for(session=dialogue, viewer=alex)
    with translation.override("en"):
        by_name = {form.name: form for form in panel.forms}
        assert type(panel.step.title) is str and type(by_name["not_quite"].label) is str
        step = protocol.step_of(dialogue.protocol_state)
        with translation.override("es"):
            title, label = step.title, step.move("not_quite").label
        assert panel.step.title == title != step.title
        assert by_name["not_quite"].label == label
        assert by_name["got_it"].text is None and by_name["not_quite"].text is not None


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


def test_a_dialogues_form_addresses_are_reversed_once_and_match_the_urlconf(dialogue, monkeypatch):
    from django.urls import reverse

    urls = selectors.dialogue_urls(dialogue.public_id)
    assert urls is selectors.dialogue_urls(dialogue.public_id)
    for key, name in selectors.DialogueUrls.NAMES.items():
        assert urls[key] == reverse(name, args=[dialogue.public_id])
    monkeypatch.setattr(selectors, "reverse", lambda *a, **k: pytest.fail("reversed again"))
    assert urls["move"] == f"/dialogues/{dialogue.public_id}/move/"
    with pytest.raises(KeyError):
        urls["nonsense"]
