"""The language hints and the feeling words in Spanish: the rules themselves come from the
catalogue (a third language needs only its translations), they catch Spanish blame and
rebuttal phrases, and the page gets them from the server in the person's language."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

from dialogues import protocol
from dialogues.language import (
    FEELING_CODES,
    FEELING_GROUPS,
    FEELINGS,
    HINT_FAMILIES,
    feeling_code,
    feeling_label,
    hints_for,
)
from tests.helpers import form_token


def spanish(family, text):
    with translation.override("es"):
        return [(h.code, h.matched) for h in hints_for(family, text)]


@pytest.mark.parametrize(
    "family, text, code, matched",
    [
        ("send", "Tú siempre llegas tarde.", "always_never", "Tú siempre"),
        ("send", "tu nunca me llamas", "always_never", "tu nunca"),
        ("send", "TÚ NUNCA me escuchas", "always_never", "TÚ NUNCA"),
        ("send", "Siempre haces lo mismo.", "always_never", "Siempre haces"),
        ("send", "Siempre estás con el móvil.", "always_never", "Siempre estás"),
        ("send", "Nunca me escuchas.", "always_never", "Nunca"),
        ("send", "Deberías saberlo ya.", "should", "Deberías"),
        ("send", "No deberías gritar.", "should", "No deberías"),
        ("send", "Todo esto pasó por tu culpa.", "blame", "por tu culpa"),
        ("send", "Es tu culpa.", "blame", "Es tu culpa"),
        ("send", "Me haces sentir pequeña.", "blame", "Me haces sentir"),
        ("mirror", "Te escuché, pero no lo veo así.", "but", "pero"),
        ("mirror", "Eso no es verdad.", "rebuttal", "Eso no es verdad"),
        ("mirror", "eso no es cierto", "rebuttal", "eso no es cierto"),
        ("mirror", "Yo no hice eso.", "rebuttal", "Yo no hice"),
        ("mirror", "Te equivocas.", "rebuttal", "Te equivocas"),
        ("empathy", "Siento que no te importo.", "thought_not_feeling", "Siento que"),
        (
            "empathy",
            "Me siento como si no existiera.",
            "thought_not_feeling",
            "Me siento como si",
        ),
    ],
)
def test_spanish_rules_catch_spanish_blame_and_rebuttals(family, text, code, matched):
    assert spanish(family, text) == [(code, matched)]
    with translation.override("es"):
        (hint,) = hints_for(family, text)
    assert f"«{matched}»" in hint.message and hint.message.startswith("Escribiste")


@pytest.mark.parametrize(
    "family, text",
    [
        ("send", "Cuando llegas tarde, me siento sola y preocupada."),
        ("send", "Lo que me gustaría es que cenemos juntos."),
        ("mirror", "Si lo he entendido bien, dijiste que te sentiste sola. ¿Lo he entendido bien?"),
        ("mirror", "Esperanza y perdón."),  # "pero" inside a word is no "pero"
        ("empathy", "Me imagino que sientes tristeza y soledad."),
        ("send", "Tu culpabilidad no es el tema; tuve un día largo."),  # not "tu culpa"
    ],
)
def test_kind_spanish_gets_no_hint(family, text):
    assert spanish(family, text) == []


def test_hints_follow_the_active_language_both_ways():
    # One process, both languages: the compiled rules are kept per language.
    assert [h.code for h in hints_for("send", "You never listen.")] == ["always_never"]
    assert spanish("send", "You never listen.") == []
    assert spanish("send", "Nunca me escuchas.") == [("always_never", "Nunca")]
    assert hints_for("send", "Nunca me escuchas.") == []
    (hint,) = hints_for("send", "You never listen.")
    assert hint.message.startswith("You wrote “You never”.")


# One sample per rule that the rule finds, in each language.
CAUGHT = {
    "en-gb": {
        "always_never": ("send", "You never listen."),
        "should": ("send", "You should call."),
        "blame": ("send", "It's your fault."),
        "but": ("mirror", "I hear you, but no."),
        "rebuttal": ("mirror", "That's not true."),
        "thought_not_feeling": ("empathy", "You feel like a guest."),
    },
    "es": {
        "always_never": ("send", "Nunca me escuchas."),
        "should": ("send", "Deberías llamar."),
        "blame": ("send", "Es tu culpa."),
        "but": ("mirror", "Te escucho, pero no."),
        "rebuttal": ("mirror", "Eso no es verdad."),
        "thought_not_feeling": ("empathy", "Siento que no me ves."),
    },
}


def test_every_language_has_a_working_pattern_for_every_rule():
    assert {code for code, _name in settings.LANGUAGES} == set(CAUGHT)
    for code, samples in CAUGHT.items():
        with translation.override(code):
            for rule, (family, text) in samples.items():
                assert family in HINT_FAMILIES
                assert [h.code for h in hints_for(family, text)] == [rule], (code, rule)


# --------------------------------------------------------------------------- feelings


def test_feeling_words_are_shown_in_spanish_and_stored_as_their_codes():
    with translation.override("es"):
        groups = dict(FEELING_GROUPS.items())
        words = [w for ws in groups.values() for w in ws]
        assert list(groups)[:2] == ["Dolor", "Miedo"]
        assert "tristeza" in words and "soledad" in words
        assert len(set(words)) == len(words) == len(FEELINGS)  # every word its own
        assert all(w and " " not in w for w in words)  # single words
        assert feeling_code("Tristeza") == "sad"
        assert feeling_code("sad") == "sad"  # a code is accepted in any language
        assert feeling_label("sad") == "tristeza"
    assert next(iter(FEELING_GROUPS)) == "Hurt"  # English by default
    assert feeling_code("tristeza") is None
    assert tuple(w for ws in FEELING_CODES.values() for w in ws) == FEELINGS


def test_the_protocol_takes_spanish_feeling_words_and_keeps_the_codes():
    state = protocol.State(kind=protocol.Kind.INTENTIONAL, step="empathy")
    payload = {"text": "Me imagino que sientes tristeza.", "feelings": ["tristeza", "Miedo"]}
    with translation.override("es"):
        clean = protocol.clean_payload(state, "b", "empathize", payload)
        assert clean["feelings"] == ["sad", "scared"]
        with pytest.raises(protocol.InvalidInput) as refused:
            protocol.clean_payload(state, "b", "empathize", {"text": "t", "feelings": ["gris"]})
        assert refused.value.message == "«gris» no está en la lista de palabras de sentimiento."
    with pytest.raises(protocol.InvalidInput) as refused:
        protocol.clean_payload(state, "b", "empathize", {"text": "t", "feelings": ["tristeza"]})
    assert refused.value.message == "“tristeza” isn't on the list of feeling words."


# --------------------------------------------------------------------------- on the page

TO_EMPATHY = [
    ("sam", "accept_now", {}),
    ("alex", "send", {"text": "I feel lonely."}),
    ("sam", "mirror", {"text": "You feel lonely."}),
    ("alex", "got_it", {}),
    ("sam", "ask_more", {}),
    ("alex", "thats_all", {}),
    ("sam", "summary", {"text": "Lonely."}),
    ("alex", "got_it_all", {}),
    ("sam", "validate", {"text": "That makes sense."}),
    ("alex", "acknowledge", {"text": ""}),
]


def test_a_spanish_speaker_picks_spanish_feeling_words_and_sees_spanish_hints(
    dialogue, alex, sam, client_as
):
    from django.urls import reverse

    from dialogues import services
    from dialogues.models import Turn

    people = {"alex": alex, "sam": sam}
    for who, move, payload in TO_EMPATHY:
        services.move_submit(
            session_public_id=dialogue.public_id,
            user=people[who],
            move=move,
            payload=payload,
            token=form_token(),
        )
    sam.language = "es"
    sam.save()
    page = client_as(sam).get(reverse("dialogues:detail", args=[dialogue.public_id]))
    body = page.content.decode()
    assert "Empatía" in body and "Me imagino que sientes …" in body
    assert 'value="tristeza">tristeza</label>' in body and ">Dolor</span>" in body
    assert 'value="sad"' not in body
    assert "hint-rules" not in body  # no copy of the rules in the page: the server hints
    hinted = client_as(sam).post(
        reverse("dialogues:writing_aids", args=[dialogue.public_id]),
        {"move": "empathize", "text": "Siento que no te importo."},
    )
    assert hinted.status_code == 200
    assert "Escribiste «Siento que»" in hinted.content.decode()
    # What the picker ticked (the Spanish word) is kept as the language-independent code.
    with translation.override("es"):
        services.move_submit(
            session_public_id=dialogue.public_id,
            user=sam,
            move="empathize",
            payload={"text": "Me imagino que sientes tristeza.", "feelings": ["tristeza"]},
            token=form_token(),
        )
    turn = Turn.objects.filter(session=dialogue, move="empathize").get()
    assert turn.data["feelings"] == ["sad"]
