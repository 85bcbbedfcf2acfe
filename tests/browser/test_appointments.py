"""An appointment for later, in two browsers: Sam answers "not now — tonight at 8", both
home pages show the scheduled dialogue live with a countdown, and when the time comes (a
clock the test holds) the dialogue opens for both, with Alex to move first."""

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from couples.models import User
from dialogues import tasks

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SHOTS = os.environ.get("IMAGO_SHOTS_DIR", "")


def deliver() -> int:
    from django.db import connections

    try:
        return tasks.reminders_deliver_due()
    finally:
        connections.close_all()


def test_tonight_at_8_is_scheduled_live_and_opens_for_both(
    dialogue, alex, sam, page_as, server_clock
):
    User.objects.filter(pk=alex.pk).update(time_zone="America/Los_Angeles")
    User.objects.filter(pk=sam.pk).update(time_zone="Europe/Berlin")
    # 19:00 in Berlin (18:00 UTC, 10:00 in Los Angeles), today.
    now = datetime.now(ZoneInfo("Europe/Berlin")).replace(
        hour=19, minute=0, second=0, microsecond=0
    )
    server_clock(now)

    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    a.goto("/")
    expect(a.locator("#home-dialogues")).to_contain_text("A dialogue is in progress")
    s.goto(f"/dialogues/{dialogue.public_id}/")
    expect(s.locator("#connection[data-state=open]")).to_have_count(1)
    form = s.locator("#move-panel form.move-form").filter(
        has=s.get_by_role("button", name="Offer another time")
    )
    form.get_by_label("At", exact=True).fill("20:00")
    expect(form.get_by_label("At", exact=True)).to_have_value("20:00")
    form.get_by_role("button", name="Offer another time").click()
    expect(s.locator("#move-panel")).to_contain_text("Planned for")
    expect(s.locator("#move-panel")).to_contain_text("20:00")
    expect(s.locator("#move-panel")).to_contain_text("(Europe/Berlin)")

    # Alex's home page changes without a reload, in Alex's own zone.
    home = a.locator("#home-dialogues")
    expect(home).to_contain_text("planned for")
    expect(home).to_contain_text("11:00")
    expect(home).to_contain_text("(America/Los_Angeles)")
    expect(home.locator("[role=timer]")).to_contain_text("min")
    s.goto("/")
    expect(s.locator("#home-dialogues")).to_contain_text("20:00")
    expect(s.locator("#home-dialogues [role=timer]")).to_contain_text("min")
    if SHOTS:
        s.screenshot(path=f"{SHOTS}/home-scheduled-375.png", full_page=True)
        a.set_viewport_size({"width": 1280, "height": 900})
        a.screenshot(path=f"{SHOTS}/home-scheduled-1280.png", full_page=True)

    # Both open the dialogue page and wait; then the time comes.
    a.goto(f"/dialogues/{dialogue.public_id}/")
    s.goto(f"/dialogues/{dialogue.public_id}/")
    expect(a.locator("#move-panel")).to_contain_text("Opens in")
    server_clock(now + timedelta(hours=1, seconds=1))
    # The worker's part, run here (in a thread of its own: Playwright's loop runs in this one,
    # and the push to the server's sockets goes through the channel layer).
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(deliver).result() >= 1  # the opening (and the reminders)
    if not os.environ.get("REDIS_URL"):
        # The job ran in this process; without Redis its push can't reach the server's
        # sockets (in `make run` the page reloads when its countdown ends).
        a.reload()
        s.reload()
    expect(a.locator("#move-panel")).to_contain_text("Sending")
    expect(a.locator("#move-panel textarea")).to_be_visible()
    expect(s.locator("#move-panel")).to_contain_text("Alex is writing")
    expect(a.locator("#transcript")).to_contain_text("The appointed time came")


def test_the_time_field_is_24_hour_in_spanish_and_reads_a_time_typed_without_a_colon(
    dialogue, sam, page_as, server_clock, artifacts_dir
):
    # A browser's own time field showed "--:-- --" (12-hour, by the browser's locale), even
    # on a Spanish page.
    User.objects.filter(pk=sam.pk).update(time_zone="Europe/Madrid", language="es")
    now = datetime.now(ZoneInfo("Europe/Madrid")).replace(
        hour=19, minute=0, second=0, microsecond=0
    )
    server_clock(now)
    s = page_as(sam, viewport="phone")
    s.goto(f"/dialogues/{dialogue.public_id}/")
    expect(s.locator("#connection[data-state=open]")).to_have_count(1)
    field = s.locator("#move-panel input[name=time_at]")
    expect(field).to_have_attribute("type", "text")
    expect(field).to_have_attribute("placeholder", "hh:mm")
    expect(s.locator("#move-panel .appointment-time")).to_contain_text("reloj de 24 horas")
    s.locator("#move-panel .appointment-time").screenshot(path=artifacts_dir / "time-es-375.png")
    field.fill("2030")
    s.get_by_role("button", name="Proponer otra hora").click()
    expect(s.locator("#move-panel")).to_contain_text("20:30")
