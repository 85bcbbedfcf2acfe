"""The presenter's board reads the same few queries however many couples are in the room."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory, joined, make_couple, make_workshop, practise, screen
from therapists.workshops import selectors, services

pytestmark = pytest.mark.django_db


def couples(workshop, n: int) -> None:
    for _i in range(n):
        _c, a, b = make_couple(UserFactory(), UserFactory())
        screen(a)
        screen(b)
        joined(workshop, a, b)


def test_the_board_costs_the_same_queries_for_two_couples_or_seven(therapist):
    workshop = make_workshop(therapist)
    couples(workshop, 2)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    services.practice_run(run_id=run.pk)
    workshop.refresh_from_db()
    with CaptureQueriesContext(connection) as small:
        assert len(selectors.board(workshop=workshop)["cards"]) == 2
    couples(workshop, 5)  # late: each joins the practice in progress
    workshop.refresh_from_db()
    with CaptureQueriesContext(connection) as large:
        board = selectors.board(workshop=workshop)
    assert len(board["cards"]) == 7 and all(c.step for c in board["cards"])
    assert len(large.captured_queries) == len(small.captured_queries) == 8


def test_one_card_is_read_in_a_fixed_number_of_queries(therapist, django_assert_num_queries):
    workshop = make_workshop(therapist)
    couples(workshop, 3)
    attendance = workshop.attendances.first()
    with django_assert_num_queries(3):  # the couple, its partners, the workshop (no segment)
        card = selectors.card(workshop=workshop, attendance_id=attendance.pk)
    assert card is not None and card.names


def test_a_partners_room_is_drawn_in_five_queries_its_practice_among_its_practices(
    practising, workshop, alex, django_assert_num_queries
):
    # Every partner's page draws it again when a practice starts: 120 at once for 60 couples.
    with django_assert_num_queries(5):  # their place, messages, plan, partners, practices
        found = selectors.participant_in(user=alex, workshop_public_id=workshop.public_id)
        assert found is not None
        html = selectors.render_room(workshop=found[0], participant=found[1])
    assert f"/dialogues/{practising.public_id}/" in html
