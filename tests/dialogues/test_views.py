"""Dialogue pages, tried as each kind of person."""

import re

import pytest
from django.urls import reverse

from dialogues import services
from dialogues.models import DialogueSession, Turn

OUTSIDERS = ["outsider", "therapist", "staff", "single"]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_(client, people):
    def login(who):
        if people[who] is not None:
            client.force_login(people[who])
        return client

    return login


def url(name, session):
    return reverse(f"dialogues:{name}", args=[session.public_id])


def form_fields(html: str, move: str) -> dict:
    """The hidden fields of the form for `move` on a rendered page."""
    form = re.search(
        rf'<form[^>]*>(?:(?!</form>).)*?name="move" value="{move}"(?:(?!</form>).)*</form>',
        html,
        re.S,
    )
    assert form, f"no form for {move}"
    return dict(re.findall(r'name="(at|token|move)" value="([^"]*)"', form[0]))


# --- the dialogue page ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alex", "sam"])
def test_it_shows_the_dialogue_to_each_partner(as_, dialogue, who):
    response = as_(who).get(url("detail", dialogue))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sunday mornings" in body
    assert f'ws-connect="/ws/dialogues/{dialogue.public_id}/"' in body
    assert 'aria-live="polite"' in body


def test_it_shows_the_receiver_the_form_with_stems_and_explanation(as_, dialogue):
    body = as_("sam").get(url("detail", dialogue)).content.decode()
    assert 'value="accept_now"' in body and 'value="propose_time"' in body
    assert "say whether now works" in body


def test_it_tells_the_other_partner_what_they_are_waiting_for(as_, dialogue, alex, sam):
    services.move_submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I feel lonely."},
    )
    body = as_("alex").get(url("detail", dialogue)).content.decode()
    assert "Sam is mirroring what you said." in body
    assert 'name="move"' not in body


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("page", ["detail", "transcript"])
def test_it_hides_the_dialogue_from_everyone_else(as_, dialogue, who, page):
    response = as_(who).get(url(page, dialogue))
    assert response.status_code == 404
    assert b"Sunday mornings" not in response.content


