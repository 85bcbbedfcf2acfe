"""A forgotten password in a real browser: allauth's pages in our words, and Cancel on the
new-password page going back instead of logging the person out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def shots(page: Page, artifacts_dir, name: str) -> None:
    """The page at phone and desktop widths (look at them when changing these pages)."""
    size = page.viewport_size
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"password-{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def ask_for_a_reset_link(page: Page, mailbox, email: str, artifacts_dir, language: str) -> None:
    page.goto("/accounts/password/reset/")
    shots(page, artifacts_dir, f"reset-{language}")
    page.get_by_label(re.compile("Email|Correo")).fill(email)
    reset = re.compile("Reset my password|Restablecer mi contraseña")
    page.get_by_role("button", name=reset).click()
    shots(page, artifacts_dir, f"reset-sent-{language}")
    page.goto(mailbox.wait_for(to=email).first_link())


def test_cancel_on_the_new_password_page_leads_to_log_in(new_page, mailbox, artifacts_dir):
    person = UserFactory(email="forgetful@example.com")
    page = new_page(viewport="phone")
    ask_for_a_reset_link(page, mailbox, person.email, artifacts_dir, "en")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.get_by_label("New password (again)")).to_be_visible()
    shots(page, artifacts_dir, "new-en")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_cancel_keeps_a_logged_in_person_logged_in(page_as, mailbox, artifacts_dir):
    person = UserFactory(email="olvidadiza@example.com", language="es")
    page = page_as(person)
    ask_for_a_reset_link(page, mailbox, person.email, artifacts_dir, "es")
    expect(page.get_by_role("heading", name="Elige una contraseña nueva")).to_be_visible()
    expect(page.get_by_label("Nueva contraseña (otra vez)")).to_be_visible()
    shots(page, artifacts_dir, "new-es")
    page.get_by_role("link", name="Cancelar").click()
    page.goto("/accounts/email/")  # an account page: still logged in
    expect(page.get_by_role("heading", name="Direcciones de correo electrónico")).to_be_visible()
