"""The partner's move panel in a real browser: a check can't be answered the wrong way, the
empathy picker writes the sentence, the page says "your move" outside itself (tab title,
icon, an opt-in notification, a jump to the form), and focus goes somewhere meaningful after
every move."""

import pytest
from playwright.sync_api import expect

from couples.models import User
from dialogues import services
from tests.browser.test_dialogue import act
from tests.helpers import move, round_moves

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

YOUR_MOVE = "● Your move — Imago"
PLAIN_TITLE = "Intentional Dialogue · Imago"

# A stand-in for the browser's Notification API that records what the page asks of it; the
# permission it grants is kept in localStorage, like a browser remembers it for the site.
FAKE_NOTIFICATIONS = """
window.__asked = 0;
window.__shown = [];
window.__hidden = false;
class FakeNotification {
  constructor(title, options) { window.__shown.push({ title, body: options && options.body }); }
  close() {}
  static get permission() { return localStorage.getItem("fake-permission") || "default"; }
  static requestPermission() {
    window.__asked += 1;
    localStorage.setItem("fake-permission", "granted");
    return Promise.resolve("granted");
  }
}
window.Notification = FakeNotification;
Object.defineProperty(document, "hidden", { get: () => window.__hidden });
"""


def at_empathy(dialogue, alex, sam) -> None:
    """Sam accepts, and the round goes up to Sam's empathy (Alex has acknowledged)."""
    move(dialogue, sam, "accept_now")
    for who, name, payload in round_moves(alex, sam)[:9]:
        move(dialogue, who, name, **payload)


def open_both(page_as, dialogue, alex, sam, *, alex_viewport="desktop", sam_viewport="desktop"):
    a = page_as(alex, viewport=alex_viewport)
    s = page_as(sam, viewport=sam_viewport)
    for page in (a, s):
        page.goto(f"/dialogues/{dialogue.public_id}/")
        page.locator('#connection[data-state="open"]').wait_for()
    return a, s


def focused(page) -> str:
    return page.evaluate(
        "() => { const el = document.activeElement;"
        " return el.id || el.getAttribute('name') || el.tagName.toLowerCase(); }"
    )


def test_a_check_says_yes_in_one_click_and_opens_a_box_only_after_not_quite(
    page_as, dialogue, alex, sam
):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="When you sleep in, I feel lonely.")
    move(dialogue, sam, "mirror", text="You feel lonely when I sleep in.")
    a, s = open_both(page_as, dialogue, alex, sam, alex_viewport="phone")
    panel = a.locator("#move-panel")
    yes = panel.get_by_role("button", name="Yes, you got it", exact=True)
    not_quite = panel.locator("details.opens-first > summary")
    box = panel.locator("textarea")
    expect(yes).to_be_visible()
    expect(not_quite).to_have_text("Not quite", use_inner_text=True)
    expect(box).to_be_hidden()  # no box, no stem to paste into it, before "Not quite"
    expect(panel.locator("[data-stem]")).to_have_count(2)
    expect(panel.locator("[data-stem]").first).to_be_hidden()

    not_quite.click()
    expect(box).to_be_visible()
    expect(box).to_be_focused()
    expect(yes).to_be_hidden()  # while correcting, "yes" can't be pressed by mistake
    panel.get_by_role("button", name="What I meant was …").click()
    expect(box).to_have_value("What I meant was ")
    panel.locator("summary", has_text="Back: choose again").click()
    expect(yes).to_be_visible()
    expect(box).to_be_hidden()

    not_quite.click()
    box.fill("What I meant was on Sundays especially.")
    panel.get_by_role("button", name="Send, so they can mirror again").click()
    expect(s.locator("#transcript")).to_contain_text("on Sundays especially")
    expect(s.locator("#move-panel")).to_contain_text("Mirroring")
    assert dialogue.turns.order_by("-seq").first().move == "not_quite"


def test_ticked_feelings_survive_the_panel_being_redrawn_between_two_ticks(
    page_as, dialogue, alex, sam
):
    # A snapshot (on connect) or a reload redraws the panel: the first tick must not be
    # forgotten, or the next one starts a second sentence.
    at_empathy(dialogue, alex, sam)
    s = page_as(sam, viewport="phone")
    s.goto(f"/dialogues/{dialogue.public_id}/")
    s.locator('#connection[data-state="open"]').wait_for()
    form = s.locator("#move-panel form.move-form")
    form.get_by_label("sad", exact=True).check()
    expect(form.locator("textarea")).to_have_value("I imagine you might be feeling sad.")
    s.reload()
    s.locator('#connection[data-state="open"]').wait_for()
    form = s.locator("#move-panel form.move-form")
    expect(form.get_by_label("sad", exact=True)).to_be_checked()
    form.get_by_label("lonely", exact=True).check()
    expect(form.locator("textarea")).to_have_value("I imagine you might be feeling sad and lonely.")
    form.get_by_label("sad", exact=True).uncheck()
    expect(form.locator("textarea")).to_have_value("I imagine you might be feeling lonely.")


