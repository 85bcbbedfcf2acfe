"""A facilitated session in three browsers: the linked therapist books it on the couple's page,
both partners' home pages show it (who scheduled it, when, a countdown), and when the time
comes (a clock the test holds) the console and both partners' pages open on the same new
dialogue, the first sender to move."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from couples.models import User
from dialogues import tasks
from dialogues.models import DialogueSession

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def deliver() -> int:
    from django.db import connections

    try:
        return tasks.reminders_deliver_due()
    finally:
        connections.close_all()


def shots(page: Page, artifacts_dir, name: str) -> None:
    size = page.viewport_size
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"facilitated-{name}-{width}.png", full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        assert not overflow, f"{name} scrolls sideways at {width} px"
    page.set_viewport_size(size)


def test_a_therapist_books_a_session_and_at_its_time_all_three_pages_open_on_it(
    link, pair, alex, sam, therapist, page_as, server_clock, artifacts_dir
):
    User.objects.filter(pk=alex.pk).update(time_zone="America/Los_Angeles")
    User.objects.filter(pk=sam.pk).update(time_zone="Europe/Berlin")
    User.objects.filter(pk=therapist.pk).update(time_zone="America/New_York")
    now = datetime.now(ZoneInfo("UTC")).replace(second=0, microsecond=0)
    server_clock(now)
    at = now + timedelta(hours=2)
    local = at.astimezone(ZoneInfo("America/New_York"))

    t = page_as(therapist)
    t.goto(f"/therapist/couples/{pair.public_id}/")
    t.get_by_text("Book a session").click()
    form = t.locator("form.booking-form").last
    form.get_by_label("Date").fill(local.date().isoformat())
    form.get_by_label("Time").fill(local.strftime("%H:%M"))
    form.get_by_label("Length").select_option("45")
    assert form.get_by_label("Kind of dialogue").input_value() == "intentional"  # the default
    form.get_by_label("Shares first").select_option(label="Sam")
    shots(t, artifacts_dir, "couple-page-form")
    form.get_by_role("button", name="Book the session").click()
    expect(t.locator(".messages")).to_contain_text("Session booked for")
    expect(t.locator(".booked-sessions")).to_contain_text(local.strftime("%H:%M"))
    expect(t.locator(".booked-sessions")).to_contain_text("(America/New_York), 45 minutes")
    shots(t, artifacts_dir, "couple-page")
    session = DialogueSession.objects.get(scheduled_by=therapist)
    assert session.scheduled_for == at and session.partner_a_id == sam.pk

    # Both partners' home pages show it, in their own zone, with who scheduled it.
    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    for page, zone in ((a, "America/Los_Angeles"), (s, "Europe/Berlin")):
        page.goto("/")
        home = page.locator("#home-dialogues")
        expect(home).to_contain_text("Sessions with your therapist")
        expect(home).to_contain_text("Scheduled by Dr. Rivera")
        expect(home).to_contain_text(at.astimezone(ZoneInfo(zone)).strftime("%H:%M"))
        expect(home).to_contain_text(f"({zone})")
        expect(home.locator("[role=timer]")).to_contain_text("h")
    shots(s, artifacts_dir, "home")

    # The therapist's dashboard says what's next.
    t.goto("/therapist/")
    expect(t.locator(".next-scheduled")).to_contain_text(local.strftime("%H:%M"))
    shots(t, artifacts_dir, "dashboard")

    # All three wait on the session's pages; then the time comes.
    t.goto(f"/therapist/dialogues/{session.public_id}/")
    a.goto(f"/dialogues/{session.public_id}/")
    s.goto(f"/dialogues/{session.public_id}/")
    expect(t.locator("#console-state")).to_contain_text("Opens in")
    expect(a.locator("#move-panel")).to_contain_text("Dr. Rivera scheduled this")
    expect(s.locator("#move-panel")).to_contain_text("Opens in")
    for page in (t, a, s):
        expect(page.locator("#connection[data-state=open]")).to_have_count(1)
    shots(s, artifacts_dir, "waiting")
    shots(t, artifacts_dir, "console-waiting")
    server_clock(at + timedelta(seconds=1))
    with ThreadPoolExecutor(1) as pool:  # the worker's part (Playwright's loop runs here)
        assert pool.submit(deliver).result() >= 1
    if not os.environ.get("REDIS_URL"):
        # The job ran in this process; without Redis its push can't reach the server's sockets
        # (in `make run` the page reloads when its countdown ends).
        for page in (t, a, s):
            page.reload()
    # The same dialogue, open for all three; the partners wait until the therapist lets them
    # in (the waiting room: tests/browser/test_waiting_room.py), then Sam shares first.
    for page in (t, a, s):
        assert page.url.endswith(f"/dialogues/{session.public_id}/")
    for page in (a, s):
        expect(page.locator("#move-panel")).to_contain_text("Your therapist will let you in")
    t.locator("#waiting-room").get_by_role("button", name="Let both in").click()
    expect(s.locator("#move-panel")).to_contain_text("Sending")
    expect(s.locator("#move-panel textarea")).to_be_visible()
    expect(a.locator("#move-panel")).to_contain_text("Sam is writing")
    expect(t.locator("#console-state")).to_contain_text("Sam (sender)")
    expect(t.locator("#transcript")).to_contain_text("The appointed time came")
    shots(t, artifacts_dir, "console-open")
