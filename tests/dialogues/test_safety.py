"""Safety and pacing around dialogues: the start gate, what the other partner may learn (only
"not ready yet"), the check-in and its cooling path, the calm time-out, the facilitator resume."""

import html
import itertools
import re

import pytest
from django.urls import reverse

from couples.models import Couple
from dialogues import selectors, services
from dialogues.models import DialogueSession, Turn
from dialogues.services import DialogueError, DialogueNotFound, NotReadyToStart
from safety import services as safety_services
from tests.factories import link_with_consent, make_couple, screen
from therapists import services as therapist_services

HTMX = {"HTTP_HX_REQUEST": "true"}
NEW = reverse("dialogues:new")
# Words that would tell the other partner something about the answers or the reason.
REVEALING = re.compile(
    r"afraid|hurt|threat|control|addict|crisis|helpline|attention|concern|support line"
    r"|often|telling us|answered|questions|private page|out of 10|maybe not",
    re.I,
)


# Everyone's home page links to their own private page, in the same words for everyone.
OWN_LINK = "Your private page · your own answers and support lines, only for you"


def revealing(body: str):
    """The first revealing word in the visible page, if any (None is what we want)."""
    return REVEALING.search(visible_main(body))


def visible_main(body: str) -> str:
    """The visible text of <main>, without the person's link to their own private page."""
    main = re.search(r"<main\b.*?</main>", body, re.S)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))
    return text.replace(OWN_LINK, "")


