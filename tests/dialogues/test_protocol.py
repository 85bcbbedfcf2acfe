"""Tests for the plain-Python dialogue protocol (no Django needed)."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from dialogues import protocol as p
from dialogues.language import FEELINGS, HINT_FAMILIES
from dialogues.protocol import (
    KINDS,
    MAX_REQUESTS,
    MAX_TEXT,
    SLOTS,
    STEPS,
    Actor,
    InvalidInput,
    Kind,
    NoSuchMove,
    NotYourTurn,
    ProtocolError,
    State,
)

I, A, B = Kind.INTENTIONAL, Kind.APPRECIATION, Kind.BEHAVIOR_CHANGE
W, PC, X = Kind.WARM_UP, Kind.PARENT_CHILD, Kind.EXITS


def taps_only(move: p.Move, state: State) -> dict:
    """What a said-aloud move sends: no words, only what is tapped (a rating, a time from
    the list, a written request to give; feeling words sometimes)."""
    payload: dict[str, object] = {}
    for f in move.fields:
        if f.name == "rating":
            payload["rating"] = 5
        elif f.name == "time":
            payload["time"] = "90"
        elif f.name == "choice" and state.request_count:
            payload["choice"] = 0
        elif f.name == "feelings":
            payload["feelings"] = ["hopeful"]
    return payload


def valid_payload(move: p.Move, state: State) -> dict:
    """A payload that satisfies every field of ``move`` in ``state``."""
    payload: dict[str, object] = {}
    for f in move.fields:
        if f.name == "text":
            payload["text"] = "  Something I'd like you to hear.  "
        elif f.name == "feelings":
            payload["feelings"] = ["hurt", "lonely"]
        elif f.name == "items":
            payload["items"] = ["Would you be willing to call when you're late?", "Hug me"]
        elif f.name == "choice":
            payload["choice"] = state.request_count - 1 if state.request_count else ""
        elif f.name == "rating":
            payload["rating"] = 4
        elif f.name == "time":
            payload["time"] = "2030-01-01T18:00"
    return payload


def slot_of(state: State, who: str) -> str:
    """Resolve "sender"/"receiver" to a slot; "a"/"b" pass through."""
    if who == "sender":
        return state.sender
    if who == "receiver":
        return state.receiver
    return who


# --------------------------------------------------------------------------- structure


def test_kinds_list_their_steps_and_all_steps_exist():
    used = set()
    for kind, info in KINDS.items():
        assert info.kind is kind
        assert info.first_step == info.steps[0] == "appointment"
        assert info.steps[-1] == "finished"
        assert set(info.round_steps) <= set(info.steps)
        assert info.round_start == info.round_steps[0]
        for name in info.steps:
            assert name in STEPS
        used |= set(info.steps)
    assert used == set(STEPS)


def test_step_names_are_unique_and_match_keys():
    for name, step in STEPS.items():
        assert step.name == name


@pytest.mark.parametrize("name", sorted(STEPS))
def test_step_is_well_formed(name):
    step = STEPS[name]
    assert step.title and step.explanation
    assert "\n" not in step.explanation
    assert isinstance(step.stems, tuple)
    assert step.hint in (None, *HINT_FAMILIES)
    if name == "finished":
        assert step.actor is Actor.NOBODY and step.moves == ()
    else:
        assert step.waiting.startswith("{name} ")
        assert step.waiting.format(name="Sam").startswith("Sam ")
        assert step.moves
    move_names = [m.name for m in step.moves]
    assert len(move_names) == len(set(move_names))
    for move in step.moves:
        assert move.label
        assert len({f.name for f in move.fields}) == len(move.fields)
        for f in move.fields:
            assert f.name in p.FIELD_NAMES and f.label


def test_move_targets_stay_inside_each_kind():
    special = {"@first", "@next_round", "@next_round_or_finish", "@close"}
    for info in KINDS.values():
        for name in info.steps:
            for move in STEPS[name].moves:
                assert move.to in special or move.to in info.steps, (name, move.name)


def test_hint_and_feelings_where_the_design_says():
    assert STEPS["send"].hint == "send"
    assert STEPS["mirror"].hint == "mirror"
    assert STEPS["appreciation_mirror"].hint == "mirror"
    assert STEPS["empathy"].hint == "empathy"
    assert STEPS["empathy"].feelings is True
    assert STEPS["send"].feelings is False
    assert "When …, I feel …" in STEPS["send"].stems
    assert "Did I get it?" in STEPS["mirror"].stems
    assert STEPS["closing"].actor is Actor.EACH
    assert STEPS["switch"].actor is Actor.EITHER
    assert STEPS["scheduled"].actor is Actor.EITHER


@pytest.mark.parametrize("kind", list(Kind))
def test_every_step_of_a_kind_is_reachable(kind):
    info = KINDS[kind]
    seen, todo = {info.first_step}, [info.first_step]
    while todo:
        for move in STEPS[todo.pop()].moves:
            targets = {
                "@first": [info.round_start],
                "@next_round": [info.round_start],
                "@next_round_or_finish": [info.round_start, "finished"],
                "@close": ["finished"],
            }.get(move.to, [move.to])
            for t in targets:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
    assert seen == set(info.steps)


# --------------------------------------------------------------------------- state


def test_start_is_the_appointment_with_a_as_sender():
    for kind in Kind:
        s = p.start(kind)
        assert s == State(kind=kind, step="appointment")
        assert (s.round, s.sender, s.receiver, s.closed, s.request_count) == (
            1,
            "a",
            "b",
            frozenset(),
            0,
        )
        assert not s.finished
    assert p.start("appreciation").kind is Kind.APPRECIATION


def test_start_rejects_unknown_kind():
    with pytest.raises(ValueError):
        p.start("shouting_match")


def test_state_is_frozen():
    s = p.start(I)
    with pytest.raises(FrozenInstanceError):
        s.step = "send"  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "nope", "step": "send"},
        {"kind": I, "step": "appreciate"},
        {"kind": A, "step": "send"},
        {"kind": B, "step": "closing"},
        {"kind": I, "step": "no_such_step"},
        {"kind": I, "step": "send", "round": 0},
        {"kind": I, "step": "send", "round": True},
        {"kind": I, "step": "send", "sender": "c"},
        {"kind": I, "step": "closing", "closed": frozenset({"c"})},
        {"kind": I, "step": "gift", "request_count": MAX_REQUESTS + 1},
        {"kind": I, "step": "gift", "request_count": -1},
        {"kind": I, "step": "closing_proposed"},  # a proposal is always someone's
        {"kind": I, "step": "closing_proposed", "proposer": "c"},
        {"kind": I, "step": "switch", "proposer": "a"},  # only a proposal step has one
    ],
)
def test_invalid_states_are_refused(kwargs):
    with pytest.raises(ValueError):
        State(**kwargs)


def test_state_accepts_kind_as_string_and_closed_as_set():
    s = State(kind="intentional", step="closing", closed={"a"})
    assert s.kind is Kind.INTENTIONAL and s.closed == frozenset({"a"})


def test_to_dict_is_json_and_round_trips():
    s = State(kind=I, step="closing", round=3, sender="b", closed=frozenset({"b"}))
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d == {
        "kind": "intentional",
        "step": "closing",
        "round": 3,
        "sender": "b",
        "closed": ["b"],
        "request_count": 0,
        "proposer": "",
    }
    assert State.from_dict(d) == s
    assert State.from_dict(json.loads(json.dumps(d))) == s


def test_from_dict_defaults_and_errors():
    assert State.from_dict({"kind": "appreciation", "step": "appreciate"}) == State(
        kind=A, step="appreciate"
    )
    with pytest.raises(ValueError):
        State.from_dict({"step": "send"})
    with pytest.raises(ValueError):
        State.from_dict({"kind": "intentional", "step": "send", "round": -2})


def test_receiver_and_roles():
    s = State(kind=I, step="send", sender="b")
    assert s.receiver == "a"
    assert p.role_of(s, "b") == "sender"
    assert p.role_of(s, "a") == "receiver"
    with pytest.raises(ValueError):
        p.role_of(s, "c")


# --------------------------------------------------------------------------- whose turn


@pytest.mark.parametrize(
    "step, sender, expected",
    [
        ("appointment", "a", {"b"}),
        ("scheduled", "a", {"a", "b"}),
        ("send", "a", {"a"}),
        ("send", "b", {"b"}),
        ("mirror", "a", {"b"}),
        ("mirror", "b", {"a"}),
        ("check", "a", {"a"}),
        ("switch", "b", {"a", "b"}),
        ("closing", "a", {"a", "b"}),
        ("finished", "a", set()),
    ],
)
def test_whose_turn(step, sender, expected):
    s = State(kind=I, step=step, sender=sender)
    assert p.whose_turn(s) == frozenset(expected)
    for slot in SLOTS:
        moves = p.allowed_moves(s, slot)
        assert bool(moves) == (slot in expected)
        if moves:
            assert moves == p.available_moves(s)
            assert set(moves) <= set(STEPS[step].moves)


def test_whose_turn_in_closing_excludes_who_has_closed():
    s = State(kind=I, step="closing", closed=frozenset({"b"}))
    assert p.whose_turn(s) == {"a"}
    assert p.allowed_moves(s, "b") == ()
    assert p.allowed_moves(s, "c") == ()


def test_step_of_and_waiting_message():
    s = p.apply(p.start(I), "b", "accept_now")
    s = p.apply(s, "a", "send", {"text": "When you were late, I felt worried."})
    assert p.step_of(s) is STEPS["mirror"]
    assert p.waiting_message(s, "Sam") == "Sam is mirroring what you said."


# --------------------------------------------------------------------------- transitions

# (kind, step, state overrides, who acts, move, payload or None=valid, expected attributes)
TRANSITIONS = [
    # -- shared opening, every kind
    (I, "appointment", {}, "receiver", "accept_now", None, {"step": "send"}),
    (I, "appointment", {}, "receiver", "propose_time", None, {"step": "scheduled"}),
    (I, "scheduled", {}, "a", "begin", None, {"step": "send"}),
    (I, "scheduled", {}, "b", "begin", None, {"step": "send"}),
    (I, "scheduled", {}, "b", "reschedule", None, {"step": "scheduled"}),
    (A, "appointment", {}, "receiver", "accept_now", None, {"step": "appreciate"}),
    (A, "appointment", {}, "receiver", "propose_time", None, {"step": "scheduled"}),
    (A, "scheduled", {}, "a", "begin", None, {"step": "appreciate"}),
    (A, "scheduled", {}, "b", "begin", None, {"step": "appreciate"}),
    (A, "scheduled", {}, "b", "reschedule", None, {"step": "scheduled"}),
    (B, "appointment", {}, "receiver", "accept_now", None, {"step": "change_requests"}),
    (B, "appointment", {}, "receiver", "propose_time", None, {"step": "scheduled"}),
    (B, "scheduled", {}, "a", "begin", None, {"step": "change_requests"}),
    (B, "scheduled", {}, "b", "begin", None, {"step": "change_requests"}),
    (B, "scheduled", {}, "b", "reschedule", None, {"step": "scheduled"}),
    # -- intentional round
    (I, "send", {}, "sender", "send", None, {"step": "mirror"}),
    (I, "send", {"sender": "b", "round": 2}, "sender", "send", None, {"step": "mirror"}),
    (I, "mirror", {}, "receiver", "mirror", None, {"step": "check"}),
    (I, "check", {}, "sender", "got_it", None, {"step": "ask_more"}),
    (I, "check", {}, "sender", "not_quite", None, {"step": "mirror"}),
    (I, "ask_more", {}, "receiver", "ask_more", None, {"step": "more"}),
    (I, "more", {}, "sender", "there_is_more", None, {"step": "send"}),
    (I, "more", {}, "sender", "thats_all", None, {"step": "summary"}),
    (I, "summary", {}, "receiver", "summary", None, {"step": "summary_check"}),
    (I, "summary_check", {}, "sender", "got_it_all", None, {"step": "validation"}),
    (I, "summary_check", {}, "sender", "add", None, {"step": "summary"}),
    (I, "validation", {}, "receiver", "validate", None, {"step": "validation_ack"}),
    (I, "validation_ack", {}, "sender", "acknowledge", {}, {"step": "empathy"}),
    (I, "validation_ack", {}, "sender", "acknowledge", None, {"step": "empathy"}),
    (I, "empathy", {}, "receiver", "empathize", None, {"step": "empathy_check"}),
    (I, "empathy", {}, "receiver", "empathize", {"text": "hurt"}, {"step": "empathy_check"}),
    (I, "empathy_check", {}, "sender", "confirm", None, {"step": "requests"}),
    (I, "empathy_check", {}, "sender", "add", None, {"step": "empathy"}),
    (
        I,
        "requests",
        {},
        "sender",
        "make_requests",
        {"items": ["a", "b", "c"]},
        {"step": "gift", "request_count": 3},
    ),
    (
        I,
        "requests",
        {},
        "sender",
        "make_requests",
        {"items": ["just one"]},
        {"step": "gift", "request_count": 1},
    ),
    (I, "requests", {}, "sender", "skip_requests", None, {"step": "switch", "request_count": 0}),
    (
        I,
        "gift",
        {"request_count": 2},
        "receiver",
        "give",
        {"choice": 1},
        {"step": "switch", "request_count": 2},
    ),
    (
        I,
        "switch",
        {"request_count": 2},
        "a",
        "switch_roles",
        None,
        {"step": "send", "round": 2, "sender": "b", "request_count": 0},
    ),
    (
        I,
        "switch",
        {"round": 2, "sender": "b"},
        "a",
        "switch_roles",
        None,
        {"step": "send", "round": 3, "sender": "a"},
    ),
    (I, "switch", {}, "b", "switch_roles", None, {"step": "send", "round": 2, "sender": "b"}),
    # once both have been heard, either may move on to closing
    (I, "switch", {"round": 2, "sender": "b"}, "a", "go_to_closing", None, {"step": "closing"}),
    (I, "switch", {"round": 2, "sender": "b"}, "b", "go_to_closing", None, {"step": "closing"}),
    (I, "switch", {"round": 3}, "b", "go_to_closing", None, {"step": "closing", "round": 3}),
    # before that, closing is only suggested: the other partner decides
    (I, "switch", {}, "a", "propose_closing", None, {"step": "closing_proposed", "proposer": "a"}),
    (I, "switch", {}, "b", "propose_closing", None, {"step": "closing_proposed", "proposer": "b"}),
    (
        I,
        "closing_proposed",
        {"proposer": "a"},
        "b",
        "agree_to_close",
        None,
        {"step": "closing", "round": 1, "proposer": ""},
    ),
    (
        I,
        "closing_proposed",
        {"proposer": "b"},
        "a",
        "agree_to_close",
        None,
        {"step": "closing", "proposer": ""},
    ),
    (
        I,
        "closing_proposed",
        {"proposer": "a"},
        "b",
        "switch_instead",
        None,
        {"step": "send", "round": 2, "sender": "b", "proposer": ""},
    ),
    (
        I,
        "closing_proposed",
        {"proposer": "b", "request_count": 1},
        "a",
        "switch_instead",
        None,
        {"step": "send", "round": 2, "sender": "b", "request_count": 0},
    ),
    (I, "closing", {}, "a", "close", None, {"step": "closing", "closed": {"a"}}),
    (I, "closing", {}, "b", "close", None, {"step": "closing", "closed": {"b"}}),
    (
        I,
        "closing",
        {"closed": frozenset({"b"})},
        "a",
        "close",
        None,
        {"step": "finished", "closed": {"a", "b"}},
    ),
    (
        I,
        "closing",
        {"closed": frozenset({"a"})},
        "b",
        "close",
        None,
        {"step": "finished", "closed": {"a", "b"}},
    ),
    # -- appreciation
    (A, "appreciate", {}, "sender", "appreciate", None, {"step": "appreciation_mirror"}),
    (A, "appreciation_mirror", {}, "receiver", "mirror", None, {"step": "appreciation_check"}),
    (
        A,
        "appreciation_check",
        {},
        "sender",
        "not_quite",
        None,
        {"step": "appreciation_mirror"},
    ),
    (
        A,
        "appreciation_check",
        {},
        "sender",
        "got_it",
        None,
        {"step": "appreciate", "round": 2, "sender": "b"},
    ),
    (
        A,
        "appreciation_check",
        {"round": 2, "sender": "b"},
        "sender",
        "got_it",
        None,
        {"step": "finished", "round": 2, "sender": "b"},
    ),
    # -- behavior change request
    (
        B,
        "change_requests",
        {},
        "sender",
        "make_requests",
        {"items": ["x", "y"]},
        {"step": "change_gift", "request_count": 2},
    ),
    (
        B,
        "change_gift",
        {"request_count": 2},
        "receiver",
        "give",
        {"choice": 0},
        {"step": "finished", "request_count": 2},
    ),
    # -- the shared opening of the warm-up, the Parent-Child and the exits dialogues
    (W, "appointment", {}, "receiver", "accept_now", None, {"step": "warmup_appreciate"}),
    (W, "appointment", {}, "receiver", "propose_time", None, {"step": "scheduled"}),
    (W, "scheduled", {}, "a", "begin", None, {"step": "warmup_appreciate"}),
    (W, "scheduled", {}, "b", "begin", None, {"step": "warmup_appreciate"}),
    (W, "scheduled", {}, "a", "reschedule", None, {"step": "scheduled"}),
    (PC, "appointment", {}, "receiver", "accept_now", None, {"step": "pc_caregiver"}),
    (PC, "appointment", {}, "receiver", "propose_time", None, {"step": "scheduled"}),
    (PC, "scheduled", {}, "a", "begin", None, {"step": "pc_caregiver"}),
    (PC, "scheduled", {}, "b", "begin", None, {"step": "pc_caregiver"}),
    (PC, "scheduled", {}, "b", "reschedule", None, {"step": "scheduled"}),
    (X, "appointment", {}, "receiver", "accept_now", None, {"step": "exit_share"}),
    (X, "appointment", {}, "receiver", "propose_time", None, {"step": "scheduled"}),
    (X, "scheduled", {}, "a", "begin", None, {"step": "exit_share"}),
    (X, "scheduled", {}, "b", "begin", None, {"step": "exit_share"}),
    (X, "scheduled", {}, "b", "reschedule", None, {"step": "scheduled"}),
    # -- appreciation warm-up: three stems, each sent, mirrored and checked; then the other way
    (
        W,
        "warmup_appreciate",
        {},
        "sender",
        "appreciate",
        None,
        {"step": "warmup_appreciate_mirror"},
    ),
    (
        W,
        "warmup_appreciate_mirror",
        {},
        "receiver",
        "mirror",
        None,
        {"step": "warmup_appreciate_check"},
    ),
    (
        W,
        "warmup_appreciate_check",
        {},
        "sender",
        "not_quite",
        None,
        {"step": "warmup_appreciate_mirror"},
    ),
    (W, "warmup_appreciate_check", {}, "sender", "got_it", None, {"step": "warmup_memory"}),
    (W, "warmup_memory", {}, "sender", "share_memory", None, {"step": "warmup_memory_mirror"}),
    (W, "warmup_memory_mirror", {}, "receiver", "mirror", None, {"step": "warmup_memory_check"}),
    (W, "warmup_memory_check", {}, "sender", "not_quite", None, {"step": "warmup_memory_mirror"}),
    (W, "warmup_memory_check", {}, "sender", "got_it", None, {"step": "warmup_admire"}),
    (W, "warmup_admire", {}, "sender", "share_admiration", None, {"step": "warmup_admire_mirror"}),
    (W, "warmup_admire_mirror", {}, "receiver", "mirror", None, {"step": "warmup_admire_check"}),
    (W, "warmup_admire_check", {}, "sender", "not_quite", None, {"step": "warmup_admire_mirror"}),
    (
        W,
        "warmup_admire_check",
        {},
        "sender",
        "got_it",
        None,
        {"step": "warmup_appreciate", "round": 2, "sender": "b"},
    ),
    (
        W,
        "warmup_admire_check",
        {"round": 2, "sender": "b"},
        "sender",
        "got_it",
        None,
        {"step": "finished", "round": 2, "sender": "b"},
    ),
    # -- Parent-Child Dialogue: the caregiver's four questions, in order
    (PC, "pc_caregiver", {}, "sender", "name_caregiver", None, {"step": "pc_life_ask"}),
    (PC, "pc_life_ask", {}, "receiver", "ask_as_caregiver", None, {"step": "pc_life"}),
    (PC, "pc_life", {}, "sender", "answer_as_child", None, {"step": "pc_life_mirror"}),
    (PC, "pc_life_mirror", {}, "receiver", "mirror", None, {"step": "pc_life_check"}),
    (PC, "pc_life_check", {}, "sender", "not_quite", None, {"step": "pc_life_mirror"}),
    (PC, "pc_life_check", {}, "sender", "got_it", None, {"step": "pc_worst_ask"}),
    (PC, "pc_worst_ask", {}, "receiver", "ask_caregiver_question", None, {"step": "pc_worst"}),
    (PC, "pc_worst", {}, "sender", "answer_as_child", None, {"step": "pc_worst_mirror"}),
    (PC, "pc_worst_mirror", {}, "receiver", "mirror", None, {"step": "pc_worst_check"}),
    (PC, "pc_worst_check", {}, "sender", "not_quite", None, {"step": "pc_worst_mirror"}),
    (PC, "pc_worst_check", {}, "sender", "got_it", None, {"step": "pc_need_then_ask"}),
    (
        PC,
        "pc_need_then_ask",
        {},
        "receiver",
        "ask_caregiver_question",
        None,
        {"step": "pc_need_then"},
    ),
    (PC, "pc_need_then", {}, "sender", "answer_as_child", None, {"step": "pc_need_then_mirror"}),
    (PC, "pc_need_then_mirror", {}, "receiver", "mirror", None, {"step": "pc_need_then_check"}),
    (PC, "pc_need_then_check", {}, "sender", "not_quite", None, {"step": "pc_need_then_mirror"}),
    (PC, "pc_need_then_check", {}, "sender", "got_it", None, {"step": "pc_need_now_ask"}),
    (
        PC,
        "pc_need_now_ask",
        {},
        "receiver",
        "ask_caregiver_question",
        None,
        {"step": "pc_need_now"},
    ),
    (PC, "pc_need_now", {}, "sender", "answer_as_child", None, {"step": "pc_need_now_mirror"}),
    (PC, "pc_need_now_mirror", {}, "receiver", "mirror", None, {"step": "pc_need_now_check"}),
    (PC, "pc_need_now_check", {}, "sender", "not_quite", None, {"step": "pc_need_now_mirror"}),
    # after the last answer the receiver steps out of the role
    (PC, "pc_need_now_check", {}, "sender", "got_it", None, {"step": "pc_validation"}),
    (PC, "pc_validation", {}, "receiver", "validate", None, {"step": "pc_empathy"}),
    (PC, "pc_empathy", {}, "receiver", "empathize", None, {"step": "pc_empathy_check"}),
    (PC, "pc_empathy_check", {}, "sender", "add", None, {"step": "pc_empathy"}),
    (PC, "pc_empathy_check", {}, "sender", "confirm", None, {"step": "switch"}),
    (
        PC,
        "switch",
        {},
        "b",
        "switch_roles",
        None,
        {"step": "pc_caregiver", "round": 2, "sender": "b"},
    ),
    (PC, "switch", {"round": 2, "sender": "b"}, "a", "go_to_closing", None, {"step": "closing"}),
    (PC, "switch", {}, "a", "propose_closing", None, {"step": "closing_proposed", "proposer": "a"}),
    (PC, "closing_proposed", {"proposer": "a"}, "b", "agree_to_close", None, {"step": "closing"}),
    (
        PC,
        "closing_proposed",
        {"proposer": "b"},
        "a",
        "switch_instead",
        None,
        {"step": "pc_caregiver", "round": 2, "sender": "b"},
    ),
    (PC, "closing", {}, "a", "close", None, {"step": "closing", "closed": {"a"}}),
    (
        PC,
        "closing",
        {"closed": frozenset({"a"})},
        "b",
        "close",
        None,
        {"step": "finished", "closed": {"a", "b"}},
    ),
    # -- exits dialogue: an exit being closed, mirrored, validated, empathised
    (X, "exit_share", {}, "sender", "share_exit", None, {"step": "exit_share_mirror"}),
    (X, "exit_share_mirror", {}, "receiver", "mirror", None, {"step": "exit_share_check"}),
    (X, "exit_share_check", {}, "sender", "not_quite", None, {"step": "exit_share_mirror"}),
    (X, "exit_share_check", {}, "sender", "got_it", None, {"step": "exit_validation"}),
    (X, "exit_validation", {}, "receiver", "validate", None, {"step": "exit_empathy"}),
    (X, "exit_empathy", {}, "receiver", "empathize", None, {"step": "exit_empathy_check"}),
    (X, "exit_empathy_check", {}, "sender", "add", None, {"step": "exit_empathy"}),
    (X, "exit_empathy_check", {}, "sender", "confirm", None, {"step": "switch"}),
    (
        X,
        "switch",
        {},
        "a",
        "switch_roles",
        None,
        {"step": "exit_share", "round": 2, "sender": "b"},
    ),
    (X, "switch", {"round": 2, "sender": "b"}, "b", "go_to_closing", None, {"step": "closing"}),
    (X, "switch", {}, "b", "propose_closing", None, {"step": "closing_proposed", "proposer": "b"}),
    (X, "closing_proposed", {"proposer": "b"}, "a", "agree_to_close", None, {"step": "closing"}),
    (
        X,
        "closing_proposed",
        {"proposer": "a"},
        "b",
        "switch_instead",
        None,
        {"step": "exit_share", "round": 2, "sender": "b"},
    ),
    (X, "closing", {}, "b", "close", None, {"step": "closing", "closed": {"b"}}),
    (
        X,
        "closing",
        {"closed": frozenset({"b"})},
        "a",
        "close",
        None,
        {"step": "finished", "closed": {"a", "b"}},
    ),
]


@pytest.mark.parametrize(
    "kind, step, overrides, who, move, payload, expected",
    TRANSITIONS,
    ids=[f"{t[0].value}:{t[1]}:{t[4]}:{i}" for i, t in enumerate(TRANSITIONS)],
)
def test_transition(kind, step, overrides, who, move, payload, expected):
    before = State(kind=kind, step=step, **overrides)
    slot = slot_of(before, who)
    assert slot in p.whose_turn(before)
    mv = STEPS[step].move(move)
    assert mv is not None and mv in p.allowed_moves(before, slot)
    if payload is None:
        payload = valid_payload(mv, before)
    snapshot = before.to_dict()
    after = p.apply(before, slot, move, payload)
    assert before.to_dict() == snapshot  # never mutates
    assert after.kind is kind
    for attr, value in expected.items():
        actual = getattr(after, attr)
        if attr == "closed":
            value = frozenset(value)
        assert actual == value, attr
    # round and sender are kept unless the transition says otherwise
    assert after.round == expected.get("round", before.round)
    assert after.sender == expected.get("sender", before.sender)
    assert after.finished == (after.step == "finished")


def test_every_move_of_every_step_of_every_kind_has_a_transition_test():
    covered = {(t[0], t[1], t[4]) for t in TRANSITIONS}
    for kind, info in KINDS.items():
        for name in info.steps:
            for move in STEPS[name].moves:
                assert (kind, name, move.name) in covered, (kind.value, name, move.name)


# --------------------------------------------------------------------------- errors


def _at(step, kind=I, **kw):
    return State(kind=kind, step=step, **kw)


@pytest.mark.parametrize(
    "kind, step",
    [
        (kind, name)
        for kind, info in KINDS.items()
        for name in info.steps
        if STEPS[name].actor in (Actor.SENDER, Actor.RECEIVER)
    ],
)
def test_the_other_partner_cannot_move(kind, step):
    s = _at(step, kind, request_count=1)
    (acting,) = p.whose_turn(s)
    other = "b" if acting == "a" else "a"
    for move in STEPS[step].moves:
        with pytest.raises(NotYourTurn) as exc:
            p.apply(s, other, move.name, valid_payload(move, s))
        assert exc.value.message.startswith("It's not your turn yet — your partner ")
        assert str(exc.value) == exc.value.message


def test_not_your_turn_message_names_what_the_partner_is_doing():
    with pytest.raises(NotYourTurn) as exc:
        p.apply(_at("mirror"), "a", "mirror", {"text": "hi"})
    assert exc.value.message == "It's not your turn yet — your partner is mirroring what you said."


def test_unknown_slot_is_refused():
    for slot in ("c", "", None, "A"):
        with pytest.raises(NotYourTurn):
            p.apply(_at("scheduled"), slot, "begin")


def test_move_from_another_step_is_a_stale_form():
    with pytest.raises(NoSuchMove) as exc:
        p.apply(_at("check"), "b", "mirror", {"text": "hi"})
    assert "moved on" in exc.value.message
    with pytest.raises(NoSuchMove):
        p.apply(_at("check"), "a", "no_such_move")


def test_stale_form_wins_over_wrong_turn():
    # the receiver's mirror form arrives after the dialogue moved to the sender's check
    with pytest.raises(NoSuchMove):
        p.apply(_at("check"), "b", "mirror", {"text": "hi"})


def test_nothing_can_happen_once_finished():
    for slot in SLOTS:
        for name in ("close", "begin", "got_it"):
            with pytest.raises(NoSuchMove) as exc:
                p.apply(_at("finished"), slot, name)
            assert "complete" in exc.value.message


def test_cannot_close_twice():
    s = p.apply(_at("closing"), "a", "close", {"text": "Your patience.", "rating": 5})
    with pytest.raises(NotYourTurn) as exc:
        p.apply(s, "a", "close", {"text": "Again", "rating": 5})
    assert "already" in exc.value.message


def test_errors_are_protocol_errors_with_messages():
    for cls in (NotYourTurn, NoSuchMove, InvalidInput):
        err = cls()
        assert isinstance(err, ProtocolError) and err.message
        assert cls("Custom.").message == "Custom."


# --------------------------------------------------------------------------- payloads


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_required_text_must_not_be_empty(text):
    with pytest.raises(InvalidInput) as exc:
        p.apply(_at("send"), "a", "send", {"text": text})
    assert exc.value.message == "Please write something before sending."
    with pytest.raises(InvalidInput):
        p.apply(_at("send"), "a", "send", {})
    with pytest.raises(InvalidInput):
        p.apply(_at("send"), "a", "send")


def test_text_length_limit():
    ok = p.clean_payload(_at("send"), "a", "send", {"text": "x" * MAX_TEXT})
    assert len(ok["text"]) == MAX_TEXT
    # surrounding whitespace does not count
    ok = p.clean_payload(_at("send"), "a", "send", {"text": "  " + "x" * MAX_TEXT + "\n"})
    assert len(ok["text"]) == MAX_TEXT
    with pytest.raises(InvalidInput) as exc:
        p.apply(_at("send"), "a", "send", {"text": "x" * (MAX_TEXT + 1)})
    assert exc.value.message == "That's longer than 2,000 characters; please shorten it."


@pytest.mark.parametrize("text", [42, ["a"], {"a": 1}, b"bytes"])
def test_text_must_be_a_string(text):
    with pytest.raises(InvalidInput):
        p.apply(_at("send"), "a", "send", {"text": text})


def test_text_is_stripped_and_unknown_keys_dropped():
    cleaned = p.clean_payload(_at("send"), "a", "send", {"text": "  hi  ", "csrf": "x"})
    assert cleaned == {"text": "hi"}


def test_optional_text():
    s = _at("validation_ack")
    assert p.clean_payload(s, "a", "acknowledge", None) == {"text": ""}
    assert p.clean_payload(s, "a", "acknowledge", {"text": "  "}) == {"text": ""}
    assert p.clean_payload(s, "a", "acknowledge", {"text": " Thanks "}) == {"text": "Thanks"}
    with pytest.raises(InvalidInput):
        p.apply(s, "a", "acknowledge", {"text": "x" * (MAX_TEXT + 1)})


def test_moves_without_fields_ignore_payload():
    assert p.clean_payload(_at("check"), "a", "got_it", {"text": "whatever"}) == {}


def test_payload_must_be_a_mapping():
    with pytest.raises(InvalidInput):
        p.apply(_at("send"), "a", "send", ["text"])  # type: ignore[arg-type]


def test_feelings_are_optional_normalised_and_checked():
    s = _at("empathy")
    clean = p.clean_payload(s, "b", "empathize", {"text": "You might feel hurt."})
    assert clean == {"text": "You might feel hurt.", "feelings": []}
    clean = p.clean_payload(
        s, "b", "empathize", {"text": "t", "feelings": [" Hurt", "lonely", "hurt", ""]}
    )
    assert clean["feelings"] == ["hurt", "lonely"]
    clean = p.clean_payload(s, "b", "empathize", {"text": "t", "feelings": "scared"})
    assert clean["feelings"] == ["scared"]
    clean = p.clean_payload(s, "b", "empathize", {"text": "t", "feelings": ("calm",)})
    assert clean["feelings"] == ["calm"]
    with pytest.raises(InvalidInput) as exc:
        p.apply(s, "b", "empathize", {"text": "t", "feelings": ["hurt", "betrayed-ish"]})
    assert "betrayed-ish" in exc.value.message
    for bad in (42, [1], {"hurt": 1}):
        with pytest.raises(InvalidInput):
            p.apply(s, "b", "empathize", {"text": "t", "feelings": bad})


def test_every_feeling_word_is_accepted():
    s = _at("empathy")
    clean = p.clean_payload(s, "b", "empathize", {"text": "t", "feelings": list(FEELINGS)})
    assert clean["feelings"] == list(FEELINGS)


def test_empathy_check_add_takes_feelings_too():
    s = _at("empathy_check")
    clean = p.clean_payload(s, "a", "add", {"text": "Also scared.", "feelings": ["scared"]})
    assert clean == {"text": "Also scared.", "feelings": ["scared"]}


def test_items_validation():
    s = _at("requests")
    ok = p.clean_payload(s, "a", "make_requests", {"items": [" one ", "", "  ", "two", None]})
    assert ok == {"items": ["one", "two"]}
    assert p.apply(s, "a", "make_requests", {"items": "just this"}).request_count == 1
    for bad in ([], [""], ["  "], None, ["a", "b", "c", "d"], 5, [1], ["x" * (MAX_TEXT + 1)]):
        with pytest.raises(InvalidInput):
            p.apply(s, "a", "make_requests", {"items": bad})
    with pytest.raises(InvalidInput) as exc:
        p.apply(s, "a", "make_requests", {"items": ["a", "b", "c", "d"]})
    assert "at most 3" in exc.value.message
    ok = p.clean_payload(s, "a", "make_requests", {"items": ["x" * MAX_TEXT] * MAX_REQUESTS})
    assert len(ok["items"]) == MAX_REQUESTS


def test_behavior_change_has_no_skip():
    s = _at("change_requests", B)
    assert [m.name for m in p.allowed_moves(s, "a")] == ["make_requests"]
    with pytest.raises(NoSuchMove):
        p.apply(s, "a", "skip_requests")


@pytest.mark.parametrize("step, kind", [("gift", I), ("change_gift", B)])
def test_choice_validation(step, kind):
    s = _at(step, kind, request_count=2)
    assert p.clean_payload(s, "b", "give", {"choice": 0})["choice"] == 0
    assert p.clean_payload(s, "b", "give", {"choice": 1})["choice"] == 1
    assert p.clean_payload(s, "b", "give", {"choice": "1"})["choice"] == 1
    assert p.clean_payload(s, "b", "give", {"choice": 1, "text": " Gladly "}) == {
        "choice": 1,
        "text": "Gladly",
    }
    for bad in (2, -1, 3, None, "", "one", True, 1.0, [0]):
        with pytest.raises(InvalidInput):
            p.apply(s, "b", "give", {"choice": bad})
    with pytest.raises(InvalidInput):
        p.apply(_at(step, kind, request_count=0), "b", "give", {"choice": 0})


def test_rating_validation():
    s = _at("closing")
    for good in (1, 3, 5, "4", " 2 "):
        assert p.clean_payload(s, "a", "close", {"text": "t", "rating": good})["rating"] == int(
            good
        )
    for bad in (0, 6, -1, None, "", "five", True, 2.5):
        with pytest.raises(InvalidInput) as exc:
            p.apply(s, "a", "close", {"text": "t", "rating": bad})
        assert "1 to 5" in exc.value.message
    with pytest.raises(InvalidInput):
        p.apply(s, "a", "close", {"rating": 5})


def test_time_is_required_but_not_checked_here():
    s = p.start(I)
    with pytest.raises(InvalidInput):
        p.apply(s, "b", "propose_time", {})
    with pytest.raises(InvalidInput):
        p.apply(s, "b", "propose_time", {"time": ""})
    marker = object()
    assert p.clean_payload(s, "b", "propose_time", {"time": marker}) == {"time": marker}


def test_invalid_input_leaves_state_alone():
    s = _at("send")
    with pytest.raises(InvalidInput):
        p.apply(s, "a", "send", {"text": ""})
    assert s == _at("send")


# --------------------------------------------------------------------------- rewind


def test_rewind_targets_intentional():
    assert p.rewind_targets(p.start(I)) == ()
    assert p.rewind_targets(_at("scheduled")) == ()
    assert p.rewind_targets(_at("send")) == ()
    assert p.rewind_targets(_at("mirror")) == ("send",)
    assert p.rewind_targets(_at("check")) == ("send", "mirror")
    assert p.rewind_targets(_at("empathy")) == (
        "send",
        "mirror",
        "check",
        "ask_more",
        "more",
        "summary",
        "summary_check",
        "validation",
        "validation_ack",
    )
    assert p.rewind_targets(_at("switch"))[-1] == "requests"  # requests skipped: no gift
    assert p.rewind_targets(_at("switch", request_count=2))[-2:] == ("requests", "gift")
    assert p.rewind_targets(_at("closing")) == ()
    assert p.rewind_targets(_at("finished")) == ()


def test_rewind_targets_other_kinds():
    assert p.rewind_targets(_at("appreciate", A)) == ()
    assert p.rewind_targets(_at("appreciation_check", A, round=2, sender="b")) == (
        "appreciate",
        "appreciation_mirror",
    )
    assert p.rewind_targets(_at("change_requests", B)) == ()
    assert p.rewind_targets(_at("change_gift", B, request_count=1)) == ("change_requests",)
    assert p.rewind_targets(_at("finished", B)) == ()


def test_rewind_keeps_round_and_roles():
    s = _at("check", round=2, sender="b")
    r = p.rewind(s, "mirror")
    assert r == State(kind=I, step="mirror", round=2, sender="b")
    assert p.whose_turn(r) == {"a"}


def test_rewind_before_requests_clears_them():
    s = _at("switch", request_count=2)
    assert p.rewind(s, "send").request_count == 0
    assert p.rewind(s, "requests").request_count == 0
    assert p.rewind(s, "gift").request_count == 2
    assert p.rewind(_at("change_gift", B, request_count=3), "change_requests").request_count == 0


@pytest.mark.parametrize(
    "state, target",
    [
        (_at("check"), "check"),
        (_at("check"), "ask_more"),
        (_at("check"), "appointment"),
        (_at("check"), "nowhere"),
        (_at("closing"), "send"),
        (_at("finished"), "send"),
        (_at("switch"), "gift"),
        (_at("switch"), "closing"),
        (_at("appreciation_check", A), "send"),
    ],
)
def test_rewind_refuses_other_targets(state, target):
    with pytest.raises(InvalidInput):
        p.rewind(state, target)


# --------------------------------------------------------------------------- switch or close


def test_who_has_been_heard():
    assert p.heard(_at("send")) == frozenset()
    assert p.heard(_at("gift", request_count=1)) == frozenset()
    assert p.heard(_at("switch")) == {"a"}
    assert p.heard(_at("closing_proposed", proposer="b")) == {"a"}
    assert p.heard(_at("send", round=2, sender="b")) == {"a"}
    assert p.heard(_at("switch", round=2, sender="b")) == {"a", "b"}
    assert p.heard(_at("send", round=3)) == {"a", "b"}
    assert not p.all_heard(_at("switch")) and p.all_heard(_at("switch", round=2, sender="b"))


def test_after_one_round_closing_can_only_be_suggested():
    s = _at("switch")
    for slot in SLOTS:
        assert [m.name for m in p.allowed_moves(s, slot)] == ["switch_roles", "propose_closing"]
        with pytest.raises(NoSuchMove) as exc:
            p.apply(s, slot, "go_to_closing")
        assert exc.value.message == (
            "Closing before you have both been heard needs you both to agree: suggest closing, "
            "and your partner decides."
        )


def test_the_partner_already_heard_cannot_close_alone():
    s = p.apply(_at("switch"), "a", "propose_closing")
    assert s.step == "closing_proposed" and s.proposer == "a" and p.whose_turn(s) == {"b"}
    assert p.allowed_moves(s, "a") == ()
    for name in ("agree_to_close", "switch_instead"):
        with pytest.raises(NotYourTurn) as exc:
            p.apply(s, "a", name)
        assert exc.value.message == (
            "It's not your turn yet — your partner is deciding whether to close now or switch "
            "roles first."
        )
    assert p.apply(s, "b", "agree_to_close") == _at("closing")
    assert p.apply(s, "b", "switch_instead") == _at("send", round=2, sender="b")


def test_a_suggestion_from_the_partner_not_yet_heard_needs_the_other_too():
    s = p.apply(_at("switch"), "b", "propose_closing")
    assert p.whose_turn(s) == {"a"}
    assert p.apply(s, "a", "agree_to_close").step == "closing"


def test_once_both_have_been_heard_either_closes_without_asking():
    s = _at("switch", round=2, sender="b")
    for slot in SLOTS:
        assert [m.name for m in p.allowed_moves(s, slot)] == ["switch_roles", "go_to_closing"]
    with pytest.raises(NoSuchMove) as exc:
        p.apply(s, "a", "propose_closing")
    assert "either of you can move on to closing" in exc.value.message


def test_a_rewind_withdraws_a_suggestion_to_close():
    s = _at("closing_proposed", proposer="a", request_count=1)
    assert p.rewind_targets(s)[-1] == "switch"
    assert p.rewind(s, "switch") == _at("switch", request_count=1)


def test_in_every_kind_only_agreement_or_everyone_heard_leads_to_closing():
    """Every move that leads to closing is either guarded by "everyone has been heard" or
    answers a proposal (made by the other partner)."""
    leading = [
        (kind, name, move)
        for kind, info in KINDS.items()
        for name in info.steps
        for move in STEPS[name].moves
        if move.to == "closing"
    ]
    assert leading  # the intentional dialogue has a switch/close step
    for kind, name, move in leading:
        step = STEPS[name]
        assert move.when is p.Guard.ALL_HEARD or step.actor is Actor.OTHER, (kind, name)
        if step.actor is Actor.EITHER:  # where closing is guarded, suggesting it is offered
            assert any(
                m.when is p.Guard.NOT_ALL_HEARD and STEPS[m.to].actor is Actor.OTHER
                for m in step.moves
            ), (kind, name)


@pytest.mark.parametrize(
    "state",
    [_at("scheduled"), _at("switch"), _at("switch", round=2, sender="b"), _at("scheduled", A)],
    ids=["scheduled", "switch-round-1", "switch-round-2", "appreciation-scheduled"],
)
def test_when_both_decide_at_once_the_second_decision_is_refused(state):
    """At a step either partner may decide, whatever the first chose, the other's decision
    (made for the same step) is refused as stale: never applied on top."""
    assert STEPS[state.step].actor is Actor.EITHER
    for first_slot, second_slot in (("a", "b"), ("b", "a")):
        for first in p.allowed_moves(state, first_slot):
            after = p.apply(state, first_slot, first.name, valid_payload(first, state))
            if after.step == state.step:
                continue  # another time offered: the step and its choices stay open to both
            for second in p.allowed_moves(state, second_slot):
                with pytest.raises(NoSuchMove):
                    p.apply(after, second_slot, second.name, valid_payload(second, state))


def test_rounds_alternate_senders():
    s = _at("send", round=3, sender="a")
    assert [p.sender_in_round(s, r) for r in (1, 2, 3)] == ["a", "b", "a"]
    s = _at("switch", round=2, sender="b")
    assert [p.sender_in_round(s, r) for r in (1, 2)] == ["a", "b"]
    with pytest.raises(ValueError):
        p.sender_in_round(s, 0)


def test_each_turn_belongs_to_the_opening_a_round_or_the_ending():
    assert p.phase_of(I, "start") is p.Phase.OPENING
    assert p.phase_of(I, "appointment") is p.Phase.OPENING
    assert p.phase_of(A, "scheduled") is p.Phase.OPENING
    for kind, info in KINDS.items():
        for name in info.round_steps:
            assert p.phase_of(kind, name) is p.Phase.ROUND
    assert p.phase_of(I, "closing") is p.Phase.ENDING
    assert p.phase_of(I, "finished") is p.Phase.ENDING


def test_no_time_out_before_the_dialogue_has_started():
    for kind in Kind:
        assert not p.may_pause(p.start(kind))
        assert not p.may_pause(_at("scheduled", kind))
        begun = p.apply(p.start(kind), "b", "accept_now")
        assert p.may_pause(begun)
    for name in p.BEFORE_START:
        assert not STEPS[name].pausable


# --------------------------------------------------------------------------- full walks


AVOID = {"not_quite", "add", "there_is_more", "switch_roles", "switch_instead", "propose_time"}


def walk(kind: Kind, max_moves: int = 200) -> list[tuple[str, str, str]]:
    """Drive a dialogue to the end, always taking the most direct move."""
    s = p.start(kind)
    log = []
    for _ in range(max_moves):
        if s.finished:
            return log
        slot = min(p.whose_turn(s))
        moves = p.allowed_moves(s, slot)
        move = next((m for m in moves if m.name not in AVOID), moves[0])
        log.append((s.step, slot, move.name))
        s = p.apply(s, slot, move.name, valid_payload(move, s))
        assert State.from_dict(s.to_dict()) == s
    raise AssertionError(f"{kind} did not finish")


def test_walk_intentional_to_the_end():
    assert walk(I) == [
        ("appointment", "b", "accept_now"),
        ("send", "a", "send"),
        ("mirror", "b", "mirror"),
        ("check", "a", "got_it"),
        ("ask_more", "b", "ask_more"),
        ("more", "a", "thats_all"),
        ("summary", "b", "summary"),
        ("summary_check", "a", "got_it_all"),
        ("validation", "b", "validate"),
        ("validation_ack", "a", "acknowledge"),
        ("empathy", "b", "empathize"),
        ("empathy_check", "a", "confirm"),
        ("requests", "a", "make_requests"),
        ("gift", "b", "give"),
        ("switch", "a", "propose_closing"),
        ("closing_proposed", "b", "agree_to_close"),
        ("closing", "a", "close"),
        ("closing", "b", "close"),
    ]


def test_walk_appreciation_to_the_end():
    assert walk(A) == [
        ("appointment", "b", "accept_now"),
        ("appreciate", "a", "appreciate"),
        ("appreciation_mirror", "b", "mirror"),
        ("appreciation_check", "a", "got_it"),
        ("appreciate", "b", "appreciate"),
        ("appreciation_mirror", "a", "mirror"),
        ("appreciation_check", "b", "got_it"),
    ]


def test_walk_behavior_change_to_the_end():
    assert walk(B) == [
        ("appointment", "b", "accept_now"),
        ("change_requests", "a", "make_requests"),
        ("change_gift", "b", "give"),
    ]


def test_walk_warm_up_to_the_end():
    one_way = [
        ("warmup_appreciate", "appreciate"),
        ("warmup_appreciate_mirror", "mirror"),
        ("warmup_appreciate_check", "got_it"),
        ("warmup_memory", "share_memory"),
        ("warmup_memory_mirror", "mirror"),
        ("warmup_memory_check", "got_it"),
        ("warmup_admire", "share_admiration"),
        ("warmup_admire_mirror", "mirror"),
        ("warmup_admire_check", "got_it"),
    ]
    # each stem sent by the sender, mirrored by the receiver, checked by the sender; both ways
    acts = {"mirror": ("b", "a")}
    expected = [("appointment", "b", "accept_now")]
    for round_index in (0, 1):
        for step, move in one_way:
            sender, receiver = ("a", "b") if round_index == 0 else ("b", "a")
            expected.append((step, receiver if move in acts else sender, move))
    assert walk(W) == expected


def test_warm_up_offers_each_stem_in_turn():
    assert [STEPS[prefix].stems for prefix, _stem, _move in p.WARM_UP_STEMS] == [
        ("Something I appreciate about you is …",),
        ("A memory I treasure is …",),
        ("Something I admire in you is …",),
    ]
    for prefix, _stem, _move in p.WARM_UP_STEMS:
        assert STEPS[prefix].actor is Actor.SENDER
        assert STEPS[f"{prefix}_mirror"].actor is Actor.RECEIVER
        assert "Did I get it?" in STEPS[f"{prefix}_mirror"].stems
        assert STEPS[f"{prefix}_check"].is_check


def test_walk_parent_child_to_the_end():
    questions = []
    for prefix in ("pc_life", "pc_worst", "pc_need_then", "pc_need_now"):
        ask = "ask_as_caregiver" if prefix == "pc_life" else "ask_caregiver_question"
        questions += [
            (f"{prefix}_ask", "b", ask),
            (prefix, "a", "answer_as_child"),
            (f"{prefix}_mirror", "b", "mirror"),
            (f"{prefix}_check", "a", "got_it"),
        ]
    assert walk(PC) == [
        ("appointment", "b", "accept_now"),
        ("pc_caregiver", "a", "name_caregiver"),
        *questions,
        ("pc_validation", "b", "validate"),
        ("pc_empathy", "b", "empathize"),
        ("pc_empathy_check", "a", "confirm"),
        ("switch", "a", "propose_closing"),
        ("closing_proposed", "b", "agree_to_close"),
        ("closing", "a", "close"),
        ("closing", "b", "close"),
    ]


def test_parent_child_asks_the_canonical_questions_in_order_as_the_caregiver():
    asked = [STEPS["pc_life_ask"].stems[0]] + [
        STEPS[f"{prefix}_ask"].move("ask_caregiver_question").label
        for prefix in ("pc_worst", "pc_need_then", "pc_need_now")
    ]
    assert asked == [
        "I am your … What was it like to live with me?",
        "What was the worst of it?",
        "What did you need most from me that you didn't get?",
        "What do you need most from me now, as your partner?",
    ]
    for prefix, _question, _stems in p.PARENT_CHILD_QUESTIONS:
        assert STEPS[f"{prefix}_ask"].actor is Actor.RECEIVER  # the caregiver asks
        assert STEPS[prefix].actor is Actor.SENDER  # the child answers
        assert STEPS[f"{prefix}_mirror"].actor is Actor.RECEIVER
        assert STEPS[f"{prefix}_check"].is_check
    # stepping out of the role: validation and empathy, by the receiver as themselves
    assert "out of the role" in STEPS["pc_validation"].explanation
    assert STEPS["pc_empathy"].feelings and STEPS["pc_empathy"].actor is Actor.RECEIVER


def test_only_the_parent_child_dialogue_asks_for_a_therapist_and_every_kind_is_suggested():
    assert [k for k, info in KINDS.items() if info.with_therapist] == [PC]
    assert all(info.suggested_for and info.description for info in KINDS.values())
    assert "first time" in KINDS[W].suggested_for


def test_a_time_out_can_be_called_at_every_step_of_the_new_kinds_once_begun():
    for kind in (W, PC, X):
        for name in KINDS[kind].round_steps:
            assert p.may_pause(
                State(kind=kind, step=name, proposer="a" if name == "closing_proposed" else "")
            )


def test_a_facilitator_can_send_a_parent_child_dialogue_back_to_an_earlier_question():
    s = _at("pc_worst_check", PC, round=2, sender="b")
    targets = p.rewind_targets(s)
    assert targets[:3] == ("pc_caregiver", "pc_life_ask", "pc_life")
    back = p.rewind(s, "pc_life_mirror")
    assert (back.step, back.round, back.sender) == ("pc_life_mirror", 2, "b")


def test_walk_exits_to_the_end():
    assert walk(X) == [
        ("appointment", "b", "accept_now"),
        ("exit_share", "a", "share_exit"),
        ("exit_share_mirror", "b", "mirror"),
        ("exit_share_check", "a", "got_it"),
        ("exit_validation", "b", "validate"),
        ("exit_empathy", "b", "empathize"),
        ("exit_empathy_check", "a", "confirm"),
        ("switch", "a", "propose_closing"),
        ("closing_proposed", "b", "agree_to_close"),
        ("closing", "a", "close"),
        ("closing", "b", "close"),
    ]


def test_scripted_intentional_with_detours_and_two_rounds():
    s = p.start("intentional")
    script = [
        ("receiver", "propose_time", {"time": "tonight 8pm"}, "scheduled"),
        ("a", "begin", None, "send"),
        ("sender", "send", {"text": "When you were late, I felt worried."}, "mirror"),
        ("receiver", "mirror", {"text": "If I got it, you felt worried."}, "check"),
        ("sender", "not_quite", {"text": "Also alone."}, "mirror"),
        ("receiver", "mirror", {"text": "Worried and alone. Did I get it?"}, "check"),
        ("sender", "got_it", None, "ask_more"),
        ("receiver", "ask_more", None, "more"),
        ("sender", "there_is_more", None, "send"),
        ("sender", "send", {"text": "What I'd like is a text."}, "mirror"),
        ("receiver", "mirror", {"text": "You'd like a text."}, "check"),
        ("sender", "got_it", None, "ask_more"),
        ("receiver", "ask_more", None, "more"),
        ("sender", "thats_all", None, "summary"),
        ("receiver", "summary", {"text": "Let me see if I got all of that…"}, "summary_check"),
        ("sender", "add", {"text": "And it happened twice."}, "summary"),
        ("receiver", "summary", {"text": "…twice. Did I get it all?"}, "summary_check"),
        ("sender", "got_it_all", None, "validation"),
        ("receiver", "validate", {"text": "You make sense…"}, "validation_ack"),
        ("sender", "acknowledge", None, "empathy"),
        ("receiver", "empathize", {"text": "Worried?", "feelings": ["worried"]}, "empathy_check"),
        ("sender", "add", {"text": "And lonely.", "feelings": ["lonely"]}, "empathy"),
        ("receiver", "empathize", {"text": "Worried, lonely."}, "empathy_check"),
        ("sender", "confirm", None, "requests"),
        ("sender", "skip_requests", None, "switch"),
        ("b", "switch_roles", None, "send"),
    ]
    for who, move, payload, expected in script:
        s = p.apply(s, slot_of(s, who), move, payload)
        assert s.step == expected, move
    assert (s.round, s.sender, s.receiver) == (2, "b", "a")
    # round 2: b shares, a listens — a's send is not allowed
    with pytest.raises(NotYourTurn):
        p.apply(s, "a", "send", {"text": "my turn?"})
    for move in ("send", "mirror", "got_it", "ask_more", "thats_all", "summary"):
        slot = next(iter(p.whose_turn(s)))
        s = p.apply(s, slot, move, valid_payload(STEPS[s.step].move(move), s))
    assert s.step == "summary_check" and p.whose_turn(s) == {"b"}
    s = p.rewind(s, "mirror")  # the facilitator: "let's mirror that again"
    assert s.step == "mirror" and p.whose_turn(s) == {"a"}
    s = State(kind=I, step="switch", round=2, sender="b")
    s = p.apply(s, "a", "go_to_closing")
    s = p.apply(s, "b", "close", {"text": "Your honesty.", "rating": "5"})
    assert not s.finished and p.whose_turn(s) == {"a"}
    s = p.apply(s, "a", "close", {"text": "Your patience.", "rating": 4})
    assert s.finished and p.whose_turn(s) == frozenset()
    assert all(p.allowed_moves(s, slot) == () for slot in SLOTS)


# --------------------------------------------------------------------------- property test

ALL_MOVE_NAMES = sorted({m.name for step in STEPS.values() for m in step.moves} | {"bogus"})
JUNK = st.one_of(
    st.none(),
    st.integers(-3, 8),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.text(max_size=5), max_size=5),
    st.sampled_from(["", "   ", "x" * (MAX_TEXT + 1), "hurt", "3"]),
)


# Plain text: anything a person can type (a NUL byte is refused as not plain text).
TYPED = st.characters(blacklist_characters="\x00")


def payload_strategy(move: p.Move, state: State):
    """Valid payloads for ``move`` (with some harmless variety). Said aloud, words may be
    left out (said, not written), or written too, for a record."""
    parts = {}
    for f in move.fields:
        required = p.field_required(state, f)
        if f.name == "text":
            s = st.text(TYPED, min_size=1, max_size=40).filter(lambda t: t.strip())
            parts["text"] = s if required else st.one_of(st.just(""), s)
        elif f.name == "feelings":
            parts["feelings"] = st.lists(st.sampled_from(FEELINGS), max_size=4)
        elif f.name == "items":
            parts["items"] = st.lists(
                st.text(TYPED, min_size=1, max_size=20).filter(lambda t: t.strip()),
                min_size=1 if required else 0,
                max_size=MAX_REQUESTS,
            )
        elif f.name == "choice" and state.request_count == 0:
            parts["choice"] = st.just("")  # nothing written to choose from: said aloud
        elif f.name == "choice":
            parts["choice"] = st.integers(0, max(state.request_count - 1, 0))
        elif f.name == "rating":
            parts["rating"] = st.integers(1, 5)
        elif f.name == "time":
            parts["time"] = st.just("2030-01-01T18:00")
    return st.fixed_dictionaries(parts)


# Where each Parent-Child question (and stepping out of the role) may only be reached from.
PARENT_CHILD_ORDER = {
    "pc_worst_ask": "pc_life_check",
    "pc_need_then_ask": "pc_worst_check",
    "pc_need_now_ask": "pc_need_then_check",
    "pc_validation": "pc_need_now_check",
}


class DialogueMachine(RuleBasedStateMachine):
    """Random partners making random moves, valid and invalid, in one kind of dialogue."""

    KIND: Kind = Kind.INTENTIONAL
    state: State

    @initialize(aloud=st.booleans())
    def begin(self, aloud):
        self.state = p.start(self.KIND, aloud=aloud)
        self.history = [self.state]
        self.reached_closing_fairly = False

    @rule(data=st.data())
    def said_aloud_move(self, data):
        """Said aloud: whoever may act makes a move with no words at all (only the taps it
        asks for: a rating, a time, a choice among written requests)."""
        if not self.state.aloud:
            return
        turn = sorted(p.whose_turn(self.state))
        if not turn:
            return
        slot = data.draw(st.sampled_from(turn))
        move = data.draw(st.sampled_from(p.allowed_moves(self.state, slot)))
        before = self.state
        after = p.apply(before, slot, move.name, taps_only(move, before))
        assert after.aloud
        self._check_step_change(before, after, slot)
        self.state = after
        self.history.append(after)

    @rule(aloud=st.booleans())
    def switch_mode(self, aloud):
        """Either partner switches between saying and writing, at any step: only the mode
        changes (a form made for this step stays good); not once finished."""
        before = self.state
        if before.finished:
            with pytest.raises(NoSuchMove):
                p.said_aloud(before, aloud)
            return
        after = p.said_aloud(before, aloud)
        assert after.aloud is aloud
        assert replace(after, aloud=before.aloud) == before
        self.state = after

    @rule(data=st.data())
    def valid_move(self, data):
        turn = sorted(p.whose_turn(self.state))
        if not turn:
            return
        slot = data.draw(st.sampled_from(turn))
        move = data.draw(st.sampled_from(p.allowed_moves(self.state, slot)))
        payload = data.draw(payload_strategy(move, self.state))
        before = self.state
        after = p.apply(before, slot, move.name, payload)
        self._check_step_change(before, after, slot)
        self.state = after
        self.history.append(after)

    @rule(data=st.data())
    def forward_move(self, data):
        """Like valid_move, but prefers the most direct move, so walks go deep."""
        turn = sorted(p.whose_turn(self.state))
        if not turn:
            return
        slot = data.draw(st.sampled_from(turn))
        moves = p.allowed_moves(self.state, slot)
        move = next((m for m in moves if m.name not in AVOID), moves[0])
        payload = data.draw(payload_strategy(move, self.state))
        after = p.apply(self.state, slot, move.name, payload)
        self._check_step_change(self.state, after, slot)
        self.state = after
        self.history.append(after)

    @rule(
        slot=st.sampled_from([*SLOTS, "c"]),
        move_name=st.sampled_from(ALL_MOVE_NAMES),
        payload=st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from([*p.FIELD_NAMES, "other"]), JUNK, max_size=len(p.FIELD_NAMES)
            ),
        ),
    )
    def random_move(self, slot, move_name, payload):
        """Any partner, any move, any payload: either it's valid, or nothing changes."""
        before = self.state
        snapshot = before.to_dict()
        try:
            after = p.apply(before, slot, move_name, payload)
        except ProtocolError as exc:
            assert isinstance(exc, NotYourTurn | NoSuchMove | InvalidInput)
            assert exc.message and "\n" not in exc.message
            assert self.state == before and before.to_dict() == snapshot
            if slot not in SLOTS:
                assert isinstance(exc, NotYourTurn)
            elif move_name not in {m.name for m in p.available_moves(before)}:
                assert isinstance(exc, NoSuchMove)  # not offered now: a stale or forged form
            elif slot not in p.whose_turn(before):
                assert isinstance(exc, NotYourTurn)
            else:
                assert isinstance(exc, InvalidInput)
            return
        assert slot in p.whose_turn(before)
        assert move_name in {m.name for m in p.allowed_moves(before, slot)}
        self._check_step_change(before, after, slot)
        self.state = after
        self.history.append(after)

    @rule(data=st.data())
    def both_decide_at_once(self, data):
        """Where either partner may decide, both do, for the same step: the first decision
        is made, the second is refused as stale and changes nothing."""
        s = self.state
        if p.step_of(s).actor is not Actor.EITHER:
            return
        first_slot = data.draw(st.sampled_from(SLOTS))
        second_slot = p.other_slot(first_slot)
        first = data.draw(st.sampled_from(p.allowed_moves(s, first_slot)))
        second = data.draw(st.sampled_from(p.allowed_moves(s, second_slot)))
        after = p.apply(s, first_slot, first.name, valid_payload(first, s))
        if after.step != s.step:  # (another time offered keeps the step open to both)
            with pytest.raises(NoSuchMove):
                p.apply(after, second_slot, second.name, valid_payload(second, s))
        self._check_step_change(s, after, first_slot)
        self.state = after
        self.history.append(after)

    @rule(data=st.data())
    def facilitator_rewinds(self, data):
        if data.draw(st.integers(0, 3)):  # rewinds are rare, so walks can go deep
            return
        targets = p.rewind_targets(self.state)
        if not targets:
            with pytest.raises(InvalidInput):
                p.rewind(self.state, data.draw(st.sampled_from(sorted(STEPS))))
            return
        target = data.draw(st.sampled_from(targets))
        after = p.rewind(self.state, target)
        assert after.step == target
        assert (after.round, after.sender, after.kind) == (
            self.state.round,
            self.state.sender,
            self.state.kind,
        )
        self.state = after

    def _check_step_change(self, before: State, after: State, slot: str) -> None:
        assert after.kind == before.kind
        assert after.round in (before.round, before.round + 1)
        if after.round == before.round + 1:
            assert after.sender == before.receiver
            assert after.step == KINDS[after.kind].round_start
            assert after.request_count == 0
        else:
            assert after.sender == before.sender
        if after.step != before.step and after.step in PARENT_CHILD_ORDER:
            # the caregiver's questions come in order: each only once the one before it was
            # answered, mirrored and checked (and stepping out of the role only after the last)
            assert before.step == PARENT_CHILD_ORDER[after.step], (before.step, after.step)
        if after.step == "closing" and before.step == "closing":
            assert after.closed == before.closed | {slot}
        if after.step == "closing" and before.step != "closing":
            # each is heard: closing earlier needs the agreement of the one who didn't propose
            agreed = p.step_of(before).actor is Actor.OTHER and slot != before.proposer
            assert p.all_heard(before) or agreed, (before, slot)
            self.reached_closing_fairly = True

    @invariant()
    def step_belongs_to_kind(self):
        assert self.state.step in KINDS[self.state.kind].steps

    @invariant()
    def someone_can_act_unless_finished(self):
        turn = p.whose_turn(self.state)
        assert bool(turn) == (not self.state.finished)
        assert turn <= frozenset(SLOTS)

    @invariant()
    def finished_only_at_terminal_step(self):
        assert self.state.finished == (self.state.step == "finished")
        assert p.step_of(self.state).moves == () if self.state.finished else True

    @invariant()
    def sane_counters(self):
        s = self.state
        assert s.round >= 1
        assert s.sender in SLOTS and s.receiver in SLOTS and s.sender != s.receiver
        assert 0 <= s.request_count <= MAX_REQUESTS
        max_rounds = KINDS[s.kind].max_rounds
        if max_rounds is not None:
            assert s.round <= max_rounds
        if s.kind is Kind.APPRECIATION or s.kind is Kind.WARM_UP:
            assert s.round <= 2
        if s.kind is Kind.BEHAVIOR_CHANGE:
            assert s.round == 1

    @invariant()
    def no_dead_ends(self):
        """Whoever may act has at least one move that a valid payload gets through; said
        aloud, every move gets through with no words at all."""
        s = self.state
        if s.step in ("gift", "change_gift") and not any(h.aloud for h in self.history):
            assert s.request_count >= 1  # written throughout: requests were written
        for slot in p.whose_turn(s):
            for move in p.allowed_moves(s, slot):
                p.clean_payload(s, slot, move.name, valid_payload(move, s))
                if s.aloud:
                    p.clean_payload(s, slot, move.name, taps_only(move, s))

    @invariant()
    def a_proposal_is_answered_by_the_other_partner(self):
        s = self.state
        if p.step_of(s).actor is Actor.OTHER:
            assert s.proposer in SLOTS
            assert p.whose_turn(s) == {p.other_slot(s.proposer)}
        else:
            assert s.proposer == ""

    @invariant()
    def closing_only_once_everyone_is_heard_or_both_agreed(self):
        if self.state.step == "closing":
            assert self.reached_closing_fairly
        assert p.heard(self.state) <= frozenset(SLOTS)
        assert p.sender_in_round(self.state, self.state.round) == self.state.sender
        # the senders of the rounds alternate, starting with the one who asked to talk
        assert p.sender_in_round(self.state, 1) == "a"

    @invariant()
    def no_time_out_before_the_start(self):
        if p.before_start(self.state):
            assert not p.may_pause(self.state)

    @invariant()
    def round_trips(self):
        d = self.state.to_dict()
        assert State.from_dict(json.loads(json.dumps(d))) == self.state

    @invariant()
    def allowed_moves_match_turn(self):
        turn = p.whose_turn(self.state)
        for slot in SLOTS:
            assert bool(p.allowed_moves(self.state, slot)) == (slot in turn)
            assert p.role_of(self.state, slot) in ("sender", "receiver")

    @invariant()
    def rewind_targets_are_earlier_steps_of_the_round(self):
        targets = p.rewind_targets(self.state)
        seq = KINDS[self.state.kind].round_steps
        if targets:
            here = seq.index(self.state.step)
            assert all(seq.index(t) < here for t in targets)
            assert not {"appointment", "scheduled", "closing", "finished"} & set(targets)


