"""Pages that follow, live, what happens elsewhere: the therapist's dashboard when a couple
starts a dialogue, and the page waiting for a partner when the partner accepts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from couples.models import User
from tests.factories import UserFactory, make_invitation

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def socket_open(page: Page, selector: str) -> None:
    expect(page.locator(selector)).to_have_attribute("data-socket", "open")


def screenshots(page: Page, shots, name: str) -> None:
    size = page.viewport_size
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=shots / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def test_the_dashboard_shows_at_once_when_a_couple_starts_a_dialogue(
    link, alex, sam, therapist, page_as, artifacts_dir
):
    t = page_as(therapist)
    t.goto("/therapist/")
    couples = t.locator("#dashboard-couples")
    expect(couples).to_contain_text("No dialogue in progress")
    socket_open(t, ".dashboard[ws-connect]")
    t.evaluate("window.stillTheSamePage = true")

    a = page_as(alex, viewport="phone")
    a.goto("/dialogues/new/")
    a.get_by_label("What would you like to talk about?").fill("Sunday mornings")
    a.get_by_role("button", name="Ask Sam to talk").click()
    expect(a.locator("h1.topic")).to_have_text("Sunday mornings")

    expect(couples).to_contain_text("Live now")
    expect(couples).not_to_contain_text("No dialogue in progress")
    expect(couples).not_to_contain_text("Sunday mornings")  # the topic stays off the dashboard
    assert t.evaluate("window.stillTheSamePage === true")  # no reload: it came over the socket
    screenshots(t, artifacts_dir, "dashboard-live")
    t.get_by_role("link", name="Open the live console").click()
    expect(t.locator("#connection")).to_have_attribute("data-state", "open")
    expect(t.locator("#console-state")).to_contain_text("Is now a good time?")


def test_the_waiting_page_goes_on_when_the_partner_accepts(single, page_as, artifacts_dir):
    _, token = make_invitation(single)
    robin: User = UserFactory(email="robin@example.com", display_name="Robin")
    s = page_as(single)
    s.goto("/")
    expect(s.get_by_role("heading", name="Waiting for your partner to join")).to_be_visible()
    socket_open(s, "[ws-connect='/ws/home/?waiting=1']")
    s.evaluate("window.stillTheSamePage = true")

    r = page_as(robin, viewport="phone")
    r.goto(f"/invite/{token}/")
    r.get_by_role("button", name="Accept and pair up").click()
    expect(r.get_by_text("You're now paired with Sasha.")).to_be_visible()

    expect(s.get_by_role("heading", name="Robin has joined you")).to_be_visible()
    expect(s.get_by_role("heading", name="Waiting for your partner to join")).to_have_count(0)
    expect(s.get_by_role("link", name="Answer the private questions")).to_be_visible()
    expect(s.locator("#home-announcer")).to_contain_text("Robin has accepted your invitation")
    assert s.evaluate("window.stillTheSamePage === true")
    screenshots(s, artifacts_dir, "home-partner-joined")
