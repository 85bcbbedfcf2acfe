"""The language hints and the feeling words in Spanish: the rules themselves come from the
catalogue (a third language needs only its translations), they catch Spanish blame and
rebuttal phrases, and the browser's JavaScript runs every pattern the way Python does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from django.conf import settings
from django.utils import translation

from dialogues import protocol
from dialogues.language import (
    FEELING_CODES,
    FEELING_GROUPS,
    FEELINGS,
    feeling_code,
    feeling_label,
    hints_for,
    rules_for_browser,
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


def test_the_browser_gets_the_active_languages_rules_and_messages():
    english = rules_for_browser()
    with translation.override("es"):
        spanish_rules = rules_for_browser()
    assert [r["code"] for r in english] == [r["code"] for r in spanish_rules]
    json.dumps(spanish_rules)  # plain strings: the page serialises them
    for en, es in zip(english, spanish_rules, strict=True):
        assert en["pattern"] != es["pattern"] and en["message"] != es["message"]
        assert "{matched}" in es["message"]
        assert "\\b" not in es["pattern"] and "\\w" not in es["pattern"]  # ASCII-only in JS


def test_every_language_has_a_pattern_that_compiles_for_every_rule():
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            rules = rules_for_browser()
        assert {r["code"] for r in rules} == {
            "always_never",
            "should",
            "blame",
            "but",
            "rebuttal",
            "thought_not_feeling",
        }, code
        for rule in rules:
            re.compile(rule["pattern"])


# --------------------------------------------------------------------------- the browser

# Texts in both languages, run through every pattern of every language.
SAMPLES = [
    "You never listen, but I'm trying.",
    "You should have called. It's all your fault.",
    "That's not true, I didn't say that. You're wrong.",
    "I feel like you don't care; I feel that way too.",
    "Tú siempre llegas tarde y nunca me avisas.",
    "Siempre haces lo mismo; deberías saberlo, es tu culpa.",
    "Me haces sentir invisible, pero eso no es cierto.",
    "Eso no es verdad: yo no hice nada, te equivocas.",
    "Siento que no me ves. Me siento como si no existiera.",
    "TÚ NUNCA ESCUCHAS. ÉL DIJO: PERO, NUNCA.",
    "Esperanza, perdón y ternura: tú sabes que nunca es tarde.",
    "Cuando llegas tarde, me siento sola.",
]


def _python_matches(pattern: str) -> list[list[object] | None]:
    compiled = re.compile(pattern, re.IGNORECASE)
    found: list[list[object] | None] = []
    for text in SAMPLES:
        match = compiled.search(text)
        found.append([match.start(), match.group(0)] if match else None)
    return found


NODE_SCRIPT = """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = input.patterns.map((p) => {
  const re = new RegExp(p, "i");  // as static/js/imago.js builds it
  return input.samples.map((t) => { const m = re.exec(t); return m ? [m.index, m[0]] : null; });
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_finds_what_python_finds_for_every_pattern_of_every_language():
    patterns = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            patterns += [(code, r["code"], r["pattern"]) for r in rules_for_browser()]
    payload = json.dumps({"patterns": [p for _, _, p in patterns], "samples": SAMPLES})
    result = subprocess.run(
        ["node", "-e", NODE_SCRIPT], input=payload, capture_output=True, text=True, check=True
    )
    in_javascript = json.loads(result.stdout)
    assert len(in_javascript) == len(patterns)
    some_match = False
    for (language, code, pattern), found_js in zip(patterns, in_javascript, strict=True):
        found_py = _python_matches(pattern)
        assert found_js == found_py, (language, code)
        some_match = some_match or any(found_py)
    assert some_match  # the samples do exercise the patterns


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
    rules = json.loads(re.search(r'id="hint-rules"[^>]*>(.*?)</script>', body, re.S).group(1))
    assert any("pero" in r["pattern"] for r in rules if r["code"] == "but")
    assert all(r["message"].startswith("Escribiste") for r in rules)
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
