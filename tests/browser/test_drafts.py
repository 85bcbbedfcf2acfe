"""Half-written words survive closing the tab, on that device only: kept under the person's
id, the dialogue and the step; gone once sent, at log-out, and when someone else signs in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dialogues import services
from tests.helpers import form_token, login_cookie

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

DRAFTS = "Object.keys(localStorage).filter(k => k.startsWith('imago-draft:'))"


def open_dialogue(page, dialogue):
    page.goto(f"/dialogues/{dialogue.public_id}/")
    page.locator('#connection[data-state="open"]').wait_for()
    return page.locator("#move-panel form.move-form").filter(has=page.locator("textarea"))


def at_send(dialogue, sam):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )


def test_a_draft_survives_closing_the_tab_and_is_gone_once_sent(page_as, dialogue, alex, sam):
    at_send(dialogue, sam)
    a = page_as(alex)
    form = open_dialogue(a, dialogue)
    form.locator("textarea").press_sequentially("When you work late")
    context = a.context
    a.close()  # the tab is closed, not reloaded

    again = context.new_page()
    form = open_dialogue(again, dialogue)
    expect(form.locator("textarea")).to_have_value("When you work late")
    form.locator("textarea").press_sequentially(", I feel alone.")
    form.locator("button[type=submit]").click()
    expect(again.locator("#transcript")).to_contain_text("I feel alone.")
    expect(again.locator("#move-panel textarea")).to_have_count(0)  # Sam's move now
    assert again.evaluate(DRAFTS) == []
    again.reload()
    again.locator('#connection[data-state="open"]').wait_for()
    assert again.evaluate(DRAFTS) == []


def test_logging_out_forgets_every_draft_on_the_device(page_as, dialogue, alex, sam):
    at_send(dialogue, sam)
    a = page_as(alex)
    form = open_dialogue(a, dialogue)
    form.locator("textarea").press_sequentially("Something private")
    assert len(a.evaluate(DRAFTS)) == 1
    a.goto("/accounts/logout/")
    a.locator("main").get_by_role("button", name="Log out").click()
    a.wait_for_url("**/")
    assert a.evaluate(DRAFTS) == []


def test_someone_else_signing_in_on_the_device_never_sees_a_draft(
    page_as, live_server_url, dialogue, alex, sam
):
    # Alex's session ended without logging out (it expired, or the browser was shut).
    at_send(dialogue, sam)
    a = page_as(alex)
    form = open_dialogue(a, dialogue)
    form.locator("textarea").press_sequentially("Something private")
    a.context.clear_cookies()
    a.context.add_cookies(
        [{"name": "sessionid", "value": login_cookie(sam), "url": live_server_url}]
    )
    a.goto(f"/dialogues/{dialogue.public_id}/")
    assert a.evaluate(DRAFTS) == []
    expect(a.locator("textarea")).to_have_count(0)
