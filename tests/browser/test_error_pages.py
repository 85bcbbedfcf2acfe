"""The error pages at a phone's width (375 px), with the site's CSS, in real Chromium."""

from __future__ import annotations

import pytest
from django.template import loader
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def assert_fits_a_phone(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    home = page.get_by_role("link", name="Go to your home page")
    expect(home).to_be_visible()
    expect(page.get_by_role("link", name="Exit")).to_be_visible()
    # The site's stylesheet is applied (its page colour), and nothing is wider than the screen.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(248, 245, 240)"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    box = home.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert box["height"] >= 40  # a comfortable tap target


def test_the_404_page_fits_a_phone(live_server_url, new_page):
    page = new_page(viewport="phone")
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    assert_fits_a_phone(page, "We couldn't find that page")
    page.get_by_role("link", name="Go to your home page").click()
    expect(page).to_have_url(live_server_url + "/")


def test_the_400_page_fits_a_phone(live_server_url, new_page):
    page = new_page(viewport="phone")
    response = page.goto("/?q=%00")
    assert response is not None and response.status == 400
    assert_fits_a_phone(page, "We couldn't accept that")


@pytest.mark.parametrize(
    "template,heading",
    [("500.html", "Something went wrong on our side"), ("403.html", "This page isn't open to you")],
)
def test_the_other_error_pages_fit_a_phone(live_server_url, new_page, template, heading):
    # No route of the live server breaks on purpose: the page is put into a tab on the site.
    page = new_page(viewport="phone")
    page.goto("/notes/")
    page.set_content(loader.get_template(template).render())
    page.wait_for_load_state("load")
    assert_fits_a_phone(page, heading)
