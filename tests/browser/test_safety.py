"""Two partners in two browsers: the private safety questions, the start gate, the check-in, a
time-out that resumes only when both are ready, and the quick exit."""

import re

import pytest
from playwright.sync_api import expect

from safety.models import SupportResource
from tests.factories import make_couple

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

CONCERN_WORDS = re.compile(
    r"afraid|hurt|threat|control|addiction|crisis|helpline|attention|concern|Test Helpline",
    re.I,
)


def main_text(page) -> str:
    return page.locator("main").inner_text()


def test_two_partners_screening_gate_checkin_and_time_out(alex, sam, page_as, artifacts_dir):
    make_couple(alex, sam)  # neither has answered the safety questions yet
    SupportResource.objects.create(
        country="GB",
        country_name="United Kingdom",
        kind="domestic_violence",
        name="Test Helpline",
        phone="0800 000 000",
    )
    a = page_as(alex)
    s = page_as(sam, viewport="phone")

    # Neither has answered: each is asked, privately.
    for page in (a, s):
        page.goto("/")
        expect(page.get_by_role("link", name="Answer the private questions")).to_be_visible()

    # Sam answers with a concern and sees support lines, and individual help first.
    s.get_by_role("link", name="Answer the private questions").click()
    s.locator("fieldset", has_text="afraid of your partner").get_by_label("Often").check()
    s.get_by_label("Where do you live?").select_option("GB")
    s.screenshot(path=artifacts_dir / "safety-questions-375.png", full_page=True)
    s.get_by_role("button", name="Save my answers").click()
    expect(s.get_by_role("heading", name="Thank you for telling us")).to_be_visible()
    expect(s.get_by_text("Test Helpline")).to_be_visible()
    expect(s.get_by_text("talking one-to-one with someone trained comes first")).to_be_visible()
    s.screenshot(path=artifacts_dir / "safety-concern-375.png", full_page=True)

    # Alex answers without a concern and says so; then only ever sees "not ready".
    a.get_by_role("link", name="Answer the private questions").click()
    a.get_by_role("button", name="Save my answers").click()  # all skipped: allowed
    a.get_by_role("button", name="I'm ready to start").click()
    a.screenshot(path=artifacts_dir / "safety-ready-1100.png", full_page=True)
    a.goto("/")
    expect(a.get_by_text("Your partner isn't ready to start yet.")).to_be_visible()
    assert not CONCERN_WORDS.search(main_text(a))
    a.goto("/dialogues/new/")
    expect(a.get_by_text("Your partner isn't ready to start yet.")).to_be_visible()
    assert not CONCERN_WORDS.search(main_text(a))
    a.goto("/")

    # Sam decides to go on; Alex's home page hears it live.
    s.get_by_role("button", name="I want to go on anyway").click()
    expect(s.get_by_text("You've said you're ready to start dialogues.")).to_be_visible()
    expect(a.get_by_role("link", name="Start a dialogue")).to_be_visible()
    assert not CONCERN_WORDS.search(main_text(a))

    # Alex is running hot: the cooling path is offered first, and "Start anyway" works.
    a.get_by_role("link", name="Start a dialogue").click()
    a.get_by_text("Ground rules").click()  # behind a disclosure, one tap away
    expect(a.get_by_text("Either of you can call a time-out at any moment.")).to_be_visible()
    a.get_by_label("Tired").check()
    a.locator("label.rate", has_text=re.compile(r"^\s*9\s*$")).click()
    a.get_by_label("Intentional Dialogue").check()  # (the first time, the warm-up is suggested)
    a.get_by_label("What would you like to talk about?").fill("Sunday mornings")
    a.screenshot(path=artifacts_dir / "safety-start-1100.png", full_page=True)
    a.get_by_role("button", name="Ask Sam to talk").click()
    expect(a.get_by_role("heading", name="Maybe not right now")).to_be_visible()
    expect(a.locator(".breath-circle")).to_be_visible()
    a.screenshot(path=artifacts_dir / "safety-cooling-1100.png", full_page=True)
    a.get_by_role("button", name="Start anyway").click()
    expect(a.locator("h1.topic")).to_have_text("Sunday mornings")

    # Sam accepts; the dialogue runs.
    s.goto("/")
    s.get_by_role("link", name="Open the dialogue").click()
    expect(s.get_by_text("Hungry, angry, lonely or tired?")).to_be_visible()
    s.screenshot(path=artifacts_dir / "safety-appointment-375.png", full_page=True)
    s.locator("#move-panel label.rate", has_text=re.compile(r"^\s*8\s*$")).click()
    s.get_by_role("button", name="I'm available now").click()
    expect(s.get_by_role("heading", name="Maybe not right now")).to_be_visible()
    expect(s.get_by_role("button", name="Offer another time")).to_be_visible()
    s.screenshot(path=artifacts_dir / "safety-appointment-cooling-375.png", full_page=True)
    expect(a.get_by_text("Maybe not right now")).to_have_count(0)
    s.get_by_role("button", name="Start anyway").click()
    expect(a.get_by_role("heading", name="Sending")).to_be_visible()

    # A time-out: the calm screen for both, and it resumes only once both are ready.
    a.get_by_role("button", name="Time-out").click()
    for page in (a, s):
        expect(page.get_by_role("heading", name="Time-out")).to_be_visible()
        expect(page.locator(".breath-circle")).to_be_visible()
        expect(page.get_by_role("timer")).to_have_text(re.compile(r"^\d+:\d\d$"))
    s.screenshot(path=artifacts_dir / "safety-timeout-375.png", full_page=True)
    a.get_by_role("button", name="I'm ready to go on").click()
    expect(a.get_by_text("You're ready. Waiting for Sam…")).to_be_visible()
    expect(s.get_by_text("Alex is ready when you are.")).to_be_visible()
    a.screenshot(path=artifacts_dir / "safety-timeout-waiting-1100.png", full_page=True)
    expect(a.get_by_role("heading", name="Time-out")).to_be_visible()  # still paused
    s.get_by_role("button", name="I'm ready to go on").click()
    expect(a.get_by_role("heading", name="Sending")).to_be_visible()
    expect(s.get_by_role("heading", name="Time-out")).to_have_count(0)

    # The quick exit: one click to a neutral page, which "back" doesn't undo.
    dialogue_url = s.url
    s.get_by_role("link", name=re.compile("^Exit")).click()
    expect(s).to_have_title("Notes")
    assert "Imago" not in s.content() and "Sunday" not in s.content()
    s.screenshot(path=artifacts_dir / "safety-exit-375.png", full_page=True)
    s.go_back()
    assert s.url != dialogue_url

    # Escape twice leaves too (pressed in one go: the two must come within 800 ms, and a
    # locator's press waits for the element each time, which a busy machine can stretch).
    a.locator("body").focus()
    a.keyboard.press("Escape")
    a.keyboard.press("Escape")
    expect(a).to_have_title("Notes")
