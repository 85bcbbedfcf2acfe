"""The private safety questions, the start gate, support lines, the check-in and the calm
time-out: services and selectors."""

import itertools

import pytest
from django.utils import timezone

import live
from couples.models import Couple, Membership
from dialogues import selectors, services
from dialogues.models import DialogueSession, Turn
from dialogues.services import NotReadyToStart
from safety import selectors as safety
from safety import services as safety_services
from safety.models import SafetyScreening, SupportResource
from safety.selectors import SafetyError
from security.models import AuditEvent
from tests.factories import UserFactory, make_couple, put_in_state, screen
from tests.helpers import form_token

CONCERNS = [(q.key, c.value) for q in safety.QUESTIONS for c in q.choices if c.concern]
CALM = [(q.key, c.value) for q in safety.QUESTIONS for c in q.choices if not c.concern]

STATES = ["not_started", "calm_not_ready", "concern_not_ready", "concern_ready", "ready"]
GOES_ON = {"concern_ready", "ready"}


# --- answers -------------------------------------------------------------------------------


def test_every_question_may_be_skipped(unscreened):
    alex, _ = unscreened
    screening = safety_services.screening_save(user=alex, answers={})
    assert screening.completed_at is not None and screening.answers == {}
    assert not screening.needs_attention and not screening.ready


def test_unknown_questions_are_dropped(unscreened):
    alex, _ = unscreened
    screening = safety_services.screening_save(
        user=alex, answers={"afraid": "no", "shoe_size": "42"}
    )
    assert screening.answers == {"afraid": "no"}


@pytest.mark.parametrize("value", ["maybe", "YES", 1, ["no"], "<b>no</b>"])
def test_an_answer_that_was_not_offered_changes_nothing(unscreened, value):
    alex, _ = unscreened
    with pytest.raises(SafetyError, match="choose one of the answers"):
        safety_services.screening_save(user=alex, answers={"afraid": value})
    assert not SafetyScreening.objects.exists()


@pytest.mark.parametrize(("key", "value"), CONCERNS)
def test_each_concerning_answer_needs_attention(unscreened, key, value):
    alex, _ = unscreened
    assert safety_services.screening_save(user=alex, answers={key: value}).needs_attention


@pytest.mark.parametrize(("key", "value"), CALM)
def test_calm_answers_do_not_need_attention(unscreened, key, value):
    alex, _ = unscreened
    assert not safety_services.screening_save(user=alex, answers={key: value}).needs_attention


def test_going_on_is_the_persons_own_decision(unscreened):
    alex, sam = unscreened
    with pytest.raises(SafetyError, match="answer the questions first"):
        safety_services.screening_set_ready(user=alex, ready=True)
    safety_services.screening_save(user=alex, answers={"crisis": "yes"})
    assert safety.screening_state(user=alex) == "not_ready"
    safety_services.screening_set_ready(user=alex, ready=True)
    assert safety.screening_state(user=alex) == "ready"
    assert safety.screening_state(user=sam) == "not_started"
    safety_services.screening_set_ready(user=alex, ready=False)
    assert safety.screening_state(user=alex) == "not_ready"


def test_retaking_replaces_the_answers_and_asks_again_whether_to_go_on(unscreened):
    alex, _ = unscreened
    screen(alex, concern=True)
    safety_services.screening_set_shared(user=alex, shared=True)
    retaken = safety_services.screening_save(user=alex, answers={"afraid": "no"})
    assert SafetyScreening.objects.count() == 1
    assert retaken.answers == {"afraid": "no"} and not retaken.needs_attention
    assert not retaken.ready and retaken.shared_with_therapist  # sharing stays their choice


def test_answers_about_an_earlier_partner_do_not_count(unscreened):
    alex, _ = unscreened
    screen(alex)
    Membership.objects.filter(user=alex).update(is_active=False)
    Couple.objects.update(is_active=False)
    make_couple(alex, UserFactory(display_name="Kim"))
    assert safety.screening_state(user=alex) == "not_started"
    assert safety.screening_status_for_therapist(user=alex) == "not_started"


@pytest.mark.parametrize("who", ["therapist", "staff", "single"])
def test_only_partners_in_a_couple_answer(user_in_role, who):
    person = user_in_role(who)
    with pytest.raises(SafetyError):
        safety_services.screening_save(user=person, answers={"afraid": "no"})
    assert not SafetyScreening.objects.filter(user=person).exists()


def test_answers_are_never_logged_or_audited(unscreened, caplog):
    alex, _ = unscreened
    caplog.set_level("DEBUG")
    safety_services.screening_save(user=alex, answers={"afraid": "often", "addiction": "yes"})
    safety_services.screening_set_ready(user=alex, ready=True)
    safety_services.screening_set_shared(user=alex, shared=True)
    for word in ("often", "afraid", "addiction", "attention"):
        assert word not in caplog.text
    assert not AuditEvent.objects.exists()
    assert "often" not in str(SafetyScreening.objects.get())


