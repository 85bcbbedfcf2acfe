"""Gentle, rule-based language hints and the feeling-word list, in the person's language.

Hints never block anything. Each one says what was noticed and why it may
matter, so people can decide for themselves. The only Django used is its translation:
every rule's message *and its regular expression* come from the catalogue, so a language
is added by translating them (no code change); the patterns are compiled once per language.

Feeling words are stored and compared as their English codes (``FEELINGS``); people see
and write them in their own language (``FEELING_GROUPS``, ``feeling_label``), and a word
ticked in the picker is mapped back to its code (``feeling_code``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import snowballstemmer
from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# Feeling words, loosely grouped for the picker: (group code, its label, word codes). The
# codes are what is stored and compared; single words only.
_GROUPS: tuple[tuple[str, Promise, tuple[str, ...]], ...] = (
    (
        "hurt",
        pgettext_lazy("feeling group", "Hurt"),
        ("hurt", "sad", "lonely", "disappointed", "rejected", "invisible"),
    ),
    (
        "afraid",
        pgettext_lazy("feeling group", "Afraid"),
        ("scared", "anxious", "worried", "insecure", "confused"),
    ),
    (
        "angry",
        pgettext_lazy("feeling group", "Angry"),
        ("frustrated", "angry", "resentful", "jealous"),
    ),
    ("ashamed", pgettext_lazy("feeling group", "Ashamed"), ("ashamed", "embarrassed", "guilty")),
    ("worn_out", pgettext_lazy("feeling group", "Worn out"), ("tired", "overwhelmed", "helpless")),
    (
        "warm",
        pgettext_lazy("feeling group", "Warm"),
        ("grateful", "hopeful", "relieved", "loved", "safe", "calm", "happy"),
    ),
)
FEELING_CODES: dict[str, tuple[str, ...]] = {code: words for code, _label, words in _GROUPS}
FEELINGS: tuple[str, ...] = tuple(w for words in FEELING_CODES.values() for w in words)

# What each feeling word is called in the person's language.
_FEELING_LABELS: dict[str, Promise] = {
    # Translators: the feeling words: each a single word that fits after the translated
    # stems "I imagine you might be feeling …" and "I also feel …" (in Spanish a noun, such
    # as "tristeza", keeps it free of grammatical gender). Each must differ from the others.
    "hurt": pgettext_lazy("feeling word", "hurt"),
    "sad": pgettext_lazy("feeling word", "sad"),
    "lonely": pgettext_lazy("feeling word", "lonely"),
    "disappointed": pgettext_lazy("feeling word", "disappointed"),
    "rejected": pgettext_lazy("feeling word", "rejected"),
    "invisible": pgettext_lazy("feeling word", "invisible"),
    "scared": pgettext_lazy("feeling word", "scared"),
    "anxious": pgettext_lazy("feeling word", "anxious"),
    "worried": pgettext_lazy("feeling word", "worried"),
    "insecure": pgettext_lazy("feeling word", "insecure"),
    "confused": pgettext_lazy("feeling word", "confused"),
    "frustrated": pgettext_lazy("feeling word", "frustrated"),
    "angry": pgettext_lazy("feeling word", "angry"),
    "resentful": pgettext_lazy("feeling word", "resentful"),
    "jealous": pgettext_lazy("feeling word", "jealous"),
    "ashamed": pgettext_lazy("feeling word", "ashamed"),
    "embarrassed": pgettext_lazy("feeling word", "embarrassed"),
    "guilty": pgettext_lazy("feeling word", "guilty"),
    "tired": pgettext_lazy("feeling word", "tired"),
    "overwhelmed": pgettext_lazy("feeling word", "overwhelmed"),
    "helpless": pgettext_lazy("feeling word", "helpless"),
    "grateful": pgettext_lazy("feeling word", "grateful"),
    "hopeful": pgettext_lazy("feeling word", "hopeful"),
    "relieved": pgettext_lazy("feeling word", "relieved"),
    "loved": pgettext_lazy("feeling word", "loved"),
    "safe": pgettext_lazy("feeling word", "safe"),
    "calm": pgettext_lazy("feeling word", "calm"),
    "happy": pgettext_lazy("feeling word", "happy"),
}
assert set(_FEELING_LABELS) == set(FEELINGS), "every feeling word has a label"


def feeling_label(code: str) -> str:
    """The feeling word as the active language says it (an unknown code as it is)."""
    label = _FEELING_LABELS.get(code)
    return str(label) if label is not None else code


def feeling_code(word: str) -> str | None:
    """The stored code of a feeling word given as its code or as the active language says
    it (case-insensitive); None if it isn't one of the feeling words."""
    w = word.strip().casefold()
    if w in _FEELING_LABELS:
        return w
    for code, label in _FEELING_LABELS.items():
        if str(label).casefold() == w:
            return code
    return None


