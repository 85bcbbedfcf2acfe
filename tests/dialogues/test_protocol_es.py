"""The protocol in Spanish: every text a person reads (titles, explanations, stems, waiting
lines, buttons, field labels, kinds, transcript phrases, errors) comes in the active language as
a plain string, while names of kinds, steps and moves stay as they are."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from dialogues import protocol as p

# Spanish words that are the same as the English ones, or texts that are only a placeholder.
SAME_IN_BOTH = {"No"}


def texts_of_everything():
    """Every text of every step, move, field and kind, read in the active language."""
    out: list[tuple[str, object]] = []
    for step in p.STEPS.values():
        out += [(f"{step.name}.title", step.title), (f"{step.name}.explanation", step.explanation)]
        out += [(f"{step.name}.waiting", step.waiting)]
        out += [(f"{step.name}.stem", stem) for stem in step.stems]
        for move in step.moves:
            out += [(f"{step.name}/{move.name}.label", move.label)]
            out += [(f"{step.name}/{move.name}.sends_with", move.sends_with)]
            out += [(f"{step.name}/{move.name}.phrase", move.phrase)]
            out += [(f"{step.name}/{move.name}.my_phrase", move.my_phrase)]
            out += [(f"{step.name}/{move.name}.stem", stem) for stem in move.stems]
            if move.refusal:
                out += [(f"{step.name}/{move.name}.refusal", move.refusal)]
            out += [(f"{step.name}/{move.name}/{f.name}", f.label) for f in move.fields]
    for kind, info in p.KINDS.items():
        out += [(f"{kind}.title", str(info.title)), (f"{kind}.description", info.description)]
        out += [(f"{kind}.suggested_for", info.suggested_for)]
    out += [(f"event.{k}", v) for k, v in p.EVENT_PHRASES.items()]
    out += [(f"my_event.{k}", v) for k, v in p.MY_EVENT_PHRASES.items()]
    out += [(f"phase.{k}", v) for k, v in p.PHASE_TITLES.items()]
    return out


def test_every_text_a_person_reads_is_in_spanish():
    english = dict(texts_of_everything())
    with translation.override("es"):
        spanish = dict(texts_of_everything())
    assert english.keys() == spanish.keys()
    untranslated = [
        where
        for where, text in spanish.items()
        if text == english[where] and text not in SAME_IN_BOTH and where != "finished.waiting"
    ]
    assert untranslated == []
    assert spanish["mirror.title"] == "Reflejo"
    assert spanish["check/got_it.label"] == "Sí, lo has entendido"
    with translation.override("es"):
        assert "¿Lo he entendido bien?" in p.STEPS["mirror"].stems
        assert p.STEPS["ask_more"].title == "¿Hay algo más?"


def test_texts_are_plain_strings_in_the_active_language():
    with translation.override("es"):
        step = p.STEPS["mirror"]
        for text in (step.title, step.explanation, step.waiting, *step.stems):
            assert type(text) is str
        assert "Reflejo" in f"Paso: {step.title}"  # joins, formats, `in` all work
        assert type(step.moves[0].label) is str and type(step.moves[0].fields[0].label) is str
        json.dumps([step.title, list(step.stems), p.MOVE_PHRASES["mirror"]])
    assert p.STEPS["mirror"].title == "Mirroring"  # and English again outside


def test_names_of_kinds_steps_and_moves_are_never_translated():
    with translation.override("es"):
        assert set(p.STEPS) >= {"send", "mirror", "check", "appointment", "closing"}
        assert {m.name for m in p.STEPS["check"].moves} == {"got_it", "not_quite"}
        assert p.Kind.WARM_UP.value == "warm_up" and p.Kind.WARM_UP in p.KINDS
        state = p.start("intentional")
        assert p.State.from_dict(state.to_dict()) == state
        assert p.role_of(state, "a") == "sender"


def test_waiting_lines_keep_the_name_in_spanish():
    with translation.override("es"):
        for step in p.STEPS.values():
            line = step.waiting.format(name="Sam")
            if step.name != p.FINISHED:
                assert "Sam" in line, step.name
        state = p.State(kind=p.Kind.INTENTIONAL, step="mirror")
        assert p.waiting_message(state, "Sam") == "Sam está reflejando lo que dijiste."


def test_answers_are_quoted_in_every_language():
    quoting = {m.name for s in p.STEPS.values() for m in s.moves if m.quotes_label}
    with translation.override("es"):
        assert {m.name for s in p.STEPS.values() for m in s.moves if m.quotes_label} == quoting
        got_it = p.STEPS["check"].move("got_it")
        assert got_it is not None and got_it.phrase == "dijo" and got_it.my_phrase == "dijiste"
    assert {"got_it", "confirm", "ask_more"} <= quoting
    assert "mirror" not in quoting


def test_a_person_is_told_in_spanish_why_a_move_cant_be_made():
    state = p.State(kind=p.Kind.INTENTIONAL, step="mirror")
    with translation.override("es"):
        with pytest.raises(p.NotYourTurn) as not_yours:
            p.apply(state, "a", "mirror", {"text": "t"})
        assert not_yours.value.message == (
            "Todavía no es tu turno: tu pareja está reflejando lo que dijiste."
        )
        with pytest.raises(p.InvalidInput) as too_long:
            p.apply(state, "b", "mirror", {"text": "x" * (p.MAX_TEXT + 1)})
        # Spanish groups thousands with a (no-break) space.
        assert too_long.value.message == "Tiene más de 2\xa0000 caracteres; acórtalo, por favor."
        with pytest.raises(p.InvalidInput) as empty:
            p.apply(state, "b", "mirror", {"text": "  "})
        assert empty.value.message == "Escribe algo antes de compartirlo."
        with pytest.raises(p.NoSuchMove) as stale:
            p.apply(state, "b", "got_it")
        assert stale.value.message == "Este diálogo ha avanzado: la página se ha actualizado."
        closing = p.State(kind=p.Kind.INTENTIONAL, step=p.CLOSING, round=3)
        with pytest.raises(p.InvalidInput) as rating:
            p.apply(closing, "a", "close", {"text": "Gracias", "rating": 9})
        assert rating.value.message == "Elige un número del 1 al 5."
    # The message was translated when the move was refused: it stays Spanish.
    assert stale.value.message.startswith("Este diálogo")
    with pytest.raises(p.NotYourTurn) as in_english:
        p.apply(state, "a", "mirror", {"text": "t"})
    assert in_english.value.message == (
        "It's not your turn yet — your partner is mirroring what you said."
    )


def test_the_parent_child_and_warm_up_titles_are_their_own_sentences():
    with translation.override("es"):
        assert p.STEPS["pc_life_ask"].title == "¿Cómo era vivir conmigo?"
        assert p.STEPS["pc_life_ask"].stems == ("Soy tu … ¿Cómo era vivir conmigo?",)
        assert p.STEPS["warmup_memory"].title == "Un recuerdo que atesoro es…"
        assert p.PHASE_TITLES[p.Phase.ROUND].format(round=2) == "Ronda 2"
    assert p.STEPS["pc_life_ask"].title == "What was it like to live with me?"
    assert p.STEPS["warmup_memory"].title == "A memory I treasure is…"


def test_roles_are_compared_as_codes_and_shown_in_spanish():
    state = p.start("intentional")
    with translation.override("es"):
        assert p.role_of(state, "a") == "sender"  # compared and stored: never translated
        assert p.role_label(p.role_of(state, "a")) == "quien habla"
        assert p.role_label("receiver") == "quien escucha"
    assert p.role_label("receiver") == "receiver"


def test_a_step_in_one_language_is_plain_words_made_once_per_language():
    # What pages show of a step and its moves: read once per language, then reused as is.
    with translation.override("es"):
        spanish = p.words_of("check")
        assert p.words_of("check") is spanish
    with translation.override("en"):
        english = p.words_of("check")
    assert spanish is not None and english is not None and spanish is not english
    step = p.STEPS["check"]
    with translation.override("es"):
        assert (spanish.title, spanish.explanation) == (step.title, step.explanation)
        assert spanish.moves["not_quite"].label == step.move("not_quite").label
        assert spanish.moves["not_quite"].stems == step.stems_for(step.move("not_quite"))
    assert english.title != spanish.title and type(english.title) is str
    assert p.words_of("no such step") is None
