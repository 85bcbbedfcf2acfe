"""The "Add to calendar" link in Chromium: Sam answers Alex's request with "not now, at 20:00";
the link appears on Alex's open home page without a reload and on Sam's move panel, each
downloads a calendar file that parses and holds no topic, and when Alex cancels it goes from
Sam's open page too."""

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from playwright.sync_api import expect

from couples.models import User
from dialogues import services

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SHOTS = os.environ.get("IMAGO_SHOTS_DIR", "")
MARKER = "Marker-topic-QZX-7731"


def downloaded(page, link) -> icalendar.Event:
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".ics")
    content = Path(download.path()).read_bytes()
    assert MARKER.encode() not in content
    (event,) = icalendar.Calendar.from_ical(content).walk("VEVENT")
    return event


def test_a_scheduled_dialogue_offers_its_calendar_file_live(
    pair, alex, sam, page_as, server_clock, artifacts_dir
):
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic=MARKER)
    User.objects.filter(pk=sam.pk).update(time_zone="Europe/Berlin")
    now = datetime.now(ZoneInfo("Europe/Berlin")).replace(
        hour=19, minute=0, second=0, microsecond=0
    )
    server_clock(now)
    shots = Path(SHOTS) if SHOTS else artifacts_dir

    a = page_as(alex, viewport=(1280, 900))
    s = page_as(sam, viewport="phone")
    a.goto("/")
    expect(a.locator("#home-dialogues")).to_contain_text("A dialogue is in progress")
    expect(a.get_by_role("link", name="Add to calendar")).to_have_count(0)
    s.goto(f"/dialogues/{dialogue.public_id}/")
    expect(s.locator("#connection[data-state=open]")).to_have_count(1)
    form = s.locator("#move-panel form.move-form").filter(
        has=s.get_by_role("button", name="Offer another time")
    )
    form.get_by_label("At", exact=True).fill("20:00")
    form.get_by_role("button", name="Offer another time").click()
    expect(s.locator("#move-panel")).to_contain_text("Planned for")

    # Sam's move panel (re-rendered) and Alex's open home page (pushed) gain the link.
    on_panel = s.locator("#move-panel").get_by_role("link", name="Add to calendar")
    expect(on_panel).to_be_visible()
    on_home = a.locator("#home-dialogues").get_by_role("link", name="Add to calendar")
    expect(on_home).to_be_visible()
    s.screenshot(path=shots / "dialogue-add-to-calendar-375.png", full_page=True)
    a.screenshot(path=shots / "home-add-to-calendar-1280.png", full_page=True)

    event = downloaded(s, on_panel)
    assert event["uid"] == f"{dialogue.public_id}@imago"
    assert event.decoded("dtstart") == now.replace(hour=20)
    assert downloaded(a, on_home)["uid"] == event["uid"]

    s.goto("/")
    expect(s.locator("#home-dialogues").get_by_role("link", name="Add to calendar")).to_be_visible()
    s.screenshot(path=shots / "home-add-to-calendar-375.png", full_page=True)
    a.goto(f"/dialogues/{dialogue.public_id}/")
    expect(a.locator("#connection[data-state=open]")).to_have_count(1)
    expect(a.locator("#move-panel").get_by_role("link", name="Add to calendar")).to_be_visible()
    a.screenshot(path=shots / "dialogue-add-to-calendar-1280.png", full_page=True)

    # Alex cancels: Sam's open home page drops the link without a reload.
    a.locator("#move-panel summary", has_text="Cancel the appointment").click()
    a.locator("#move-panel").get_by_role("button", name="Cancel the appointment").click()
    expect(a.locator("#move-panel")).not_to_contain_text("Planned for")
    expect(s.locator("#home-dialogues").get_by_role("link", name="Add to calendar")).to_have_count(
        0
    )
    expect(a.locator("#move-panel").get_by_role("link", name="Add to calendar")).to_have_count(0)


def test_the_therapist_downloads_a_session_they_booked(
    link, pair, therapist, sam, page_as, server_clock, artifacts_dir
):
    from therapists import services as therapist_services

    now = datetime.now(ZoneInfo("UTC")).replace(hour=12, minute=0, second=0, microsecond=0)
    server_clock(now)
    booked = therapist_services.facilitated_book(
        therapist=therapist,
        couple=pair,
        kind="intentional",
        first=sam.public_id,
        day=now.date().isoformat(),
        time="18:00",
        minutes=60,
    )
    shots = Path(SHOTS) if SHOTS else artifacts_dir
    t = page_as(therapist, viewport="phone")
    t.goto(f"/therapist/couples/{pair.public_id}/")
    link_on_page = t.locator(".booked-session").get_by_role("link", name="Add to calendar")
    expect(link_on_page).to_be_visible()
    t.screenshot(path=shots / "couple-page-add-to-calendar-375.png", full_page=True)
    event = downloaded(t, link_on_page)
    assert event["uid"] == f"{booked.public_id}@imago"
    assert str(event["url"]).endswith(f"/therapist/dialogues/{booked.public_id}/")
    t.set_viewport_size({"width": 1280, "height": 900})
    t.goto(f"/therapist/dialogues/{booked.public_id}/")
    on_console = t.locator("#console-state").get_by_role("link", name="Add to calendar")
    expect(on_console).to_be_visible()
    t.screenshot(path=shots / "console-add-to-calendar-1280.png", full_page=True)
    assert downloaded(t, on_console)["uid"] == event["uid"]