def test_ticking_a_feeling_writes_it_into_the_sentence_and_unticking_takes_it_out(
    page_as, dialogue, alex, sam, artifacts_dir
):
    at_empathy(dialogue, alex, sam)
    a, s = open_both(page_as, dialogue, alex, sam, sam_viewport="phone")
    form = s.locator("#move-panel form.move-form")
    box = form.locator("textarea")
    form.get_by_label("sad", exact=True).check()
    expect(box).to_have_value("I imagine you might be feeling sad.")
    form.get_by_label("lonely", exact=True).check()
    form.get_by_label("hurt", exact=True).check()
    expect(box).to_have_value("I imagine you might be feeling sad, lonely and hurt.")
    form.get_by_label("lonely", exact=True).uncheck()
    expect(box).to_have_value("I imagine you might be feeling sad and hurt.")
    form.get_by_label("sad", exact=True).uncheck()
    form.get_by_label("hurt", exact=True).uncheck()
    expect(box).to_have_value("")
    # Written by hand first: a tick adds to their words, an untick leaves them be.
    box.fill("I imagine you feel left out")
    form.get_by_label("rejected", exact=True).check()
    expect(box).to_have_value("I imagine you feel left out, rejected")
    # The whole step fits a phone in little more than two screens.
    height = s.locator("#move-panel").evaluate("el => el.getBoundingClientRect().height")
    assert height < 1500, height
    form.get_by_role("button", name="Share empathy").click()
    expect(a.locator("#transcript")).to_contain_text("left out, rejected")
    expect(a.locator("#transcript .chip", has_text="rejected")).to_be_visible()


def test_the_tab_title_and_icon_say_your_move_and_go_back_when_it_is_not(
    page_as, dialogue, alex, sam
):
    a, s = open_both(page_as, dialogue, alex, sam)
    expect(s).to_have_title(YOUR_MOVE)  # the page loads on Sam's move
    expect(a).to_have_title(PLAIN_TITLE)
    icon = a.locator("link[rel=icon]")
    expect(icon).to_have_attribute("href", "/static/img/favicon.svg")
    act(s, a, "I'm available now")
    expect(a).to_have_title(YOUR_MOVE)  # a push made it Alex's move
    expect(icon).to_have_attribute("href", "/static/img/favicon-your-move.svg")
    expect(s).to_have_title(PLAIN_TITLE)
    act(a, s, "Send", text="When you sleep in, I feel lonely.")
    expect(a).to_have_title(PLAIN_TITLE)
    expect(icon).to_have_attribute("href", "/static/img/favicon.svg")
    expect(s).to_have_title(YOUR_MOVE)


def test_a_notification_is_asked_for_only_by_a_click_and_comes_when_the_tab_is_hidden(
    page_as, dialogue, alex, sam
):
    a = page_as(alex)
    a.add_init_script(FAKE_NOTIFICATIONS)
    a.goto(f"/dialogues/{dialogue.public_id}/")
    a.locator('#connection[data-state="open"]').wait_for()
    s = page_as(sam)
    s.goto(f"/dialogues/{dialogue.public_id}/")
    ask = a.get_by_role("button", name="Let me know when it's my move")
    expect(ask).to_be_visible()
    assert a.evaluate("window.__asked") == 0  # never on page load

    ask.click()
    turn_off = a.get_by_role("button", name="Turn off")
    expect(turn_off).to_be_visible()
    expect(turn_off).to_be_focused()
    assert a.evaluate("window.__asked") == 1
    a.evaluate("window.__hidden = true")  # Alex switches to another tab
    act(s, a, "I'm available now")
    a.wait_for_function("window.__shown.length === 1")
    shown = a.evaluate("window.__shown")
    assert shown == [{"title": YOUR_MOVE, "body": "It’s your move: Sending."}]

    # Sent, and back to waiting, the choice is remembered (and nothing is asked again).
    a.evaluate("window.__hidden = false")
    act(a, s, "Send", text="When you sleep in, I feel lonely.")
    a.reload()
    expect(a.get_by_role("button", name="Turn off")).to_be_visible()
    assert a.evaluate("window.__asked") == 0
    # Not hidden: the title changes and no notification comes.
    act(s, a, "Mirror back", text="You feel lonely when I sleep in.")
    expect(a).to_have_title(YOUR_MOVE)
    assert a.evaluate("window.__shown") == []
    # Turned off: nothing comes even when hidden.
    act(a, s, "Yes, you got it")
    a.get_by_role("button", name="Turn off").click()
    expect(a.get_by_role("button", name="Let me know when it's my move")).to_be_focused()
    a.evaluate("window.__hidden = true")
    act(s, a, "Is there more?")
    expect(a).to_have_title(YOUR_MOVE)
    assert a.evaluate("window.__shown") == []


