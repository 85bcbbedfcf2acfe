"""The private mirror feedback in real browsers: the receiver sees it appear while typing a
mirror (and change as they add what was missing); the sender's page never shows it, before
or after the mirror is sent."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_dialogue import act
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