@pytest.mark.parametrize("page", ["detail", "transcript", "move", "pause", "resume", "end"])
def test_it_sends_anonymous_visitors_to_log_in(as_, dialogue, page):
    client = as_("anonymous")
    response = (
        client.post(url(page, dialogue))
        if page in {"move", "pause", "resume", "end"}
        else client.get(url(page, dialogue))
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_dialogue_is_404(as_, pair):
    assert as_("alex").get("/dialogues/nope/").status_code == 404


def test_the_dialogue_text_never_appears_in_a_url(as_, dialogue, alex, sam):
    services.move_submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    body = as_("alex").get(url("detail", dialogue)).content.decode()
    for link in re.findall(r'(?:href|action|hx-post|ws-connect)="([^"]*)"', body):
        assert "Sunday" not in link


def test_the_page_costs_the_same_queries_with_10_or_200_turns(
    as_, dialogue, alex, sam, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.move_submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    services.move_submit(
        session_public_id=dialogue.public_id, user=alex, move="send", payload={"text": "I feel."}
    )

    def count():
        client = as_("alex")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("detail", dialogue)).status_code == 200
        return len(ctx.captured_queries)

    def grow(turns):
        while Turn.objects.filter(session=dialogue).count() < turns:
            services.move_submit(
                session_public_id=dialogue.public_id,
                user=sam,
                move="mirror",
                payload={"text": "You feel."},
            )
            services.move_submit(
                session_public_id=dialogue.public_id,
                user=alex,
                move="not_quite",
                payload={"text": "Not quite."},
            )

    grow(10)
    small = count()
    grow(200)
    assert count() == small


# --- moves over HTTP -----------------------------------------------------------------------


def test_a_move_over_htmx_returns_the_next_panel(as_, dialogue):
    client = as_("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    response = client.post(url("move", dialogue), fields, **HTMX)
    assert response.status_code == 200
    assert b'id="move-panel"' in response.content
    assert b"is writing what they" in response.content  # Sam now waits for Alex to send
    assert DialogueSession.objects.get().step == "send"


def test_a_move_without_htmx_redirects_back(as_, dialogue):
    client = as_("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    response = client.post(url("move", dialogue), fields)
    assert response.status_code == 302 and response["Location"] == url("detail", dialogue)


def test_a_double_click_saves_once(as_, dialogue):
    client = as_("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    first = client.post(url("move", dialogue), fields, **HTMX)
    second = client.post(url("move", dialogue), fields, **HTMX)
    assert first.status_code == second.status_code == 200
    assert Turn.objects.filter(move="accept_now").count() == 1


def test_bad_input_gets_a_clear_message_and_keeps_what_was_written(as_, dialogue, sam):
    services.move_submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    client = as_("alex")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "send")
    response = client.post(url("move", dialogue), {**fields, "text": "x" * 2001}, **HTMX)
    assert response.status_code == 422
    assert b"2,000 characters" in response.content and b'role="alert"' in response.content
    assert ("x" * 2001).encode() in response.content
    response = client.post(url("move", dialogue), {**fields, "text": "  "}, **HTMX)
    assert response.status_code == 422 and b"write something" in response.content
    assert Turn.objects.count() == 2


def test_a_stale_form_gets_the_current_panel(as_, dialogue, alex, sam):
    client = as_("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    services.session_end(session_public_id=dialogue.public_id, user=alex)
    response = client.post(url("move", dialogue), {**fields, "token": "fresh"}, **HTMX)
    assert response.status_code == 422
    assert b"ended" in response.content
    assert not Turn.objects.filter(move="accept_now").exists()


def test_the_wrong_partner_is_told_it_is_not_their_turn(as_, dialogue):
    response = as_("alex").post(
        url("move", dialogue), {"move": "accept_now", "at": "1", "token": "t"}, **HTMX
    )
    assert response.status_code == 422 and b"not your turn" in response.content
    assert Turn.objects.count() == 1


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("action", ["move", "pause", "resume", "end"])
def test_nobody_else_can_act(as_, dialogue, who, action):
    response = as_(who).post(url(action, dialogue), {"move": "accept_now", "at": "1"}, **HTMX)
    assert response.status_code == 404
    assert Turn.objects.count() == 1 and DialogueSession.objects.get().status == "active"


@pytest.mark.parametrize("action", ["move", "pause", "resume", "end"])
def test_actions_need_a_post(as_, dialogue, action):
    assert as_("alex").get(url(action, dialogue)).status_code == 405


# --- time-out and end ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pauser", "first", "second"),
    [
        ("alex", "sam", "alex"),
        ("sam", "sam", "alex"),
        ("alex", "alex", "sam"),
    ],
)
def test_either_partner_pauses_and_both_must_be_ready_to_resume(
    as_, dialogue, pauser, first, second
):
    response = as_(pauser).post(url("pause", dialogue), **HTMX)
    assert b"called a time-out" in response.content
    assert DialogueSession.objects.get().status == "paused"
    for who in ("alex", "sam"):
        page = as_(who).get(url("detail", dialogue)).content.decode()
        assert "Breathe in" in page and 'role="timer"' in page and "ready to go on" in page
    names = {"alex": "Alex", "sam": "Sam"}
    body = as_(first).post(url("resume", dialogue), **HTMX).content.decode()
    assert f"You're ready. Waiting for {names[second]}" in body
    assert DialogueSession.objects.get().status == "paused"
    other = as_(second).get(url("detail", dialogue)).content.decode()
    assert f"{names[first]} is ready when you are." in other
    as_(second).post(url("resume", dialogue), **HTMX)
    assert DialogueSession.objects.get().status == "active"


def test_ending_leaves_a_read_only_page_for_both(as_, dialogue):
    as_("sam").post(url("end", dialogue))
    for who in ("alex", "sam"):
        body = as_(who).get(url("detail", dialogue)).content.decode()
        assert "Read the transcript" in body and 'name="move"' not in body


# --- starting and the transcript -------------------------------------------------------------


def test_a_partner_starts_a_dialogue(as_, pair):
    client = as_("alex")
    assert b"Ask Sam to talk" in client.get(reverse("dialogues:new")).content
    response = client.post(reverse("dialogues:new"), {"kind": "appreciation", "topic": "Thanks"})
    session = DialogueSession.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", session)
    assert session.kind == "appreciation" and session.topic == "Thanks"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "intentional", "topic": ""}, b"name the topic"),
        ({"kind": "intentional", "topic": "x" * 201}, b"at most 200"),
        ({"kind": "shouting", "topic": "Money"}, b"Please choose one of the kinds"),
    ],
)
def test_starting_with_bad_input_changes_nothing(as_, pair, data, message):
    response = as_("alex").post(reverse("dialogues:new"), data)
    assert response.status_code == 422 and message in response.content
    assert not DialogueSession.objects.exists()


def test_starting_a_second_live_dialogue_is_refused(as_, dialogue):
    response = as_("sam").post(reverse("dialogues:new"), {"kind": "intentional", "topic": "B"})
    assert response.status_code == 422 and b"already have a dialogue" in response.content


@pytest.mark.parametrize("who", ["single", "therapist", "staff"])
def test_only_paired_partners_can_start(as_, people, who):
    response = as_(who).get(reverse("dialogues:new"))
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize("who", ["alex", "sam"])
def test_both_partners_can_reopen_a_past_dialogue_as_a_transcript(as_, dialogue, alex, sam, who):
    services.move_submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I feel <em>lonely</em>."},
    )
    services.session_end(session_public_id=dialogue.public_id, user=alex)
    home = as_(who).get("/").content.decode()
    assert url("transcript", dialogue) in home
    body = as_(who).get(url("transcript", dialogue)).content.decode()
    assert "I feel &lt;em&gt;lonely&lt;/em&gt;." in body
    assert body.index("asked to talk") < body.index("lonely") < body.index("ended the dialogue")


def test_the_home_page_tells_the_partner_they_are_asked_to_talk(as_, dialogue):
    body = as_("sam").get("/").content.decode()
    assert "Alex would like to talk" in body and url("detail", dialogue) in body
    assert 'ws-connect="/ws/home/"' in body
