"""Said aloud: two browsers run a whole Intentional Dialogue without typing a word, live on
both sides and on the therapist's console; and a couple sitting together takes both turns on
one browser, only while the other partner allows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dialogues.models import DialogueSession, Turn

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def shots(page: Page, artifacts_dir, name: str) -> None:
    size = page.viewport_size
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"said-aloud-{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def say(page: Page, others: tuple[Page, ...], button: str, *, feeling: str = "", rating=None):
    """Press a step's button in `page` (a correction opens first, then "I've said it"); each
    page in `others` shows the new step without a reload. No text is typed. (No turn here is
    private: each page shows every turn saved.)"""
    count = Turn.objects.count()
    panel = page.locator("#move-panel")
    opener = panel.locator("details.opens-first > summary", has_text=button)
    plain = panel.get_by_role("button", name=button, exact=True)
    opener.or_(plain).first.wait_for()
    if opener.count():
        opener.click()
        panel.locator("details.opens-first[open] button[type=submit]").click()
    else:
        form = panel.locator("form.move-form").filter(
            has=page.get_by_role("button", name=button, exact=True)
        )
        if feeling:
            form.locator(".feeling", has_text=feeling).first.click()
        if rating is not None:
            form.locator(f"input[name=rating][value='{rating}']").check()
        plain.click()
    for other in others:
        expect(other.locator("#transcript > li")).to_have_count(count + 1)


def test_a_said_aloud_intentional_dialogue_in_two_browsers_with_a_therapist(
    link, pair, alex, sam, therapist, page_as, artifacts_dir
):
    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    t = page_as(therapist)

    # Alex asks, choosing "We'll say it aloud"; the topic is the one thing written.
    a.goto("/dialogues/new/")
    a.get_by_label("Intentional Dialogue").check()
    a.get_by_label("We'll say it aloud").check()
    a.get_by_label("What would you like to talk about?").fill("Sunday mornings")
    a.get_by_role("button", name="Ask Sam to talk").click()
    session = DialogueSession.objects.get()
    assert session.protocol_state.aloud
    s.goto(f"/dialogues/{session.public_id}/")
    t.goto(f"/therapist/dialogues/{session.public_id}/")
    for page in (a, s, t):
        expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    expect(t.locator("#console-state")).to_contain_text("Said aloud")
    everyone = (a, s, t)

    def to(page):
        return tuple(p for p in everyone if p is not page)

    say(s, to(s), "I'm available now")
    expect(a.locator(".say-aloud")).to_contain_text("When …, I feel …")
    expect(a.locator("#move-panel textarea")).to_be_hidden()  # writing is there, folded away
    shots(a, artifacts_dir, "step")
    say(a, to(a), "I've said it")
    expect(s.locator("#transcript")).to_contain_text("Alex shared, aloud.")
    expect(s.locator("#move-panel")).to_contain_text("If I got it, you said …")
    say(s, to(s), "I've said it")
    expect(a.locator("#transcript")).to_contain_text("Sam mirrored, aloud.")
    expect(t.locator("#transcript")).to_contain_text("Sam mirrored, aloud.")
    say(a, to(a), "Not quite")  # the loop: Sam mirrors again
    expect(s.locator("#transcript")).to_contain_text("Alex said not quite, aloud.")
    say(s, to(s), "I've said it")

    # The console coaches, pauses, and sends the dialogue back to the mirror.
    t.get_by_label("Your message").fill("Take a breath before you check.")
    t.get_by_label("Both partners").check()
    t.get_by_role("button", name="Send to both").click()
    for page in (a, s):
        expect(page.locator(".turn.coaching").last).to_contain_text("Take a breath")
    t.get_by_role("button", name="Pause (time-out)").click()
    for page in (a, s):
        expect(page.locator("#status-bar")).to_contain_text("Time-out")
    t.get_by_role("button", name="Resume for both").click()
    for page in (a, s):
        expect(page.locator("#status-bar")).not_to_contain_text("Time-out")
    t.get_by_label("Send the dialogue back to").select_option(label="2. Mirroring (Sam, receiver)")
    t.get_by_role("button", name="Send back").click()
    t.get_by_role("button", name="Yes, send it back").click()
    expect(s.locator("#transcript")).to_contain_text("sent the dialogue back to Mirroring")
    say(s, to(s), "I've said it")

    say(a, to(a), "Yes, you got it")
    say(s, to(s), "Is there more?")
    say(a, to(a), "Yes, there's more")  # the other loop: Alex says more
    say(a, to(a), "I've said it")
    say(s, to(s), "I've said it")
    say(a, to(a), "Yes, you got it")
    say(s, to(s), "Is there more?")
    say(a, to(a), "That's all")
    say(s, to(s), "I've said it")  # summary
    say(a, to(a), "Yes, you got it all")
    say(s, to(s), "I've said it")  # validation
    say(a, to(a), "Thank you")
    say(s, to(s), "I've said it", feeling="sad")  # empathy: a feeling word, tapped
    empathy = a.locator("#transcript > li").last
    expect(empathy).to_contain_text("Empathy · said aloud")  # the feeling tapped, no words
    expect(empathy.locator(".chip")).to_have_text("sad")
    say(a, to(a), "Yes, that's it")
    say(a, to(a), "I've said it")  # requests, said aloud
    say(s, to(s), "Give this gift")
    say(a, to(a), "Switch roles")
    say(s, to(s), "I've said it")
    say(a, to(a), "I've said it")
    say(s, to(s), "Yes, you got it")
    say(a, to(a), "Is there more?")
    say(s, to(s), "That's all")
    say(a, to(a), "I've said it")
    say(s, to(s), "Yes, you got it all")
    say(a, to(a), "I've said it")
    say(s, to(s), "Thank you")
    say(a, to(a), "I've said it")
    say(s, to(s), "Yes, that's it")
    say(s, to(s), "No requests this time")
    say(a, to(a), "Move to closing")
    say(a, to(a), "I've said it", rating=5)
    say(s, to(s), "I've said it", rating=4)
    for page in (a, s):
        expect(page.locator("#status-bar")).to_contain_text("Complete")

    # Nothing was typed, and nothing was made up: only the topic is words.
    written = [turn.move for turn in Turn.objects.order_by("seq") if turn.text]
    assert written == ["ask", "coach"]
    a.goto(f"/dialogues/{session.public_id}/transcript/")
    expect(a.locator("main")).to_contain_text("Sam mirrored, aloud.")
    expect(a.locator("main")).to_contain_text("Closing · said aloud")
    expect(a.locator("main")).to_contain_text("Felt heard: 5 of 5")


def test_together_on_one_device_with_and_without_permission_and_revoked_midway(
    dialogue, alex, sam, page_as, artifacts_dir
):
    session = dialogue
    a = page_as(alex)  # the one device both sit at
    sams_own = page_as(sam, viewport="phone")  # Sam's account, where only Sam can allow it
    a.goto(f"/dialogues/{session.public_id}/")
    expect(a.locator("#connection")).to_have_attribute("data-state", "open")
    a.get_by_role("button", name="We'll say it aloud").click()
    expect(a.locator("#transcript")).to_contain_text("You chose to say the dialogue aloud.")

    # Without Sam's permission: no offer, and the page says how it is given.
    panel = a.locator("#move-panel")
    expect(panel).to_contain_text("Sam allows it once from their own account settings")
    offer = panel.get_by_role("button", name="Take turns together on this device, with Sam")
    expect(offer).to_have_count(0)

    # Sam allows it, then withdraws it before Alex presses the offer: refused, clearly.
    sams_own.goto("/account/settings/")
    sams_own.get_by_role("button", name="Allow Alex to take my turns on their device").click()
    expect(sams_own.locator("#device-sharing")).to_contain_text("Alex may take your turns")
    a.reload()
    offer = a.get_by_role("button", name="Take turns together on this device, with Sam")
    expect(offer).to_be_visible()
    sams_own.get_by_role("button", name="Withdraw this permission").click()
    offer.click()
    expect(a.locator("#move-panel .notice.error")).to_contain_text(
        "Sam hasn't allowed taking turns together on your device"
    )
    assert not Turn.objects.filter(move="together_on").exists()

    # Allowed again: one device takes both turns, each shown by name.
    sams_own.get_by_role("button", name="Allow Alex to take my turns on their device").click()
    a.reload()
    a.get_by_role("button", name="Take turns together on this device, with Sam").click()
    expect(a.locator(".acting-person")).to_have_text("Sam's move")
    a.get_by_role("button", name="I'm available now").click()
    expect(a.locator("#transcript")).to_contain_text("(on your device)")
    expect(a.locator(".acting-person")).to_have_text("Alex's move")
    a.get_by_role("button", name="I've said it").click()
    expect(a.locator(".acting-person")).to_have_text("Sam's move")
    expect(a.locator(".say-aloud")).to_contain_text("Sam, say it aloud:")
    shots(a, artifacts_dir, "one-device")
    a.get_by_role("button", name="I've said it").click()
    expect(a.locator("#transcript")).to_contain_text("Sam mirrored, aloud (on your device).")
    mirror = Turn.objects.get(move="mirror")
    assert (mirror.actor, mirror.made_by, mirror.text) == (sam, alex, "")

    # Sam withdraws it mid-dialogue: Alex's page stops taking Sam's turns at once.
    sams_own.get_by_role("button", name="Withdraw this permission").click()
    expect(a.locator("#transcript")).to_contain_text(
        "Sam ended taking turns together on one device."
    )
    a.get_by_role("button", name="Yes, you got it", exact=True).click()  # Alex's own move
    expect(a.locator("#move-panel")).to_contain_text("Sam is about to ask whether there is more.")
    expect(a.locator("#move-panel input[name=for]")).to_have_count(0)
    expect(a.locator(".acting-person")).to_have_count(0)


def test_two_brand_new_accounts_say_a_dialogue_aloud_on_one_phone(new_page, mailbox):
    """Signed up just now (no time zone set, no second factor): Bob allows it from his
    settings, and Alice's phone takes both their turns."""
    from couples.models import User
    from tests.browser.test_pairing import sign_up
    from tests.factories import screen

    alice = new_page(viewport="phone")
    alice.goto("/accounts/signup/")
    sign_up(alice, mailbox, name="Alice", email="alice@example.com")
    alice.get_by_role("button", name="Start our couple").click()
    link = alice.get_by_label("Invitation link").input_value()
    bob = new_page()
    bob.goto(link)
    bob.get_by_role("main").get_by_role("link", name="Create an account").click()
    sign_up(bob, mailbox, name="Bob", email="bob@example.com")
    bob.get_by_role("button", name="Accept and pair up").click()
    expect(bob.get_by_role("heading", name="You're paired with Alice")).to_be_visible()
    for email in ("alice@example.com", "bob@example.com"):
        screen(User.objects.get(email=email))  # the private safety questions, answered

    bob.goto("/account/settings/")
    bob.get_by_role("button", name="Allow Alice to take my turns on their device").click()
    expect(bob.locator("#device-sharing")).to_contain_text("Alice may take your turns")

    alice.goto("/dialogues/new/")
    alice.get_by_label("Appreciation Dialogue").check()
    alice.get_by_label("We'll say it aloud").check()
    alice.get_by_label("What would you like to talk about?").fill("Thank you")
    alice.get_by_role("button", name="Ask Bob to talk").click()
    alice.get_by_role("button", name="Take turns together on this device, with Bob").click()
    expect(alice.locator(".acting-person")).to_have_text("Bob's move")
    alice.get_by_role("button", name="I'm available now").click()
    for name, button in (
        ("Alice", "I've said it"),
        ("Bob", "I've said it"),
        ("Alice", "Yes, you got it"),
        ("Bob", "I've said it"),
        ("Alice", "I've said it"),
        ("Bob", "Yes, you got it"),
    ):
        expect(alice.locator(".acting-person")).to_have_text(f"{name}'s move")
        alice.get_by_role("button", name=button, exact=True).click()
    expect(alice.locator("#status-bar")).to_contain_text("Complete")
    expect(alice.locator("#transcript")).to_contain_text("Bob mirrored, aloud (on your device).")
