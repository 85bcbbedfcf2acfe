"""The Couples Satisfaction Index as data: every item's scale and direction, the totals
against hand-computed examples from the published scoring key, the cut-offs at the edge."""

from __future__ import annotations

import pytest
from django.utils import translation

from practice import measures
from practice.measures import CSI4, CSI16, ITEMS, MeasureInvalid


def _labels(key: str) -> dict[str, int]:
    with translation.override("en"):
        return {str(c.label): c.points for c in ITEMS[key].choices}


def test_it_has_the_published_items_of_each_form():
    assert CSI16.keys == tuple(f"q{i}" for i in range(1, 17))
    # The CSI-4 is items 1, 5, 7 and 10 of the CSI-16.
    assert CSI4.keys == ("q1", "q5", "q7", "q10")
    with translation.override("en"):
        assert (
            str(ITEMS["q5"].text) == "I have a warm and comfortable relationship with my partner."
        )
        assert str(ITEMS["q10"].text) == "In general, how satisfied are you with your relationship?"


def test_it_scores_item_1_from_extremely_unhappy_0_to_perfect_6():
    assert _labels("q1") == {
        "Extremely unhappy": 0,
        "Fairly unhappy": 1,
        "A little unhappy": 2,
        "Happy": 3,
        "Very happy": 4,
        "Extremely happy": 5,
        "Perfect": 6,
    }


def test_it_scores_every_other_item_from_0_to_5():
    for key in CSI16.keys[1:]:
        assert ITEMS[key].points == frozenset(range(6)), key


def test_it_scores_how_often_things_go_well_from_all_the_time_down():
    assert _labels("q2") == {
        "All the time": 5,
        "Most of the time": 4,
        "More often than not": 3,
        "Occasionally": 2,
        "Rarely": 1,
        "Never": 0,
    }
    assert ITEMS["q2"].reversed


def test_it_scores_the_true_and_extent_items_upwards():
    for key in ("q3", "q4", "q5", "q6"):
        assert _labels(key)["Not at all true"] == 0 and _labels(key)["Completely true"] == 5
    for key in ("q7", "q8", "q9", "q10"):
        assert _labels(key)["Not at all"] == 0 and _labels(key)["Completely"] == 5


@pytest.mark.parametrize(
    ("key", "positive", "negative", "positive_first"),
    [
        ("q11", "Interesting", "Boring", True),
        ("q12", "Good", "Bad", False),
        ("q13", "Full", "Empty", True),
        ("q14", "Sturdy", "Fragile", True),
        ("q15", "Hopeful", "Discouraging", False),
        ("q16", "Enjoyable", "Miserable", True),
    ],
)
def test_it_scores_each_word_pair_5_at_its_positive_end(key, positive, negative, positive_first):
    labels = _labels(key)
    assert labels[positive] == 5 and labels[negative] == 0
    # Reversed where the published form starts with the positive word.
    assert ITEMS[key].reversed is positive_first


def test_it_totals_a_hand_computed_example():
    answers = {
        "q1": 3,  # Happy
        "q2": 4,  # Most of the time
        "q3": 3, "q4": 3, "q5": 4, "q6": 3,  # 13
        "q7": 3, "q8": 2, "q9": 3, "q10": 3,  # 11
        "q11": 4, "q12": 4, "q13": 3, "q14": 3, "q15": 4, "q16": 4,  # 22
    }  # fmt: skip
    assert measures.score(CSI16, answers) == 3 + 4 + 13 + 11 + 22 == 53
    assert not measures.below_cut_off(CSI16, 53)
    # The same answers' CSI-4: 3 + 4 + 3 + 3.
    assert measures.score(CSI4, answers) == 13
    assert measures.below_cut_off(CSI4, 13)


def test_it_totals_the_extremes():
    lowest = {k: 0 for k in CSI16.keys}
    highest = {k: ITEMS[k].high for k in CSI16.keys}
    assert measures.score(CSI16, lowest) == 0 and measures.score(CSI16, highest) == 81
    assert measures.score(CSI4, lowest) == 0 and measures.score(CSI4, highest) == 21


@pytest.mark.parametrize(
    ("instrument", "total", "below"),
    [(CSI16, 51, True), (CSI16, 52, False), (CSI4, 13, True), (CSI4, 14, False)],
)
def test_it_classifies_at_the_cut_off(instrument, total, below):
    assert instrument.cut_off in (51.5, 13.5)
    assert measures.below_cut_off(instrument, total) is below


def test_it_has_no_csi16_score_from_a_csi4_answer():
    assert measures.score(CSI16, {"q1": 6, "q5": 5, "q7": 5, "q10": 5}) is None


def test_it_cleans_answers_to_the_items_own_points():
    assert measures.answers_clean(CSI4, {"q1": "6", "q5": "0", "q7": 5, "q10": "3"}) == {
        "q1": 6,
        "q5": 0,
        "q7": 5,
        "q10": 3,
    }


@pytest.mark.parametrize(
    "answers",
    [
        {"q1": 6, "q5": 5, "q7": 5},  # one missing
        {"q1": 7, "q5": 5, "q7": 5, "q10": 5},  # beyond item 1's scale
        {"q1": 6, "q5": 6, "q7": 5, "q10": 5},  # beyond a 0-5 item
        {"q1": -1, "q5": 5, "q7": 5, "q10": 5},
        {"q1": "x", "q5": 5, "q7": 5, "q10": 5},
        {"q1": True, "q5": 5, "q7": 5, "q10": 5},
        {"q1": "6\x00", "q5": 5, "q7": 5, "q10": 5},
        {"q1": 6, "q5": 5, "q7": 5, "q10": 5, "q2": 3},  # not a CSI-4 item
    ],
)
def test_it_refuses_answers_that_dont_fit(answers):
    with pytest.raises(MeasureInvalid):
        measures.answers_clean(CSI4, answers)


def test_it_says_only_english_is_a_validated_wording():
    assert measures.validated_in("en") and not measures.validated_in("es")
    assert "Journal of Family Psychology, 21(4), 572-583" in measures.CITATION
