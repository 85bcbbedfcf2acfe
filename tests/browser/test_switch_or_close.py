"""Switch or close, in two browsers: after round one the partner already heard can only
suggest closing; the other sees the suggestion live and decides. When both decide at once,
the one who lost the race is told what happened, and nothing is saved twice."""

import re

import pytest
from playwright.sync_api import expect

from dialogues.models import DialogueSession, Turn
from tests.helpers import play, round_moves

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def panel_button(page, name):
    return page.locator("#move-panel").get_by_role("button", name=name, exact=True)


@pytest.fixture
def at_switch(dialogue, alex, sam):
    """Round one is over (Alex was heard); the dialogue is at "Switch or close"."""
    play(dialogue, [(sam, "accept_now", {}), *round_moves(alex, sam)])
    assert dialogue.step == "switch"
    return dialogue


def open_both(session, alex, sam, page_as, *, before_sam=None):
    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    if before_sam is not None:
        before_sam(s)
    for page in (a, s):
        page.goto(f"/dialogues/{session.public_id}/")
        expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    return a, s


def test_the_partner_already_heard_suggests_closing_and_the_other_decides_live(
    at_switch, alex, sam, page_as
):
    a, s = open_both(at_switch, alex, sam, page_as)
    for page in (a, s):
        expect(panel_button(page, "Switch roles")).to_be_visible()
        expect(panel_button(page, "Suggest closing")).to_be_visible()
        expect(panel_button(page, "Move to closing")).to_have_count(0)
    panel_button(a, "Suggest closing").click()
    # Alex waits for Sam; Sam sees the suggestion arrive and is asked, without a reload.
    expect(a.locator("#move-panel")).to_contain_text(
        "Sam is deciding whether to close now or switch roles first."
    )
    expect(panel_button(a, "Yes, let's close")).to_have_count(0)
    expect(s.locator("#transcript > li").last).to_contain_text(
        re.compile(r"Alex\s+·\s+Switch or close\s+“Suggest closing”")
    )
    expect(s.locator("#move-panel")).to_contain_text("Close now?")
    expect(s.locator("#move-panel")).to_contain_text("before you have both been heard")
    panel_button(s, "Switch roles first").click()
    expect(s.locator("#move-panel")).to_contain_text("Sending")
    expect(s.locator("#status-bar")).to_contain_text("Round 2: you are the sender")
    expect(a.locator("#status-bar")).to_contain_text("Round 2: you are the receiver")
    expect(a.locator("#transcript > li").last).to_contain_text(
        re.compile(r"Sam\s+·\s+Close now\?\s+“Switch roles first”")
    )
    session = DialogueSession.objects.get()
    assert (session.step, session.round) == ("send", 2)


HOLD = {"on": False, "held": []}


def hold_incoming(page):
    """Sam's socket: while HOLD is on, what the server sends waits (as if Sam's click left
    before Alex's step reached Sam's screen); what Sam sends goes straight through."""

    def route(ws):
        server = ws.connect_to_server()

        def from_server(message):
            if HOLD["on"]:
                HOLD["held"].append(message)
            else:
                ws.send(message)

        server.on_message(from_server)
        HOLD["socket"] = ws

    page.route_web_socket(re.compile(r"/ws/dialogues/"), route)


def test_when_both_click_at_once_the_one_who_lost_is_told_what_happened(
    at_switch, alex, sam, page_as
):
    HOLD.update(on=False, held=[])
    a, s = open_both(at_switch, alex, sam, page_as, before_sam=hold_incoming)
    expect(panel_button(s, "Switch roles")).to_be_visible()
    HOLD["on"] = True
    panel_button(a, "Suggest closing").click()
    expect(a.locator("#move-panel")).to_contain_text("Sam is deciding")
    # Sam's page hasn't heard of it yet: Sam clicks "Switch roles" for the step it shows.
    panel_button(s, "Switch roles").click()
    for _ in range(200):  # until the server's refusal is held too (Playwright runs meanwhile)
        if any('role="alert"' in str(m) for m in HOLD["held"]):
            break
        s.wait_for_timeout(50)
    # Now Sam's page hears everything, in the order the server sent it.
    HOLD["on"] = False
    for message in HOLD["held"]:
        HOLD["socket"].send(message)
    HOLD["held"].clear()
    alert = s.locator("#move-panel [role=alert]")
    expect(alert).to_have_text("Alex suggested closing just before you. Here is where it is now.")
    expect(panel_button(s, "Yes, let's close")).to_be_visible()
    expect(panel_button(s, "Switch roles first")).to_be_visible()
    assert Turn.objects.filter(move__in=["switch_roles", "propose_closing"]).count() == 1
    panel_button(s, "Yes, let's close").click()
    for page in (a, s):
        expect(page.locator("#move-panel")).to_contain_text("Share one appreciation")
    assert DialogueSession.objects.get().step == "closing"
    assert list(
        Turn.objects.filter(move__in=["switch_roles", "propose_closing", "agree_to_close"])
        .order_by("seq")
        .values_list("move", flat=True)
    ) == ["propose_closing", "agree_to_close"]
