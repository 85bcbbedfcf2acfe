"""Facilitator services: coaching with an audience, rewind, pause/resume/end (a facilitator's
time-out is the partners' calm time-out), access checks."""

import pytest

from dialogues import protocol, selectors, services
from dialogues.models import DialogueSession, Turn
from dialogues.services import DialogueError, DialogueNotFound
from tests.factories import link_with_consent
from tests.helpers import at_mirror, form_token
from tests.therapists.conftest import NOT_ALLOWED
from therapists import services as therapist_services

pytestmark = pytest.mark.django_db


def test_public_coaching_is_a_facilitator_turn_everyone_sees(live, therapist, alex, sam):
    turn = therapist_services.coaching_send(
        session_public_id=live.public_id,
        therapist=therapist,
        text="Slow down, take a breath.",
        token=form_token(),
    )
    assert (turn.kind, turn.actor_role, turn.visible_to, turn.seq) == (
        "coaching",
        "facilitator",
        None,
        3,
    )
    live.refresh_from_db()  # turns are read up to the session's seq as read
    for person in (alex, sam, therapist):
        assert turn.pk in [t.pk for t in selectors.turns_of(session=live, viewer=person)]


def test_private_coaching_is_seen_only_by_its_partner_and_the_therapist(live, therapist, alex, sam):
    turn = therapist_services.coaching_send(
        session_public_id=live.public_id,
        therapist=therapist,
        text="Alex, try an I-statement.",
        to="a",
        token=form_token(),
    )
    assert turn.visible_to == alex
    live.refresh_from_db()
    assert turn in selectors.turns_of(session=live, viewer=alex)
    assert turn in selectors.turns_of(session=live, viewer=therapist)
    assert turn not in selectors.turns_of(session=live, viewer=sam)
    view = selectors.turn_view(turn, viewer=alex)
    assert view.is_private and view.private_for == "you"
    assert selectors.turn_view(turn, viewer=therapist).private_for == "Alex"


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "write a short message"),
        ("   ", "write a short message"),
        ("x" * 2001, "under 2000"),
    ],
)
def test_empty_or_too_long_coaching_changes_nothing(live, therapist, text, message):
    with pytest.raises(DialogueError, match=message):
        therapist_services.coaching_send(
            session_public_id=live.public_id, therapist=therapist, text=text, token=form_token()
        )
    live.refresh_from_db()
    assert live.seq == 2


def test_coaching_to_an_unknown_audience_is_refused(live, therapist):
    with pytest.raises(DialogueError, match="who the message is for"):
        therapist_services.coaching_send(
            session_public_id=live.public_id,
            therapist=therapist,
            text="Hi",
            to="c",
            token=form_token(),
        )


def test_rewind_goes_only_to_the_protocols_targets_and_is_recorded(live, therapist, alex, sam):
    session = at_mirror(live, alex, sam)
    assert session.step == "check"
    targets = protocol.rewind_targets(session.protocol_state)
    assert targets == ("send", "mirror")
    for bad in ("check", "ask_more", "closing", "appointment", "nonsense", ""):
        with pytest.raises(DialogueError):
            therapist_services.session_rewind(
                session_public_id=session.public_id, therapist=therapist, step=bad
            )
    session.refresh_from_db()
    assert (session.step, session.seq) == ("check", 4)
    therapist_services.session_rewind(
        session_public_id=session.public_id, therapist=therapist, step="mirror"
    )
    session.refresh_from_db()
    assert session.step == "mirror" and session.step_seq == session.seq == 5
    turn = session.turns.get(seq=5)
    assert (turn.kind, turn.move, turn.actor_role, turn.data) == (
        "event",
        "rewind",
        "facilitator",
        {"from": "check", "to": "mirror"},
    )
    view = selectors.turn_view(turn, viewer=sam)
    assert view.phrase == "sent the dialogue back to Mirroring"
    assert view.actor_name == "Dr. Rivera (therapist)"
    # Sam mirrors again, from the new step.
    services.move_submit(
        session_public_id=session.public_id,
        user=sam,
        move="mirror",
        payload={"text": "Again: you feel lonely."},
        at=5,
        token=form_token(),
    )


def test_pause_resume_and_end_by_the_facilitator(live, therapist):
    session = therapist_services.session_pause_by_facilitator(
        session_public_id=live.public_id, therapist=therapist
    )
    assert session.status == "paused" and session.paused_by == therapist
    with pytest.raises(DialogueError, match="paused"):
        services.move_submit(
            session_public_id=live.public_id,
            user=live.partner_a,
            move="send",
            payload={"text": "hi"},
            at=2,
            token=form_token(),
        )
    session = therapist_services.session_resume_by_facilitator(
        session_public_id=live.public_id, therapist=therapist
    )
    assert session.status == "active"
    session = therapist_services.session_end_by_facilitator(
        session_public_id=live.public_id, therapist=therapist
    )
    assert session.status == "ended"
    moves = list(session.turns.filter(actor_role="facilitator").values_list("move", flat=True))
    assert moves == ["pause", "resume", "end"]
    with pytest.raises(DialogueError, match="ended"):
        therapist_services.coaching_send(
            session_public_id=live.public_id,
            therapist=therapist,
            text="Too late",
            token=form_token(),
        )


def test_nobody_can_resume_for_both_without_a_consented_link(
    paused, alex, sam, therapist, staff, outsider
):
    link_with_consent(therapist, alex)  # only Alex consented: not enough
    for person in [alex, sam, therapist, staff, outsider]:
        with pytest.raises(DialogueNotFound):
            therapist_services.session_resume_by_facilitator(
                session_public_id=paused.public_id, therapist=person
            )
        assert not selectors.may_facilitate(therapist=person, couple_id=paused.couple_id)
    paused.refresh_from_db()
    assert paused.status == "paused"


