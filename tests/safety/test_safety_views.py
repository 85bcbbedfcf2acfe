"""The private safety page, support lines, the neutral exit page and the admin, as each role;
around dialogues: what the other partner may learn (only "not ready yet"), the check-in and its
cooling path, the calm time-out."""

import html
import re

import pytest
from django.urls import reverse

from couples.models import Couple
from dialogues import services
from dialogues.models import DialogueSession, Turn
from safety import selectors as safety
from safety import services as safety_services
from safety.models import SafetyScreening, SupportResource
from tests.factories import put_in_state, screen
from tests.helpers import form_token

PAGE = reverse("safety:page")
POSTS = {
    "safety:answer": {"afraid": "often"},
    "safety:ready": {"ready": "1"},
    "safety:share": {"shared": "1"},
}

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


def test_a_partner_is_asked_the_questions_privately(client_as, unscreened):
    response = client_as("alex").get(PAGE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Only you can see this page" in body
    for question in safety.QUESTIONS:
        assert str(question.text) in html.unescape(body)
    assert body.count('value="" checked') == len(safety.QUESTIONS)  # skipping is the default
    assert "no-store" in response["Cache-Control"]


def test_a_concern_shows_support_lines_and_individual_help_first(client_as, unscreened):
    SupportResource.objects.create(
        country="GB", country_name="United Kingdom", kind="crisis", name="Kind Line", phone="0800 1"
    )
    client = client_as("sam")
    response = client.post(reverse("safety:answer"), {"afraid": "often", "country": "GB"})
    assert response.status_code == 302 and response["Location"] == PAGE
    body = client.get(PAGE).content.decode()
    assert "Thank you for telling us" in body and "comes first" in body
    assert "Kind Line" in body and 'href="tel:08001"' in body
    assert "I want to go on anyway" in body
    screening = SafetyScreening.objects.get(user__email="sam@example.com")
    assert screening.needs_attention and not screening.ready and screening.country == "GB"


def test_without_a_concern_the_person_still_decides_when_to_go_on(client_as, unscreened):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"afraid": "no"})
    body = client.get(PAGE).content.decode()
    assert "Thank you for telling us" not in body and "I'm ready to start" in body
    client.post(reverse("safety:ready"), {"ready": "1"})
    assert SafetyScreening.objects.get(user__email="alex@example.com").ready
    assert "I'm not ready after all" in html.unescape(client.get(PAGE).content.decode())


def test_the_person_chooses_whether_a_therapist_may_read_the_answers(client_as, unscreened):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"hurt": "yes"})
    client.post(reverse("safety:share"), {"shared": "1"})
    assert SafetyScreening.objects.get().shared_with_therapist
    assert "Stop sharing my answers" in client.get(PAGE).content.decode()
    client.post(reverse("safety:share"), {"shared": "0"})
    assert not SafetyScreening.objects.get().shared_with_therapist


def test_retaking_shows_the_earlier_answers(client_as, unscreened):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"control": "sometimes"})
    body = client.get(PAGE + "?retake=1").content.decode()
    assert 'name="control" value="sometimes" checked' in body


def test_the_country_can_be_changed_for_the_lines(client_as, unscreened):
    SupportResource.objects.create(
        country="US", country_name="United States", kind="crisis", name="US line"
    )
    client = client_as("alex")
    client.post(reverse("safety:answer"), {})
    assert "US line" not in client.get(PAGE).content.decode()
    assert "US line" in client.get(PAGE + "?country=US").content.decode()


@pytest.mark.parametrize("data", [{"afraid": "maybe"}, {"crisis": "x" * 3000}])
def test_bad_answers_get_a_kind_message_and_change_nothing(client_as, unscreened, data):
    response = client_as("alex").post(reverse("safety:answer"), data)
    assert response.status_code == 422
    assert "Please choose one of the answers offered" in response.content.decode()
    assert not SafetyScreening.objects.exists()


@pytest.mark.parametrize("name", ["safety:ready", "safety:share"])
@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_a_malformed_decision_changes_nothing(client_as, unscreened, name, value):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"afraid": "often"})
    field = "ready" if name.endswith("ready") else "shared"
    client.post(reverse(name), {field: value})
    screening = SafetyScreening.objects.get()
    assert not screening.ready and not screening.shared_with_therapist


def test_deciding_before_answering_is_refused_kindly(client_as, unscreened):
    response = client_as("alex").post(reverse("safety:ready"), {"ready": "1"}, follow=True)
    assert "Please answer the questions first" in response.content.decode()
    assert not SafetyScreening.objects.exists()