_MACHINE_SETTINGS = settings(
    max_examples=120,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# One machine per kind, every kind: a new kind is driven as soon as the protocol lists it.
for _kind in Kind:
    _name = "".join(part.title() for part in _kind.value.split("_")) + "Machine"
    _machine = type(_name, (DialogueMachine,), {"KIND": _kind})
    _test = _machine.TestCase
    _test.settings = _MACHINE_SETTINGS
    globals()[f"Test{_name}"] = _test


def test_every_kind_has_its_machine():
    for kind in Kind:
        name = "".join(part.title() for part in kind.value.split("_"))
        assert globals()[f"Test{name}Machine"].settings is _MACHINE_SETTINGS


# --------------------------------------------------------------------------- stems and checks


@pytest.mark.parametrize("name", sorted(STEPS))
def test_a_step_offering_a_choice_keeps_each_stem_in_the_box_it_fits(name):
    step = STEPS[name]
    boxes = [m for m in step.moves if m.field("text") is not None]
    if len(step.moves) > 1 and boxes:
        assert step.stems == (), "a choice's stems belong to the move whose box they fit"
    for move in step.moves:
        if move.field("text") is None:
            assert step.stems_for(move) == ()  # a button-only answer has no box to fill
        else:
            assert step.stems_for(move) == (move.stems or step.stems)


@pytest.mark.parametrize("name", [n for n, s in sorted(STEPS.items()) if s.is_check])
def test_a_check_offers_a_plain_yes_and_a_correction_that_opens_first(name):
    step = STEPS[name]
    plain = [m for m in step.moves if not m.opens_first]
    corrections = [m for m in step.moves if m.opens_first]
    assert len(plain) == 1 and plain[0].fields == ()  # one click says yes, nothing else
    assert len(corrections) == 1
    correction = corrections[0]
    assert correction.field("text") is not None and correction.stems
    assert correction.sends_with != correction.label  # opening it sends nothing
    # No stem in the correction's box says the opposite ("Yes, you got it").
    assert not any(stem.lower().startswith("yes") for stem in step.stems_for(correction))


def test_every_check_step_of_every_kind_is_a_check():
    assert {n for n, s in STEPS.items() if s.is_check} == {
        "check",
        "summary_check",
        "empathy_check",
        "appreciation_check",
        "warmup_appreciate_check",
        "warmup_memory_check",
        "warmup_admire_check",
        "pc_life_check",
        "pc_worst_check",
        "pc_need_then_check",
        "pc_need_now_check",
        "pc_empathy_check",
        "exit_share_check",
        "exit_empathy_check",
    }


def test_answers_quote_their_button_and_other_moves_say_it_all():
    assert STEPS["check"].move("got_it").quotes_label
    assert STEPS["ask_more"].move("ask_more").quotes_label  # "asked: Is there more?"
    assert not STEPS["switch"].move("switch_roles").quotes_label  # "switched roles."


# --------------------------------------------------------------------------- said aloud


def walk_aloud(kind: Kind, max_moves: int = 200) -> list[tuple[str, str, str]]:
    """Like `walk`, said aloud: no move carries a word, only taps."""
    s = p.start(kind, aloud=True)
    log = []
    for _ in range(max_moves):
        if s.finished:
            return log
        slot = min(p.whose_turn(s))
        moves = p.allowed_moves(s, slot)
        move = next((m for m in moves if m.name not in AVOID), moves[0])
        log.append((s.step, slot, move.name))
        s = p.apply(s, slot, move.name, taps_only(move, s))
        assert s.aloud and State.from_dict(s.to_dict()) == s
    raise AssertionError(f"{kind} did not finish said aloud")


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_can_be_run_said_aloud_without_a_word_written(kind):
    said = walk_aloud(kind)
    # The same steps, in the same order, as the written dialogue: only the words are said.
    assert [(step, slot) for step, slot, _ in said] == [(st_, sl) for st_, sl, _ in walk(kind)]


@pytest.mark.parametrize("name", sorted(STEPS))
def test_no_step_requires_text_when_said_aloud(name):
    step = STEPS[name]
    for kind in Kind:
        if name not in KINDS[kind].steps or name == "finished":
            continue
        proposer = "a" if step.actor is Actor.OTHER else ""
        state = _at(name, kind, aloud=True, proposer=proposer)
        for slot in p.whose_turn(state):
            for move in p.allowed_moves(state, slot):
                cleaned = p.clean_payload(state, slot, move.name, taps_only(move, state))
                assert cleaned.get("text", "") == "" and not cleaned.get("items")
                assert not any(
                    p.field_required(state, f)
                    for f in move.fields
                    if f.name
                    in (
                        "text",
                        "items",
                    )
                )
        break
    assert step.is_spoken == any(m.is_spoken for m in step.moves)


def test_said_aloud_still_refuses_what_the_protocol_refuses():
    s = _at("mirror", I, aloud=True)
    with pytest.raises(NotYourTurn):
        p.apply(s, "a", "mirror", {})  # the sender can't mirror
    with pytest.raises(NoSuchMove):
        p.apply(s, "b", "got_it", {})  # a move of another step: a stale form
    with pytest.raises(NotYourTurn):
        p.apply(s, "c", "mirror", {})
    with pytest.raises(InvalidInput):
        p.apply(s, "b", "mirror", {"text": "bad\x00"})  # words written must still be plain
    with pytest.raises(InvalidInput):
        p.apply(s, "b", "mirror", {"text": "x" * (MAX_TEXT + 1)})
    closing = _at("closing", I, aloud=True)
    with pytest.raises(InvalidInput):
        p.apply(closing, "a", "close", {})  # the rating is a tap, still asked for
    with pytest.raises(InvalidInput):
        p.apply(closing, "a", "close", {"rating": 9})
    gift = _at("gift", I, aloud=True, request_count=2)
    with pytest.raises(InvalidInput):
        p.apply(gift, "b", "give", {})  # written requests: tap the one you give
    assert p.apply(_at("gift", I, aloud=True), "b", "give", {}).step == "switch"
    with pytest.raises(InvalidInput):
        p.apply(_at("gift", I, aloud=True), "b", "give", {"choice": 0})  # none written


def test_words_written_in_a_said_aloud_dialogue_are_kept_for_the_record():
    s = _at("mirror", I, aloud=True)
    assert p.clean_payload(s, "b", "mirror", {"text": " You'd like a call "}) == {
        "text": "You'd like a call"
    }
    requests = p.apply(_at("requests", I, aloud=True), "a", "make_requests", {"items": ["Call"]})
    assert requests.request_count == 1
    assert p.apply(_at("requests", I, aloud=True), "a", "make_requests", {}).request_count == 0


def test_said_aloud_is_part_of_the_state_and_switches_either_way():
    s = p.start(I, aloud=True)
    assert s.aloud and s.to_dict()["aloud"] is True
    assert State.from_dict(s.to_dict()) == s
    assert "aloud" not in p.start(I).to_dict()  # a written dialogue's state as it always was
    assert State.from_dict({"kind": "intentional", "step": "send"}).aloud is False
    written = p.said_aloud(s, False)
    assert not written.aloud and p.said_aloud(written, True) == s
    with pytest.raises(ValueError):
        State(kind=I, step="send", aloud="yes")  # type: ignore[arg-type]
    with pytest.raises(NoSuchMove):
        p.said_aloud(_at("finished", I), True)
    with pytest.raises(InvalidInput):  # written again: the words are asked for again
        p.apply(p.said_aloud(_at("mirror", I, aloud=True), False), "b", "mirror", {})


def test_said_aloud_buttons_and_waiting_lines():
    assert STEPS["mirror"].move("mirror").said_with == "I've said it"
    assert STEPS["check"].move("got_it").said_with == "Yes, you got it"  # an answer as it is
    assert STEPS["more"].move("there_is_more").said_with == "Yes, there's more"
    assert STEPS["closing"].move("close").is_spoken
    assert not STEPS["validation_ack"].move("acknowledge").is_spoken  # words were optional
    assert p.is_said_aloud(_at("send", I, aloud=True), "send")
    assert not p.is_said_aloud(_at("send", I), "send")
    assert not p.is_said_aloud(_at("check", I, aloud=True), "got_it")
    assert p.waiting_message(_at("send", I), "Sam") == (
        "Sam is writing what they'd like you to hear."
    )
    assert p.waiting_message(_at("send", I, aloud=True), "Sam") == (
        "Sam is saying what they'd like you to hear. Listen."
    )
    assert p.waiting_message(_at("mirror", I, aloud=True), "Sam") == (
        "Sam is mirroring what you said."
    )
    assert p.aloud_phrase("mirrored") == "mirrored, aloud"
    for step in STEPS.values():
        if "writing" in str(step.waiting):
            assert step.aloud_waiting and "writing" not in step.aloud_waiting, step.name


# --------------------------------------------------------------------------- one call each


@pytest.mark.parametrize(
    "kind, step",
    [(kind, name) for kind, info in KINDS.items() for name in info.steps if name != p.FINISHED],
)
def test_a_decision_is_the_move_cleaned_once_and_its_transition(kind, step):
    s = _at(step, kind, request_count=1, proposer="a" if STEPS[step].actor is Actor.OTHER else "")
    for slot in sorted(p.whose_turn(s)):
        for move in p.available_moves(s):
            payload = valid_payload(move, s)
            decided = p.decide(s, slot, move.name, payload)
            cleaned = p.clean_payload(s, slot, move.name, payload)
            assert decided.state == p.apply(s, slot, move.name, payload)
            assert decided.role == p.role_of(s, slot)
            assert decided.text == cleaned.pop("text", "")
            # What the turn records: every field given, none left empty.
            assert decided.data == {k: v for k, v in cleaned.items() if v not in (None, "", [])}
            assert decided.starts == p.starts_dialogue(s, move.name)
            assert decided.schedules == (move.name in p.SCHEDULING_MOVES)


def test_a_decision_said_aloud_is_recorded_as_said():
    s = _at("send", aloud=True)
    decided = p.decide(s, s.sender, "send", {})
    assert decided.text == ""
    assert decided.data == {"aloud": True}
    written = p.decide(_at("send"), "a", "send", {"text": "I felt alone."})
    assert written.text == "I felt alone."
    assert "aloud" not in written.data


def test_a_decision_refuses_what_apply_refuses():
    s = _at("send")
    with pytest.raises(NotYourTurn):
        p.decide(s, s.receiver, "send", {"text": "Hi"})
    with pytest.raises(InvalidInput):
        p.decide(s, s.sender, "send", {"text": ""})
    with pytest.raises(NoSuchMove):
        p.decide(s, s.sender, "no_such_move", {})


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_seat_is_the_step_and_moves_in_words_for_each_slot(kind):
    s = p.start(kind)
    for slot in SLOTS:
        seat = p.seat_of(s, slot, partner_name="Sam")
        words = p.words_of(s.step)
        assert seat.step is words
        assert seat.moves == tuple(words.moves[m.name] for m in p.allowed_moves(s, slot))
        other = p.other_slot(slot)
        assert seat.partner_moves == tuple(words.moves[m.name] for m in p.allowed_moves(s, other))
        assert seat.role == p.role_of(s, slot)
        assert seat.is_sender is (slot == s.sender)
        assert seat.before_start is p.before_start(s)
        assert seat.waiting == p.waiting_message(s, "Sam")


def test_a_seat_says_what_a_partner_who_has_closed_reads():
    s = _at(p.CLOSING, closed=frozenset({"a"}))
    assert p.seat_of(s, "a", partner_name="Sam").waiting == (
        "Thank you. Sam is writing their closing appreciation."
    )
    aloud = replace(s, aloud=True)
    assert p.seat_of(aloud, "a", partner_name="Sam").waiting == (
        "Thank you. Sam is saying their closing appreciation. Listen."
    )
    assert p.seat_of(s, "b", partner_name="Alex").closed is False


def test_a_seat_for_someone_who_is_not_a_partner_offers_no_moves():
    seat = p.seat_of(p.start(I), None, partner_name="Sam")
    assert (seat.moves, seat.partner_moves, seat.role, seat.role_label) == ((), (), "", "")


def test_a_finished_dialogue_seat_reads_its_explanation():
    s = _at(p.FINISHED)
    seat = p.seat_of(s, "a", partner_name="Sam")
    assert seat.moves == () and seat.waiting == p.words_of(p.FINISHED).explanation