def neutral(body: str) -> str:
    """The page without what differs on every render (CSRF and form tokens)."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "", body)
    return re.sub(r'name="token" value="[^"]+"', "", body)


@pytest.fixture
def couple(alex, sam):
    make_couple(alex, sam)
    return alex, sam


STATES = ["not_started", "calm_not_ready", "concern_not_ready", "concern_ready", "ready"]
GOES_ON = {"concern_ready", "ready"}


def put_in_state(person, state):
    if state == "not_started":
        return
    screen(person, concern=state.startswith("concern"), ready=state in GOES_ON)


# --- the gate on starting -------------------------------------------------------------------------


@pytest.mark.parametrize(("mine", "theirs"), list(itertools.product(STATES, STATES)))
def test_a_dialogue_starts_only_when_both_have_answered_and_are_ready(couple, mine, theirs):
    alex, sam = couple
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


@pytest.fixture
def started(couple):
    alex, sam = couple
    screen(alex)
    screen(sam)
    return services.dialogue_start(user=alex, kind="intentional", topic="Sunday mornings")


@pytest.mark.parametrize("retake", ["concern_not_ready", "calm_not_ready"])
def test_the_appointment_waits_for_a_partner_who_is_no_longer_ready(started, couple, retake):
    alex, sam = couple
    put_in_state(sam, retake)
    with pytest.raises(NotReadyToStart) as refused:
        services.move_submit(session_public_id=started.public_id, user=sam, move="accept_now")
    assert refused.value.mine
    panel = selectors.panel_for(session=started, viewer=sam)
    assert [f.name for f in panel.forms] == ["propose_time"]  # a later time is still fine
    services.move_submit(
        session_public_id=started.public_id, user=sam, move="propose_time", payload={"time": "60"}
    )
    with pytest.raises(NotReadyToStart) as refused:
        services.move_submit(session_public_id=started.public_id, user=alex, move="begin")
    assert refused.value.message == "Your partner isn't ready to start yet."
    assert Turn.objects.filter(move__in=["accept_now", "begin"]).count() == 0


# --- what the other partner sees: never why -------------------------------------------------------


def alex_sees(client, alex, *, dialogue=None) -> dict[str, str]:
    client.force_login(alex)
    pages = {
        "home": client.get("/").content.decode(),
        "start": client.get(NEW).content.decode(),
        "start-post": client.post(NEW, {"kind": "intentional", "topic": "Money"}).content.decode(),
    }
    if dialogue is not None:
        url = reverse("dialogues:detail", args=[dialogue.public_id])
        pages["dialogue"] = client.get(url).content.decode()
        pages["transcript"] = client.get(
            reverse("dialogues:transcript", args=[dialogue.public_id])
        ).content.decode()
    return pages


def test_the_partner_sees_the_same_neutral_words_whatever_the_reason(client, couple):
    alex, sam = couple
    screen(alex)
    seen = {}
    for state in ["not_started", "calm_not_ready", "concern_not_ready"]:
        put_in_state(sam, state)
        seen[state] = alex_sees(client, alex)
    for name, body in seen["not_started"].items():
        assert "Your partner isn't ready to start yet." in html.unescape(body), name
        assert revealing(body) is None, (name, revealing(body))
        for state in ["calm_not_ready", "concern_not_ready"]:
            assert neutral(seen[state][name]) == neutral(body), (name, state)
    assert not DialogueSession.objects.exists()


def test_the_partner_sees_the_same_on_the_dialogue_page_whatever_the_reason(
    client, couple, started
):
    alex, sam = couple
    seen = {}
    for state in ["calm_not_ready", "concern_not_ready"]:
        put_in_state(sam, state)
        seen[state] = alex_sees(client, alex, dialogue=started)
    for name in ["dialogue", "transcript", "home"]:
        body = seen["concern_not_ready"][name]
        assert neutral(body) == neutral(seen["calm_not_ready"][name]), name
        assert revealing(body) is None, (name, revealing(body))
    dialogue_page = html.unescape(seen["calm_not_ready"]["dialogue"])
    assert "Your partner isn't ready to start yet." in dialogue_page


def test_the_partner_pages_never_carry_the_answers(client, couple):
    alex, sam = couple
    screen(alex)
    safety_services.screening_save(
        user=sam, answers={"afraid": "often", "hurt": "yes", "crisis": "yes"}
    )
    safety_services.screening_set_shared(user=sam, shared=True)
    safety_services.screening_set_ready(user=sam, ready=True)
    session = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    for name, body in alex_sees(client, alex, dialogue=session).items():
        assert revealing(body) is None, (name, revealing(body))
    client.force_login(alex)
    assert "Thank you for telling us" not in client.get(reverse("safety:page")).content.decode()


def test_the_person_who_is_not_ready_is_shown_their_own_page(client, couple):
    alex, sam = couple
    screen(alex)
    client.force_login(sam)
    home = client.get("/").content.decode()
    assert reverse("safety:page") in home and "Answer the private questions" in home
    assert reverse("safety:page") in client.get(NEW).content.decode()
    put_in_state(sam, "concern_not_ready")
    home = html.unescape(client.get("/").content.decode())
    assert "You haven't said you're ready" in home


# --- the check-in before starting -----------------------------------------------------------------


@pytest.fixture
def ready_pair(couple):
    alex, sam = couple
    screen(alex)
    screen(sam)
    return alex, sam


def test_the_start_page_has_the_ground_rules_and_a_private_check_in(client, ready_pair):
    client.force_login(ready_pair[0])
    body = html.unescape(client.get(NEW).content.decode())
    for rule in ("One topic", "No blame", "Equal time", "call a time-out"):
        assert rule in body
    assert "Hungry, angry, lonely or tired?" in body and 'name="intensity" value="10"' in body
    assert "Not shown to Sam" in body


@pytest.mark.parametrize("intensity", ["8", "9", "10"])
def test_at_8_or_more_a_cooling_period_is_suggested_first(client, ready_pair, intensity):
    client.force_login(ready_pair[0])
    data = {"kind": "intentional", "topic": "Money <b>now</b>", "intensity": intensity}
    response = client.post(NEW, data)
    body = response.content.decode()
    assert response.status_code == 200 and "Maybe not right now" in body
    assert "breath-circle" in body and "Breathe in" in body and "Come back later" in body
    assert 'name="anyway" value="1"' in body and 'value="Money &lt;b&gt;now&lt;/b&gt;"' in body
    assert not DialogueSession.objects.exists()


def test_start_anyway_starts(client, ready_pair):
    client.force_login(ready_pair[0])
    data = {"kind": "intentional", "topic": "Money", "intensity": "9", "halt": ["angry"]}
    response = client.post(NEW, {**data, "anyway": "1"})
    session = DialogueSession.objects.get()
    assert response.status_code == 302 and session.topic == "Money"
    assert not Turn.objects.filter(text__contains="9").exclude(seq=1).exists()  # not stored


def test_below_8_it_starts_at_once(client, ready_pair):
    client.force_login(ready_pair[0])
    response = client.post(NEW, {"kind": "intentional", "topic": "Money", "intensity": "7"})
    assert response.status_code == 302 and DialogueSession.objects.count() == 1


def test_hungry_angry_lonely_or_tired_gets_a_gentle_word_first(client, ready_pair):
    client.force_login(ready_pair[0])
    body = client.post(
        NEW,
        {"kind": "intentional", "topic": "Money", "halt": ["hungry", "tired"], "intensity": "3"},
    ).content.decode()
    assert "hungry, tired" in body and "eat something, rest" in body
    assert "breath-circle" not in body and not DialogueSession.objects.exists()


@pytest.mark.parametrize("data", [{"intensity": "11"}, {"intensity": "calm"}, {"halt": "bored"}])
def test_a_check_in_with_values_not_offered_changes_nothing(client, ready_pair, data):
    client.force_login(ready_pair[0])
    response = client.post(NEW, {"kind": "intentional", "topic": "Money", **data})
    assert response.status_code == 422 and b"Please" in response.content
    assert not DialogueSession.objects.exists()


# --- the receiver's check-in at the appointment ---------------------------------------------------


def move_url(session):
    return reverse("dialogues:move", args=[session.public_id])


def test_the_receiver_gets_the_check_in_with_the_appointment(client, started, couple):
    client.force_login(couple[1])
    body = client.get(reverse("dialogues:detail", args=[started.public_id])).content.decode()
    assert "Hungry, angry, lonely or tired?" in body
    client.force_login(couple[0])
    body = client.get(reverse("dialogues:detail", args=[started.public_id])).content.decode()
    assert "Hungry, angry, lonely or tired?" not in body  # not Alex's move


def test_a_hot_receiver_is_offered_a_later_time_first(client, started, couple):
    alex, sam = couple
    client.force_login(sam)
    response = client.post(
        move_url(started), {"move": "accept_now", "at": "1", "intensity": "9"}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Maybe not right now" in body
    assert "breath-circle" in body and "Start anyway" in body
    assert 'value="propose_time"' in body and 'name="anyway" value="1"' in body
    started.refresh_from_db()
    assert started.step == "appointment" and started.seq == 1
    # Nothing of it reaches Alex.
    client.force_login(alex)
    page = visible_main(
        client.get(reverse("dialogues:detail", args=[started.public_id])).content.decode()
    )
    assert not REVEALING.search(page) and "Maybe not" not in page
    # Sam may still go on.
    client.force_login(sam)
    client.post(move_url(started), {"move": "accept_now", "at": "1", "anyway": "1"}, **HTMX)
    started.refresh_from_db()
    assert started.step == "send"


def test_a_hot_receiver_without_htmx_gets_the_whole_page(client, started, couple):
    client.force_login(couple[1])
    response = client.post(move_url(started), {"move": "accept_now", "at": "1", "intensity": "8"})
    assert response.status_code == 200 and b"Maybe not right now" in response.content
    assert b"<html" in response.content


def test_a_calm_receiver_accepts_at_once(client, started, couple):
    client.force_login(couple[1])
    client.post(move_url(started), {"move": "accept_now", "at": "1", "intensity": "2"}, **HTMX)
    started.refresh_from_db()
    assert started.step == "send"


def test_a_receivers_bad_check_in_changes_nothing(client, started, couple):
    client.force_login(couple[1])
    response = client.post(
        move_url(started), {"move": "accept_now", "at": "1", "intensity": "99"}, **HTMX
    )
    assert response.status_code == 422 and b"from 1 to 10" in response.content
    started.refresh_from_db()
    assert started.seq == 1


def test_the_starter_cannot_use_the_check_in_to_make_the_receivers_move(client, started, couple):
    client.force_login(couple[0])
    response = client.post(
        move_url(started), {"move": "accept_now", "at": "1", "intensity": "9"}, **HTMX
    )
    assert response.status_code == 422 and b"Maybe not right now" not in response.content
    started.refresh_from_db()
    assert started.seq == 1


# --- the calm time-out ----------------------------------------------------------------------------


@pytest.fixture
def paused(started, couple):
    _, sam = couple
    services.move_submit(session_public_id=started.public_id, user=sam, move="accept_now")
    services.session_pause(session_public_id=started.public_id, user=sam)
    started.refresh_from_db()
    return started


def test_the_time_out_is_a_calm_screen_for_both(client, paused, couple):
    for person in couple:
        client.force_login(person)
        body = client.get(reverse("dialogues:detail", args=[paused.public_id])).content.decode()
        assert "breath-circle" in body and "Breathe in…" in body and "Breathe out…" in body
        assert "breath-static" in body  # the text for people who prefer no motion
        assert re.search(r'role="timer" data-elapsed="\d+">\d+:\d\d<', body)
        assert "I&#x27;m ready to go on" in body or "I'm ready to go on" in body


def test_the_pause_timer_counts_from_the_pause(paused, couple):
    from datetime import timedelta

    DialogueSession.objects.filter(pk=paused.pk).update(
        paused_at=paused.paused_at - timedelta(minutes=2, seconds=5)
    )
    paused.refresh_from_db()
    panel = selectors.panel_for(session=paused, viewer=couple[0])
    assert panel.paused_for.startswith("2:0")


def test_calling_a_new_time_out_forgets_who_was_ready(paused, couple):
    alex, sam = couple
    services.session_resume(session_public_id=paused.public_id, user=alex)
    services.session_resume(session_public_id=paused.public_id, user=sam)
    services.session_pause(session_public_id=paused.public_id, user=alex)
    paused.refresh_from_db()
    assert paused.ready_to_resume == []
    services.session_resume(session_public_id=paused.public_id, user=sam)
    paused.refresh_from_db()
    assert paused.status == "paused"


def test_ending_during_a_time_out_needs_no_one_else(paused, couple):
    services.session_resume(session_public_id=paused.public_id, user=couple[0])
    services.session_end(session_public_id=paused.public_id, user=couple[1])
    paused.refresh_from_db()
    assert paused.status == "ended" and paused.ready_to_resume == []


def test_the_ready_line_reads_well_for_each(paused, couple):
    alex, sam = couple
    services.session_resume(session_public_id=paused.public_id, user=alex)
    ready = Turn.objects.get(move="ready")
    assert selectors.turn_view(ready, viewer=alex).announcement == "You are ready to go on."
    assert selectors.turn_view(ready, viewer=sam).announcement == "Alex is ready to go on."


# --- a facilitator's resume ---------------------------------------------------------------------


def linked(therapist, couple):
    """Link the therapist to Alex and Sam with both partners' consent."""
    return link_with_consent(therapist, *couple)