@pytest.mark.parametrize("name", [PAGE, *[reverse(n) for n in POSTS]])
def test_anonymous_visitors_are_sent_to_log_in(client_as, unscreened, name):
    response = (
        client_as("anonymous").post(name) if name != PAGE else client_as("anonymous").get(name)
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["therapist", "unverified_therapist", "staff"])
@pytest.mark.parametrize("name", list(POSTS))
def test_therapists_and_staff_have_no_questions_to_answer(client_as, unscreened, who, name):
    client = client_as(who)
    assert client.get(PAGE).status_code == 302
    response = client.post(reverse(name), POSTS[name])
    assert response.status_code == 302 and response["Location"] == "/"
    assert not SafetyScreening.objects.exists()


def test_someone_without_a_couple_sees_the_lines_and_answers_later(client_as, unscreened):
    client = client_as("single")
    body = client.get(PAGE).content.decode()
    assert "Once you've started a couple" in html.unescape(body)
    assert "Support lines" in body
    response = client.post(reverse("safety:answer"), {"afraid": "no"})
    assert response.status_code == 422 and not SafetyScreening.objects.exists()


@pytest.mark.parametrize("name", list(POSTS))
def test_writes_need_a_post(client_as, unscreened, name):
    assert client_as("alex").get(reverse(name)).status_code == 405


def test_each_person_sees_only_their_own_answers(client_as, unscreened, sam):
    safety_services.screening_save(user=sam, answers={"hurt": "yes", "addiction": "yes"})
    safety_services.screening_set_shared(user=sam, shared=True)
    body = client_as("alex").get(PAGE).content.decode()
    assert "Thank you for telling us" not in body and "Your answers" not in body


# --- what the other partner sees: never why -------------------------------------------------------


def alex_sees(client, *, dialogue=None) -> dict[str, str]:
    """What the client (logged in as Alex) reads on each page about starting a dialogue."""
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


def test_the_partner_sees_the_same_neutral_words_whatever_the_reason(client_as, unscreened):
    alex, sam = unscreened
    screen(alex)
    seen = {}
    for state in ["not_started", "calm_not_ready", "concern_not_ready"]:
        put_in_state(sam, state)
        seen[state] = alex_sees(client_as(alex))
    for name, body in seen["not_started"].items():
        assert "Your partner isn't ready to start yet." in html.unescape(body), name
        assert revealing(body) is None, (name, revealing(body))
        for state in ["calm_not_ready", "concern_not_ready"]:
            assert neutral(seen[state][name]) == neutral(body), (name, state)
    assert not DialogueSession.objects.exists()


def test_the_partner_sees_the_same_on_the_dialogue_page_whatever_the_reason(
    client_as, dialogue, alex, sam
):
    seen = {}
    for state in ["calm_not_ready", "concern_not_ready"]:
        put_in_state(sam, state)
        seen[state] = alex_sees(client_as(alex), dialogue=dialogue)
    for name in ["dialogue", "transcript", "home"]:
        body = seen["concern_not_ready"][name]
        assert neutral(body) == neutral(seen["calm_not_ready"][name]), name
        assert revealing(body) is None, (name, revealing(body))
    dialogue_page = html.unescape(seen["calm_not_ready"]["dialogue"])
    assert "Your partner isn't ready to start yet." in dialogue_page


def test_the_partner_pages_never_carry_the_answers(client_as, unscreened):
    alex, sam = unscreened
    screen(alex)
    safety_services.screening_save(
        user=sam, answers={"afraid": "often", "hurt": "yes", "crisis": "yes"}
    )
    safety_services.screening_set_shared(user=sam, shared=True)
    safety_services.screening_set_ready(user=sam, ready=True)
    session = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    client = client_as(alex)
    for name, body in alex_sees(client, dialogue=session).items():
        assert revealing(body) is None, (name, revealing(body))
    assert "Thank you for telling us" not in client.get(reverse("safety:page")).content.decode()


def test_the_person_who_is_not_ready_is_shown_their_own_page(client_as, unscreened):
    alex, sam = unscreened
    screen(alex)
    client = client_as(sam)
    home = client.get("/").content.decode()
    assert reverse("safety:page") in home and "Answer the private questions" in home
    assert reverse("safety:page") in client.get(NEW).content.decode()
    put_in_state(sam, "concern_not_ready")
    home = html.unescape(client.get("/").content.decode())
    assert "You haven't said you're ready" in home


# --- the check-in before starting -----------------------------------------------------------------


def test_the_start_page_has_the_ground_rules_and_a_private_check_in(client_as, pair, alex):
    client = client_as(alex)
    body = html.unescape(client.get(NEW).content.decode())
    for rule in ("One topic", "No blame", "Equal time", "call a time-out"):
        assert rule in body
    assert "Hungry, angry, lonely or tired?" in body and 'name="intensity" value="10"' in body
    assert "Not shown to Sam" in body


