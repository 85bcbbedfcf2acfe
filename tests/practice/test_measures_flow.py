"""Outcome measures (practice services and selectors): answering, skipping, idempotence,
encryption at rest, when a questionnaire is offered, who sees which scores, export and
deletion."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection

from couples import selectors as couple_selectors
from dialogues import services as dialogue_services
from live import clock
from practice import measures, selectors, services
from practice.models import MIRRORS, SCORES, MeasureAnswer, MeasureSharing
from practice.services import PracticeError
from security.encrypted import PREFIX, decrypt_str
from tests.factories import screen
from tests.helpers import form_token
from tests.practice.conftest import _move

pytestmark = pytest.mark.django_db

CSI4_ANSWERS = {"q1": "3", "q5": "4", "q7": "3", "q10": "3"}  # 13: below the cut-off
CSI16_ANSWERS = {
    "q1": 3, "q2": 4, "q3": 3, "q4": 3, "q5": 4, "q6": 3, "q7": 3, "q8": 2, "q9": 3,
    "q10": 3, "q11": 4, "q12": 4, "q13": 3, "q14": 3, "q15": 4, "q16": 4,
}  # fmt: skip  # 53


@pytest.fixture
def moment():
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    clock.clock_set(start)
    yield start
    clock.clock_set(None)


def _later(days: int) -> None:
    clock.clock_set(clock.now() + datetime.timedelta(days=days))


def test_it_saves_answers_encrypted_at_rest(pair, alex):
    row = services.measure_answer(
        user=alex, instrument="csi4", answers=CSI4_ANSWERS, token=form_token()
    )
    assert row.answers == {"q1": 3, "q5": 4, "q7": 3, "q10": 3} and not row.skipped
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers FROM practice_measureanswer WHERE id = %s", [row.pk])
        stored = cursor.fetchone()[0]
    # A token, not the JSON: a quote can't occur in url-safe base64, while a short key such as
    # q1 turns up by chance in ~3 % of tokens, so the key is looked for with its quotes.
    assert stored.startswith(PREFIX) and '"q1"' not in stored
    assert json.loads(decrypt_str(stored)) == {"q1": 3, "q5": 4, "q7": 3, "q10": 3}


def test_it_saves_a_form_sent_twice_once(pair, alex):
    token = form_token()
    first = services.measure_answer(user=alex, instrument="csi4", answers=CSI4_ANSWERS, token=token)
    again = services.measure_answer(user=alex, instrument="csi4", answers=CSI4_ANSWERS, token=token)
    assert first.pk == again.pk and MeasureAnswer.objects.count() == 1


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [
        ("csi4", {"q1": "3", "q5": "4", "q7": "3"}),
        ("csi4", {**CSI4_ANSWERS, "q1": "9"}),
        ("csi99", CSI4_ANSWERS),
        ("", CSI4_ANSWERS),
        ("csi16", CSI4_ANSWERS),
    ],
)
def test_it_refuses_incomplete_or_unknown_answers_and_saves_nothing(
    pair, alex, instrument, answers
):
    with pytest.raises(PracticeError):
        services.measure_answer(
            user=alex, instrument=instrument, answers=answers, token=form_token()
        )
    assert not MeasureAnswer.objects.exists()


def test_it_needs_the_form_token(pair, alex):
    with pytest.raises(PracticeError):
        services.measure_answer(user=alex, instrument="csi4", answers=CSI4_ANSWERS, token="")
    assert not MeasureAnswer.objects.exists()


def test_it_offers_the_csi16_first_then_the_csi4_weekly(pair, alex, moment):
    assert selectors.measure_due(user=alex, couple=pair) is measures.CSI16
    services.measure_answer(
        user=alex, instrument="csi16", answers=CSI16_ANSWERS, token=form_token()
    )
    assert selectors.measure_due(user=alex, couple=pair) is None
    _later(6)
    assert selectors.measure_due(user=alex, couple=pair) is None
    _later(1)
    assert selectors.measure_due(user=alex, couple=pair) is measures.CSI4
    services.measure_skip(user=alex, instrument="csi4", token=form_token())
    assert selectors.measure_due(user=alex, couple=pair) is None
    _later(7)
    assert selectors.measure_due(user=alex, couple=pair) is measures.CSI4
    _later(16)  # 30 days after the CSI-16
    assert selectors.measure_due(user=alex, couple=pair) is measures.CSI16


def test_it_follows_the_rhythm_and_request_a_therapist_sets(pair, alex, sam, therapist, moment):
    services.measure_answer(
        user=alex, instrument="csi16", answers=CSI16_ANSWERS, token=form_token()
    )
    services.measure_rhythm_set(
        couple=pair, by=therapist, csi4_days="14", csi16_days="0", token=form_token()
    )
    _later(7)
    assert selectors.measure_due(user=alex, couple=pair) is None
    _later(7)
    assert selectors.measure_due(user=alex, couple=pair) is measures.CSI4
    services.measure_request(couple=pair, by=therapist, instrument="csi16", token=form_token())
    assert selectors.measure_due(user=alex, couple=pair) is measures.CSI16
    assert selectors.measure_due(user=sam, couple=pair) is measures.CSI16
    services.measure_skip(user=alex, instrument="csi16", token=form_token())
    assert selectors.measure_due(user=alex, couple=pair) is None  # asked once, skipped: done
    with pytest.raises(PracticeError):
        services.measure_rhythm_set(
            couple=pair, by=therapist, csi4_days="3", csi16_days="30", token=form_token()
        )


def test_it_offers_nothing_during_a_time_out(pair, alex, sam):
    session = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Sundays")
    _move(session, sam, "accept_now")
    dialogue_services.session_pause(session_public_id=session.public_id, user=sam)
    assert selectors.measure_due(user=alex, couple=pair) is None


def test_it_offers_nothing_after_a_safety_concern(pair, alex, sam):
    screen(alex, concern=True)
    assert selectors.measure_due(user=alex, couple=pair) is None
    screen(sam, ready=False)
    assert selectors.measure_due(user=sam, couple=pair) is None


def _view(pair, viewer, alex, sam):
    return selectors.measures_for(couple=pair, partners=[alex, sam], viewer=viewer)


def test_it_shows_a_partner_only_that_the_other_answered_until_shared(pair, alex, sam):
    services.measure_answer(user=sam, instrument="csi4", answers=CSI4_ANSWERS, token=form_token())
    seen_by_alex = _view(pair, alex, alex, sam).partners[1]
    assert seen_by_alex.answered == 1 and not seen_by_alex.visible and seen_by_alex.points == []
    services.measure_share(user=sam, what=SCORES, shared=True)
    seen_by_alex = _view(pair, alex, alex, sam).partners[1]
    assert seen_by_alex.visible and [p.csi4 for p in seen_by_alex.points] == [13]
    services.measure_share(user=sam, what=SCORES, shared=False)
    assert not _view(pair, alex, alex, sam).partners[1].visible
    assert _view(pair, sam, alex, sam).partners[1].points[0].csi4_below


def test_it_shows_a_linked_therapist_both_partners(pair, alex, sam, therapist):
    services.measure_answer(
        user=alex, instrument="csi16", answers=CSI16_ANSWERS, token=form_token()
    )
    services.measure_answer(user=sam, instrument="csi4", answers=CSI4_ANSWERS, token=form_token())
    view = _view(pair, therapist, alex, sam)
    assert [(p.visible, [pt.csi4 for pt in p.points]) for p in view.partners] == [
        (True, [13]),
        (True, [13]),
    ]
    assert view.partners[0].points[0].csi16 == 53 and view.partners[1].points[0].csi16 is None
    assert view.chart.line_at is not None and "13.5" in view.chart.line_label


def test_it_rejects_an_unknown_sharing(pair, alex):
    with pytest.raises(PracticeError):
        services.measure_share(user=alex, what="answers", shared=True)
    services.measure_share(user=alex, what=MIRRORS, shared=True)
    assert MeasureSharing.objects.get().mirrors_shared_at is not None


def test_it_exports_only_the_persons_own_answers(pair, alex, sam):
    services.measure_answer(user=alex, instrument="csi4", answers=CSI4_ANSWERS, token=form_token())
    services.measure_skip(user=sam, instrument="csi4", token=form_token())
    exported = couple_selectors.account_export(user=alex)["questionnaires"]
    assert [(e["questionnaire"], e["score"], e["answers"]) for e in exported] == [
        ("csi4", 13, {"q1": 3, "q5": 4, "q7": 3, "q10": 3})
    ]


def test_it_erases_the_answers_with_the_account(pair, alex, sam):
    services.measure_answer(user=alex, instrument="csi4", answers=CSI4_ANSWERS, token=form_token())
    services.measure_answer(user=sam, instrument="csi4", answers=CSI4_ANSWERS, token=form_token())
    services.measure_share(user=alex, what=SCORES, shared=True)
    services.practice_erase_by(user=alex)
    assert list(MeasureAnswer.objects.values_list("person", flat=True)) == [sam.pk]
    assert not MeasureSharing.objects.exists()
