"""The waiting room of a booked session in Chromium: the session opens, both partners arrive and
wait (a calm screen, no move panel); the therapist lets one in, then the other, from the
console, and each page shows its move panel live, with no reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

WAITS = "Your therapist will let you in shortly."


def test_partners_wait_until_the_therapist_lets_each_in_live(
    link, pair, alex, sam, therapist, page_as, artifacts_dir
):
    from therapists import services as therapist_services

    at = datetime.now(UTC) + timedelta(days=2)
    booked = therapist_services.facilitated_book(
        therapist=therapist,
        couple=pair,
        day=at.date().isoformat(),
        time="13:00",
        minutes=45,
        first=sam.public_id,
    )
    therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    url = f"/dialogues/{booked.public_id}/"
    s = page_as(sam, viewport="phone")
    a = page_as(alex, viewport=(1280, 900))
    t = page_as(therapist, viewport="desktop")
    for page in (s, a):
        page.goto(url)
        expect(page.locator("#connection")).to_have_attribute("data-state", "open")
        panel = page.locator("#move-panel")
        expect(panel).to_contain_text(WAITS)
        expect(panel.locator("form")).to_have_count(0)  # no move, no time-out
    s.screenshot(path=artifacts_dir / "waiting-room-375.png", full_page=True)
    a.screenshot(path=artifacts_dir / "waiting-room-1280.png", full_page=True)
    t.goto(f"/therapist/dialogues/{booked.public_id}/")
    room = t.locator("#waiting-room")
    expect(room.get_by_role("button", name="Let both in")).to_be_visible()
    for person in (sam, alex):  # the console sees both waiting on their pages
        row = room.locator(f'[data-waiting-slot="{booked.slot_of(person)}"]')
        expect(row).to_contain_text("waiting to be let in")
    room.get_by_role("button", name="Let Sam in").click()
    # Sam, who sends first, gets the move panel without a reload; Alex still waits.
    expect(s.locator("#move-panel textarea").first).to_be_visible()
    expect(s.locator("#move-panel")).not_to_contain_text(WAITS)
    expect(a.locator("#move-panel")).to_contain_text(WAITS)
    s.locator("#move-panel textarea").first.fill("When the week is busy I feel far from you.")
    s.locator("#move-panel").get_by_role("button", name="Send").click()
    expect(a.locator("#transcript")).to_contain_text("When the week is busy I feel far from you.")
    expect(a.locator("#move-panel")).to_contain_text(WAITS)
    room.get_by_role("button", name="Let Alex in").click()
    expect(a.locator("#move-panel textarea").first).to_be_visible()  # Alex mirrors now
    expect(a.locator("#move-panel")).not_to_contain_text(WAITS)