@pytest.mark.parametrize("intensity", ["8", "9", "10"])
def test_at_8_or_more_a_cooling_period_is_suggested_first(client_as, pair, alex, intensity):
    client = client_as(alex)
    data = {"kind": "intentional", "topic": "Money <b>now</b>", "intensity": intensity}
    response = client.post(NEW, data)
    body = response.content.decode()
    assert response.status_code == 200 and "Maybe not right now" in body
    assert "breath-circle" in body and "Breathe in" in body and "Come back later" in body
    assert 'name="anyway" value="1"' in body and 'value="Money &lt;b&gt;now&lt;/b&gt;"' in body
    assert not DialogueSession.objects.exists()


def test_start_anyway_starts(client_as, pair, alex):
    client = client_as(alex)
    data = {"kind": "intentional", "topic": "Money", "intensity": "9", "halt": ["angry"]}
    response = client.post(NEW, {**data, "anyway": "1"})
    session = DialogueSession.objects.get()
    assert response.status_code == 302 and session.topic == "Money"
    assert not any("9" in t.text for t in Turn.objects.exclude(seq=1))  # not stored


def test_below_8_it_starts_at_once(client_as, pair, alex):
    client = client_as(alex)
    response = client.post(NEW, {"kind": "intentional", "topic": "Money", "intensity": "7"})
    assert response.status_code == 302 and DialogueSession.objects.count() == 1


def test_hungry_angry_lonely_or_tired_gets_a_gentle_word_first(client_as, pair, alex):
    client = client_as(alex)
    body = client.post(
        NEW,
        {"kind": "intentional", "topic": "Money", "halt": ["hungry", "tired"], "intensity": "3"},
    ).content.decode()
    assert "hungry, tired" in body and "eat something, rest" in body
    assert "breath-circle" not in body and not DialogueSession.objects.exists()


@pytest.mark.parametrize("data", [{"intensity": "11"}, {"intensity": "calm"}, {"halt": "bored"}])
def test_a_check_in_with_values_not_offered_changes_nothing(client_as, pair, alex, data):
    client = client_as(alex)
    response = client.post(NEW, {"kind": "intentional", "topic": "Money", **data})
    assert response.status_code == 422 and b"Please" in response.content
    assert not DialogueSession.objects.exists()


# --- the receiver's check-in at the appointment ---------------------------------------------------


def move_url(session):
    return reverse("dialogues:move", args=[session.public_id])


def test_the_receiver_gets_the_check_in_with_the_appointment(client_as, dialogue, alex, sam):
    body = (
        client_as(sam).get(reverse("dialogues:detail", args=[dialogue.public_id])).content.decode()
    )
    assert "Hungry, angry, lonely or tired?" in body
    body = (
        client_as(alex).get(reverse("dialogues:detail", args=[dialogue.public_id])).content.decode()
    )
    assert "Hungry, angry, lonely or tired?" not in body  # not Alex's move


