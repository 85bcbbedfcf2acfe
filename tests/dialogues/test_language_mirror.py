"""The mirror feedback on real examples, in English and Spanish: a good mirror, one that adds
"but you never …", one that leaves out half. Deterministic; by word stem, not by spelling."""

from __future__ import annotations

import pytest
from django.utils import translation

from dialogues.language import mirror_feedback

SAID_EN = (
    "When you look at your phone during dinner, I feel lonely and unimportant. "
    "I'd like us to put our phones away while we eat."
)
SAID_ES = (
    "Cuando miras el teléfono durante la cena, me siento sola y poco importante. "
    "Me gustaría que guardáramos los teléfonos mientras comemos."
)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def spanish():
    with translation.override("es"):
        yield


def test_a_good_mirror_keeps_everything_and_adds_nothing(english):
    feedback = mirror_feedback(
        said=SAID_EN,
        mirror=(
            "If I got it, when I looked at my phone during dinner you feel lonely and "
            "unimportant, and you'd like us to put our phones away while we're eating. "
            "Did I get it?"
        ),
    )
    assert (feedback.left_out, feedback.added, feedback.kept) == ((), (), 100)
    assert feedback.complete


def test_it_notices_but_you_never(english):
    feedback = mirror_feedback(
        said=SAID_EN,
        mirror="You feel lonely when I look at my phone at dinner, but you never put yours away.",
    )
    assert feedback.added == ("but", "never")
    assert feedback.left_out == ("unimportant", "eat")
    assert not feedback.complete


def test_it_names_what_half_a_mirror_leaves_out(english):
    feedback = mirror_feedback(said=SAID_EN, mirror="So you feel lonely at dinner.")
    assert feedback.left_out == ("look", "phone", "unimportant", "put", "away", "eat")
    assert feedback.kept == 33 and feedback.missing == 6


def test_it_counts_no_word_the_sender_said_too(english):
    said = "I never feel heard when I talk about my day, but I keep trying."
    feedback = mirror_feedback(
        said=said, mirror="You never feel heard when you talk about your day, but you keep trying."
    )
    assert feedback.added == () and feedback.kept == 100


def test_it_is_deterministic_and_forgets_nothing_in_between(english):
    first = mirror_feedback(said=SAID_EN, mirror="You feel lonely.")
    assert mirror_feedback(said=SAID_EN, mirror="You feel lonely.") == first


def test_curly_apostrophes_count_as_straight_ones(english):
    feedback = mirror_feedback(said="I’d like a walk.", mirror="You'd like a walk.")
    assert feedback.kept == 100


def test_nothing_said_nothing_to_keep(english):
    assert mirror_feedback(said="", mirror="anything").kept is None


def test_a_good_spanish_mirror(spanish):
    feedback = mirror_feedback(
        said=SAID_ES,
        mirror=(
            "Si te entendí bien, cuando miro el teléfono durante la cena te sientes sola y "
            "poco importante, y te gustaría que guardáramos los teléfonos mientras comemos. "
            "¿Lo entendí?"
        ),
    )
    assert (feedback.left_out, feedback.added, feedback.kept) == ((), (), 100)


def test_it_notices_pero_tu_nunca(spanish):
    feedback = mirror_feedback(
        said=SAID_ES,
        mirror="Te sientes sola cuando miro el teléfono en la cena, pero tú nunca guardas el tuyo.",
    )
    assert feedback.added == ("pero", "nunca")
    assert "importante" in feedback.left_out


def test_it_names_what_half_a_spanish_mirror_leaves_out(spanish):
    feedback = mirror_feedback(said=SAID_ES, mirror="Te sientes sola en la cena.")
    assert set(feedback.left_out) >= {"miras", "teléfono", "importante", "comemos"}
    assert feedback.kept is not None and feedback.kept < 50
