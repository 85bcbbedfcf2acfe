"""The live console after a dozen turns: the transcript scrolls on its own, and the state, the
controls and the coach box stay in view on a wide screen; on a phone one column, controls a
short scroll away. No console errors (the Content Security Policy blocks nothing)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from couples.models import User
from dialogues import services
from tests.helpers import form_token
from therapists import services as therapist_services

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

TWELVE_TURNS = [
    ("b", "accept_now", None),
    ("a", "send", "When you work late on Sundays, I feel alone and a bit forgotten."),
    ("b", "mirror", "If I got it, when I work late on Sundays you feel alone. Did I get it?"),
    ("a", "not_quite", "Not quite: alone, and a bit forgotten too."),
    ("b", "mirror", "You feel alone and a bit forgotten when I work late on Sundays."),
    ("a", "got_it", None),
    ("b", "ask_more", None),
    ("a", "there_is_more", None),
    ("a", "send", "What I'd like is an hour together on Sunday evenings, phones away."),
    ("b", "mirror", "You'd like an hour together on Sunday evenings with our phones away."),
    ("a", "got_it", None),
    ("b", "ask_more", None),
]


def a_dozen_turns(session, alex, sam, therapist) -> None:
    people = {"a": alex, "b": sam}
    for slot, move, text in TWELVE_TURNS:
        services.move_submit(
            session_public_id=session.public_id,
            user=people[slot],
            move=move,
            payload={"text": text} if text else None,
            token=form_token(),
        )
    therapist = session.couple.therapist_links.get().therapist
    therapist_services.coaching_send(
        session_public_id=session.public_id,
        therapist=therapist,
        text="Lovely and slow. Keep going.",
        token=form_token(),
    )


def in_view(page: Page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight + 1; }",
    )


def test_the_console_keeps_its_controls_in_view_beside_a_long_transcript(
    link, dialogue, alex, sam, therapist, page_as, artifacts_dir
):
    a_dozen_turns(dialogue, alex, sam, therapist)
    t = page_as(therapist, viewport=(1280, 800))
    errors: list[str] = []
    # (The favicon is not this page's: its 404 is left out.)
    t.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "favicon" not in m.location.get("url", "")
            else None
        ),
    )
    t.on("pageerror", lambda e: errors.append(str(e)))
    t.add_init_script(
        "window.cspBlocked = []; document.addEventListener('securitypolicyviolation',"
        " e => window.cspBlocked.push(e.violatedDirective + ' ' + e.target.tagName));"
    )
    t.goto(f"/therapist/dialogues/{dialogue.public_id}/")
    expect(t.locator("#connection")).to_have_attribute("data-state", "open")
    transcript = t.locator("#transcript")
    expect(transcript.locator("> li")).to_have_count(14)

    # Wide: the transcript scrolls inside its own box, showing its newest step, and with the
    # page scrolled past its heading the state, the controls and the coach box are all on
    # screen at once, beside it.
    scroll = transcript.evaluate("el => [el.scrollHeight, el.clientHeight, el.scrollTop]")
    assert scroll[0] > scroll[1] and scroll[2] > 0
    t.evaluate("document.querySelector('.console-grid').scrollIntoView()")
    assert in_view(t, "#transcript > li:last-child")
    for selector in (
        "#console-state .state-list",
        "#rewind-step",
        "#coach-text",
        "[data-coach-send]",
    ):
        assert in_view(t, selector), selector
    t.screenshot(path=artifacts_dir / "console-1280.png")
    t.evaluate("window.scrollTo(0, 0)")
    t.screenshot(path=artifacts_dir / "console-1280-top.png")

    # A phone: one column, nothing wider than the screen, the controls a short scroll away.
    t.set_viewport_size({"width": 375, "height": 800})
    assert t.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    top = t.eval_on_selector("#console-side", "el => el.getBoundingClientRect().top + scrollY")
    assert top < 2 * 800
    t.screenshot(path=artifacts_dir / "console-375.png", full_page=True)
    t.get_by_role("link", name="Jump to the controls and the coach box").click()
    assert in_view(t, "#console-state h2")

    # Using the controls blocks nothing either: a private word, a rewind asked and called off.
    t.set_viewport_size({"width": 1280, "height": 800})
    t.get_by_label("Only Sam").check()
    expect(t.locator("#coach-readers")).to_have_text("Only Sam will read this; Alex won't see it.")
    t.get_by_label("Your message").fill("Sam, take a breath before you answer.")
    t.get_by_role("button", name="Send to Sam only").click()
    expect(t.locator("#coach-panel")).to_contain_text("Sent privately to Sam.")
    expect(t.get_by_label("Only Sam")).to_be_checked()
    t.get_by_label("Send the dialogue back to").select_option(index=2)
    t.get_by_role("button", name="Send back").click()
    expect(t.get_by_role("button", name="No, keep going")).to_be_focused()
    t.screenshot(path=artifacts_dir / "console-1280-confirm.png")
    t.get_by_role("button", name="No, keep going").click()
    expect(t.locator("#rewind-step")).to_have_value("")
    assert errors == []
    assert t.evaluate("window.cspBlocked") == []


def test_the_console_fits_a_phone_in_spanish_with_long_names(
    link, dialogue, alex, sam, therapist, page_as, artifacts_dir
):
    # Spanish labels are longer ("Los dos miembros de la pareja"), and so are some names: the
    # coach's "To" choices and the rewind's steps wrap or narrow, never widen the page.
    a_dozen_turns(dialogue, alex, sam, therapist)
    User.objects.filter(pk=therapist.pk).update(language="es")
    User.objects.filter(pk=alex.pk).update(display_name="Alexandrina-Maximiliana")
    User.objects.filter(pk=sam.pk).update(display_name="Samuel-Bartholomew")
    t = page_as(therapist, viewport="phone")
    t.goto(f"/therapist/dialogues/{dialogue.public_id}/")
    expect(t.locator("#connection")).to_have_attribute("data-state", "open")
    expect(t.locator(".coach-to label")).to_have_count(3)
    t.screenshot(path=artifacts_dir / "console-375-es.png", full_page=True)
    assert t.evaluate("document.scrollingElement.scrollWidth") <= 375
