"""Dialogue pages, tried as each kind of person."""

import re

import pytest
from django.urls import reverse

from couples.models import FORM_OUT_OF_DATE
from dialogues import protocol, services
from dialogues.language import FEELINGS
from dialogues.models import DialogueSession, Turn
from tests.helpers import form_token, play, round_moves, text_of

OUTSIDERS = ["outsider", "therapist", "staff", "single"]
HTMX = {"HTTP_HX_REQUEST": "true"}


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
def test_it_shows_the_dialogue_to_each_partner(client_as, dialogue, who):
    response = client_as(who).get(url("detail", dialogue))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sunday mornings" in body
    assert f'ws-connect="/ws/dialogues/{dialogue.public_id}/"' in body
    assert 'aria-live="polite"' in body


def test_it_shows_the_receiver_the_form_with_stems_and_explanation(client_as, dialogue):
    body = client_as("sam").get(url("detail", dialogue)).content.decode()
    assert 'value="accept_now"' in body and 'value="propose_time"' in body
    assert "say whether now works" in body


def test_it_tells_the_other_partner_what_they_are_waiting_for(client_as, dialogue, alex, sam):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I feel lonely."},
        token=form_token(),
    )
    body = client_as("alex").get(url("detail", dialogue)).content.decode()
    assert "Sam is mirroring what you said." in body
    assert 'name="move"' not in body


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("page", ["detail", "transcript"])
def test_it_hides_the_dialogue_from_everyone_else(client_as, dialogue, who, page):
    response = client_as(who).get(url(page, dialogue))
    assert response.status_code == 404
    assert b"Sunday mornings" not in response.content


@pytest.mark.parametrize("page", ["detail", "transcript", "move", "pause", "resume", "end"])
def test_it_sends_anonymous_visitors_to_log_in(client_as, dialogue, page):
    client = client_as("anonymous")
    response = (
        client.post(url(page, dialogue))
        if page in {"move", "pause", "resume", "end"}
        else client.get(url(page, dialogue))
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_dialogue_is_404(client_as, pair):
    assert client_as("alex").get("/dialogues/nope/").status_code == 404


def test_the_dialogue_text_never_appears_in_a_url(client_as, dialogue, alex, sam):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    body = client_as("alex").get(url("detail", dialogue)).content.decode()
    for link in re.findall(r'(?:href|action|hx-post|ws-connect)="([^"]*)"', body):
        assert "Sunday" not in link


def test_the_page_costs_the_same_queries_with_10_or_200_turns(
    client_as, dialogue, alex, sam, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I feel."},
        token=form_token(),
    )

    def count():
        client = client_as("alex")
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
                token=form_token(),
            )
            services.move_submit(
                session_public_id=dialogue.public_id,
                user=alex,
                move="not_quite",
                payload={"text": "Not quite."},
                token=form_token(),
            )

    count()  # the first request keeps the language it was made in on the account: once
    grow(10)
    small = count()
    grow(200)
    assert count() == small


# --- moves over HTTP -----------------------------------------------------------------------


