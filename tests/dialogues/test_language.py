"""Tests for the gentle language hints and the feeling words."""

from __future__ import annotations

import pytest

from dialogues.language import FEELING_GROUPS, FEELINGS, HINT_FAMILIES, Hint, hints_for


def codes(family, text):
    return [h.code for h in hints_for(family, text)]


# --------------------------------------------------------------------------- feelings


def test_feelings_are_single_lowercase_unique_words():
    assert 20 <= len(FEELINGS) <= 32
    assert len(set(FEELINGS)) == len(FEELINGS)
    for word in FEELINGS:
        assert word.isalpha() and word == word.lower()


def test_feeling_groups_cover_the_list_in_order():
    flat = tuple(w for words in FEELING_GROUPS.values() for w in words)
    assert flat == FEELINGS
    for expected in ("hurt", "sad", "lonely", "scared", "anxious", "grateful", "safe", "calm"):
        assert expected in FEELINGS


# --------------------------------------------------------------------------- basics


@pytest.mark.parametrize("family", [None, "", "unknown", "closing"])
def test_no_family_no_hints(family):
    assert hints_for(family, "You always say that's not true, but I feel like crying.") == []


@pytest.mark.parametrize("family", HINT_FAMILIES)
def test_empty_or_kind_text_has_no_hints(family):
    assert hints_for(family, "") == []
    assert hints_for(family, "When you came home late, I felt lonely and worried.") == []


def test_hint_shape():
    (hint,) = hints_for("send", "You never listen.")
    assert isinstance(hint, Hint)
    assert hint.code == "always_never"
    assert hint.matched == "You never"
    assert "You never" in hint.message  # says what was noticed
    assert "When …, I feel …" in hint.message  # and offers another way


# --------------------------------------------------------------------------- send


@pytest.mark.parametrize(
    "text, code, matched",
    [
        ("you always forget", "always_never", "you always"),
        ("You never call.", "always_never", "You never"),
        ("YOU ALWAYS do this", "always_never", "YOU ALWAYS"),
        ("you’re always late", "always_never", "you’re always"),
        ("you are never home", "always_never", "you are never"),
        ("You should know by now.", "should", "You should"),
        ("you shouldn’t have", "should", "you shouldn’t"),
        ("You make me so angry.", "blame", "You make me"),
        ("you made me wait", "blame", "you made me"),
        ("It's your fault.", "blame", "It's your fault"),
        ("it’s all your fault", "blame", "it’s all your fault"),
        ("your fault, again", "blame", "your fault"),
    ],
)
def test_send_blame_positives(text, code, matched):
    hints = hints_for("send", text)
    assert [h.code for h in hints] == [code]
    assert hints[0].matched == matched
    assert matched in hints[0].message


@pytest.mark.parametrize(
    "text",
    [
        "I always feel better after we talk.",
        "When you're late I never know what to think.",  # "I never", not "you never"
        "youth never waits",
        "Cayou always",  # no word boundary before "you"
        "you alwaysish",
        "I should say that I feel hurt.",
        "You shoulder a lot.",
        "You makeup",
        "The faultline runs under your house.",
        "I'd like you to hear me.",
    ],
)
def test_send_negatives(text):
    assert hints_for("send", text) == []


def test_send_hints_dedupe_by_code_and_keep_text_order():
    text = "You make me sad. You never listen, you always leave, you never call. Your fault!"
    hints = hints_for("send", text)
    assert [h.code for h in hints] == ["blame", "always_never"]
    assert hints[0].matched == "You make me"
    assert hints[1].matched == "You never"


def test_send_rules_only_apply_to_send():
    assert hints_for("mirror", "You always forget.") == []
    assert hints_for("empathy", "You always forget.") == []


# --------------------------------------------------------------------------- mirror


@pytest.mark.parametrize(
    "text, code, matched",
    [
        ("You said you felt alone, but I was working.", "but", "but"),
        ("BUT that was once", "but", "BUT"),
        ("but, honestly", "but", "but"),
        ("That's not true.", "rebuttal", "That's not true"),
        ("That’s not true at all", "rebuttal", "That’s not true"),
        ("that is not true", "rebuttal", "that is not true"),
        ("I didn't say that", "rebuttal", "I didn't"),
        ("I didn’t mean it", "rebuttal", "I didn’t"),
        ("I did not", "rebuttal", "I did not"),
        ("That's not what happened", "rebuttal", "That's not what happened"),
        ("you're wrong", "rebuttal", "you're wrong"),
        ("You’re wrong about that", "rebuttal", "You’re wrong"),
        ("you are wrong", "rebuttal", "you are wrong"),
    ],
)
def test_mirror_rebuttal_positives(text, code, matched):
    hints = hints_for("mirror", text)
    assert [h.code for h in hints] == [code]
    assert hints[0].matched == matched


@pytest.mark.parametrize(
    "text",
    [
        "You said you'd like butter on the toast.",
        "If I got it, the rebuttal... no, the debut was hard for you.",
        "Did I get it? Is there more?",
        "You said it's not true that you don't care.",  # "it's", not "that's"
        "I didn'tt",  # typo, not the phrase
        "Diddidn't",
        "Your wrongdoing, you said, was leaving.",
    ],
)
def test_mirror_negatives(text):
    assert hints_for("mirror", text) == []


def test_mirror_both_rules_in_order_and_deduped():
    text = "That’s not true, but I hear you. But I didn't, but…"
    hints = hints_for("mirror", text)
    assert [h.code for h in hints] == ["rebuttal", "but"]
    assert hints[0].matched == "That’s not true"


# --------------------------------------------------------------------------- empathy


@pytest.mark.parametrize(
    "text, matched",
    [
        ("I imagine you feel that I don't care.", "feel that"),
        ("I imagine you feel like nobody listens.", "feel like"),
        ("You feel that it's unfair", "feel that"),
        ("Maybe it feels like I left you.", "feels like"),
        ("You might be FEELING LIKE a stranger", "FEELING LIKE"),
    ],
)
def test_empathy_thought_not_feeling(text, matched):
    hints = hints_for("empathy", text)
    assert [h.code for h in hints] == ["thought_not_feeling"]
    assert hints[0].matched == matched
    assert "feeling word" in hints[0].message


@pytest.mark.parametrize(
    "text",
    [
        "I imagine you might be feeling hurt and lonely.",
        "I imagine you feel scared. Did I get that?",
        "You feel likeable",  # not "like" as a word
        "I imagine you feel that way.",  # "that way" names no thought
        "The feline likes you",
    ],
)
def test_empathy_negatives(text):
    assert hints_for("empathy", text) == []


def test_empathy_dedupes():
    hints = hints_for("empathy", "You feel like a guest. You feel that I'm away. Feel like…")
    assert len(hints) == 1 and hints[0].matched == "feel like"


def test_hints_never_raise_on_odd_text():
    for family in HINT_FAMILIES:
        for text in ("’’’", "but" * 1000, "\n\n", "🙂 but 🙂", "x" * 5000):
            assert isinstance(hints_for(family, text), list)
