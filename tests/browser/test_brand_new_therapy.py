"""Nothing prepared: a brand-new therapist (no time zone yet, no second factor yet) and a
brand-new couple find each other through the pages, the therapist books a session and begins
it, both partners wait in the waiting room until let in, and the receiver's first mirror gets
its private feedback while typing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from couples import services as couple_services
from couples.models import User
from tests.browser.test_pairing import ask_to_talk, pair_up, sign_up
from tests.browser.test_two_factor import turn_on_two_factor
from tests.factories import StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

WAITS = "Your therapist will let you in shortly."
SAID = "When you look at your phone during dinner, I feel lonely and unimportant."


def new_couple(new_page, mailbox) -> tuple[Page, Page]:
    """Two new accounts sign up, pair through the invitation link and answer the private
    questions, each in their own browser and time zone."""
    nia = new_page(viewport="phone", timezone_id="Europe/Lisbon")
    nia.goto("/accounts/signup/")
    sign_up(nia, mailbox, name="Nia", email="nia@example.com")
    ravi = pair_up(
        nia,
        new_page,
        mailbox,
        name="Ravi",
        email="ravi@example.com",
        timezone_id="America/Sao_Paulo",
    )
    for page in (nia, ravi):
        page.goto("/safety/")
        for question in ("afraid", "hurt", "control", "addiction", "crisis"):
            page.check(f"input[name={question}][value=no]")
        page.locator("main form button[type=submit]").first.click()
        page.get_by_role("button", name="I'm ready to start").click()
    return nia, ravi


def test_a_new_therapist_and_a_new_couple_meet_in_the_waiting_room(new_page, mailbox):
    t = new_page(timezone_id="America/Chicago")
    t.goto("/accounts/signup/")
    t.get_by_label("I'm a therapist").check()
    turn_on_two_factor(t, lambda: sign_up(t, mailbox, name="Dr. Okafor", email="dr@example.com"))
    doctor = User.objects.get(email="dr@example.com")
    admin = StaffFactory(email="admin@example.com", is_superuser=True)
    couple_services.therapist_verify(therapist=doctor, by=admin, reason="License checked")

    t.goto("/therapist/")
    t.get_by_role("button", name="Make a link code").click()
    expect(t.locator(".messages")).to_contain_text("Your new link code is")
    said = t.locator(".messages").inner_text()
    code = re.search(r"Your new link code is (\S+)\. Give it", said).group(1)  # type: ignore[union-attr]

    nia, ravi = new_couple(new_page, mailbox)
    nia.goto("/")
    nia.get_by_text("Link a therapist").click()
    nia.get_by_label("Link code").fill(code)
    nia.get_by_role("button", name="Use this code").click()  # entering it is Nia's consent
    expect(nia.locator(".messages")).to_contain_text("once your partner consents too")
    ravi.goto("/")
    ravi.get_by_role("button", name="I consent").click()
    for page in (nia, ravi):
        page.goto("/")
        expect(page.locator("#therapist-access")).to_contain_text("(therapist) has access")

    # The therapist books a session for tomorrow on the couple's page, then begins it now.
    t.goto("/therapist/")
    t.get_by_role("link", name=re.compile("Nia")).first.click()
    t.get_by_text("Book a session").click()
    form = t.locator("form.booking-form").last
    tomorrow = t.evaluate(
        "(() => { const d = new Date(Date.now() + 864e5);"
        " return d.toLocaleDateString('en-CA', {timeZone: 'America/Chicago'}); })()"
    )
    form.get_by_label("Date").fill(tomorrow)
    form.get_by_label("Time").fill("10:00")
    form.get_by_label("Shares first").select_option(label="Ravi")
    form.get_by_role("button", name="Book the session").click()
    expect(t.locator(".messages")).to_contain_text("Session booked for")
    expect(t.locator(".booked-sessions")).to_contain_text("(America/Chicago)")
    t.locator(".booked-sessions").get_by_role("link", name="Console").first.click()
    console = t.url
    for page in (nia, ravi):
        page.goto(console.replace("/therapist/dialogues/", "/dialogues/"))
        expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    t.get_by_role("button", name="Begin now").click()

    # Both wait, with no move to make, until the therapist lets them in.
    for page in (nia, ravi):
        expect(page.locator("#move-panel")).to_contain_text(WAITS)
        expect(page.locator("#move-panel form")).to_have_count(0)
    room = t.locator("#waiting-room")
    expect(room).to_contain_text("waiting to be let in")
    room.get_by_role("button", name="Let both in").click()
    ravi_sends = ravi.locator("#move-panel textarea[name=text]")
    expect(ravi_sends).to_be_visible()
    ravi_sends.fill(SAID)
    ravi.locator("#move-panel").get_by_role("button", name="Send").click()
    expect(t.locator("#transcript")).to_contain_text("lonely and unimportant")

    # Nia mirrors; the feedback is hers alone, and the therapist never sees it.
    box = nia.locator("#move-panel textarea[name=text]")
    box.press_sequentially("You feel lonely at dinner.")
    expect(nia.locator("#move-panel .mirror-feedback")).to_contain_text("phone")
    assert ravi.locator(".mirror-feedback").count() == 0
    assert t.locator(".mirror-feedback").count() == 0

    people = {u.email: u for u in User.objects.all()}
    assert (people["nia@example.com"].time_zone, people["ravi@example.com"].time_zone) == (
        "Europe/Lisbon",
        "America/Sao_Paulo",
    )
    assert people["dr@example.com"].time_zone == "America/Chicago"


def test_a_brand_new_receiver_running_hot_is_offered_a_pause_first_then_starts_anyway(
    new_page, mailbox
):
    """The check-in read by the one door, as a new couple meets it: nothing is saved while the
    pause is suggested, and "Start anyway" starts the dialogue once."""
    nia, ravi = new_couple(new_page, mailbox)
    ask_to_talk(nia, partner="Ravi", topic="Sunday mornings")
    ravi.goto("/")
    ravi.get_by_role("link", name="Open the dialogue").click()
    ravi.locator("#move-panel label.rate", has_text=re.compile(r"^\s*9\s*$")).click()
    ravi.get_by_role("button", name="I'm available now").click()
    expect(ravi.get_by_role("heading", name="Maybe not right now")).to_be_visible()
    expect(nia.get_by_text("Maybe not right now")).to_have_count(0)
    ravi.get_by_role("button", name="Start anyway").click()
    expect(nia.get_by_role("heading", name="Sending")).to_be_visible()


def test_a_brand_new_couple_calls_a_time_out_goes_on_aloud_and_ends(
    new_page, mailbox, artifacts_dir
):
    """The page's own buttons (time-out, ready, aloud, end) as a new couple meets them, each
    answered with the move panel as it is now, on Nia's phone and Ravi's laptop."""
    nia, ravi = new_couple(new_page, mailbox)
    ask_to_talk(nia, partner="Ravi", topic="Sunday mornings")
    ravi.goto("/")
    ravi.get_by_role("link", name="Open the dialogue").click()
    ravi.get_by_role("button", name="I'm available now").click()
    expect(nia.get_by_role("heading", name="Sending")).to_be_visible()

    ravi.get_by_role("button", name="Time-out").click()
    expect(ravi.locator("#move-panel")).to_contain_text("You called a time-out.")
    expect(nia.locator("#move-panel")).to_contain_text("Ravi called a time-out.")
    nia.screenshot(path=artifacts_dir / "new-couple-timeout-375.png", full_page=True)
    nia.get_by_role("button", name="I'm ready to go on").click()
    expect(nia.locator("#move-panel")).to_contain_text("You're ready. Waiting for Ravi…")
    ravi.get_by_role("button", name="I'm ready to go on").click()
    expect(nia.get_by_role("heading", name="Sending")).to_be_visible()
    expect(ravi.get_by_role("heading", name="Time-out")).to_have_count(0)

    nia.locator("#move-panel").get_by_role("button", name="We'll say it aloud").click()
    expect(nia.locator("#move-panel")).to_contain_text("Say it aloud:")
    expect(nia.locator("#move-panel .pill.aloud")).to_have_text("Said aloud")
    nia.screenshot(path=artifacts_dir / "new-couple-aloud-375.png", full_page=True)

    ravi.locator("#move-panel summary", has_text="End this dialogue").click()
    ravi.locator("#move-panel").get_by_role("button", name="End the dialogue").click()
    for page in (nia, ravi):
        expect(page.get_by_role("link", name="Read the transcript")).to_be_visible()
    ravi.screenshot(path=artifacts_dir / "new-couple-ended-1100.png", full_page=True)