def test_the_couple_hears_only_when_readiness_changes(
    unscreened, monkeypatch, django_capture_on_commit_callbacks
):
    alex, _ = unscreened
    sent = []
    monkeypatch.setattr(live, "send", lambda g, m: sent.append((g, m)))
    couple = Couple.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        safety_services.screening_save(
            user=alex, answers={"afraid": "often"}
        )  # not ready before/after
    # The partners' pages hear nothing; the couple's therapists hear that attention changed.
    assert sent == [(f"couple-therapists.{couple.pk}", {"type": "couple.changed"})]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        safety_services.screening_save(user=alex, answers={"afraid": "often", "hurt": "no"})
    assert sent == []  # still needs attention, still not ready: nobody is told anything
    with django_capture_on_commit_callbacks(execute=True):
        safety_services.screening_set_ready(user=alex, ready=True)
        safety_services.screening_set_ready(user=alex, ready=True)  # no change: no message
    assert sent == [(f"couple.{couple.pk}", {"type": "couple.changed"})]


# --- what a therapist may know ----------------------------------------------------------------


def test_a_therapist_sees_whether_attention_is_needed_not_the_answers(unscreened):
    alex, sam = unscreened
    assert safety.screening_status_for_therapist(user=alex) == "not_started"
    screen(alex, concern=True)
    screen(sam)
    assert safety.screening_status_for_therapist(user=alex) == "needs_attention"
    assert safety.screening_status_for_therapist(user=sam) == "ok"
    assert safety.shared_answers_for_therapist(user=alex) is None


def test_shared_answers_only_while_the_person_shares_them(unscreened):
    alex, _ = unscreened
    safety_services.screening_save(user=alex, answers={"afraid": "often"})
    safety_services.screening_set_shared(user=alex, shared=True)
    answers = safety.shared_answers_for_therapist(user=alex)
    assert answers[0].question.startswith("Do you ever feel afraid")
    assert answers[0].answer == "Often"
    assert {a.answer for a in answers[1:]} == {"Skipped"}
    safety_services.screening_set_shared(user=alex, shared=False)
    assert safety.shared_answers_for_therapist(user=alex) is None


def test_sharing_needs_answers_first(unscreened):
    alex, _ = unscreened
    with pytest.raises(SafetyError):
        safety_services.screening_set_shared(user=alex, shared=True)


# --- the start gate ------------------------------------------------------------------------------


def test_the_gate_tells_about_the_partner_only_whether_they_are_ready(unscreened):
    alex, sam = unscreened
    couple = Couple.objects.get()
    gates = []
    for step in ("not answered", "concern", "calm, not ready"):
        if step == "concern":
            screen(sam, concern=True, ready=False)
        elif step == "calm, not ready":
            screen(sam, ready=False)
        gates.append(safety.start_gate(user=alex, couple=couple, partner=sam))
    assert len(set(gates)) == 1  # the same, whatever the reason
    assert gates[0].partner_message == "Your partner isn't ready to start yet."
    assert not hasattr(gates[0], "partner_state")


@pytest.mark.parametrize(("mine", "theirs"), list(itertools.product(STATES, STATES)))
def test_a_dialogue_starts_only_when_both_have_answered_and_are_ready(unscreened, mine, theirs):
    alex, sam = unscreened
    put_in_state(alex, mine)
    put_in_state(sam, theirs)
    if mine in GOES_ON and theirs in GOES_ON:
        services.dialogue_start(user=alex, kind="intentional", topic="Money")
        assert DialogueSession.objects.count() == 1
        return
    with pytest.raises(NotReadyToStart) as refused:
        services.dialogue_start(user=alex, kind="intentional", topic="Money")
    assert not DialogueSession.objects.exists()
    if mine in GOES_ON:
        # About the partner: the same words, whatever the reason.
        assert not refused.value.mine
        assert refused.value.message == "Your partner isn't ready to start yet."
    else:
        assert refused.value.mine
        assert "private questions" in refused.value.message or "ready" in refused.value.message


@pytest.mark.parametrize("retake", ["concern_not_ready", "calm_not_ready"])
def test_the_appointment_waits_for_a_partner_who_is_no_longer_ready(dialogue, alex, sam, retake):
    started = dialogue
    put_in_state(sam, retake)
    with pytest.raises(NotReadyToStart) as refused:
        services.move_submit(
            session_public_id=started.public_id, user=sam, move="accept_now", token=form_token()
        )
    assert refused.value.mine
    panel = selectors.panel_for(session=started, viewer=sam)
    assert [f.name for f in panel.forms] == ["propose_time"]  # a later time is still fine
    services.move_submit(
        session_public_id=started.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "60"},
        token=form_token(),
    )
    with pytest.raises(NotReadyToStart) as refused:
        services.move_submit(
            session_public_id=started.public_id, user=alex, move="begin", token=form_token()
        )
    assert refused.value.message == "Your partner isn't ready to start yet."
    assert Turn.objects.filter(move__in=["accept_now", "begin"]).count() == 0


# --- support lines -------------------------------------------------------------------------------


