"""The private writing aids in real browsers: the receiver sees the mirror feedback appear
while typing a mirror (and change as they add what was missing), the sender sees a language
hint while typing a send; neither sees the other's. Once finished, each sees how complete
their own mirrors were."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_dialogue import act
from tests.browser.test_drafts import DRAFTS
from tests.browser.test_move_panel import move, open_both

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SAID = "When you look at your phone during dinner, I feel lonely and unimportant."


def test_the_receiver_sees_it_while_typing_and_the_sender_never(page_as, dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text=SAID)
    a, s = open_both(page_as, dialogue, alex, sam, sam_viewport="phone")
    box = s.locator("#move-panel textarea[name=text]")
    box.press_sequentially("You feel lonely at dinner, but")
    feedback = s.locator("#move-panel .mirror-feedback")
    expect(feedback).to_contain_text("look, phone, unimportant")
    expect(feedback).to_contain_text("“but”")
    box.fill("")
    box.press_sequentially(
        "When I look at my phone during dinner, you feel lonely and unimportant."
    )
    expect(feedback).to_contain_text("Your mirror keeps everything")
    assert a.locator(".mirror-feedback").count() == 0
    act(s, a, "Mirror back", text=None, shows="unimportant")
    expect(a.locator("#move-panel")).to_contain_text("Yes, you got it")
    assert a.locator(".mirror-feedback").count() == 0
    assert "Maybe not in your words" not in a.content()


def test_the_sender_sees_a_language_hint_while_typing_and_it_goes_when_reworded(
    page_as, dialogue, alex, sam
):
    move(dialogue, sam, "accept_now")
    a, s = open_both(page_as, dialogue, alex, sam, alex_viewport="phone")
    box = a.locator("#move-panel textarea[name=text]")
    box.press_sequentially("You always leave your phone on the table")
    aids = a.locator("#move-panel .writing-aids")
    expect(aids).to_have_attribute("aria-live", "polite")
    expect(aids.locator(".hint")).to_contain_text("You wrote “You always”.")
    assert len(a.evaluate(DRAFTS)) == 1  # asking about the draft doesn't forget it
    box.fill("")
    box.press_sequentially("When the phone is on the table, I feel lonely")
    expect(aids.locator(".hint")).to_have_count(0)
    assert s.locator(".writing-aids").count() == 0  # the receiver has nothing to write yet


def test_the_finished_page_shows_each_their_own_mirrors(page_as, dialogue, alex, sam):
    move(dialogue, sam, "accept_now")
    move(dialogue, alex, "send", text=SAID)
    move(dialogue, sam, "mirror", text="You feel lonely at dinner.")
    a, s = open_both(page_as, dialogue, alex, sam, sam_viewport="phone")
    s.locator("details.end-details summary").click()
    s.get_by_role("button", name="End the dialogue").click()
    # The closing panel came by the push: it asks for the figure.
    expect(s.locator("#my-mirrors")).to_contain_text("Your mirrors kept")
    expect(a.locator("#move-panel")).to_contain_text("Ended")
    assert "Your mirrors kept" not in a.content()