def test_a_move_over_htmx_returns_the_next_panel(client_as, dialogue):
    client = client_as("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    response = client.post(url("move", dialogue), fields, **HTMX)
    assert response.status_code == 200
    assert b'id="move-panel"' in response.content
    assert b"is writing what they" in response.content  # Sam now waits for Alex to send
    assert DialogueSession.objects.get().step == "send"


def test_a_move_without_htmx_redirects_back(client_as, dialogue):
    client = client_as("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    response = client.post(url("move", dialogue), fields)
    assert response.status_code == 302 and response["Location"] == url("detail", dialogue)


def test_a_double_click_saves_once(client_as, dialogue):
    client = client_as("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    first = client.post(url("move", dialogue), fields, **HTMX)
    second = client.post(url("move", dialogue), fields, **HTMX)
    assert first.status_code == second.status_code == 200
    assert Turn.objects.filter(move="accept_now").count() == 1


def test_bad_input_gets_a_clear_message_and_keeps_what_was_written(client_as, dialogue, sam):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    client = client_as("alex")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "send")
    response = client.post(url("move", dialogue), {**fields, "text": "x" * 2001}, **HTMX)
    assert response.status_code == 422
    assert b"2,000 characters" in response.content and b'role="alert"' in response.content
    assert ("x" * 2001).encode() in response.content
    response = client.post(url("move", dialogue), {**fields, "text": "  "}, **HTMX)
    assert response.status_code == 422 and b"write something" in response.content
    assert Turn.objects.count() == 2


def test_a_stale_form_gets_the_current_panel(client_as, dialogue, alex, sam):
    client = client_as("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    services.session_end(session_public_id=dialogue.public_id, user=alex)
    response = client.post(url("move", dialogue), {**fields, "token": "fresh"}, **HTMX)
    assert response.status_code == 422
    assert b"ended" in response.content
    assert not Turn.objects.filter(move="accept_now").exists()


@pytest.mark.parametrize("token", [None, "", "   "], ids=["no field", "empty", "blank"])
def test_a_move_without_its_form_token_is_refused_with_a_clear_message_and_a_fresh_form(
    client_as, dialogue, token
):
    """Without its token a move can't be told from its own double-click: refused like a
    stale form (422, the message, the current panel with a new token), nothing saved."""
    client = client_as("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    fields.pop("token")
    posted = fields if token is None else {**fields, "token": token}
    response = client.post(url("move", dialogue), posted, **HTMX)
    assert response.status_code == 422
    assert str(FORM_OUT_OF_DATE) in text_of(response)
    assert not Turn.objects.filter(move="accept_now").exists()
    again = form_fields(response.content.decode(), "accept_now")
    assert again["token"]
    assert client.post(url("move", dialogue), again, **HTMX).status_code == 200
    assert Turn.objects.filter(move="accept_now").count() == 1


def test_a_move_without_its_form_token_and_without_htmx_says_why_on_the_page(client_as, dialogue):
    client = client_as("sam")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "accept_now")
    fields.pop("token")
    response = client.post(url("move", dialogue), fields, follow=True)
    assert response.redirect_chain == [(url("detail", dialogue), 302)]
    assert str(FORM_OUT_OF_DATE) in text_of(response)
    assert not Turn.objects.filter(move="accept_now").exists()


def test_the_wrong_partner_is_told_it_is_not_their_turn(client_as, dialogue):
    response = client_as("alex").post(
        url("move", dialogue), {"move": "accept_now", "at": "1", "token": "t"}, **HTMX
    )
    assert response.status_code == 422 and b"not your turn" in response.content
    assert Turn.objects.count() == 1


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("action", ["move", "pause", "resume", "end"])
def test_nobody_else_can_act(client_as, dialogue, who, action):
    response = client_as(who).post(url(action, dialogue), {"move": "accept_now", "at": "1"}, **HTMX)
    assert response.status_code == 404
    assert Turn.objects.count() == 1 and DialogueSession.objects.get().status == "active"


@pytest.mark.parametrize("action", ["move", "pause", "resume", "end"])
def test_actions_need_a_post(client_as, dialogue, action):
    assert client_as("alex").get(url(action, dialogue)).status_code == 405


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
    client_as, dialogue, sam, pauser, first, second
):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    response = client_as(pauser).post(url("pause", dialogue), **HTMX)
    assert b"called a time-out" in response.content
    assert DialogueSession.objects.get().status == "paused"
    for who in ("alex", "sam"):
        page = client_as(who).get(url("detail", dialogue)).content.decode()
        assert "Breathe in" in page and 'role="timer"' in page and "ready to go on" in page
    names = {"alex": "Alex", "sam": "Sam"}
    body = client_as(first).post(url("resume", dialogue), **HTMX).content.decode()
    assert f"You're ready. Waiting for {names[second]}" in body
    assert DialogueSession.objects.get().status == "paused"
    other = client_as(second).get(url("detail", dialogue)).content.decode()
    assert f"{names[first]} is ready when you are." in other
    client_as(second).post(url("resume", dialogue), **HTMX)
    assert DialogueSession.objects.get().status == "active"


def test_ending_leaves_a_read_only_page_for_both(client_as, dialogue):
    client_as("sam").post(url("end", dialogue))
    for who in ("alex", "sam"):
        body = client_as(who).get(url("detail", dialogue)).content.decode()
        assert "Read the transcript" in body and 'name="move"' not in body


# --- starting and the transcript -------------------------------------------------------------


def test_a_partner_starts_a_dialogue(client_as, pair):
    client = client_as("alex")
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
def test_starting_with_bad_input_changes_nothing(client_as, pair, data, message):
    response = client_as("alex").post(reverse("dialogues:new"), data)
    assert response.status_code == 422 and message in response.content
    assert not DialogueSession.objects.exists()


def test_starting_a_second_live_dialogue_is_refused(client_as, dialogue):
    response = client_as("sam").post(
        reverse("dialogues:new"), {"kind": "intentional", "topic": "B"}
    )
    assert response.status_code == 422 and b"already have a dialogue" in response.content


@pytest.mark.parametrize("who", ["single", "therapist", "staff"])
def test_only_paired_partners_can_start(client_as, who):
    response = client_as(who).get(reverse("dialogues:new"))
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize("who", ["alex", "sam"])
def test_both_partners_can_reopen_a_past_dialogue_as_a_transcript(
    client_as, dialogue, alex, sam, who
):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I feel <em>lonely</em>."},
        token=form_token(),
    )
    services.session_end(session_public_id=dialogue.public_id, user=alex)
    home = client_as(who).get("/").content.decode()
    assert url("transcript", dialogue) in home
    body = client_as(who).get(url("transcript", dialogue)).content.decode()
    assert "I feel &lt;em&gt;lonely&lt;/em&gt;." in body
    assert body.index("asked to talk") < body.index("lonely") < body.index("ended the dialogue")


def test_the_home_page_tells_the_partner_they_are_asked_to_talk(client_as, dialogue):
    body = client_as("sam").get("/").content.decode()
    assert "Alex would like to talk" in body and url("detail", dialogue) in body
    assert 'ws-connect="/ws/home/"' in body


# --- no time-out before the start ------------------------------------------------------------


@pytest.mark.parametrize("who", ["alex", "sam"])
def test_no_time_out_is_offered_before_the_dialogue_has_started(client_as, dialogue, sam, who):
    client = client_as(who)
    assert 'class="timeout"' not in client.get(url("detail", dialogue)).content.decode()
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    assert 'class="timeout"' in client.get(url("detail", dialogue)).content.decode()


@pytest.mark.parametrize("who", ["alex", "sam"])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_time_out_asked_for_before_the_start_is_refused_and_saves_nothing(
    client_as, dialogue, who, htmx
):
    response = client_as(who).post(url("pause", dialogue), **(HTMX if htmx else {}))
    assert response.status_code == 422
    assert "hasn't started yet, so there's nothing to pause" in text_of(response)
    assert b'role="alert"' in response.content
    assert DialogueSession.objects.get().status == "active"
    assert list(Turn.objects.values_list("move", flat=True)) == ["ask"]


# --- switch or close -------------------------------------------------------------------------


def _at_switch(dialogue, alex, sam):
    play(dialogue, [(sam, "accept_now", {}), *round_moves(alex, sam)])
    assert dialogue.step == "switch"


def test_after_round_one_each_partner_may_switch_or_only_suggest_closing(
    client_as, dialogue, alex, sam
):
    _at_switch(dialogue, alex, sam)
    for who in ("alex", "sam"):
        body = client_as(who).get(url("detail", dialogue)).content.decode()
        assert 'value="switch_roles"' in body and 'value="propose_closing"' in body
        assert 'value="go_to_closing"' not in body
    alex_client, sam_client = client_as("alex"), client_as("sam")
    fields = form_fields(
        alex_client.get(url("detail", dialogue)).content.decode(), "propose_closing"
    )
    response = alex_client.post(url("move", dialogue), fields, **HTMX)
    assert response.status_code == 200
    assert "Sam is deciding whether to close now or switch roles first." in text_of(response)
    body = sam_client.get(url("detail", dialogue)).content.decode()
    assert 'value="agree_to_close"' in body and 'value="switch_instead"' in body
    assert "suggests closing before you have both been heard" in body
    fields = form_fields(body, "agree_to_close")
    assert sam_client.post(url("move", dialogue), fields, **HTMX).status_code == 200
    assert DialogueSession.objects.get().step == "closing"


def test_the_partner_who_lost_the_race_is_told_what_happened(client_as, dialogue, alex, sam):
    _at_switch(dialogue, alex, sam)
    alex_client, sam_client = client_as("alex"), client_as("sam")
    alex_form = form_fields(
        alex_client.get(url("detail", dialogue)).content.decode(), "switch_roles"
    )
    sam_form = form_fields(
        sam_client.get(url("detail", dialogue)).content.decode(), "propose_closing"
    )
    assert alex_client.post(url("move", dialogue), alex_form, **HTMX).status_code == 200
    response = sam_client.post(url("move", dialogue), sam_form, **HTMX)
    assert response.status_code == 422
    assert "Alex switched roles just before you. Here is where it is now." in text_of(response)
    assert b'name="move" value="send"' in response.content  # Sam's move now: sending
    again = sam_client.post(url("move", dialogue), sam_form, **HTMX)  # a double-click
    assert again.status_code == 422
    assert Turn.objects.filter(move__in=["switch_roles", "propose_closing"]).count() == 1


# --- transcripts -------------------------------------------------------------------------------


def _two_rounds(dialogue, alex, sam):
    play(
        dialogue,
        [
            (sam, "accept_now", {}),
            *round_moves(alex, sam),
            (alex, "propose_closing", {}),
            (sam, "switch_instead", {}),
            *round_moves(sam, alex, gift="Plan a walk on Saturday?"),
            (sam, "go_to_closing", {}),
            (alex, "close", {"text": "Your patience.", "rating": 5}),
            (sam, "close", {"text": "Your honesty.", "rating": 4}),
        ],
    )
    assert dialogue.status == "completed"


@pytest.mark.parametrize("who", ["alex", "sam"])
def test_a_transcript_keeps_the_shape_of_the_dialogue(client_as, dialogue, alex, sam, who):
    _two_rounds(dialogue, alex, sam)
    response = client_as(who).get(url("transcript", dialogue))
    assert response.status_code == 200
    text = text_of(response)
    me, other = ("Alex", "Sam") if who == "alex" else ("Sam", "Alex")
    parts = [
        "Making the appointment",
        "Round 1",
        "Sending: " + ("You" if who == "alex" else "Alex"),
        "Receiving: " + ("You" if who == "sam" else "Sam"),
        "Switch or close “Suggest closing”",
        "Close now? “Switch roles first”",
        "Round 2",
        "Sending: " + ("You" if who == "sam" else "Sam"),
        "Closing",
        "Your honesty.",
    ]
    positions = [text.index(part) for part in parts]
    assert positions == sorted(positions), text
    # The gifts agreed come first, as the viewer reads them.
    gifts = text[: text.index("Making the appointment")]
    you_gave = "You agreed to give " + other
    they_gave = f"{other} agreed to give you"
    assert (you_gave if who == "sam" else they_gave) + ": “Wake me at nine?”" in gifts
    assert (you_gave if who == "alex" else they_gave) + ": “Plan a walk on Saturday?”" in gifts
    # An acknowledgement without words is one line, not a blank "Feeling understood" card.
    body = response.content.decode()
    assert "· Feeling understood" not in body
    assert text.count(" acknowledged.") == 2
    assert me in text or "You" in text


def test_the_home_page_lists_the_gift_agreed_in_each_past_dialogue(client_as, dialogue, alex, sam):
    _two_rounds(dialogue, alex, sam)
    text = text_of(client_as("alex").get("/"))
    assert "Past dialogues" in text
    assert "Sam agreed to give you: “Wake me at nine?”" in text
    assert "You agreed to give Sam: “Plan a walk on Saturday?”" in text
    assert "You agreed to give Alex: “Wake me at nine?”" in text_of(client_as("sam").get("/"))


@pytest.mark.parametrize("who", OUTSIDERS)
def test_nobody_else_sees_a_transcript_or_its_gifts(client_as, dialogue, alex, sam, who):
    _two_rounds(dialogue, alex, sam)
    response = client_as(who).get(url("transcript", dialogue))
    assert response.status_code == 404
    assert b"Wake me at nine" not in response.content
    assert b"Wake me at nine" not in client_as(who).get("/").content


# --- the move panel: checks, feelings, whose move ----------------------------------------


def to_step(dialogue, alex, sam, step):
    """Walk the dialogue forward until it reaches `step` (of round 1)."""
    path = [
        (sam, "accept_now", {}),
        (alex, "send", {"text": "When you sleep in, I feel lonely."}),
        (sam, "mirror", {"text": "You feel lonely when I sleep in."}),
        (alex, "got_it", {}),
        (sam, "ask_more", {}),
        (alex, "thats_all", {}),
        (sam, "summary", {"text": "Lonely when I sleep in."}),
        (alex, "got_it_all", {}),
        (sam, "validate", {"text": "That makes sense."}),
        (alex, "acknowledge", {"text": ""}),
        (sam, "empathize", {"text": "I imagine you feel sad.", "feelings": ["sad"]}),
    ]
    for user, move, payload in path:
        dialogue.refresh_from_db()
        if dialogue.step == step:
            return
        services.move_submit(
            session_public_id=dialogue.public_id,
            user=user,
            move=move,
            payload=payload,
            token=form_token(),
        )
    dialogue.refresh_from_db()
    assert dialogue.step == step


def panel_of(body: str) -> str:
    return re.search(r'<section id="move-panel".*?</section>', body, re.S)[0]


def form_of(panel: str, move: str) -> str:
    return re.search(
        rf'<form[^>]*>(?:(?!</form>).)*?name="move" value="{move}"(?:(?!</form>).)*</form>',
        panel,
        re.S,
    )[0]


@pytest.mark.parametrize(
    ("step", "answer", "correction"),
    [
        ("check", "got_it", "not_quite"),
        ("summary_check", "got_it_all", "add"),
        ("empathy_check", "confirm", "add"),
    ],
)
def test_a_check_offers_two_clear_choices_and_the_correction_box_opens_only_after_one(
    client_as, dialogue, alex, sam, step, answer, correction
):
    to_step(dialogue, alex, sam, step)
    panel = panel_of(client_as("alex").get(url("detail", dialogue)).content.decode())
    yes = form_of(panel, answer)
    assert "<textarea" not in yes and "data-stem" not in yes  # one click, and nothing to paste
    assert 'class="primary"' in yes
    # The correction sits closed behind its own button, with its own stems and send button.
    details = re.search(r'<details class="opens-first">(.*?)</details>', panel, re.S)[1]
    assert f'value="{correction}"' in details and "<textarea" in details
    assert "data-stem" in details and "Yes, you got it" not in details
    assert panel.count("data-stem") == details.count("data-stem")  # no stem outside it
    summary = re.search(r"<summary.*?</summary>", details, re.S)[0]
    assert 'type="submit"' not in summary  # opening the box sends nothing


def test_a_refused_correction_comes_back_open_with_what_was_written(client_as, dialogue, alex, sam):
    to_step(dialogue, alex, sam, "check")
    client = client_as("alex")
    fields = form_fields(client.get(url("detail", dialogue)).content.decode(), "not_quite")
    response = client.post(url("move", dialogue), {**fields, "text": "x" * 2001}, **HTMX)
    assert response.status_code == 422
    assert b'<details class="opens-first" open>' in response.content


def test_the_empathy_picker_writes_into_the_sentence_box(client_as, dialogue, alex, sam):
    to_step(dialogue, alex, sam, "empathy")
    panel = panel_of(client_as("sam").get(url("detail", dialogue)).content.decode())
    form = form_of(panel, "empathize")
    box = re.search(r'<textarea id="([^"]+)"', form)[1]
    assert f'data-feelings-into="{box}"' in form
    assert 'data-feelings-stem="I imagine you might be feeling …"' in form
    assert form.index('<fieldset class="feelings"') < form.index("<textarea")  # tick, then read
    assert form.count('name="feelings"') == len(FEELINGS)


def test_the_page_says_whose_move_it_is_and_offers_a_jump_to_the_form(client_as, dialogue):
    sam_page = client_as("sam").get(url("detail", dialogue)).content.decode()
    assert re.search(
        r'<section id="move-panel"[^>]* data-your-move="Is now a good time\?"', sam_page
    )
    assert (
        'href="#move-panel" data-jump' in sam_page and 'id="status-line" tabindex="-1"' in sam_page
    )
    assert "data-notify" not in panel_of(sam_page)  # not offered while it is your move
    alex_page = client_as("alex").get(url("detail", dialogue)).content.decode()
    assert "data-your-move=" not in panel_of(alex_page) and "data-jump" not in alex_page
    # Waiting: notifications are offered by a button; nothing asks the browser by itself.
    assert "data-notify-ask" in panel_of(alex_page)
    assert 'rel="icon"' in alex_page and "favicon-your-move.svg" in alex_page


def test_a_paused_dialogue_is_nobodys_move(client_as, paused):
    for who in ("alex", "sam"):
        body = client_as(who).get(url("detail", paused)).content.decode()
        assert "data-your-move=" not in panel_of(body)


# --- every kind, on the same pages, with no code per kind -----------------------------------


def _payload_for(move, request_count: int, n: int) -> dict:
    payload: dict[str, object] = {}
    for f in move.fields:
        if f.name == "text":
            payload["text"] = f"Words number {n}."
        elif f.name == "feelings":
            payload["feelings"] = ["hopeful"]
        elif f.name == "items":
            payload["items"] = ["Would you be willing to walk with me on Sunday?"]
        elif f.name == "choice":
            payload["choice"] = "0"
        elif f.name == "rating":
            payload["rating"] = "5"
    return payload


@pytest.mark.parametrize("kind", [k.value for k in protocol.Kind])
def test_every_kind_walks_to_the_end_on_the_same_pages(
    kind, pair, alex, sam, link, therapist, client_as
):
    """Each step of every kind shows on both partners' pages and the therapist's console; the
    transcript and each partner's export hold every answer, in the protocol's own words."""
    session = services.dialogue_start(user=alex, kind=kind, topic="Our week")
    people = {session.partner_a_id: alex, session.partner_b_id: sam}
    clients = {"alex": client_as("alex"), "sam": client_as("sam"), "dr": client_as(therapist)}
    avoid = {"propose_time", "not_quite", "add", "there_is_more", "switch_roles", "switch_instead"}
    written = []
    for n in range(80):
        session.refresh_from_db()
        state = session.protocol_state
        if state.finished:
            break
        step = protocol.step_of(state)
        for who in ("alex", "sam"):
            page = text_of(clients[who].get(url("detail", session)))
            assert step.title in page, (kind, step.name, who)
        console = clients["dr"].get(reverse("therapists:console", args=[session.public_id]))
        assert console.status_code == 200 and step.title in text_of(console)
        slot = min(protocol.whose_turn(state))
        user = alex if slot == "a" else sam
        move = next(
            (m for m in protocol.allowed_moves(state, slot) if m.name not in avoid),
            protocol.allowed_moves(state, slot)[0],
        )
        payload = _payload_for(move, state.request_count, n)
        if "text" in payload:
            written.append(payload["text"])
        services.move_submit(
            session_public_id=session.public_id,
            user=user,
            move=move.name,
            payload=payload,
            at=session.step_seq,
            token=form_token(),
        )
    else:
        raise AssertionError(f"{kind} did not finish")
    assert set(people.values()) == {alex, sam}
    assert session.status == DialogueSession.Status.COMPLETED
    transcript = text_of(clients["alex"].get(url("transcript", session)))
    assert str(protocol.kind_info(kind).title) in transcript
    for text in written:
        assert text in transcript
    exported = clients["sam"].get(reverse("couples:your_data_export")).content.decode()
    for text in written:
        assert text in exported


# --- said aloud, and together on one device -----------------------------------------------


def test_a_partner_starts_a_dialogue_said_aloud(client_as, pair):
    client = client_as("alex")
    assert "We'll say it aloud" in text_of(client.get(reverse("dialogues:new")))
    response = client.post(
        reverse("dialogues:new"), {"kind": "intentional", "topic": "Sundays", "way": "aloud"}
    )
    assert response.status_code == 302
    assert DialogueSession.objects.get().protocol_state.aloud


def test_an_unknown_way_is_refused_and_nothing_starts(client_as, pair):
    response = client_as("alex").post(
        reverse("dialogues:new"), {"kind": "intentional", "topic": "Sundays", "way": "sing"}
    )
    assert response.status_code == 422 and "write or to say it aloud" in text_of(response)
    assert not DialogueSession.objects.exists()


@pytest.fixture
def aloud(pair, alex):
    return services.dialogue_start(user=alex, kind="intentional", topic="Sundays", aloud=True)


def test_said_aloud_the_mover_sees_the_stems_to_say_and_needs_no_text(client_as, aloud, sam):
    page = client_as("sam").get(url("detail", aloud)).content.decode()
    play(aloud, [(sam, "accept_now", {})])
    page = client_as("alex").get(url("detail", aloud)).content.decode()
    assert "Say it aloud:" in page and "When …, I feel …" in page
    assert "I&#x27;ve said it" in page and "Write it down too (optional)" in page
    textarea = re.search(r"<textarea[^>]*>", page)[0]
    assert "required" not in textarea
    fields = form_fields(page, "send")
    response = client_as("alex").post(url("move", aloud), fields, **HTMX)
    assert response.status_code == 200
    turn = Turn.objects.get(move="send")
    assert (turn.text, turn.data) == ("", {"aloud": True})
    waiting = text_of(client_as("alex").get(url("detail", aloud)))
    assert "Sam is mirroring what you said." in waiting
    mirror = text_of(client_as("sam").get(url("detail", aloud)))
    assert "Alex shared, aloud." in mirror and "You" not in mirror.split("Alex shared")[0][-4:]


def test_the_transcript_says_what_was_said_aloud_and_invents_no_text(client_as, aloud, alex, sam):
    play(aloud, [(sam, "accept_now", {}), (alex, "send", {}), (sam, "mirror", {})])
    for who, line in (("alex", "Sam mirrored, aloud."), ("sam", "You mirrored, aloud.")):
        transcript = text_of(client_as(who).get(url("transcript", aloud)))
        assert line in transcript
    export = client_as("sam").get(reverse("couples:your_data_export")).content.decode()
    assert '"said_aloud": true' in export


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_either_partner_switches_between_saying_and_writing(client_as, dialogue, htmx):
    extra = HTMX if htmx else {}
    response = client_as("sam").post(url("aloud", dialogue), {"aloud": "1"}, **extra)
    assert response.status_code == (200 if htmx else 302)
    dialogue.refresh_from_db()
    assert dialogue.protocol_state.aloud
    response = client_as("alex").post(url("aloud", dialogue), {"aloud": "0"}, **extra)
    dialogue.refresh_from_db()
    assert not dialogue.protocol_state.aloud
    assert "chose to write the dialogue" in text_of(client_as("sam").get(url("detail", dialogue)))


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("action", ["aloud", "together"])
def test_nobody_else_switches_or_takes_a_device(client_as, dialogue, who, action):
    response = client_as(who).post(url(action, dialogue), {"aloud": "1", "on": "1"}, **HTMX)
    assert response.status_code == 404
    assert Turn.objects.count() == 1


@pytest.mark.parametrize("action", ["aloud", "together"])
def test_switching_needs_a_post_and_a_login(client_as, dialogue, action):
    assert client_as("alex").get(url(action, dialogue)).status_code == 405
    response = client_as("anonymous").post(url(action, dialogue), {"on": "1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_together_is_refused_with_a_clear_message_without_permission(client_as, aloud):
    page = text_of(client_as("alex").get(url("detail", aloud)))
    assert "Take turns together on this device" not in page
    assert "Sam allows it once from their own account settings" in page
    response = client_as("alex").post(url("together", aloud), {"on": "1"}, **HTMX)
    assert response.status_code == 422
    assert "Sam hasn't allowed taking turns together on your device" in text_of(response)
    assert aloud.turns.count() == 1


def test_together_on_one_device_shows_whose_move_by_name(client_as, aloud, alex, sam):
    from couples import services as couple_services

    couple_services.device_sharing_allow(user=sam)
    alex_client = client_as("alex")
    assert "Take turns together on this device, with Sam" in text_of(
        alex_client.get(url("detail", aloud))
    )
    assert alex_client.post(url("together", aloud), {"on": "1"}, **HTMX).status_code == 200
    page = alex_client.get(url("detail", aloud)).content.decode()
    assert "Sam's move" in page and 'name="for" value="partner"' in page
    response = alex_client.post(url("move", aloud), form_fields(page, "accept_now") | {
        "for": "partner"
    }, **HTMX)  # fmt: skip
    assert response.status_code == 200
    turn = Turn.objects.get(move="accept_now")
    assert (turn.actor, turn.made_by) == (sam, alex)
    assert "Sam · Is now a good time? (on your device)" in text_of(
        alex_client.get(url("detail", aloud))
    )
    assert "You · Is now a good time? (on Alex's device)" in text_of(
        client_as("sam").get(url("detail", aloud))
    )
    page = alex_client.get(url("detail", aloud)).content.decode()
    assert "Alex's move" in page and 'name="for"' not in page


def test_settings_allow_and_withdraw_one_device_audited(client_as, aloud, alex, sam):
    from security.models import AuditEvent

    client = client_as("sam")
    settings_page = text_of(client.get(reverse("couples:account_settings")))
    assert "Allow Alex to take my turns on their device" in settings_page
    assert client.post(reverse("couples:device_sharing"), {"allow": "1"}).status_code == 302
    assert "Withdraw this permission" in text_of(client.get(reverse("couples:account_settings")))
    client_as("alex").post(url("together", aloud), {"on": "1"}, **HTMX)
    client.post(reverse("couples:device_sharing"), {"allow": "0"})
    aloud.refresh_from_db()
    assert aloud.shared_device is None
    assert list(AuditEvent.objects.filter(action__startswith="device_sharing").values_list(
        "action", "actor"
    ).order_by("pk")) == [
        ("device_sharing.allowed", sam.pk),
        ("device_sharing.revoked", sam.pk),
    ]  # fmt: skip


@pytest.mark.parametrize("value", ["", "yes", "2", "1\x00", "<b>1</b>"])
@pytest.mark.parametrize("action, name", [("aloud", "aloud"), ("together", "on")])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_switch_with_a_value_no_button_sends_is_refused_and_changes_nothing(
    client_as, dialogue, action, name, value, htmx
):
    response = client_as("alex").post(
        url(action, dialogue), {name: value}, **(HTMX if htmx else {})
    )
    assert response.status_code == 400
    if "\x00" not in value:  # a NUL byte is refused before any view (imago_site middleware)
        assert "that choice wasn't one of the buttons" in text_of(response)
    assert dialogue.turns.count() == 1
