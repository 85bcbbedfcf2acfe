"""Two-factor set-up in a real browser, as a brand-new therapist or admin sees it: no time zone
yet, so the page sends the browser's zone in the background while the person scans the code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, Response, expect

from couples.models import User
from tests.browser.test_pairing import sign_up
from tests.factories import PASSWORD, StaffFactory
from tests.mfa import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

ZONE = "Europe/Madrid"


def _zone_answered(response: Response) -> bool:
    """The answer to the browser's zone sent in the background (the last one, after any
    redirects it was given)."""
    if 300 <= response.status < 400:
        return False
    request: Request | None = response.request
    while request is not None:
        if request.url.endswith("/account/time-zone/"):
            return True
        request = request.redirected_from
    return False


def turn_on_two_factor(page: Page, arrive: Callable[[], None]) -> None:
    """Arrive at the set-up page, wait for the answer to the time zone the page sends in the
    background (and anything that answer led to), read the secret from the page (as one types
    it into an app), type the app's code."""
    with page.expect_response(_zone_answered):
        arrive()
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()


def test_a_new_therapist_with_no_time_zone_turns_on_two_factor(new_page, mailbox):
    page = new_page(timezone_id=ZONE)
    page.goto("/accounts/signup/")
    page.get_by_label("I'm a therapist").check()
    turn_on_two_factor(
        page, lambda: sign_up(page, mailbox, name="Dr. New", email="dr.new@example.com")
    )

    therapist = User.objects.get(email="dr.new@example.com")
    assert therapist.is_therapist and therapist.authenticator_set.filter(type="totp").exists()
    assert therapist.time_zone == ZONE  # the background request was answered, not redirected
    page.goto("/")
    assert "/accounts/2fa/" not in page.url


def test_a_new_admin_with_no_time_zone_turns_on_two_factor(new_page):
    admin = StaffFactory(email="new.admin@example.com", is_superuser=True, mfa=False)
    assert admin.time_zone == ""
    page = new_page(viewport="phone", timezone_id=ZONE)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    turn_on_two_factor(page, page.get_by_role("button", name="Log in").click)

    page.goto("/admin/")
    assert page.url.endswith("/admin/")
    admin.refresh_from_db()
    assert admin.time_zone == ZONE
