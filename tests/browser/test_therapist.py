"""A therapist facilitates live: three browsers (two partners and the therapist) stay in step."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dialogues import services
from safety import services as safety_services
from tests.factories import screen
from tests.helpers import at_mirror, form_token

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def screenshots(page: Page, artifacts_dir, name: str) -> None:
    size = page.viewport_size
    for width in (375, 1100):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"therapist-{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def connected(page: Page) -> None:
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")


def test_a_therapist_coaches_and_steers_a_live_dialogue(
    link, dialogue, alex, sam, therapist, page_as, artifacts_dir
):
    session = dialogue
    services.move_submit(
        session_public_id=session.public_id, user=sam, move="accept_now", at=1, token=form_token()
    )
    session = at_mirror(session, alex, sam)  # Alex is checking Sam's mirror

    a = page_as(alex)
    b = page_as(sam, viewport="phone")
    t = page_as(therapist)
    a.goto(f"/dialogues/{session.public_id}/")
    b.goto(f"/dialogues/{session.public_id}/")
    connected(a)
    connected(b)
    expect(a.locator("#facilitator-presence")).to_have_text("")

    # The therapist joins: both partners see it.
    t.goto("/therapist/")
    screenshots(t, artifacts_dir, "dashboard")
    t.get_by_role("link", name="Open the live console").click()
    connected(t)
    for page in (a, b):
        expect(page.locator("#facilitator-presence")).to_contain_text(
            "Dr. Rivera (therapist) is present"
        )
    expect(t.locator("#presence")).to_contain_text("Alex is here")
    expect(t.locator("#presence")).to_contain_text("Sam is here")
    expect(t.locator("#console-state")).to_contain_text("Did they get it?")
    expect(t.locator("#console-state")).to_contain_text("Alex (sender)")

    for page in (a, b, t):
        page.evaluate("window.stillTheSamePage = true")

    # A private word to Alex, then one to both.
    t.get_by_label("Your message").fill("Alex, take your time: breathe first.")
    t.get_by_label("Only Alex").check()
    expect(t.locator("#coach-readers")).to_have_text("Only Alex will read this; Sam won't see it.")
    t.get_by_role("button", name="Send to Alex only").click()
    expect(t.locator("#coach-panel")).to_contain_text("Sent privately to Alex.")
    expect(t.get_by_label("Only Alex")).to_be_checked()  # the choice is kept
    private = a.locator(".turn.coaching.private")
    expect(private).to_contain_text("Alex, take your time: breathe first.")
    expect(private).to_contain_text("From your therapist, only you can see this")
    expect(t.locator(".turn.coaching.private")).to_contain_text("To Alex only")

    t.get_by_label("Your message").fill("You're both doing well. Let's slow down.")
    t.get_by_label("Both partners").check()
    t.get_by_role("button", name="Send to both").click()
    for page in (a, b, t):
        expect(page.locator(".turn.coaching").last).to_contain_text("Let's slow down.")
    # Sam got the public message after the private one, and never the private one.
    expect(b.locator("#transcript")).not_to_contain_text("breathe first")
    expect(b.locator(".turn.coaching")).to_have_count(1)
    screenshots(a, artifacts_dir, "partner-a")

    # Back to mirroring: Sam is asked to mirror again, everyone sees why.
    t.get_by_label("Send the dialogue back to").select_option(label="2. Mirroring (Sam, receiver)")
    t.get_by_role("button", name="Send back").click()
    expect(t.get_by_role("group", name="Send the dialogue back?")).to_be_visible()
    expect(b.locator("#transcript")).not_to_contain_text("sent the dialogue back")  # not yet
    t.get_by_role("button", name="Yes, send it back").click()
    for page in (a, b):
        expect(page.locator("#transcript")).to_contain_text(
            "Dr. Rivera (therapist) sent the dialogue back to Mirroring"
        )
    expect(t.locator("#transcript")).to_contain_text("You sent the dialogue back to Mirroring")
    expect(b.get_by_role("button", name="Mirror back")).to_be_visible()
    expect(t.locator("#console-state")).to_contain_text("Sam (receiver)")
    b.get_by_label("What you heard").fill("If I got it, you feel lonely on Sunday mornings.")
    b.get_by_role("button", name="Mirror back").click()
    for page in (a, t):
        expect(page.locator("#transcript")).to_contain_text("lonely on Sunday mornings")
    expect(a.get_by_role("button", name="Yes, you got it", exact=True)).to_be_visible()

    # Pause and resume from the console.
    t.get_by_role("button", name="Pause (time-out)").click()
    for page in (a, b):
        expect(page.locator("#status-bar")).to_contain_text("Time-out")
        expect(page.locator("#move-panel")).to_contain_text("Dr. Rivera called a time-out")
    expect(t.locator("#console-state")).to_contain_text("Time-out")
    t.get_by_role("button", name="Resume for both").click()
    for page in (a, b):
        expect(page.locator("#status-bar")).not_to_contain_text("Time-out")
    expect(a.get_by_role("button", name="Yes, you got it", exact=True)).to_be_visible()
    expect(b.locator("#move-panel")).to_contain_text("Alex is checking whether you got it")
    screenshots(t, artifacts_dir, "console")
    screenshots(b, artifacts_dir, "partner-b")

    # Everything arrived live: no page was reloaded, and no one missed or doubled a turn.
    for page, hidden in ((a, 0), (b, 1), (t, 0)):
        seqs = page.eval_on_selector_all("#transcript > li", "els => els.map(e => +e.dataset.seq)")
        assert seqs == sorted(set(seqs))
        assert len(seqs) == page.eval_on_selector("#sync", "e => +e.dataset.seq") - hidden
        assert page.evaluate("window.stillTheSamePage === true")

    b.goto("/")
    expect(b.locator("#therapist-access")).to_contain_text("Dr. Rivera (therapist) has access")
    screenshots(b, artifacts_dir, "partner-home")

    # The couple's page: safety status (Alex shared answers of concern), a note, homework.
    screen(alex, concern=True)
    safety_services.screening_set_shared(user=alex, shared=True)
    t.get_by_role("link", name="Alex & Sam").first.click()
    expect(t.locator("#safety-title")).to_be_visible()
    expect(t.get_by_text("Needs attention")).to_be_visible()
    t.get_by_text("Answers Alex chose to share with you").click()
    expect(t.locator(".shared-answers")).to_contain_text("Often")
    t.get_by_role("textbox", name="Private note").fill("Alex seemed tense; check in next week.")
    t.get_by_role("button", name="Save note").click()
    expect(t.locator(".note-list")).to_contain_text("check in next week")
    t.get_by_text("Assign homework").click()
    t.get_by_role("textbox", name="Title").fill("One appreciation a day")
    t.get_by_label("A dialogue to practise (optional)").select_option(label="Appreciation Dialogue")
    t.get_by_role("button", name="Assign").click()
    expect(t.locator(".homework-list")).to_contain_text("One appreciation a day")
    screenshots(t, artifacts_dir, "couple")
    b.goto("/")
    expect(b.locator("#homework")).to_contain_text("One appreciation a day")
    expect(b.locator("main")).not_to_contain_text("check in next week")