def test_on_a_phone_the_form_is_near_and_one_tap_away(page_as, dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text="When you sleep in, I feel lonely. " * 8)
    for _ in range(6):
        move(dialogue, sam, "mirror", text="You feel lonely when I sleep in. " * 8)
        move(dialogue, alex, "not_quite", text="What I meant was on Sundays. " * 8)
    move(dialogue, sam, "mirror", text="On Sundays especially, you feel lonely.")
    a, _s = open_both(page_as, dialogue, alex, sam, alex_viewport="phone")
    transcript = a.locator("#transcript > li")
    expect(transcript).to_have_count(16)
    expect(transcript.nth(11)).to_be_hidden()  # folded: the latest four steps show
    expect(transcript.nth(12)).to_be_visible()
    fold = a.get_by_role("button", name="Show the 12 earlier steps")
    expect(fold).to_have_attribute("aria-expanded", "false")

    jump = a.locator("#status-line").get_by_role("link", name="Your move")
    expect(jump).to_be_in_viewport()
    a.mouse.wheel(0, 900)
    expect(jump).to_be_in_viewport()  # the status line stays in view while reading
    jump.click()
    expect(a.locator("#move-panel")).to_be_in_viewport()
    expect(a.locator("#move-title")).to_be_focused()  # a check: the heading, not a button

    fold.click()
    expect(transcript.nth(0)).to_be_visible()
    expect(a.get_by_role("button", name="Show only the latest steps")).to_have_attribute(
        "aria-expanded", "true"
    )


def test_focus_goes_on_after_every_move_and_each_new_turn_is_heard_once(
    page_as, dialogue, alex, sam
):
    a, s = open_both(page_as, dialogue, alex, sam)
    act(s, a, "I'm available now")  # over HTTP
    expect(s.locator("#status-line")).to_be_focused()
    expect(a.locator("#announcer")).to_have_text("Sam is available now. It's your move: Sending.")
    expect(a.locator("#announcer")).to_have_attribute("aria-live", "polite")

    act(a, s, "Send", text="When you sleep in, I feel lonely.")  # over the socket
    expect(a.locator("#status-line")).to_be_focused()
    expect(s.locator("#announcer")).to_have_text(
        "Alex shared: When you sleep in, I feel lonely. It's your move: Mirroring."
    )
    act(s, a, "Mirror back", text="You feel lonely when I sleep in.")
    expect(s.locator("#status-line")).to_be_focused()
    act(a, s, "Not quite", text="What I meant was on Sundays.")
    expect(a.locator("#status-line")).to_be_focused()
    expect(s.locator("#announcer")).to_have_text(
        "Alex said not quite: What I meant was on Sundays. It's your move: Mirroring."
    )
    act(s, a, "Mirror back", text="On Sundays, you feel lonely.")
    act(a, s, "Yes, you got it")
    expect(s.locator("#announcer")).to_have_text(
        "Alex said: Yes, you got it. It's your move: Is there more?"
    )
    act(s, a, "Is there more?")
    act(a, s, "Yes, there's more")
    # Alex's move again: the new form's first field.
    expect(a.locator("#move-panel textarea")).to_be_focused()
    assert focused(a).endswith("-send-text")
    # The mover hears nothing about their own step.
    expect(a.locator("#announcer")).to_have_text("")


def sent_text(dialogue) -> str:
    return dialogue.turns.order_by("-seq").first().text


def test_a_stem_waits_for_words_in_its_first_gap_and_sends_no_ellipsis(page_as, dialogue, sam):
    move(dialogue, sam, "accept_now")
    a = page_as(dialogue.partner_a, viewport="phone")
    a.goto(f"/dialogues/{dialogue.public_id}/")
    a.locator('#connection[data-state="open"]').wait_for()
    form = a.locator("#move-panel form.move-form").filter(has=a.locator("textarea"))
    form.get_by_role("button", name="When …, I feel …").click()
    expect(form.locator("textarea")).to_be_focused()
    a.keyboard.type("you work late on Sundays")
    a.keyboard.press("ControlOrMeta+End")  # the end of the text, not of the line
    a.keyboard.type("alone.")
    expect(form.locator("textarea")).to_have_value("When you work late on Sundays, I feel alone.")
    form.locator("button[type=submit]").click()
    expect(a.locator("#transcript")).to_contain_text("I feel alone.")
    assert sent_text(dialogue) == "When you work late on Sundays, I feel alone."


def test_a_stem_in_spanish_keeps_its_question_after_the_gap(page_as, pair, alex, sam):
    # The Parent-Child step's stem has its gap in the middle: "Soy tu … ¿Cómo era vivir conmigo?"
    dialogue = services.dialogue_start(user=alex, kind="parent_child", topic="Growing up")
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "name_caregiver", text="Mamá")
    User.objects.filter(pk=sam.pk).update(language="es")
    s = page_as(sam)
    s.goto(f"/dialogues/{dialogue.public_id}/")
    s.locator('#connection[data-state="open"]').wait_for()
    form = s.locator("#move-panel form.move-form").filter(has=s.locator("textarea"))
    form.get_by_role("button", name="Soy tu … ¿Cómo era vivir conmigo?").click()
    s.keyboard.type("madre.")
    expect(form.locator("textarea")).to_have_value("Soy tu madre. ¿Cómo era vivir conmigo?")
    form.locator("button[type=submit]").click()
    expect(s.locator("#transcript")).to_contain_text("Soy tu madre.")
    assert sent_text(dialogue) == "Soy tu madre. ¿Cómo era vivir conmigo?"