@pytest.fixture
def lines(db):
    SupportResource.objects.all().delete()
    make = SupportResource.objects.create
    make(country="", kind="crisis", name="Default line", order=1)
    make(country="GB", country_name="United Kingdom", kind="crisis", name="UK line", order=2)
    make(country="GB", country_name="United Kingdom", kind="emergency", name="UK 999", order=1)
    make(country="FR", country_name="France", kind="crisis", name="Off", is_active=False)


def test_a_country_gets_its_own_lines_in_order(lines):
    assert [r.name for r in safety.support_resources(country="GB")] == ["UK 999", "UK line"]


@pytest.mark.parametrize("country", ["", "FR", "ZZ"])
def test_elsewhere_gets_the_default_lines(lines, country):
    assert [r.name for r in safety.support_resources(country=country)] == ["Default line"]


def test_without_any_lines_there_is_still_somewhere_to_turn(db):
    SupportResource.objects.all().delete()
    names = [r.name for r in safety.support_resources(country="GB")]
    assert "Your local emergency number" in names


def test_countries_offered_are_those_with_active_lines(lines):
    assert safety.support_countries() == [("GB", "United Kingdom")]


def test_the_country_shown_is_asked_for_then_saved_then_the_default(lines, settings):
    settings.SAFETY_DEFAULT_COUNTRY = "GB"
    assert safety.country_choice() == "GB"
    assert safety.country_choice(requested="zz", saved="") == "GB"
    settings.SAFETY_DEFAULT_COUNTRY = ""
    assert safety.country_choice() == ""
    assert safety.country_choice(saved="gb") == "GB"


def test_the_data_migration_adds_placeholders_marked_as_such(db):
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    name = ("couples", "0004_placeholder_support_resources")
    migration = import_module("couples.migrations.0004_placeholder_support_resources")
    apps = MigrationLoader(connection).project_state(name).apps  # the models as they were then
    SupportResource.objects.all().delete()
    migration.add_placeholders(apps, None)
    migration.add_placeholders(apps, None)  # idempotent
    rows = SupportResource.objects.all()
    assert rows.count() == len(migration.PLACEHOLDERS)
    assert all(r.is_placeholder for r in rows)
    default = [r.name for r in rows.filter(country="")]
    assert "Your local emergency number" in default
    assert {r.kind for r in rows.filter(country="")} >= {"emergency", "crisis", "domestic_violence"}
    migration.remove_placeholders(apps, None)
    assert not SupportResource.objects.exists()


# --- the check-in ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "intense", "pause"),
    [
        ({}, False, False),
        ({"intensity": "7"}, False, False),
        ({"intensity": "8"}, True, True),
        ({"intensity": "10"}, True, True),
        ({"halt": ["tired"], "intensity": "3"}, False, True),
    ],
)
def test_a_check_in_at_8_or_more_suggests_cooling(data, intense, pause):
    checkin = safety.checkin_read(data)
    assert checkin.intense is intense and checkin.suggests_a_pause is pause


@pytest.mark.parametrize(
    "data",
    [
        {"intensity": "0"},
        {"intensity": "11"},
        {"intensity": "hot"},
        {"halt": ["sad"]},
    ],
)
def test_a_check_in_with_values_not_offered_is_refused(data):
    with pytest.raises(SafetyError):
        safety.checkin_read(data)


def test_the_models_never_print_private_answers(unscreened):
    alex, _ = unscreened
    screening = safety_services.screening_save(user=alex, answers={"crisis": "yes"})
    assert "yes" not in str(screening) and "crisis" not in str(screening)
    assert screening.updated_at <= timezone.now()


# --- the calm time-out ----------------------------------------------------------------------


def test_the_pause_timer_counts_from_the_pause(paused, alex):
    from datetime import timedelta

    DialogueSession.objects.filter(pk=paused.pk).update(
        paused_at=paused.paused_at - timedelta(minutes=2, seconds=5)
    )
    paused.refresh_from_db()
    panel = selectors.panel_for(session=paused, viewer=alex)
    assert panel.paused_for.startswith("2:0")


def test_calling_a_new_time_out_forgets_who_was_ready(paused, alex, sam):
    services.session_resume(session_public_id=paused.public_id, user=alex)
    services.session_resume(session_public_id=paused.public_id, user=sam)
    services.session_pause(session_public_id=paused.public_id, user=alex)
    paused.refresh_from_db()
    assert paused.ready_to_resume == []
    services.session_resume(session_public_id=paused.public_id, user=sam)
    paused.refresh_from_db()
    assert paused.status == "paused"


def test_ending_during_a_time_out_needs_no_one_else(paused, alex, sam):
    services.session_resume(session_public_id=paused.public_id, user=alex)
    services.session_end(session_public_id=paused.public_id, user=sam)
    paused.refresh_from_db()
    assert paused.status == "ended" and paused.ready_to_resume == []


def test_the_ready_line_reads_well_for_each(paused, alex, sam):
    services.session_resume(session_public_id=paused.public_id, user=alex)
    ready = Turn.objects.get(move="ready")
    assert selectors.turn_view(ready, viewer=alex).announcement == "You are ready to go on."
    assert selectors.turn_view(ready, viewer=sam).announcement == "Alex is ready to go on."
