"""The Couples Satisfaction Index (CSI), as plain data: its items, each item's answer scale
with the points each answer scores, the totals and the distress cut-offs. Nothing here
reads the database.

Source: Funk, J. L., & Rogge, R. D. (2007). Testing the ruler with item response theory:
Increasing precision of measurement for relationship satisfaction with the Couples
Satisfaction Index. *Journal of Family Psychology*, 21(4), 572-583.
https://doi.org/10.1037/0893-3200.21.4.572 — free for research and clinical use.

- CSI-16: 16 items; item 1 scores 0 to 6, the others 0 to 5; total 0 to 81; a total below 51.5
  suggests notable relationship dissatisfaction.
- CSI-4: items 1, 5, 7 and 10 of the CSI-16 (the same wording and scales); total 0 to 21; a
  total below 13.5 suggests notable relationship dissatisfaction. A CSI-16 answer therefore
  also gives a CSI-4 score (the same items summed), which is how the short form was derived.

The wording and the points are from the authors' published scale and scoring key as we
know them. Two things we are less sure of and say so: the exact capitalisation of the
answer labels, and whether the CSI-16's semantic pairs appear in this order on the
authors' form (the order changes no score). Check against the article's appendix before
quoting these in a publication.

Spanish: we know of no published validation of a Spanish CSI that we can cite here, so the
Spanish wording is our translation and the page says it is not a validated version
(`validated_in`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

CITATION = (
    "Funk, J. L., & Rogge, R. D. (2007). Testing the ruler with item response theory: "
    "Increasing precision of measurement for relationship satisfaction with the Couples "
    "Satisfaction Index. Journal of Family Psychology, 21(4), 572-583. "
    "https://doi.org/10.1037/0893-3200.21.4.572"
)
# The languages whose wording is a published, validated version (English is the original).
VALIDATED_LANGUAGES = frozenset({"en"})


@dataclass(frozen=True)
class Choice:
    points: int
    label: Promise


@dataclass(frozen=True)
class Item:
    key: str  # "q1" … "q16": the CSI-16's numbering, stored with each answer
    text: Promise  # the question, or for a semantic pair "Interesting … Boring"
    choices: tuple[Choice, ...]  # in the order they are shown

    @property
    def points(self) -> frozenset[int]:
        return frozenset(c.points for c in self.choices)

    @property
    def high(self) -> int:
        return max(self.points)

    @property
    def reversed(self) -> bool:
        """Shown from the highest-scoring answer down (the published form's layout)."""
        return self.choices[0].points > self.choices[-1].points


def _scale(*labels: Promise, start: int = 0) -> tuple[Choice, ...]:
    return tuple(Choice(start + i, label) for i, label in enumerate(labels))


HAPPINESS = _scale(
    pgettext_lazy("CSI answer", "Extremely unhappy"),
    pgettext_lazy("CSI answer", "Fairly unhappy"),
    pgettext_lazy("CSI answer", "A little unhappy"),
    pgettext_lazy("CSI answer", "Happy"),
    pgettext_lazy("CSI answer", "Very happy"),
    pgettext_lazy("CSI answer", "Extremely happy"),
    pgettext_lazy("CSI answer", "Perfect"),
)
# "All the time" scores 5, "Never" 0: shown from the top, as on the published form.
HOW_OFTEN = tuple(
    reversed(
        _scale(
            pgettext_lazy("CSI answer", "Never"),
            pgettext_lazy("CSI answer", "Rarely"),
            pgettext_lazy("CSI answer", "Occasionally"),
            pgettext_lazy("CSI answer", "More often than not"),
            pgettext_lazy("CSI answer", "Most of the time"),
            pgettext_lazy("CSI answer", "All the time"),
        )
    )
)
TRUE = _scale(
    pgettext_lazy("CSI answer", "Not at all true"),
    pgettext_lazy("CSI answer", "A little true"),
    pgettext_lazy("CSI answer", "Somewhat true"),
    pgettext_lazy("CSI answer", "Mostly true"),
    pgettext_lazy("CSI answer", "Almost completely true"),
    pgettext_lazy("CSI answer", "Completely true"),
)
EXTENT = _scale(
    pgettext_lazy("CSI answer", "Not at all"),
    pgettext_lazy("CSI answer", "A little"),
    pgettext_lazy("CSI answer", "Somewhat"),
    pgettext_lazy("CSI answer", "Mostly"),
    pgettext_lazy("CSI answer", "Almost completely"),
    pgettext_lazy("CSI answer", "Completely"),
)


def _pair(left: Promise, right: Promise, *, left_scores_high: bool) -> tuple[Choice, ...]:
    """A semantic-differential item: six boxes from the left word to the right word; the
    positive word's end scores 5 (on the form, some pairs start with the negative word)."""
    points = range(5, -1, -1) if left_scores_high else range(0, 6)
    labels = [
        left,
        # Translators: a box of a word pair, between the two words ("mostly “Interesting”").
        format_lazy(_("mostly “{word}”"), word=left),
        # Translators: a box of a word pair, the middle one nearer this word.
        format_lazy(_("slightly “{word}”"), word=left),
        format_lazy(_("slightly “{word}”"), word=right),
        format_lazy(_("mostly “{word}”"), word=right),
        right,
    ]
    return tuple(Choice(p, label) for p, label in zip(points, labels, strict=True))


def _pair_text(left: str, right: str) -> Promise:
    # A pair's legend: its two words (translated with the words themselves).
    return format_lazy(
        # Translators: a CSI word pair's legend, "Interesting … Boring".
        _("{left} … {right}"),
        left=pgettext_lazy("CSI word", left),
        right=pgettext_lazy("CSI word", right),
    )


PAIR_INSTRUCTIONS = _(
    "For each pair of words, choose the box that best describes how you feel about your "
    "relationship. Go with your first impression."
)

ITEMS: dict[str, Item] = {
    item.key: item
    for item in (
        Item(
            "q1",
            _(
                "Please indicate the degree of happiness, all things considered, of your "
                "relationship."
            ),
            HAPPINESS,
        ),
        Item(
            "q2",
            _(
                "In general, how often do you think that things between you and your partner "
                "are going well?"
            ),
            HOW_OFTEN,
        ),
        Item("q3", _("Our relationship is strong."), TRUE),
        Item("q4", _("My relationship with my partner makes me happy."), TRUE),
        Item("q5", _("I have a warm and comfortable relationship with my partner."), TRUE),
        Item("q6", _("I really feel like part of a team with my partner."), TRUE),
        Item("q7", _("How rewarding is your relationship with your partner?"), EXTENT),
        Item("q8", _("How well does your partner meet your needs?"), EXTENT),
        Item(
            "q9", _("To what extent has your relationship met your original expectations?"), EXTENT
        ),
        Item("q10", _("In general, how satisfied are you with your relationship?"), EXTENT),
        Item(
            "q11",
            pgettext_lazy("CSI word pair", "Interesting … Boring"),
            _pair(
                pgettext_lazy("CSI word", "Interesting"),
                pgettext_lazy("CSI word", "Boring"),
                left_scores_high=True,
            ),
        ),
        Item(
            "q12",
            _pair_text("Bad", "Good"),
            _pair(
                pgettext_lazy("CSI word", "Bad"),
                pgettext_lazy("CSI word", "Good"),
                left_scores_high=False,
            ),
        ),
        Item(
            "q13",
            _pair_text("Full", "Empty"),
            _pair(
                pgettext_lazy("CSI word", "Full"),
                pgettext_lazy("CSI word", "Empty"),
                left_scores_high=True,
            ),
        ),
        Item(
            "q14",
            _pair_text("Sturdy", "Fragile"),
            _pair(
                pgettext_lazy("CSI word", "Sturdy"),
                pgettext_lazy("CSI word", "Fragile"),
                left_scores_high=True,
            ),
        ),
        Item(
            "q15",
            _pair_text("Discouraging", "Hopeful"),
            _pair(
                pgettext_lazy("CSI word", "Discouraging"),
                pgettext_lazy("CSI word", "Hopeful"),
                left_scores_high=False,
            ),
        ),
        Item(
            "q16",
            _pair_text("Enjoyable", "Miserable"),
            _pair(
                pgettext_lazy("CSI word", "Enjoyable"),
                pgettext_lazy("CSI word", "Miserable"),
                left_scores_high=True,
            ),
        ),
    )
}
PAIR_KEYS = ("q11", "q12", "q13", "q14", "q15", "q16")


@dataclass(frozen=True)
class Instrument:
    code: str  # stored: "csi4", "csi16"
    name: Promise
    keys: tuple[str, ...]
    high: int  # the highest total
    cut_off: float  # a total below it suggests notable dissatisfaction

    @property
    def items(self) -> list[Item]:
        return [ITEMS[k] for k in self.keys]


CSI4 = Instrument(
    "csi4",
    _("Couples Satisfaction Index, 4 questions (CSI-4)"),
    ("q1", "q5", "q7", "q10"),
    21,
    13.5,
)
CSI16 = Instrument(
    "csi16",
    _("Couples Satisfaction Index, 16 questions (CSI-16)"),
    tuple(f"q{i}" for i in range(1, 17)),
    81,
    51.5,
)
INSTRUMENTS: dict[str, Instrument] = {CSI4.code: CSI4, CSI16.code: CSI16}
assert sum(ITEMS[k].high for k in CSI16.keys) == CSI16.high
assert sum(ITEMS[k].high for k in CSI4.keys) == CSI4.high


class MeasureInvalid(ValueError):
    """Answers that don't fit the instrument: a missing item, a key or points it hasn't."""


def answers_clean(instrument: Instrument, answers: dict[str, object]) -> dict[str, int]:
    """Every item of the instrument answered with one of its own point values (given as an
    int or its digits); other keys are refused, not ignored."""
    extra = set(answers) - set(instrument.keys)
    if extra:
        raise MeasureInvalid("unknown item")
    cleaned: dict[str, int] = {}
    for key in instrument.keys:
        raw = answers.get(key)
        if isinstance(raw, bool):
            raise MeasureInvalid(key)
        if isinstance(raw, str) and raw.isdigit() and len(raw) <= 2:
            raw = int(raw)
        if not isinstance(raw, int) or raw not in ITEMS[key].points:
            raise MeasureInvalid(key)
        cleaned[key] = raw
    return cleaned


def score(instrument: Instrument, answers: dict[str, int]) -> int | None:
    """The instrument's total from stored answers, or None when an item is missing (a CSI-4
    score from a CSI-16 answer sums its four items)."""
    try:
        return sum(answers[k] for k in instrument.keys)
    except KeyError:
        return None


def below_cut_off(instrument: Instrument, total: int) -> bool:
    return total < instrument.cut_off


def validated_in(language: str) -> bool:
    return language.split("-")[0] in VALIDATED_LANGUAGES
