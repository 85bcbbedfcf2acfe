"""Dialogue services: every change is one ordered turn, checked against the protocol."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import live
from dialogues import services
from dialogues.models import DialogueSession, Turn
from dialogues.services import DialogueError, DialogueNotFound
from tests.helpers import at_once, form_token, move, page_open, play, round_moves


def turns(session):
    return list(Turn.objects.filter(session=session).values_list("seq", "step", "move"))


# --- starting ------------------------------------------------------------------------------


def test_it_starts_a_dialogue_with_the_topic_as_the_appointment_request(dialogue, alex, sam):
    assert dialogue.partner_a == alex and dialogue.partner_b == sam
    assert dialogue.step == "appointment" and dialogue.status == "active"
    assert dialogue.seq == 1
    first = dialogue.turns.get()
    assert (first.move, first.text, first.actor) == ("ask", "Sunday mornings", alex)


@pytest.mark.parametrize(
    ("topic", "message"),
    [("", "name the topic"), ("   ", "name the topic"), ("x" * 201, "under 200")],
)
def test_it_refuses_an_empty_or_long_topic(pair, alex, topic, message):
    with pytest.raises(DialogueError, match=message):
        services.dialogue_start(user=alex, kind="intentional", topic=topic)
    assert not DialogueSession.objects.exists()


def test_it_refuses_an_unknown_kind(pair, alex):
    with pytest.raises(DialogueError, match="choose a kind"):
        services.dialogue_start(user=alex, kind="debate", topic="Money")


def test_it_needs_a_partner_to_start(alex):
    with pytest.raises(DialogueError, match="once your partner has joined"):
        services.dialogue_start(user=alex, kind="intentional", topic="Money")


def test_it_allows_one_live_dialogue_per_couple(dialogue, sam):
    with pytest.raises(DialogueError, match="already have a dialogue in progress"):
        services.dialogue_start(user=sam, kind="appreciation", topic="Thanks")
    assert DialogueSession.objects.count() == 1


# --- moves ---------------------------------------------------------------------------------


def test_it_saves_each_move_as_the_next_turn_and_advances_the_step(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="When you sleep in, I feel lonely.")
    result = move(dialogue, sam, "mirror", text="You feel lonely when I sleep in.")
    dialogue.refresh_from_db()
    assert result.created and result.turn.seq == 4
    assert dialogue.step == "check" and dialogue.seq == 4
    assert turns(dialogue) == [
        (1, "start", "ask"),
        (2, "appointment", "accept_now"),
        (3, "send", "send"),
        (4, "mirror", "mirror"),
    ]
    assert result.turn.actor_role == "receiver"


def test_it_refuses_the_wrong_person(dialogue, alex):
    with pytest.raises(DialogueError, match="not your turn"):
        move(dialogue, alex, "accept_now")
    assert turns(dialogue) == [(1, "start", "ask")]


def test_it_hides_the_dialogue_from_another_couple(dialogue, outsider):
    with pytest.raises(DialogueNotFound):
        move(dialogue, outsider, "accept_now")
    with pytest.raises(DialogueNotFound):
        services.session_pause(session_public_id=dialogue.public_id, user=outsider)
    assert turns(dialogue) == [(1, "start", "ask")]


def test_it_refuses_a_move_of_another_step_as_stale(dialogue, sam):
    with pytest.raises(DialogueError) as error:
        move(dialogue, sam, "mirror", text="hello")
    assert error.value.stale
    assert turns(dialogue) == [(1, "start", "ask")]


def test_it_refuses_a_form_made_for_an_earlier_step(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    old_at = DialogueSession.objects.get().step_seq
    move(dialogue, alex, "send", text="I feel lonely.")
    move(dialogue, sam, "mirror", text="You feel lonely.")
    move(dialogue, alex, "not_quite", text="Not quite: on Sundays.")
    move(dialogue, sam, "mirror", text="On Sundays you feel lonely.")
    # Alex's "got it" form from before the correction must not confirm the new mirror.
    with pytest.raises(DialogueError, match="moved on") as error:
        move(dialogue, alex, "got_it", at=old_at + 2)
    assert error.value.stale
    assert DialogueSession.objects.get().step == "check"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "write something"), ("   ", "write something"), ("x" * 2001, "2,000")],
)
def test_it_refuses_empty_or_overlong_text(dialogue, alex, sam, text, message):
    move(dialogue, sam, "accept_now")
    with pytest.raises(DialogueError, match=message):
        move(dialogue, alex, "send", text=text)
    assert DialogueSession.objects.get().step == "send"
    assert Turn.objects.count() == 2


def test_it_keeps_markup_as_plain_text(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="<script>alert(1)</script> I feel")
    assert Turn.objects.get(seq=3).text == "<script>alert(1)</script> I feel"


def test_a_replayed_form_saves_the_turn_once(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    first = move(dialogue, alex, "send", token="form-123", text="I feel lonely.")
    again = move(dialogue, alex, "send", token="form-123", text="I feel lonely.")
    assert first.created and not again.created
    assert again.turn.pk == first.turn.pk
    assert Turn.objects.filter(move="send").count() == 1


def test_a_replayed_form_is_fine_even_after_the_dialogue_moved_on(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", token="t-1", text="I feel lonely.")
    move(dialogue, sam, "mirror", text="You feel lonely.")
    replay = move(dialogue, alex, "send", token="t-1", at=2, text="I feel lonely.")
    assert not replay.created
    assert Turn.objects.count() == 4


def test_it_proposes_a_time_within_24_hours(dialogue, sam):
    move(dialogue, sam, "propose_time", time="120")
    dialogue.refresh_from_db()
    assert dialogue.step == "scheduled" and dialogue.scheduled_for is not None
    with pytest.raises(DialogueError):
        move(dialogue, sam, "propose_time", time="120")


@pytest.mark.parametrize(
    ("minutes", "why"),
    [
        ("0", "That time has passed"),
        ("1441", "24 hours"),
        ("soon", "Please choose a time"),
        ("-5", "Please choose a time"),
    ],
)
def test_it_refuses_a_time_outside_the_next_24_hours(dialogue, sam, minutes, why):
    with pytest.raises(DialogueError, match=why):
        move(dialogue, sam, "propose_time", time=minutes)
    assert DialogueSession.objects.get().step == "appointment"


def walk_to_switch(session, alex, sam):
    """Play round one of an intentional dialogue up to 'switch roles or close'."""
    for user, name, payload in _round_one(alex, sam):
        move(session, user, name, **payload)


def _round_one(alex, sam):
    return [
        (sam, "accept_now", {}),
        (alex, "send", {"text": "I feel lonely."}),
        (sam, "mirror", {"text": "You feel lonely."}),
        (alex, "got_it", {}),
        (sam, "ask_more", {}),
        (alex, "thats_all", {}),
        (sam, "summary", {"text": "Lonely."}),
        (alex, "got_it_all", {}),
        (sam, "validate", {"text": "That makes sense."}),
        (alex, "acknowledge", {"text": ""}),
        (sam, "empathize", {"text": "Lonely, sad.", "feelings": ["lonely", "sad"]}),
        (alex, "confirm", {}),
        (alex, "make_requests", {"items": ["Breakfast on Sunday?", "Wake me at nine?"]}),
        (sam, "give", {"choice": "1"}),
    ]


def test_the_gift_records_the_chosen_request(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    gift = Turn.objects.get(move="give")
    assert gift.data["gift"] == "Wake me at nine?"
    assert Turn.objects.get(move="empathize").data["feelings"] == ["lonely", "sad"]
    assert DialogueSession.objects.get().step == "switch"


def test_closing_by_both_completes_the_dialogue(alex, sam, pair):
    session = services.dialogue_start(user=alex, kind="behavior_change", topic="Dishes")
    move(session, sam, "accept_now")
    move(session, alex, "make_requests", items=["Would you wash up on Mondays?"])
    move(session, sam, "give", choice="0")
    session.refresh_from_db()
    assert session.status == "completed" and session.ended_at is not None
    with pytest.raises(DialogueError, match="ended"):
        move(session, sam, "give", choice="0")


# --- time-out and ending -------------------------------------------------------------------


def test_a_time_out_pauses_for_both_and_resumes_only_when_both_are_ready(dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    services.session_pause(session_public_id=dialogue.public_id, user=alex)
    dialogue.refresh_from_db()
    assert dialogue.status == "paused" and dialogue.paused_by == alex
    assert dialogue.paused_at is not None and dialogue.ready_to_resume == []
    with pytest.raises(DialogueError, match="paused"):
        move(dialogue, alex, "send", text="I feel.")
    services.session_pause(session_public_id=dialogue.public_id, user=sam)  # double: no-op
    services.session_resume(session_public_id=dialogue.public_id, user=sam)
    services.session_resume(session_public_id=dialogue.public_id, user=sam)  # double: no-op
    dialogue.refresh_from_db()
    assert dialogue.status == "paused" and dialogue.ready_to_resume == ["b"]
    with pytest.raises(DialogueError, match="paused"):
        move(dialogue, alex, "send", text="I feel.")  # one partner ready is not enough
    services.session_resume(session_public_id=dialogue.public_id, user=alex)
    dialogue.refresh_from_db()
    assert dialogue.status == "active" and dialogue.paused_by is None
    assert dialogue.paused_at is None and dialogue.ready_to_resume == []
    moves = [m for _, _, m in turns(dialogue)]
    assert moves == ["ask", "accept_now", "pause", "ready", "resume"]
    move(dialogue, alex, "send", text="I feel.")


@pytest.mark.parametrize("who", ["alex", "sam"])
def test_no_time_out_before_the_dialogue_has_started(dialogue, alex, sam, who):
    person = {"alex": alex, "sam": sam}[who]
    with pytest.raises(DialogueError) as refused:
        services.session_pause(session_public_id=dialogue.public_id, user=person)
    assert refused.value.message == "The dialogue hasn't started yet, so there's nothing to pause."
    dialogue.refresh_from_db()
    assert dialogue.status == "active" and dialogue.paused_by is None
    assert turns(dialogue) == [(1, "start", "ask")]
    # Nor once a later time is agreed ("scheduled"): the dialogue still hasn't begun.
    move(dialogue, sam, "propose_time", time="60")
    with pytest.raises(DialogueError, match="hasn't started yet"):
        services.session_pause(session_public_id=dialogue.public_id, user=person)
    assert [m for _, _, m in turns(dialogue)] == ["ask", "propose_time"]
    move(dialogue, alex, "begin")
    services.session_pause(session_public_id=dialogue.public_id, user=person)
    dialogue.refresh_from_db()
    assert dialogue.status == "paused"


# --- switch or close: each of you is heard ---------------------------------------------------


def test_after_round_one_the_partner_already_heard_can_only_suggest_closing(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    before = turns(dialogue)
    with pytest.raises(DialogueError, match="needs you both to agree") as refused:
        move(dialogue, alex, "go_to_closing")
    assert refused.value.stale  # the page shows the choices there are
    assert turns(dialogue) == before
    move(dialogue, alex, "propose_closing", token="alex-close")
    dialogue.refresh_from_db()
    assert dialogue.step == "closing_proposed" and dialogue.state["proposer"] == "a"
    with pytest.raises(DialogueError, match="not your turn"):
        move(dialogue, alex, "agree_to_close")
    move(dialogue, sam, "agree_to_close")
    dialogue.refresh_from_db()
    assert dialogue.step == "closing" and dialogue.round == 1
    assert [m for _, _, m in turns(dialogue)][-2:] == ["propose_closing", "agree_to_close"]
    roles = Turn.objects.filter(move__in=["propose_closing", "agree_to_close"])
    assert [(t.actor, t.actor_role) for t in roles.order_by("seq")] == [
        (alex, "sender"),
        (sam, "receiver"),
    ]


def test_the_other_partner_can_ask_to_switch_instead(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    move(dialogue, alex, "propose_closing")
    move(dialogue, sam, "switch_instead")
    dialogue.refresh_from_db()
    assert (dialogue.step, dialogue.round) == ("send", 2)
    assert dialogue.state["sender"] == "b" and dialogue.state["proposer"] == ""
    move(dialogue, sam, "send", text="I'd like to be heard too.")


def test_switching_needs_no_agreement(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    move(dialogue, alex, "switch_roles")
    dialogue.refresh_from_db()
    assert (dialogue.step, dialogue.round, dialogue.state["sender"]) == ("send", 2, "b")


def test_once_both_have_been_heard_either_partner_moves_to_closing(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    move(dialogue, sam, "switch_roles")
    play(dialogue, round_moves(sam, alex, gift=""))
    assert dialogue.step == "switch"
    with pytest.raises(DialogueError, match="either of you can move on to closing"):
        move(dialogue, alex, "propose_closing")
    move(dialogue, alex, "go_to_closing")
    dialogue.refresh_from_db()
    assert (dialogue.step, dialogue.round) == ("closing", 2)


def test_when_both_decide_at_once_the_one_who_lost_is_told_what_happened(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    dialogue.refresh_from_db()
    at = dialogue.step_seq
    move(dialogue, alex, "propose_closing", token="alex-form", at=at)
    with pytest.raises(DialogueError) as lost:
        move(dialogue, sam, "switch_roles", token="sam-form", at=at)
    assert lost.value.stale
    assert lost.value.message == "Alex suggested closing just before you. Here is where it is now."
    # Alex's click, replayed, saves nothing again; Sam's form is still refused.
    assert not move(dialogue, alex, "propose_closing", token="alex-form", at=at).created
    with pytest.raises(DialogueError, match="Alex suggested closing"):
        move(dialogue, sam, "propose_closing", token="sam-form-2", at=at)
    decisions = Turn.objects.filter(move__in=["propose_closing", "switch_roles"])
    assert list(decisions.values_list("move", "actor")) == [("propose_closing", alex.pk)]
    dialogue.refresh_from_db()
    assert dialogue.step == "closing_proposed" and dialogue.seq == at + 1


def test_the_loser_of_a_race_to_switch_is_told_too(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    dialogue.refresh_from_db()
    at = dialogue.step_seq
    move(dialogue, sam, "switch_roles", at=at)
    with pytest.raises(DialogueError) as lost:
        move(dialogue, alex, "propose_closing", at=at)
    assert lost.value.message == "Sam switched roles just before you. Here is where it is now."


def test_a_form_left_behind_by_ones_own_move_gets_the_plain_message(dialogue, alex, sam):
    walk_to_switch(dialogue, alex, sam)
    dialogue.refresh_from_db()
    at = dialogue.step_seq
    move(dialogue, alex, "propose_closing", at=at)
    with pytest.raises(DialogueError) as refused:
        move(dialogue, alex, "switch_roles", at=at)  # the same person, another tab
    assert refused.value.message == services.MOVED_ON


def test_a_refused_decision_costs_one_more_query_and_saves_nothing(
    dialogue, alex, sam, django_assert_num_queries
):
    walk_to_switch(dialogue, alex, sam)
    dialogue.refresh_from_db()
    at = dialogue.step_seq
    move(dialogue, alex, "propose_closing", at=at)
    count = Turn.objects.count()
    # savepoint, lock, token, what happened, rollback to the savepoint, release
    with django_assert_num_queries(6), pytest.raises(DialogueError):
        services.move_submit(
            session_public_id=dialogue.public_id,
            user=sam,
            move="switch_roles",
            at=at,
            token="sam-late",
        )
    assert Turn.objects.count() == count


def test_ending_makes_the_dialogue_read_only(dialogue, alex, sam):
    services.session_end(session_public_id=dialogue.public_id, user=sam)
    dialogue.refresh_from_db()
    assert dialogue.status == "ended"
    with pytest.raises(DialogueError, match="ended"):
        move(dialogue, sam, "accept_now")
    with pytest.raises(DialogueError, match="ended"):
        services.session_resume(session_public_id=dialogue.public_id, user=alex)
    # The couple can start a new one afterwards.
    services.dialogue_start(user=sam, kind="appreciation", topic="Thanks")


def test_it_broadcasts_after_commit_with_each_audiences_fragments_only(
    dialogue, alex, sam, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, message: sent.append((group, message)))
    page_open(dialogue, sam)  # Sam's page and a console are open: all three are rendered
    page_open(dialogue)
    with django_capture_on_commit_callbacks(execute=True):
        move(dialogue, sam, "accept_now")
        assert sent == []  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):
        move(dialogue, alex, "send", text="A very private sentence.")
    steps = [(group, message) for group, message in sent if message["type"] == "dialogue.changed"]
    assert [(group, message["seq"], message["prev"]) for group, message in steps] == [
        (dialogue.group_name, 2, 1),
        (dialogue.group_name, 3, 2),
    ]
    # (The other messages — a linked therapist's dashboard hearing that the dialogue began —
    # carry ids only, checked with everything else below.)
    # What anyone wrote travels only inside the fragments, rendered once per audience (and
    # encrypted on Redis: tests/imago_site/test_channel_layer.py), never as data of its own.
    for _group, message in steps[:1]:
        message.pop("fragments")
    fragments = steps[1][1].pop("fragments")
    assert set(fragments) == {"a", "b", "facilitator"}
    assert all("A very private sentence." in f["html"] for f in fragments.values())
    assert "private" not in repr(sent)


def test_a_refused_move_broadcasts_nothing(
    dialogue, alex, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, message: sent.append(message))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DialogueError):
        move(dialogue, alex, "accept_now")
    assert sent == []


def test_it_never_logs_dialogue_text(dialogue, alex, sam, caplog):
    caplog.set_level("DEBUG")
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="my-secret-feeling-words")
    assert "my-secret-feeling-words" not in caplog.text
    assert "Sunday mornings" not in caplog.text


def test_a_move_costs_the_same_queries_however_long_the_dialogue(alex, sam, pair):
    def cost(session, user, name, **payload):
        with CaptureQueriesContext(connection) as ctx:
            move(session, user, name, **payload)
        return len(ctx.captured_queries)

    session = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    move(session, sam, "accept_now")
    early = cost(session, alex, "send", text="I feel.")
    for _ in range(15):
        move(session, sam, "mirror", text="You feel.")
        move(session, alex, "not_quite", text="Not quite.")
    late = cost(session, sam, "mirror", text="You feel.")
    assert late == early


# --- races (real PostgreSQL row locks) -----------------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_when_both_choose_at_once_exactly_one_wins(alex, sam, pair):
    session = services.dialogue_start(user=alex, kind="intentional", topic="Dishes")
    walk_to_switch(session, alex, sam)
    before = DialogueSession.objects.get()
    results = at_once(
        lambda: services.move_submit(
            session_public_id=session.public_id,
            user=alex,
            move="switch_roles",
            at=before.step_seq,
            token="alex-1",
        ),
        lambda: services.move_submit(
            session_public_id=session.public_id,
            user=sam,
            move="propose_closing",
            at=before.step_seq,
            token="sam-1",
        ),
    )
    wins = [r for r in results if isinstance(r, services.MoveResult)]
    losses = [r for r in results if isinstance(r, DialogueError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].stale
    assert losses[0].message in {
        "Alex switched roles just before you. Here is where it is now.",
        "Sam suggested closing just before you. Here is where it is now.",
    }
    assert Turn.objects.filter(move__in=["switch_roles", "propose_closing"]).count() == 1
    seqs = list(Turn.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, before.seq + 2))


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_from_two_threads_saves_once(alex, sam, pair):
    session = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    move(session, sam, "accept_now")
    at = DialogueSession.objects.get().step_seq

    def send():
        return services.move_submit(
            session_public_id=session.public_id,
            user=alex,
            move="send",
            payload={"text": "I feel."},
            at=at,
            token="same-form",
        )

    results = at_once(send, send)
    assert all(isinstance(r, services.MoveResult) for r in results), results
    assert sorted(r.created for r in results) == [False, True]
    assert Turn.objects.filter(move="send").count() == 1


def test_a_live_dialogue_ends_when_a_partner_leaves_the_couple(dialogue, sam):
    from couples.services import couple_leave

    couple_leave(user=sam)
    dialogue.refresh_from_db()
    assert dialogue.status == "ended"
    assert dialogue.turns.last().move == "end"


# --- said aloud, and together on one device -----------------------------------------------

from couples import services as couple_services  # noqa: E402
from couples.models import DeviceSharing  # noqa: E402
from security.models import AuditEvent  # noqa: E402


def aloud_round(sender, receiver):
    """One said-aloud round with a "Not quite" and a "There's more": no word written."""
    return [
        (sender, "send", {}),
        (receiver, "mirror", {}),
        (sender, "not_quite", {}),
        (receiver, "mirror", {}),
        (sender, "got_it", {}),
        (receiver, "ask_more", {}),
        (sender, "there_is_more", {}),
        (sender, "send", {}),
        (receiver, "mirror", {}),
        (sender, "got_it", {}),
        (receiver, "ask_more", {}),
        (sender, "thats_all", {}),
        (receiver, "summary", {}),
        (sender, "got_it_all", {}),
        (receiver, "validate", {}),
        (sender, "acknowledge", {}),
        (receiver, "empathize", {"feelings": ["lonely"]}),
        (sender, "confirm", {}),
        (sender, "make_requests", {}),
        (receiver, "give", {}),
    ]


@pytest.fixture
def aloud(pair, alex):
    return services.dialogue_start(
        user=alex, kind="intentional", topic="Sunday mornings", aloud=True
    )


def test_a_dialogue_said_aloud_runs_from_appointment_to_closing_with_no_word_written(
    aloud, alex, sam
):
    assert aloud.protocol_state.aloud
    play(aloud, [(sam, "accept_now", {}), *aloud_round(alex, sam)])
    play(aloud, [(alex, "switch_roles", {}), *aloud_round(sam, alex)])
    play(aloud, [(sam, "go_to_closing", {}), (alex, "close", {"rating": 5})])
    play(aloud, [(sam, "close", {"rating": 4})])
    assert aloud.status == "completed"
    said = Turn.objects.filter(session=aloud, kind="move").exclude(move="accept_now")
    assert all(t.text == "" for t in said)  # nothing made up
    spoken = {t.move for t in said if t.data.get("aloud")}
    assert spoken == {
        "send", "mirror", "not_quite", "summary", "validate", "empathize", "make_requests", "close"
    }  # fmt: skip
    assert not any(t.data.get("aloud") for t in said if t.move in ("got_it", "ask_more"))
    assert [t.data["rating"] for t in said if t.move == "close"] == [5, 4]


def test_said_aloud_still_refuses_the_wrong_turn_and_a_stale_form(aloud, alex, sam):
    play(aloud, [(sam, "accept_now", {})])
    with pytest.raises(DialogueError, match="not your turn"):
        move(aloud, sam, "send")
    with pytest.raises(DialogueError) as stale:
        move(aloud, alex, "send", at=0)
    assert stale.value.stale
    with pytest.raises(DialogueError, match="plain text"):
        move(aloud, alex, "send", text="bad\x00")
    assert aloud.turns.count() == 2


def test_switching_to_aloud_and_back_is_a_recorded_turn_that_keeps_the_forms_good(
    dialogue, alex, sam
):
    play(dialogue, [(sam, "accept_now", {})])
    at = dialogue.step_seq
    services.session_aloud(session_public_id=dialogue.public_id, user=sam, aloud=True)
    services.session_aloud(session_public_id=dialogue.public_id, user=sam, aloud=True)  # twice
    dialogue.refresh_from_db()
    assert dialogue.protocol_state.aloud and dialogue.step_seq == at
    assert list(dialogue.turns.values_list("move", flat=True))[-1] == "aloud_on"
    assert dialogue.turns.filter(move="aloud_on").count() == 1
    move(dialogue, alex, "send", at=at)  # made for this step before the switch: still good
    services.session_aloud(session_public_id=dialogue.public_id, user=alex, aloud=False)
    with pytest.raises(DialogueError, match="write something"):
        move(dialogue, sam, "mirror")  # written again: the words are asked for again
    move(dialogue, sam, "mirror", text="You'd like a slow Sunday.")
    assert dialogue.turns.filter(move="aloud_off", actor=alex).exists()


def test_only_a_partner_switches_and_not_once_it_has_ended(dialogue, alex, outsider):
    with pytest.raises(DialogueNotFound):
        services.session_aloud(session_public_id=dialogue.public_id, user=outsider, aloud=True)
    services.session_end(session_public_id=dialogue.public_id, user=alex)
    with pytest.raises(DialogueError, match="ended"):
        services.session_aloud(session_public_id=dialogue.public_id, user=alex, aloud=True)


def together(session, user, on=True):
    return services.session_together(session_public_id=session.public_id, user=user, on=on)


def for_sam(session, alex, name, **payload):
    session.refresh_from_db()
    return services.move_submit(
        session_public_id=session.public_id,
        user=alex,
        move=name,
        payload=payload,
        at=session.step_seq,
        token=form_token(),
        for_partner=True,
    )


def test_together_on_one_device_needs_the_other_partners_permission(aloud, alex, sam):
    with pytest.raises(DialogueError, match="Sam hasn't allowed"):
        together(aloud, alex)
    couple_services.device_sharing_allow(user=alex)  # Alex's own permission doesn't count
    with pytest.raises(DialogueError, match="Sam hasn't allowed"):
        together(aloud, alex)
    couple_services.device_sharing_allow(user=sam)
    together(aloud, alex)
    aloud.refresh_from_db()
    assert aloud.shared_device == alex
    assert aloud.turns.filter(move="together_on", actor=alex).count() == 1


def test_together_needs_a_said_aloud_dialogue(dialogue, alex, sam):
    couple_services.device_sharing_allow(user=sam)
    with pytest.raises(DialogueError, match="say the dialogue aloud"):
        together(dialogue, alex)


def test_moves_made_for_the_partner_on_one_device_are_theirs_recorded_as_made_there(
    aloud, alex, sam
):
    couple_services.device_sharing_allow(user=sam)
    together(aloud, alex)
    for_sam(aloud, alex, "accept_now")
    move(aloud, alex, "send")
    turn = for_sam(aloud, alex, "mirror").turn
    assert (turn.actor, turn.made_by, turn.actor_role) == (sam, alex, "receiver")
    assert turn.data == {"aloud": True} and turn.text == ""
    with pytest.raises(DialogueError, match="not your turn"):
        for_sam(aloud, alex, "got_it")  # Alex's own move: not Sam's to make
    move(aloud, alex, "got_it")
    assert Turn.objects.filter(session=aloud, made_by=alex).count() == 2


def test_no_move_is_made_for_the_partner_without_together_on(aloud, alex, sam):
    couple_services.device_sharing_allow(user=sam)
    with pytest.raises(DialogueError, match="isn't on") as refused:
        for_sam(aloud, alex, "accept_now")
    assert refused.value.stale
    together(aloud, alex)
    with pytest.raises(DialogueError, match="isn't on"):
        for_sam(aloud, sam, "send")  # Sam's own device doesn't hold it: nothing for Alex
    assert aloud.turns.count() == 2  # the request and together_on: nothing else saved


def test_an_outsider_never_acts_for_anyone(aloud, alex, sam, outsider):
    couple_services.device_sharing_allow(user=sam)
    together(aloud, alex)
    with pytest.raises(DialogueNotFound):
        for_sam(aloud, outsider, "accept_now")


def test_withdrawing_permission_stops_one_device_at_once_and_is_audited(aloud, alex, sam):
    couple_services.device_sharing_allow(user=sam)
    together(aloud, alex)
    for_sam(aloud, alex, "accept_now")
    assert couple_services.device_sharing_revoke(user=sam) == 1
    aloud.refresh_from_db()
    assert aloud.shared_device is None
    last = aloud.turns.order_by("-seq").first()
    assert (last.move, last.actor) == ("together_off", sam)
    move(aloud, alex, "send")
    with pytest.raises(DialogueError, match="isn't on"):
        for_sam(aloud, alex, "mirror")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "device_sharing.allowed" in actions and "device_sharing.revoked" in actions
    assert not DeviceSharing.objects.filter(revoked_at__isnull=True).exists()


def test_a_permission_withdrawn_in_the_database_is_checked_at_each_move(aloud, alex, sam):
    couple_services.device_sharing_allow(user=sam)
    together(aloud, alex)
    DeviceSharing.objects.update(revoked_at=aloud.created_at)  # withdrawn, no signal heard
    with pytest.raises(DialogueError, match="Sam hasn't allowed"):
        for_sam(aloud, alex, "accept_now")


def test_writing_again_ends_together_on_one_device(aloud, alex, sam):
    couple_services.device_sharing_allow(user=sam)
    together(aloud, alex)
    services.session_aloud(session_public_id=aloud.public_id, user=sam, aloud=False)
    aloud.refresh_from_db()
    assert aloud.shared_device is None


def test_a_double_click_on_together_changes_nothing(aloud, alex, sam):
    couple_services.device_sharing_allow(user=sam)
    together(aloud, alex)
    together(aloud, alex)
    together(aloud, sam, on=False)
    together(aloud, sam, on=False)
    assert list(aloud.turns.values_list("move", flat=True)) == [
        "ask", "together_on", "together_off"
    ]  # fmt: skip


def test_a_booked_session_is_not_switched_before_it_opens(pair, alex, sam, therapist):
    from datetime import timedelta

    from live import clock

    booked, _ = services.session_book(
        couple=pair,
        therapist=therapist,
        kind="intentional",
        at=clock.now() + timedelta(days=1),
        minutes=50,
        first=alex,
        second=sam,
    )
    for switch in (
        lambda: services.session_aloud(session_public_id=booked.public_id, user=alex, aloud=True),
        lambda: together(booked, alex),
    ):
        with pytest.raises(DialogueError, match="opens by itself at its time"):
            switch()
    assert booked.turns.count() == 1


# --- the private check-in given with a starting move ---------------------------------------


@pytest.mark.django_db
def test_a_hot_check_in_with_the_starting_move_suggests_a_pause_and_saves_nothing(dialogue, sam):
    from safety.selectors import CheckIn

    hot = CheckIn(halt=("tired",), intensity=9)
    token = form_token()
    with pytest.raises(services.PauseSuggested) as suggested:
        move(dialogue, sam, "accept_now", token=token, checkin=hot)
    assert suggested.value.checkin == hot
    assert (dialogue.step, dialogue.seq) == ("appointment", 1)
    # Going on anyway (no check-in) with the same form starts it, once.
    move(dialogue, sam, "accept_now", token=token)
    assert dialogue.step == "send"


@pytest.mark.django_db
def test_a_check_in_with_any_other_move_changes_nothing_about_it(dialogue, alex, sam):
    from safety.selectors import CheckIn

    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="I miss our walks.", checkin=CheckIn(intensity=10))
    assert dialogue.step == "mirror"
