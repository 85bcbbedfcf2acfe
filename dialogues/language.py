"""Gentle, rule-based language hints and the feeling-word list.

Hints never block anything. Each one says what was noticed and why it may
matter, so people can decide for themselves. No Django imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Feeling words, loosely grouped for the picker. Single words only.
FEELING_GROUPS: dict[str, tuple[str, ...]] = {
    "Hurt": ("hurt", "sad", "lonely", "disappointed", "rejected", "invisible"),
    "Afraid": ("scared", "anxious", "worried", "insecure", "confused"),
    "Angry": ("frustrated", "angry", "resentful", "jealous"),
    "Ashamed": ("ashamed", "embarrassed", "guilty"),
    "Worn out": ("tired", "overwhelmed", "helpless"),
    "Warm": ("grateful", "hopeful", "relieved", "loved", "safe", "calm", "happy"),
}
FEELINGS: tuple[str, ...] = tuple(w for words in FEELING_GROUPS.values() for w in words)

HINT_FAMILIES = ("send", "mirror", "empathy")


@dataclass(frozen=True)
class Hint:
    code: str  # stable identifier of the rule, e.g. "always_never"
    message: str  # what was noticed and why it matters, kindly put
    matched: str  # the words in the text that were noticed, as written


@dataclass(frozen=True)
class _Rule:
    code: str
    pattern: re.Pattern[str]
    message: str  # may contain {matched}


def _rule(code: str, pattern: str, message: str) -> _Rule:
    return _Rule(code, re.compile(pattern, re.IGNORECASE), message)


_RULES: dict[str, tuple[_Rule, ...]] = {
    "send": (
        _rule(
            "always_never",
            r"\byou(?:'re| are)?\s+(?:always|never)\b",
            "You wrote “{matched}”. “Always” and “never” can sound like an accusation; "
            "you might describe one moment and how you felt: “When …, I feel …”.",
        ),
        _rule(
            "should",
            r"\byou\s+should(?:n't)?\b",
            "You wrote “{matched}”. Telling your partner what they should do can feel "
            "like blame; you might say what you'd like instead: “What I'd like is …”.",
        ),
        _rule(
            "blame",
            r"\byou\s+(?:make|made)\s+me\b|\b(?:it's\s+|it\s+is\s+)?(?:all\s+)?your\s+fault\b",
            "You wrote “{matched}”. This puts the cause on your partner, which can make "
            "it hard to listen; “I” language keeps it about you: “I feel …”.",
        ),
    ),
    "mirror": (
        _rule(
            "but",
            r"\bbut\b",
            "You wrote “{matched}”. In mirroring, “but” often starts an answer; for now "
            "you might just reflect what you heard — your turn to share comes later.",
        ),
        _rule(
            "rebuttal",
            r"\bthat's\s+not\s+(?:true|what\s+happened)\b|\bthat\s+is\s+not\s+true\b"
            r"|\bi\s+didn't\b|\bi\s+did\s+not\b|\byou're\s+wrong\b|\byou\s+are\s+wrong\b",
            "You wrote “{matched}”. That sounds like a reply rather than a reflection; "
            "you might just say back what you heard, without answering yet.",
        ),
    ),
    "empathy": (
        _rule(
            "thought_not_feeling",
            r"\bfeel(?:s|ing)?\s+(?:like|that\b(?!\s+way))\b",
            "You wrote “{matched}”. Words after “feel like” or “feel that” are often a "
            "thought rather than a feeling; a single feeling word, like “hurt” or "
            "“lonely”, usually lands more softly.",
        ),
    ),
}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})


def hints_for(family: str | None, text: str) -> list[Hint]:
    """Gentle hints about ``text`` written at a step whose hint family is ``family``.

    Case-insensitive and word-boundary aware; curly apostrophes count as straight
    ones. At most one hint per rule, in the order they first appear in the text.
    """
    if not family or not text or family not in _RULES:
        return []
    # Same length as the original, so match positions map back to the text as written.
    normalised = text.translate(_APOSTROPHES)
    found: list[tuple[int, Hint]] = []
    for rule in _RULES[family]:
        match = rule.pattern.search(normalised)
        if match is None:
            continue
        matched = text[match.start() : match.end()]
        hint = Hint(rule.code, rule.message.format(matched=matched), matched)
        found.append((match.start(), hint))
    found.sort(key=lambda pair: pair[0])
    return [hint for _, hint in found]


def rules_for_browser() -> list[dict[str, str]]:
    """The same rules, as data for the page's script: hints appear while typing, and nothing
    of the text leaves the browser before it is sent."""
    return [
        {
            "family": family,
            "code": rule.code,
            "pattern": rule.pattern.pattern,
            "message": rule.message,
        }
        for family, rules in _RULES.items()
        for rule in rules
    ]
