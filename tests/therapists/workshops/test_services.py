"""Workshops' services: joining as a couple, starting a practice for the whole room once,
reconvening and resuming through the one door, late couples, nudges, export and deletion."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection

from dialogues.models import DialogueSession, Turn
from live import clock
from security.models import AuditEvent
from tests.factories import UserFactory, joined, make_couple, make_workshop, practise, screen
from tests.helpers import at_once, form_token
from therapists.workshops import selectors, services
from therapists.workshops.models import (
    Announcement,
    Attendance,
    Participant,
    Practice,
    SegmentRun,
    Workshop,
)
from therapists.workshops.services import WorkshopError

pytestmark = pytest.mark.django_db


def test_a_couple_joins_once_both_partners_accepted(workshop, pair, alex, sam):
    first = services.workshop_join(user=alex, code=workshop.code.lower().replace("-", " "))
    assert first.joined_at is None  # half a couple hasn't joined
    assert selectors.board(workshop=workshop)["cards"] == []
    second = services.workshop_join(user=sam, code=workshop.code)
    assert second.pk == first.pk and second.joined_at is not None
    assert [c.names for c in selectors.board(workshop=workshop)["cards"]] == [
        [("Alex", False), ("Sam", False)]
    ]
    assert AuditEvent.objects.filter(action="workshop.join").count() == 2


@pytest.mark.parametrize("code", ["", "WRONG-CODE", "ABCD-EFGH", "<b>x</b>", "AB\x00CD", "A" * 500])
def test_a_wrong_code_saves_nothing(workshop, pair, alex, code):
    with pytest.raises(WorkshopError) as raised:
        services.workshop_join(user=alex, code=code)
    assert raised.value.status == 422
    assert not Attendance.objects.exists()


def test_joining_twice_is_refused_and_saves_nothing(workshop, pair, alex):
    services.workshop_join(user=alex, code=workshop.code)
    with pytest.raises(WorkshopError) as raised:
        services.workshop_join(user=alex, code=workshop.code)
    assert raised.value.status == 409
    assert Participant.objects.count() == 1


def test_a_partner_without_a_partner_account_cant_join_as_half_a_couple(workshop, single):
    with pytest.raises(WorkshopError) as raised:
        services.workshop_join(user=single, code=workshop.code)
    assert raised.value.status == 409
    assert not Attendance.objects.exists()


def test_a_closed_workshop_cant_be_joined(workshop, pair, alex):
    services.workshop_end(workshop=workshop)
    with pytest.raises(WorkshopError) as raised:
        services.workshop_join(user=alex, code=workshop.code)
    assert raised.value.status == 409
    assert not Attendance.objects.exists()


def test_only_a_verified_therapist_presents(unverified_therapist):
    with pytest.raises(WorkshopError):
        services.workshop_create(
            presenter=unverified_therapist,
            title="x",
            starts_at=clock.now(),
            stream_url="",
            token=form_token(),
        )
    assert not Workshop.objects.exists()


def test_the_same_form_twice_makes_one_workshop_and_one_segment(therapist):
    token = form_token()
    first = services.workshop_create(
        presenter=therapist, title="x", starts_at=clock.now(), stream_url="", token=token
    )
    again = services.workshop_create(
        presenter=therapist, title="x", starts_at=clock.now(), stream_url="", token=token
    )
    assert first.pk == again.pk
    seg = form_token()
    for _i in range(2):
        services.segment_add(
            workshop=first, kind="teach", text="", dialogue_kind="", minutes=None, token=seg
        )
    assert first.segments.count() == 1


def test_starting_a_practice_starts_one_dialogue_per_present_couple(
    workshop, pair, alex, sam, outsider
):
    ours = joined(workshop, alex, sam)
    olly_couple = outsider.memberships.get().couple
    pat = next(m.user for m in olly_couple.memberships.all() if m.user_id != outsider.pk)
    joined(workshop, outsider, pat, present=False)  # joined, but not in the room
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id, rule="sent_less"
    )
    assert run is not None and run.done_at is None
    run = services.practice_run(run_id=run.pk)
    assert (run.started, run.skipped) == (1, 0)
    practice = Practice.objects.get()
    session = practice.session
    assert practice.attendance == ours and session.couple == pair
    assert session.kind == "intentional" and session.is_live
    assert session.partner_a in (alex, sam)  # the sender, by the rule
    first_turn = session.turns.get()
    assert (first_turn.actor, first_turn.actor_role) == (None, "system")
    # The job run again (a retry, or after the presenter's request started it) does nothing.
    again = services.practice_run(run_id=run.pk)
    assert (again.started, again.done_at) == (1, run.done_at)
    assert DialogueSession.objects.count() == 1 and Turn.objects.count() == 1


# The start's cost: a few statements for the whole room, and per couple only the one door's
# own (its savepoint and release, the session, its first turn, its progress, its your-move
# reminder), never a read. ROOM: the run locked, the couples present, their partners, their
# safety answers, practices made already, earlier ones still open, other dialogues open, who
# sent how often, the practices in one insert, the run saved; plus this test's savepoint
# and its release (the job's own transaction, inside the test's).
ROOM, PER_COUPLE = 12, 6


@pytest.mark.parametrize("couples", [1, 4])
def test_the_start_costs_a_fixed_count_of_statements_plus_the_doors_own_per_couple(
    workshop, couples, django_assert_num_queries
):
    for _i in range(couples):
        _c, a, b = make_couple()
        screen(a)
        screen(b)
        joined(workshop, a, b)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    with django_assert_num_queries(ROOM + PER_COUPLE * couples):
        run = services.practice_run(run_id=run.pk)
    assert run.started == couples == Practice.objects.count()


def test_the_presenters_click_starts_every_practice_at_once_and_the_job_finds_it_done(
    workshop, pair, alex, sam, django_capture_on_commit_callbacks
):
    joined(workshop, alex, sam)
    with django_capture_on_commit_callbacks(execute=True):
        _segment, run = services.segment_start(
            workshop=workshop, segment_public_id=practise(workshop).public_id, run_now=True
        )
    assert run is not None and run.done_at is not None and run.started == 1
    assert Practice.objects.get().session.is_live
    assert services.practice_run(run_id=run.pk).started == 1  # the queued job: nothing more
    assert DialogueSession.objects.count() == 1


def test_the_sender_is_the_partner_who_sent_less(workshop, pair, alex, sam, dialogue):
    # Alex started (and sent first in) a dialogue already: Sam sends first in the practice.
    from dialogues import services as dialogue_services

    dialogue_services.session_end(session_public_id=dialogue.public_id, user=alex)
    joined(workshop, alex, sam)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id, rule="sent_less"
    )
    services.practice_run(run_id=run.pk)
    assert Practice.objects.get().session.partner_a == sam


def test_a_couple_with_a_dialogue_open_at_home_is_skipped_not_broken(
    workshop, pair, alex, sam, dialogue
):
    joined(workshop, alex, sam)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    run = services.practice_run(run_id=run.pk)
    assert (run.started, run.skipped) == (0, 1)
    dialogue.refresh_from_db()
    assert dialogue.is_live  # theirs, untouched


def test_a_couple_not_ready_for_dialogue_gets_no_practice(workshop, therapist):
    _c, a, b = make_couple(UserFactory(display_name="Ann"), UserFactory(display_name="Ben"))
    screen(a)  # Ben hasn't answered the safety questions
    joined(workshop, a, b)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    run = services.practice_run(run_id=run.pk)
    assert (run.started, run.skipped) == (0, 1)
    assert not Practice.objects.exists()


def test_a_segment_started_while_a_practice_runs_is_refused(workshop, pair, alex, sam):
    joined(workshop, alex, sam)
    services.segment_start(workshop=workshop, segment_public_id=practise(workshop).public_id)
    other = workshop.segments.get(position=3)
    with pytest.raises(WorkshopError) as raised:
        services.segment_start(workshop=workshop, segment_public_id=other.public_id)
    assert raised.value.status == 409
    workshop.refresh_from_db()
    assert workshop.current_id == practise(workshop).pk
    assert SegmentRun.objects.count() == 1


def test_a_double_click_on_start_starts_one_segment(workshop, pair, alex, sam):
    segment = practise(workshop)
    _s, first = services.segment_start(workshop=workshop, segment_public_id=segment.public_id)
    _s, again = services.segment_start(workshop=workshop, segment_public_id=segment.public_id)
    assert first is not None and again is not None and first.pk == again.pk
    assert SegmentRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_starts_start_one_segment(therapist, pair, alex, sam):
    if connection.vendor == "sqlite":
        pytest.skip("concurrent writers need PostgreSQL (SQLite locks the whole file)")
    workshop = make_workshop(therapist)
    joined(workshop, alex, sam)
    segment = practise(workshop)
    results = at_once(
        *[
            (
                lambda: services.segment_start(
                    workshop=workshop, segment_public_id=segment.public_id, run_now=True
                )
            )
            for _i in range(10)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert SegmentRun.objects.count() == 1
    assert DialogueSession.objects.count() == Practice.objects.count() == 1
    from django_tasks_db.models import DBTaskResult

    jobs = DBTaskResult.objects.filter(task_path__endswith="workshop_job")
    # One practice job and one for the participants' pushes, however many clicks.
    assert sorted(job.args_kwargs["args"][0] for job in jobs) == ["notify", "practice"]


def test_a_start_queues_one_job_for_the_room(
    workshop, pair, alex, sam, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    joined(workshop, alex, sam)
    with django_capture_on_commit_callbacks(execute=True):
        services.segment_start(workshop=workshop, segment_public_id=practise(workshop).public_id)
    jobs = DBTaskResult.objects.filter(task_path__endswith="workshop_job")
    # One for the practice, one for the participants' pushes: never one per couple.
    assert sorted(job.args_kwargs["args"][0] for job in jobs) == ["notify", "practice"]


def test_a_segment_start_pushes_each_joined_partner_who_chose_it_once(
    workshop, pair, alex, sam, client_as, service
):
    from couples import push
    from couples.models import PushMessage
    from tests.push_service import run_push_jobs, subscribe

    subscribe(client_as(alex), service.browser())  # Sam has no device: no push for Sam
    joined(workshop, alex, sam)
    segment, _run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    assert services.segment_notify(workshop_id=workshop.pk, segment_id=segment.pk) == 1
    assert services.segment_notify(workshop_id=workshop.pk, segment_id=segment.pk) == 0  # again
    message = PushMessage.objects.get()
    assert (message.person, message.kind) == (alex, push.SEGMENT)
    assert message.path == f"/workshops/{workshop.public_id}/"
    run_push_jobs()
    [received] = service.received
    assert received.data["title"] == "A workshop segment starts"
    assert workshop.title not in json.dumps(received.data)  # the event and a link, nothing more


def test_a_late_couple_joins_the_practice_in_progress(workshop, pair, alex, sam, outsider):
    joined(workshop, alex, sam)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    services.practice_run(run_id=run.pk)
    olly_couple = outsider.memberships.get().couple
    pat = next(m.user for m in olly_couple.memberships.all() if m.user_id != outsider.pk)
    joined(workshop, outsider, pat)  # arrives late
    assert Practice.objects.count() == 2
    assert Practice.objects.filter(attendance__couple=olly_couple).exists()


def test_reconvene_pauses_every_practice_and_resume_resumes_it(workshop, pair, alex, sam):
    joined(workshop, alex, sam)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    services.practice_run(run_id=run.pk)
    session = Practice.objects.get().session
    services.workshop_reconvene(workshop=workshop)
    assert services.practices_pause(workshop_id=workshop.pk) == 1
    session.refresh_from_db()
    assert session.is_paused
    pause = session.turns.order_by("-seq").first()
    assert (pause.move, pause.actor_role, pause.data) == ("pause", "system", {"workshop": True})
    assert services.practices_pause(workshop_id=workshop.pk) == 0  # run twice: nothing more
    room = selectors.room(workshop=Workshop.objects.get(pk=workshop.pk))
    assert room["workshop"].reconvened
    services.workshop_resume(workshop=workshop)
    assert services.practices_resume(workshop_id=workshop.pk) == 1
    session.refresh_from_db()
    assert session.status == DialogueSession.Status.ACTIVE
    assert Turn.objects.filter(session=session, move="resume").count() == 1


def test_nudges_are_said_once_per_segment_and_messages_once_per_form(workshop, pair):
    with pytest.raises(WorkshopError):
        services.workshop_announce(workshop=workshop, kind="time", text="", token=None)
    services.segment_start(workshop=workshop, segment_public_id=practise(workshop).public_id)
    for _i in range(3):
        services.workshop_announce(workshop=workshop, kind="two_minutes", text="", token=None)
    token = form_token()
    for _i in range(2):
        services.workshop_announce(workshop=workshop, kind="message", text="Breathe", token=token)
    assert sorted(Announcement.objects.values_list("kind", flat=True)) == [
        "message",
        "two_minutes",
    ]
    workshop.refresh_from_db()
    assert workshop.current_until is not None
    assert workshop.current_until <= clock.now() + timedelta(minutes=2)


@pytest.mark.parametrize("kind,text", [("message", ""), ("shout", "x"), ("", "x")])
def test_an_empty_or_unknown_announcement_saves_nothing(workshop, kind, text):
    with pytest.raises(WorkshopError):
        services.workshop_announce(workshop=workshop, kind=kind, text=text, token=form_token())
    assert not Announcement.objects.exists()


def test_help_reaches_the_board_first(workshop, pair, alex, sam, outsider):
    joined(workshop, alex, sam)
    olly_couple = outsider.memberships.get().couple
    pat = next(m.user for m in olly_couple.memberships.all() if m.user_id != outsider.pk)
    theirs = joined(workshop, outsider, pat)
    services.help_ask(user=pat, workshop_public_id=workshop.public_id)
    services.help_ask(user=outsider, workshop_public_id=workshop.public_id)  # twice: once
    cards = selectors.board(workshop=workshop)["cards"]
    assert cards[0].attendance_id == theirs.pk and cards[0].help
    assert selectors.summary(workshop=workshop)["asking"] == 1
    services.help_answered(workshop=workshop, attendance_public_id=theirs.public_id)
    assert not selectors.board(workshop=workshop)["cards"][0].help


def test_reading_needs_both_partners_and_is_revocable_and_audited(
    workshop, therapist, pair, alex, sam
):
    joined(workshop, alex, sam)
    assert not selectors.presenter_may_read(therapist=therapist, couple_id=pair.pk)
    services.reading_set(user=alex, workshop_public_id=workshop.public_id, allow=True)
    assert not selectors.presenter_may_read(therapist=therapist, couple_id=pair.pk)
    services.reading_set(user=sam, workshop_public_id=workshop.public_id, allow=True)
    assert selectors.presenter_may_read(therapist=therapist, couple_id=pair.pk)
    services.reading_set(user=sam, workshop_public_id=workshop.public_id, allow=False)
    assert not selectors.presenter_may_read(therapist=therapist, couple_id=pair.pk)
    actions = list(
        AuditEvent.objects.filter(action__startswith="workshop.reading").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == [
        "workshop.reading_allowed",
        "workshop.reading_allowed",
        "workshop.reading_withdrawn",
    ]


def test_after_the_workshop_the_couple_keeps_its_dialogue_and_both_exports_say_so(
    workshop, therapist, pair, alex, sam
):
    joined(workshop, alex, sam)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    services.practice_run(run_id=run.pk)
    session = Practice.objects.get().session
    services.workshop_end(workshop=workshop)
    assert DialogueSession.objects.filter(pk=session.pk, couple=pair).exists()
    theirs = services.workshops_export(user=alex)
    assert theirs["workshops_attended"][0]["practice_dialogues"] == [session.public_id]
    presenter = services.workshops_export(user=therapist)["workshops_presented"][0]
    assert presenter["couples_joined"] == 1
    assert presenter["practice_steps"] == {"2": {session.step: 1}}
    assert "Sunday" not in str(presenter)  # no couple's text, ever


def test_a_deleted_partners_places_go_and_the_dialogue_stays_theirs(workshop, pair, alex, sam):
    joined(workshop, alex, sam)
    services.workshops_forget(user=alex)
    assert not Attendance.objects.exists()


def test_a_couple_ready_only_after_the_start_gets_its_practice_when_back_on_the_page(workshop):
    _c, a, b = make_couple(UserFactory(display_name="Ann"), UserFactory(display_name="Ben"))
    screen(a)
    joined(workshop, a, b)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    assert services.practice_run(run_id=run.pk).started == 0
    screen(b)  # Ben answers the safety questions meanwhile
    services.presence_set(user=b, workshop_public_id=workshop.public_id, present=True)
    assert Practice.objects.filter(attendance__couple=_c).exists()


def test_the_next_practice_ends_the_last_one_still_open_and_starts_for_everyone(
    workshop, pair, alex, sam
):
    joined(workshop, alex, sam)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    services.practice_run(run_id=run.pk)
    first = Practice.objects.get().session
    services.workshop_reconvene(workshop=workshop)
    services.practices_pause(workshop_id=workshop.pk)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=workshop.segments.get(position=3).public_id
    )
    assert services.practice_run(run_id=run.pk).started == 1
    first.refresh_from_db()
    assert first.status == DialogueSession.Status.ENDED  # theirs to read, not to lose
    end = first.turns.order_by("-seq").first()
    assert (end.move, end.actor_role, end.data) == ("end", "system", {"workshop": True})
    assert Practice.objects.count() == 2


def test_a_segment_starting_is_told_once_after_commit_with_ids_only(
    workshop, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, *, workshop, segment, **kwargs):
        heard.append((workshop.pk, segment.kind))

    services.segment_started.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.segment_start(
                workshop=workshop, segment_public_id=practise(workshop).public_id
            )
            assert heard == []  # not before the commit
        with django_capture_on_commit_callbacks(execute=True):
            services.segment_start(  # a double-click: nothing new to tell
                workshop=workshop, segment_public_id=practise(workshop).public_id
            )
    finally:
        services.segment_started.disconnect(listener)
    assert heard == [(workshop.pk, "practise")]