class _FeelingGroups(Mapping[str, tuple[str, ...]]):
    """The picker's groups as the active language says them: group label -> its words.

    A live view (each read is in the language active then), so the page's
    ``{% for group, words in feelings.items %}`` shows, and ticks, the person's own words."""

    def __iter__(self) -> Iterator[str]:
        return (str(label) for _code, label, _words in _GROUPS)

    def __len__(self) -> int:
        return len(_GROUPS)

    def __getitem__(self, key: str) -> tuple[str, ...]:
        for _code, label, words in _GROUPS:
            if str(label) == key:
                return tuple(feeling_label(w) for w in words)
        raise KeyError(key)


FEELING_GROUPS: Mapping[str, tuple[str, ...]] = _FeelingGroups()

HINT_FAMILIES = ("send", "mirror", "empathy")


@dataclass(frozen=True)
class Hint:
    code: str  # stable identifier of the rule, e.g. "always_never"
    message: str  # what was noticed and why it matters, kindly put
    matched: str  # the words in the text that were noticed, as written


@dataclass(frozen=True)
class _RuleText:
    code: str
    pattern: Promise  # a regular expression, from the catalogue
    message: Promise  # may contain {matched}


@dataclass(frozen=True)
class _Rule:
    code: str
    pattern: re.Pattern[str]
    message: str  # may contain {matched}


# Every pattern is a translatable string: in each language a regular expression that Python's
# `re` runs case-insensitively, here only: the page asks the server as the person types
# (dialogues.views.writing_aids), no copy runs in the browser. (Patterns written when the
# browser ran them too keep their lookarounds instead of \b next to accented letters.)
_RULE_TEXTS: dict[str, tuple[_RuleText, ...]] = {
    "send": (
        _RuleText(
            "always_never",
            # Translators: a regular expression (Python's re, matched
            # case-insensitively) that finds a blaming "you always" / "you never" / "never"
            # in your language. Do not use \b or \w next to accented letters.
            _(r"\byou(?:'re| are)?\s+(?:always|never)\b"),
            _(
                "You wrote “{matched}”. “Always” and “never” can sound like an accusation; "
                "you might describe one moment and how you felt: “When …, I feel …”."
            ),
        ),
        _RuleText(
            "should",
            # Translators: a regular expression (Python's re, matched
            # case-insensitively) that finds "you should" / "you shouldn't" in your language.
            # Do not use \b or \w next to accented letters.
            _(r"\byou\s+should(?:n't)?\b"),
            _(
                "You wrote “{matched}”. Telling your partner what they should do can feel "
                "like blame; you might say what you'd like instead: “What I'd like is …”."
            ),
        ),
        _RuleText(
            "blame",
            # Translators: a regular expression (Python's re, matched
            # case-insensitively) that finds blame: "you make me (feel)", "it's your fault"
            # in your language. Do not use \b or \w next to accented letters.
            _(r"\byou\s+(?:make|made)\s+me\b|\b(?:it's\s+|it\s+is\s+)?(?:all\s+)?your\s+fault\b"),
            _(
                "You wrote “{matched}”. This puts the cause on your partner, which can make "
                "it hard to listen; “I” language keeps it about you: “I feel …”."
            ),
        ),
    ),
    "mirror": (
        _RuleText(
            "but",
            # Translators: a regular expression (Python's re, matched
            # case-insensitively) that finds the word "but" in your language, as a whole
            # word. Do not use \b or \w next to accented letters.
            _(r"\bbut\b"),
            _(
                "You wrote “{matched}”. In mirroring, “but” often starts an answer; for now "
                "you might just reflect what you heard — your turn to share comes later."
            ),
        ),
        _RuleText(
            "rebuttal",
            # Translators: a regular expression (Python's re, matched
            # case-insensitively) that finds a rebuttal: "that's not true", "I didn't",
            # "you're wrong" in your language. Do not use \b or \w next to accented letters.
            _(
                r"\bthat's\s+not\s+(?:true|what\s+happened)\b|\bthat\s+is\s+not\s+true\b"
                r"|\bi\s+didn't\b|\bi\s+did\s+not\b|\byou're\s+wrong\b|\byou\s+are\s+wrong\b"
            ),
            _(
                "You wrote “{matched}”. That sounds like a reply rather than a reflection; "
                "you might just say back what you heard, without answering yet."
            ),
        ),
    ),
    "empathy": (
        _RuleText(
            "thought_not_feeling",
            # Translators: a regular expression (Python's re, matched
            # case-insensitively) that finds "feel like" / "feel that" (a thought, not a
            # feeling) in your language. Do not use \b or \w next to accented letters.
            _(r"\bfeel(?:s|ing)?\s+(?:like|that\b(?!\s+way))\b"),
            _(
                "You wrote “{matched}”. Words after “feel like” or “feel that” are often a "
                "thought rather than a feeling; a single feeling word, like “hurt” or "
                "“lonely”, usually lands more softly."
            ),
        ),
    ),
}

