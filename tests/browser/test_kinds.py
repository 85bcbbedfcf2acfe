"""The Parent-Child Dialogue and the Exits dialogue, live in two browsers (each step shows on
the other side without a reload), and a therapist starting a Parent-Child Dialogue for the
couple from their page, then facilitating it from the console: three browsers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dialogues import protocol, services
from dialogues.models import DialogueSession, Turn
from tests.browser.test_dialogue import act

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def screenshots(page: Page, artifacts_dir, name: str) -> None:
    size = page.viewport_size
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"kinds-{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


class Live:
    """Two partners' pages on one dialogue: each move is made in one browser and its step
    checked, live, in the other (the next step's title for whoever acts, the protocol's
    waiting words for whoever waits), and both transcripts hold every turn."""

    def __init__(self, session: DialogueSession, pages: dict[int, Page]):
        self.session = session
        self.pages = pages  # user pk -> page

    def move(self, who, button: str, **kwargs) -> None:
        page = self.pages[who.pk]
        (other_pk,) = set(self.pages) - {who.pk}
        other = self.pages[other_pk]
        turns = Turn.objects.filter(session=self.session).count() + 1  # each move is a turn
        act(page, other, button, **kwargs)
        for shown in self.pages.values():
            expect(shown.locator("#transcript > li")).to_have_count(turns)
        self.session.refresh_from_db()
        state = self.session.protocol_state
        step = protocol.step_of(state)
        for pk, shown in self.pages.items():
            if state.finished:
                continue
            slot = self.session.slot_of_pk(pk)
            if slot in protocol.whose_turn(state):
                expect(shown.locator("#move-panel")).to_contain_text(step.title)
            else:
                actor = self.session.partner_in(min(protocol.whose_turn(state)))
                waiting = protocol.waiting_message(state, actor.display_name)
                expect(shown.locator("#move-panel")).to_contain_text(waiting)


def _open(session, alex, sam, page_as) -> tuple[Live, Page, Page]:
    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    for page in (a, s):
        page.goto(f"/dialogues/{session.public_id}/")
    expect(a.locator("#presence")).to_contain_text("Sam is here")
    expect(s.locator("#presence")).to_contain_text("Alex is here")
    return Live(session, {alex.pk: a, sam.pk: s}), a, s


def test_a_whole_parent_child_dialogue_live_in_two_browsers(
    pair, alex, sam, page_as, artifacts_dir
):
    session = services.dialogue_start(user=alex, kind="parent_child", topic="Growing up")
    live, a, s = _open(session, alex, sam, page_as)
    expect(a.locator(".reflection-link")).to_contain_text("Your childhood reflections")
    live.move(sam, "I'm available now")
    live.move(alex, "Ask my partner to be them", text="Please be my father.")
    expect(s.locator("#move-panel")).to_contain_text("I am your … What was it like to live")
    live.move(sam, "Ask", text="I am your father. What was it like to live with me?")
    live.move(alex, "Answer", text="Living with you was quiet; I was often alone.")
    live.move(sam, "Mirror back", text="If I got it, living with me was quiet and lonely.")
    live.move(alex, "Not quite", text="Not quite: I was often alone, waiting for you.")
    live.move(sam, "Mirror back", text="You were often alone, waiting for me. Did I get it?")
    live.move(alex, "Yes, you got it")
    for question, answer, mirror in (
        (
            "What was the worst of it?",
            "The worst was when you didn't come to my recital.",
            "The worst was that I missed your recital.",
        ),
        (
            "What did you need most from me that you didn't get?",
            "I needed you to notice me.",
            "You needed me to notice you.",
        ),
        (
            "What do you need most from me now, as your partner?",
            "Now I need you to ask about my day and listen.",
            "Now you need me to ask about your day and listen.",
        ),
    ):
        live.move(sam, question)
        live.move(alex, "Answer", text=answer)
        live.move(sam, "Mirror back", text=mirror)
        live.move(alex, "Yes, you got it", shows=mirror)
    # Sam steps out of the role: validation and empathy, as the partner.
    expect(s.locator("#move-panel")).to_contain_text("Step out of the role")
    live.move(sam, "Share validation", text="You make sense: a child needs to be noticed.")
    live.move(sam, "Share empathy", text="I imagine you felt lonely.", feelings=("lonely",))
    live.move(alex, "Yes, that's it")
    screenshots(s, artifacts_dir, "parent-child-switch")
    live.move(alex, "Switch roles")
    expect(s.locator("#move-panel")).to_contain_text("Who will your partner be?")
    live.move(sam, "Ask my partner to be them", text="Please be my mother.")
    live.move(alex, "Ask", text="I am your mother. What was it like to live with me?")
    live.move(sam, "Answer", text="Busy. You were always busy.")
    live.move(alex, "Mirror back", text="I was always busy.")
    live.move(sam, "Yes, you got it", shows="I was always busy.")
    # (the facilitator's shortcut is not needed: the couple may close once both were heard)
    for question in (
        "What was the worst of it?",
        "What did you need most from me that you didn't get?",
        "What do you need most from me now, as your partner?",
    ):
        live.move(alex, question)
        live.move(sam, "Answer", text=f"About {question[:12]}: time with you.")
        live.move(alex, "Mirror back", text=f"You wanted time with me ({question[:12]}).")
        live.move(sam, "Yes, you got it", shows=f"({question[:12]})")
    live.move(alex, "Share validation", text="That makes sense.")
    live.move(alex, "Share empathy", text="Lonely, I imagine.", feelings=("sad",))
    live.move(sam, "Yes, that's it")
    live.move(sam, "Move to closing")
    live.move(alex, "Share and close", text="I appreciate your courage.", rating=5)
    live.move(sam, "Share and close", text="I appreciate your gentleness.", rating=5)
    for page in (a, s):
        expect(page.locator("#status-bar")).to_contain_text("Complete")
    screenshots(a, artifacts_dir, "parent-child-complete")


def test_an_exits_dialogue_live_in_two_browsers(pair, alex, sam, page_as, artifacts_dir):
    session = services.dialogue_start(user=sam, kind="exits", topic="My phone")
    live, a, s = _open(session, alex, sam, page_as)
    live.move(alex, "I'm available now")
    live.move(
        sam, "Send", text="An exit I'd like to close is my phone at dinner; I avoid the silence."
    )
    live.move(alex, "Mirror back", text="You'd like to close the phone at dinner.")
    live.move(sam, "Yes, you got it")
    live.move(alex, "Share validation", text="It makes sense that silence feels hard.")
    live.move(alex, "Share empathy", text="Nervous, hopeful.", feelings=("hopeful",))
    live.move(sam, "Add a feeling", text="I also feel a bit ashamed.", feelings=("ashamed",))
    live.move(alex, "Share empathy", text="Hopeful and a bit ashamed.", feelings=("ashamed",))
    live.move(sam, "Yes, that's it")
    screenshots(a, artifacts_dir, "exits-switch")
    live.move(sam, "Suggest closing")
    live.move(alex, "Yes, let's close")
    live.move(sam, "Share and close", text="I appreciate you listening.", rating=5)
    live.move(alex, "Share and close", text="I appreciate your honesty.", rating=4)
    for page in (a, s):
        expect(page.locator("#status-bar")).to_contain_text("Complete")


def test_a_therapist_starts_a_parent_child_dialogue_from_their_page(
    link, pair, alex, sam, therapist, page_as, artifacts_dir
):
    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    t = page_as(therapist)
    a.goto("/")
    s.goto("/")
    t.goto(f"/therapist/couples/{pair.public_id}/")
    t.get_by_text("Start a dialogue with them now").click()
    screenshots(t, artifacts_dir, "therapist-start")
    start = t.get_by_role("region", name="Dialogues", exact=True)  # not the booking form
    start.get_by_label("Kind of dialogue").select_option(label="Parent-Child Dialogue")
    start.get_by_label("Who goes first").select_option(label="Alex")
    start.get_by_label("What it is about, in a few words").fill("Growing up")
    start.get_by_role("button", name="Start and open the console").click()
    expect(t.locator("#console-state")).to_contain_text("Parent-Child Dialogue")
    expect(t.locator("#console-state")).to_contain_text("Is now a good time?")
    expect(t.locator(".reflection-link")).to_be_visible()
    session = DialogueSession.objects.get()
    assert session.kind == "parent_child" and session.partner_a_id == alex.pk
    # The partners' home pages learn of it live; each opens the dialogue.
    for page in (a, s):
        page.get_by_role("link", name="Open the dialogue").click()
    live = Live(session, {alex.pk: a, sam.pk: s})
    expect(s.locator("#transcript")).to_contain_text("Dr. Rivera (therapist) asked to talk")
    for page in (a, s):
        expect(page.locator("#facilitator-presence")).to_contain_text("Dr. Rivera (therapist)")
    live.move(sam, "I'm available now")
    expect(t.locator("#console-state")).to_contain_text("Who will your partner be?")
    live.move(alex, "Ask my partner to be them", text="Please be my mother.")
    expect(t.locator("#transcript")).to_contain_text("Please be my mother.")
    live.move(sam, "Ask", text="I am your mother. What was it like to live with me?")
    expect(t.locator("#console-state")).to_contain_text("Alex (sender)")
    # The therapist steers: a word to both, seen live in both browsers.
    t.get_by_label("Your message").fill("Take your time, Alex. Speak as the little one.")
    t.get_by_label("Both partners").check()
    t.get_by_role("button", name="Send to both").click()
    for page in (a, s):
        expect(page.locator(".turn.coaching").last).to_contain_text("Speak as the little one.")
    screenshots(t, artifacts_dir, "therapist-console")
    screenshots(a, artifacts_dir, "parent-child-with-therapist")


def test_the_start_page_suggests_the_warm_up_the_first_time(pair, alex, page_as, artifacts_dir):
    a = page_as(alex)
    a.goto("/dialogues/new/")
    expect(a.locator(".kind-choice", has_text="Suggested")).to_contain_text("Appreciation warm-up")
    expect(a.get_by_label("Appreciation warm-up")).to_be_checked()
    expect(a.locator("#kind-parent_child-description")).to_contain_text(
        "Best with your therapist present"
    )
    screenshots(a, artifacts_dir, "start")


def test_a_reflection_shared_and_an_exit_closed_in_two_browsers(
    pair, alex, sam, page_as, artifacts_dir
):
    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    a.goto("/between/reflection/")
    expect(a.locator(".status.waiting")).to_contain_text("Private")
    a.get_by_label("What you wanted most as a child and didn't get").fill("To be listened to.")
    a.get_by_label("How you reacted then").fill("I went quiet.")
    a.get_by_role("button", name="Save my answers").click()
    expect(a.get_by_label("How you reacted then")).to_have_value("I went quiet.")
    s.goto("/between/reflection/")
    expect(s.locator("#shared-with-you")).to_contain_text("Alex hasn't shared a reflection")
    a.get_by_role("button", name="Share with Sam").click()
    expect(a.get_by_role("button", name="Stop sharing with Sam")).to_be_visible()
    screenshots(a, artifacts_dir, "reflection")
    s.reload()
    expect(s.locator("#shared-with-you")).to_contain_text("To be listened to.")
    screenshots(s, artifacts_dir, "reflection-shared")

    a.goto("/between/exits/")
    a.get_by_label("An exit of mine").fill("Scrolling my phone in bed")
    a.get_by_label("What I avoid by it (optional)").fill("Talking about the day")
    a.get_by_role("button", name="Add to my list").click()
    expect(a.locator(".exit-list")).to_contain_text("Scrolling my phone in bed")
    a.get_by_label("Reduce it").check()
    a.get_by_role("button", name="Agree to it").click()
    expect(a.locator(".exit-list")).to_contain_text("You agreed to reduce my exit")
    screenshots(a, artifacts_dir, "exits")
    s.goto("/")
    agreement = s.locator("article.agreement", has_text="Scrolling my phone in bed")
    expect(agreement).to_contain_text("Alex agreed to")
    expect(s.locator("main")).not_to_contain_text("Talking about the day")
    agreement.get_by_label("Send Alex a one-line appreciation").fill("Thank you for bedtime.")
    agreement.get_by_role("button", name="Send").click()
    expect(a.locator("#home-practice")).to_have_count(0)  # Alex is on the exits page
    a.goto("/")
    expect(a.locator("article.agreement")).to_contain_text("Thank you for bedtime.")


def test_the_start_page_is_short_on_a_phone_with_each_name_beside_its_button(
    pair, alex, page_as, artifacts_dir
):
    # It was 2,770 px tall at 375 px (the rules, the check-in and each kind described twice),
    # and the suggested kind's name wrapped below its button; then 1,385 at most, until the
    # choice to write or say it aloud (one legend, two options, one line of help) joined it.
    a = page_as(alex, viewport="phone")
    a.goto("/dialogues/new/")
    assert a.evaluate("document.scrollingElement.scrollHeight") < 1550
    for row in a.locator(".kind-choice").all():
        radio = row.locator("input[type=radio]").bounding_box()
        label = row.locator("label").bounding_box()
        assert radio and label
        assert label["x"] >= radio["x"] + radio["width"]  # beside it, not under it
        assert label["y"] < radio["y"] + radio["height"]
    # The rules and the kinds' whole descriptions are one tap away.
    a.get_by_text("Ground rules").click()
    expect(a.get_by_text("Either of you can call a time-out at any moment.")).to_be_visible()
    a.get_by_text("What happens in each kind").click()
    expect(a.locator("#kind-parent_child-description")).to_be_visible()
    a.screenshot(path=artifacts_dir / "start-375-open.png", full_page=True)
