"""A brand-new couple meets the questionnaire: after signing up, pairing and the safety
questions, the home page offers it (skippable); one partner answers it on a phone and sees
their score; the other sees only that they answered, until it is shared."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_pairing import pair_up, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def _ready(page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Answer the private questions").click()
    page.get_by_role("button", name="Save my answers").click()  # all skipped: allowed
    page.get_by_role("button", name="I'm ready to start").click()


def test_a_new_couple_is_offered_it_answers_and_shares(new_page, mailbox):
    alice = new_page()
    alice.goto("/accounts/signup/")
    sign_up(alice, mailbox, name="Alice", email="alice@example.com")
    bob = pair_up(alice, new_page, mailbox, name="Bob", email="bob@example.com", viewport="phone")
    for page in (alice, bob):
        _ready(page)
        page.goto("/")
        expect(
            page.get_by_role("heading", name="How is your relationship feeling?")
        ).to_be_visible()
    # Alice skips it; nothing else changes for her.
    alice.get_by_role("button", name="Skip for now").click()
    expect(alice.get_by_text("Skipped. It will be offered again another time.")).to_be_visible()
    expect(alice.get_by_role("heading", name="How is your relationship feeling?")).to_have_count(0)
    # Bob answers every question of the long form on his phone (the highest answer of each).
    bob.get_by_role("link", name="Answer now").click()
    expect(bob.get_by_role("heading", name=re.compile("16 questions"))).to_be_visible()
    for number in range(1, 17):
        group = bob.get_by_role("group", name=re.compile(rf"^{number}\. "))
        group.get_by_role("radio").nth(0 if number in (2, 11, 13, 14, 16) else -1).check()
    bob.get_by_role("button", name="Save my answers").click()
    expect(bob.get_by_text("You answered 1 questionnaire.")).to_be_visible()
    expect(bob.locator("#csi-table").locator("xpath=..")).to_contain_text("81")
    alice.goto("/between/progress/")
    expect(
        alice.get_by_text("Bob answered 1 questionnaire and keeps the scores private.")
    ).to_be_visible()
    bob.get_by_role("button", name="Share my scores with Alice").click()
    alice.reload()
    expect(alice.get_by_text("Bob answered 1 questionnaire.")).to_be_visible()
    expect(alice.locator("table:has(#csi-table)")).to_contain_text("21")