def test_a_facilitator_resumes_at_once(paused, link, alex, therapist):
    assert selectors.may_facilitate(therapist=therapist, couple_id=paused.couple_id)
    services.session_resume(session_public_id=paused.public_id, user=alex)  # one is ready
    therapist_services.session_resume_by_facilitator(
        session_public_id=paused.public_id, therapist=therapist
    )
    paused.refresh_from_db()
    assert paused.status == "active" and paused.ready_to_resume == []
    assert paused.paused_at is None
    last = Turn.objects.order_by("-seq").first()
    assert (last.move, last.actor, last.actor_role) == ("resume", therapist, "facilitator")
    # Not paused: nothing to do, nothing saved.
    therapist_services.session_resume_by_facilitator(
        session_public_id=paused.public_id, therapist=therapist
    )
    assert Turn.objects.count() == paused.seq


def test_a_facilitator_cannot_change_an_ended_dialogue(paused, link, alex, therapist):
    services.session_end(session_public_id=paused.public_id, user=alex)
    with pytest.raises(DialogueError, match="ended"):
        therapist_services.session_resume_by_facilitator(
            session_public_id=paused.public_id, therapist=therapist
        )


def test_a_facilitators_time_out_is_the_same_calm_time_out(dialogue, link, alex, sam, therapist):
    started = dialogue
    services.move_submit(
        session_public_id=started.public_id, user=sam, move="accept_now", token=form_token()
    )
    therapist_services.session_pause_by_facilitator(
        session_public_id=started.public_id, therapist=therapist
    )
    started.refresh_from_db()
    assert started.status == "paused" and started.paused_at is not None
    assert started.paused_by == therapist and started.ready_to_resume == []
    # The partners then go on as after their own time-out: both say they're ready.
    for person in (alex, sam):
        services.session_resume(session_public_id=started.public_id, user=person)
    started.refresh_from_db()
    assert started.status == "active"


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_no_one_else_can_facilitate(live, roles, who):
    person = roles[who]
    calls = [
        lambda: therapist_services.coaching_send(
            session_public_id=live.public_id, therapist=person, text="Hello", token=form_token()
        ),
        lambda: therapist_services.session_rewind(
            session_public_id=live.public_id, therapist=person, step="send"
        ),
        lambda: therapist_services.session_pause_by_facilitator(
            session_public_id=live.public_id, therapist=person
        ),
        lambda: therapist_services.session_resume_by_facilitator(
            session_public_id=live.public_id, therapist=person
        ),
        lambda: therapist_services.session_end_by_facilitator(
            session_public_id=live.public_id, therapist=person
        ),
    ]
    for call in calls:
        with pytest.raises(DialogueNotFound):
            call()
    live.refresh_from_db()
    assert live.seq == 2 and live.status == DialogueSession.Status.ACTIVE
    assert not Turn.objects.filter(actor_role="facilitator").exists()


def test_the_facilitator_selector_and_the_partner_selector_do_not_mix(live, roles):
    assert selectors.dialogue_for_facilitator(public_id=live.public_id, user=roles["linked"])
    assert selectors.dialogue_for(public_id=live.public_id, user=roles["linked"]) is None
    for who in NOT_ALLOWED:
        assert selectors.dialogue_for_facilitator(public_id=live.public_id, user=roles[who]) is None


def test_coaching_notes_and_homework_are_never_logged(live, therapist, alex, sam):
    """Captured with a handler of our own (works with or without pytest's logging plugin)."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = records.append
    root = logging.getLogger("imago")  # our loggers don't propagate to the root
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        therapist_services.coaching_send(
            session_public_id=live.public_id,
            therapist=therapist,
            text="secret-coaching-words",
            to="a",
            token=form_token(),
        )
        therapist_services.note_add(
            therapist=therapist, couple=live.couple, text="secret-note-words", token=form_token()
        )
        therapist_services.homework_assign(
            therapist=therapist,
            couple=live.couple,
            title="secret-homework-title",
            instructions="secret-instructions",
            token=form_token(),
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert records  # something was logged: ids only
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    assert "secret" not in logged


def test_a_said_aloud_dialogue_is_coached_paused_and_rewound_the_same(
    live, therapist, alex, sam, client_as
):
    from django.urls import reverse

    from couples import services as couple_services
    from tests.helpers import play, text_of

    services.session_aloud(session_public_id=live.public_id, user=sam, aloud=True)
    couple_services.device_sharing_allow(user=sam)
    services.session_together(session_public_id=live.public_id, user=alex, on=True)
    play(live, [(alex, "send", {}), (sam, "mirror", {})])
    page = client_as(therapist).get(reverse("therapists:console", args=[live.public_id]))
    console = text_of(page)
    assert "Sam mirrored, aloud" in console and "Alex shared, aloud" in console
    assert "Said aloud, together on Alex's device" in console
    therapist_services.coaching_send(
        session_public_id=live.public_id, therapist=therapist, text="Breathe.", token=form_token()
    )
    therapist_services.session_pause_by_facilitator(
        session_public_id=live.public_id, therapist=therapist
    )
    therapist_services.session_resume_by_facilitator(
        session_public_id=live.public_id, therapist=therapist
    )
    therapist_services.session_rewind(
        session_public_id=live.public_id, therapist=therapist, step="mirror"
    )
    live.refresh_from_db()
    assert live.step == "mirror" and live.protocol_state.aloud  # still said aloud
    play(live, [(sam, "mirror", {})])
    assert live.step == "check"