_COMPILED: dict[str, dict[str, tuple[_Rule, ...]]] = {}  # language code -> family -> rules


def _rules() -> dict[str, tuple[_Rule, ...]]:
    """The active language's rules, compiled once per language."""
    language = get_language() or ""
    rules = _COMPILED.get(language)
    if rules is None:
        rules = {}
        for family, texts in _RULE_TEXTS.items():
            compiled: list[_Rule] = []
            for rule in texts:  # the rule's own words (no one's writing)
                try:
                    pattern = re.compile(str(rule.pattern), re.IGNORECASE)
                except re.error:
                    # A broken translation must not break the page: that hint is left out.
                    logger.warning("hint rule %s does not compile in %s", rule.code, language)
                    continue
                compiled.append(_Rule(rule.code, pattern, str(rule.message)))
            rules[family] = tuple(compiled)
        _COMPILED[language] = rules
    return rules


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})


def hints_for(family: str | None, text: str) -> list[Hint]:
    """Gentle hints about ``text`` written at a step whose hint family is ``family``, in the
    active language (its rules and its messages).

    Case-insensitive and word-boundary aware; curly apostrophes count as straight
    ones. At most one hint per rule, in the order they first appear in the text.
    """
    if not family or not text or family not in _RULE_TEXTS:
        return []
    # Same length as the original, so match positions map back to the text as written.
    normalised = text.translate(_APOSTROPHES)
    found: list[tuple[int, Hint]] = []
    for rule in _rules()[family]:
        match = rule.pattern.search(normalised)
        if match is None:
            continue
        matched = text[match.start() : match.end()]
        hint = Hint(rule.code, rule.message.format(matched=matched), matched)
        found.append((match.start(), hint))
    found.sort(key=lambda pair: pair[0])
    return [hint for _, hint in found]


# --- mirror feedback: what a mirror may have left out, or added --------------------------------
#
# While the receiver writes a mirror or a summary, they see (privately) which of the sender's
# content words their draft doesn't have yet, matched by word stem (Snowball's stemmers, the
# `snowballstemmer` package), and which judging or answering words it adds that the sender
# didn't say. Computed here only, on the server, for the page that asks (never stored, never
# logged). A language is added by translating the three strings below.

# Translators: the name of the Snowball stemmer for your language, in English and lower case,
# as the snowballstemmer package knows it: "english", "spanish", "french", "german" …
_STEMMER = _("english")
# Translators: the small words of your language that carry no content of their own (articles,
# pronouns, prepositions, common auxiliary verbs, "if I got it"), in lower case, separated by
# spaces. A mirror is not asked to repeat these.
_STOP_WORDS = _(
    "a an the and but or so if then than that this these those there here it its it's is are "
    "was were be been being am do does did done have has had having i i'm i've i'd i'll me my "
    "mine myself you you're you've you'd you'll your yours yourself we we're our us they "
    "their them he she his her him to of in on at by for with about from into over as up "
    "out off just very really too also not no yes what when where who how which while every each "
    "during before after under between through without within against until since around "
    "because all any some more most much many can could would should will shall may might "
    "must get got getting go going said say says tell told hear heard like one something "
    "thing things sure okay ok oh well let let's"
)
# Translators: words or phrases that add judging or answering to a mirror (the sender didn't
# say them), in lower case, separated by "|". Each is noticed as whole words.
_ADDED_WORDS = _(
    "but|always|never|you should|you shouldn't|at least|however|actually|to be fair|"
    "that's not|you're wrong|whatever"
)
_LETTERS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_MAX_LISTED = 8  # at most this many words are named as left out


