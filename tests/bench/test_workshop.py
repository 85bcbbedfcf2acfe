"""The workshop benchmark's seeding and steps (bench/workshop.py), at a small N against the
test database: every couple joined and checked in, a step through the one door, and nothing
left behind. The run itself needs a server and a worker (docs/performance.md)."""

import pytest

from bench import workshop as bench
from couples.models import User
from dialogues.models import DialogueSession, Turn
from therapists.workshops import services as workshop_services
from therapists.workshops.models import Attendance, Practice, Workshop

pytestmark = pytest.mark.django_db


def test_the_seed_joins_and_checks_in_every_couple_and_goes_without_a_trace():
    seeded = bench.seed(3, run_id="t1")
    workshop = seeded["workshop"]
    assert Attendance.objects.filter(workshop=workshop, joined_at__isnull=False).count() == 3
    assert seeded["presenter"].is_verified_therapist
    assert seeded["presenter"].authenticator_set.exists()  # the board needs a second factor
    _segment, run = workshop_services.segment_start(
        workshop=workshop, segment_public_id=seeded["segment"].public_id
    )
    assert workshop_services.practice_run(run_id=run.pk).started == 3
    practice = Practice.objects.values("attendance_id", "session_id").first()
    practice = {"attendance": practice["attendance_id"], "session_id": practice["session_id"]}
    for k in range(3):
        assert bench.step(practice, k) > 0
    moves = Turn.objects.filter(session_id=practice["session_id"], kind="move")
    assert list(moves.values_list("move", flat=True)) == ["send", "mirror", "not_quite"]
    bench.delete_seed("t1")
    assert not User.objects.filter(email__startswith="bench-t1-").exists()
    assert not Workshop.objects.exists() and not DialogueSession.objects.exists()


def test_the_start_alone_is_timed_with_its_statements_and_leaves_nothing():
    from bench import workshop_start

    result = workshop_start.main(["--n", "2"])
    # The job's own transaction is a savepoint inside the test's: 2 more than when served.
    assert (result["started"], result["statements"]) == (2, 12 + 6 * 2)
    assert not Workshop.objects.exists() and not DialogueSession.objects.exists()