def test_nobody_can_resume_for_both_without_a_consented_link(
    paused, couple, therapist, staff, outsider
):
    link_with_consent(therapist, couple[0])  # only Alex consented: not enough
    for person in [*couple, therapist, staff, outsider]:
        with pytest.raises(DialogueNotFound):
            therapist_services.session_resume_by_facilitator(
                session_public_id=paused.public_id, therapist=person
            )
        assert not selectors.may_facilitate(therapist=person, couple_id=paused.couple_id)
    paused.refresh_from_db()
    assert paused.status == "paused"


def test_a_facilitator_resumes_at_once(paused, couple, therapist):
    linked(therapist, couple)
    assert selectors.may_facilitate(therapist=therapist, couple_id=paused.couple_id)
    services.session_resume(session_public_id=paused.public_id, user=couple[0])  # one is ready
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


def test_a_facilitator_cannot_change_an_ended_dialogue(paused, therapist, couple):
    linked(therapist, couple)
    services.session_end(session_public_id=paused.public_id, user=couple[0])
    with pytest.raises(DialogueError, match="ended"):
        therapist_services.session_resume_by_facilitator(
            session_public_id=paused.public_id, therapist=therapist
        )


def test_a_facilitators_time_out_is_the_same_calm_time_out(started, couple, therapist):
    linked(therapist, couple)
    services.move_submit(session_public_id=started.public_id, user=couple[1], move="accept_now")
    therapist_services.session_pause_by_facilitator(
        session_public_id=started.public_id, therapist=therapist
    )
    started.refresh_from_db()
    assert started.status == "paused" and started.paused_at is not None
    assert started.paused_by == therapist and started.ready_to_resume == []
    # The partners then go on as after their own time-out: both say they're ready.
    for person in couple:
        services.session_resume(session_public_id=started.public_id, user=person)
    started.refresh_from_db()
    assert started.status == "active"


# --- the exit -------------------------------------------------------------------------------------


def test_the_dialogue_page_has_a_quick_exit_and_short_shared_ground_rules(client, started, couple):
    client.force_login(couple[0])
    body = client.get(reverse("dialogues:detail", args=[started.public_id])).content.decode()
    assert f'href="{reverse("notes")}" data-quick-exit' in body
    assert "Either of you can call a time-out at any moment." in body
    assert Couple.objects.count() == 1