def test_a_hot_receiver_is_offered_a_later_time_first(client_as, dialogue, alex, sam):
    client = client_as(sam)
    response = client.post(
        move_url(dialogue),
        {"move": "accept_now", "at": "1", "intensity": "9", "token": form_token()},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Maybe not right now" in body
    assert "breath-circle" in body and "Start anyway" in body
    assert 'value="propose_time"' in body and 'name="anyway" value="1"' in body
    dialogue.refresh_from_db()
    assert dialogue.step == "appointment" and dialogue.seq == 1
    # Nothing of it reaches Alex.
    page = visible_main(
        client_as(alex).get(reverse("dialogues:detail", args=[dialogue.public_id])).content.decode()
    )
    assert not REVEALING.search(page) and "Maybe not" not in page
    # Sam may still go on.
    accept = {"move": "accept_now", "at": "1", "anyway": "1", "token": form_token()}
    client.post(move_url(dialogue), accept, **HTMX)
    dialogue.refresh_from_db()
    assert dialogue.step == "send"


def test_a_hot_receiver_without_htmx_gets_the_whole_page(client_as, dialogue, alex, sam):
    client = client_as(sam)
    response = client.post(
        move_url(dialogue),
        {"move": "accept_now", "at": "1", "intensity": "8", "token": form_token()},
    )
    assert response.status_code == 200 and b"Maybe not right now" in response.content
    assert b"<html" in response.content


def test_a_calm_receiver_accepts_at_once(client_as, dialogue, alex, sam):
    client = client_as(sam)
    accept = {"move": "accept_now", "at": "1", "intensity": "2", "token": form_token()}
    client.post(move_url(dialogue), accept, **HTMX)
    dialogue.refresh_from_db()
    assert dialogue.step == "send"


def test_a_receivers_bad_check_in_changes_nothing(client_as, dialogue, alex, sam):
    client = client_as(sam)
    response = client.post(
        move_url(dialogue), {"move": "accept_now", "at": "1", "intensity": "99"}, **HTMX
    )
    assert response.status_code == 422 and b"from 1 to 10" in response.content
    dialogue.refresh_from_db()
    assert dialogue.seq == 1


def test_the_starter_cannot_use_the_check_in_to_make_the_receivers_move(
    client_as, dialogue, alex, sam
):
    client = client_as(alex)
    response = client.post(
        move_url(dialogue),
        {"move": "accept_now", "at": "1", "intensity": "9", "token": form_token()},
        **HTMX,
    )
    assert response.status_code == 422 and b"Maybe not right now" not in response.content
    dialogue.refresh_from_db()
    assert dialogue.seq == 1


# --- the calm time-out ----------------------------------------------------------------------------


def test_the_time_out_is_a_calm_screen_for_both(client_as, paused, alex, sam):
    for person in (alex, sam):
        body = (
            client_as(person)
            .get(reverse("dialogues:detail", args=[paused.public_id]))
            .content.decode()
        )
        assert "breath-circle" in body and "Breathe in…" in body and "Breathe out…" in body
        assert "breath-static" in body  # the text for people who prefer no motion
        assert re.search(r'role="timer" data-elapsed="\d+">\d+:\d\d<', body)
        assert "I&#x27;m ready to go on" in body or "I'm ready to go on" in body


# --- the neutral page "Exit" leads to ---------------------------------------------------------


@pytest.mark.parametrize("who", ["alex", "anonymous", "therapist"])
def test_the_exit_page_is_plain_and_says_nothing_about_imago(client_as, unscreened, who):
    response = client_as(who).get(reverse("notes"))
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Notes</title>" in body
    for word in ("Imago", "imago.css", "imago.js", "ws-connect", "dialogue", "<script", "Exit"):
        assert word not in body


def test_every_page_has_a_quick_exit(client_as, unscreened):
    for who, path in [("anonymous", "/"), ("alex", "/"), ("alex", PAGE), ("staff", "/")]:
        body = client_as(who).get(path).content.decode()
        assert f'href="{reverse("notes")}" data-quick-exit' in body


def test_the_dialogue_page_has_a_quick_exit_and_short_shared_ground_rules(
    client_as, dialogue, alex
):
    body = (
        client_as(alex).get(reverse("dialogues:detail", args=[dialogue.public_id])).content.decode()
    )
    assert f'href="{reverse("notes")}" data-quick-exit' in body
    assert "Either of you can call a time-out at any moment." in body
    assert Couple.objects.count() == 1


# --- the admin: support lines yes, answers never -------------------------------------------------


def test_admins_edit_support_lines_but_never_see_answers(client_as, unscreened, sam, staff):
    screen(sam, concern=True)
    SafetyScreening.objects.filter(user=sam).update(answers={"afraid": "often-secret"})
    client = client_as(staff)
    staff.is_superuser = True
    staff.save()
    index = client.get("/admin/").content.decode()
    assert "Support resources" in index and "screening" not in index.lower()
    assert client.get("/admin/safety/supportresource/").status_code == 200
    assert client.get("/admin/safety/safetyscreening/").status_code == 404
    user_page = client.get(f"/admin/couples/user/{sam.pk}/change/").content.decode()
    assert "often-secret" not in user_page and "needs_attention" not in user_page


def test_once_ready_the_page_offers_the_next_step(client_as, unscreened):
    _, sam = unscreened
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"afraid": "no"})
    client.post(reverse("safety:ready"), {"ready": "1"})
    body = html.unescape(client.get(PAGE).content.decode())
    # Sam hasn't answered yet: home is where "Start a dialogue" appears (no reason given).
    assert "Your partner isn't ready to start yet." in body
    assert 'href="/">Go to your home page</a>' in body and f'href="{NEW}"' not in body
    screen(sam)
    body = html.unescape(client.get(PAGE).content.decode())
    assert "Sam is ready too." in body and f'href="{NEW}">Start a dialogue</a>' in body


def test_without_a_partner_yet_the_next_step_is_home(client_as, alex):
    from couples import services as couple_services

    couple_services.couple_create(user=alex, partner_email="")
    client = client_as(alex)
    client.post(reverse("safety:answer"), {"afraid": "no"})
    client.post(reverse("safety:ready"), {"ready": "1"})
    body = html.unescape(client.get(PAGE).content.decode())
    assert "Once your partner has joined you" in body and "Go to your home page" in body