@dataclass(frozen=True)
class MirrorFeedback:
    left_out: tuple[str, ...]  # the sender's content words the mirror hasn't got (as written)
    added: tuple[str, ...]  # judging or answering words the mirror adds (as in the list)
    kept: int | None  # the share of the sender's content words kept, in percent (None: none)
    missing: int = 0  # how many content words are left out in all (left_out lists a few)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.added


@dataclass(frozen=True)
class _MirrorWords:
    stemmer_name: str
    stop: frozenset[str]
    added: tuple[tuple[str, ...], ...]  # each phrase as its words


_MIRROR_WORDS: dict[str, _MirrorWords] = {}
_local = threading.local()


def _mirror_words() -> _MirrorWords:
    language = get_language() or ""
    words = _MIRROR_WORDS.get(language)
    if words is None:
        name = str(_STEMMER).strip().lower()
        if name not in snowballstemmer.algorithms():
            logger.warning("no Snowball stemmer %r for %s", name, language)
            name = "english"
        stop = frozenset(_words(str(_STOP_WORDS)))
        added = tuple(
            tuple(_words(phrase)) for phrase in str(_ADDED_WORDS).split("|") if _words(phrase)
        )
        words = _MirrorWords(name, stop, added)
        _MIRROR_WORDS[language] = words
    return words


def _words(text: str) -> list[str]:
    return _LETTERS.findall(text.translate(_APOSTROPHES).casefold())


_STEM_CACHE: dict[str, dict[str, str]] = {}  # stemmer name -> word -> stem
_STEM_CACHE_SIZE = 50_000  # words per language; emptied when full (a word, not a person's text)


def _stems(name: str, words: set[str]) -> dict[str, str]:
    """Each word's stem. Stems are remembered (typing asks again and again about the same
    words); a stemmer per thread, as they keep state while stemming."""
    cache = _STEM_CACHE.setdefault(name, {})
    new = [w for w in words if w not in cache]
    if new:
        stemmers = getattr(_local, "stemmers", None)
        if stemmers is None:
            stemmers = _local.stemmers = {}
        stemmer = stemmers.get(name)
        if stemmer is None:
            stemmer = stemmers[name] = snowballstemmer.stemmer(name)
        if len(cache) + len(new) > _STEM_CACHE_SIZE:
            cache.clear()
        cache.update(zip(new, stemmer.stemWords(new), strict=True))
    return {w: cache[w] for w in words}


def _has_phrase(words: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def mirror_feedback(*, said: str, mirror: str) -> MirrorFeedback:
    """What a mirror (or summary) `mirror` may have left out of what the sender `said`, and
    what judging or answering words it adds, in the active language. Deterministic: the same
    words give the same feedback."""
    lang = _mirror_words()
    said_words, mirror_words = _words(said), _words(mirror)
    candidates = [w for w in said_words if w not in lang.stop and len(w) > 1]
    stems = _stems(lang.stemmer_name, set(candidates) | set(mirror_words))
    content: dict[str, str] = {}  # stem -> the word as the sender first wrote it
    for word in candidates:
        content.setdefault(stems[word], word)
    mirrored = {stems[w] for w in mirror_words}
    left = [word for stem, word in content.items() if stem not in mirrored]
    added = tuple(
        " ".join(phrase)
        for phrase in lang.added
        if _has_phrase(mirror_words, phrase) and not _has_phrase(said_words, phrase)
    )
    kept = round(100 * (len(content) - len(left)) / len(content)) if content else None
    return MirrorFeedback(tuple(left[:_MAX_LISTED]), added, kept, len(left))
