"""Adding to a caring list in Chromium as a partner would: the form carries its one-time
token, so the item is saved once however the button is pressed; a form that comes without one
(an old page) is refused, saying why, keeps what was written, and sends the second time."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from practice.models import CaringBehaviour

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SHOTS = Path("/work/wt/_shots/tokens")


def test_a_caring_item_is_added_once_and_a_form_without_its_token_says_why(page_as, pair, alex):
    page = page_as(alex)
    page.goto("/between/caring/")
    form = page.locator("form[action='/between/caring/items/']")
    form.get_by_label("I feel loved when you …").fill("bring me tea in the morning")
    form.locator("button[type=submit]").dblclick()
    expect(page.locator("main")).to_contain_text("bring me tea in the morning")
    assert CaringBehaviour.objects.count() == 1

    # An old page's form, without its token: refused, saying why; what was written stays.
    form = page.locator("form[action='/between/caring/items/']")
    form.get_by_label("I feel loved when you …").fill("hold my hand on walks")
    form.locator("input[name=token]").evaluate("field => field.remove()")
    form.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("This form is out of date")
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"caring-refused-{width}.png"), full_page=True)
    form = page.locator("form[action='/between/caring/items/']")
    expect(form.get_by_label("I feel loved when you …")).to_have_value("hold my hand on walks")
    assert CaringBehaviour.objects.count() == 1
    form.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Added to your list.")
    assert CaringBehaviour.objects.count() == 2
