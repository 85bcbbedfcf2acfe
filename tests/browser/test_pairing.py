"""Two people pair up through the real pages, each in their own browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from couples import selectors
from couples.models import User
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def sign_up(page: Page, mailbox, *, name: str, email: str, shots=None) -> None:
    """Fill allauth's sign-up form, then type the code from the email."""
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_role("heading", name=re.compile("Email Verification|Enter"))).to_be_visible()
    code = mailbox.wait_for(to=email).code()
    if shots:
        page.screenshot(path=shots / f"confirm-code-{page.viewport_size['width']}.png")
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()


def pair_up(inviter: Page, new_page, mailbox, *, name: str, email: str, **page_options) -> Page:
    """The signed-up `inviter` starts the couple; a new person, in a browser of their own,
    follows the invitation link, signs up and accepts. Returns the new person's page."""
    inviter.goto("/")
    inviter.get_by_role("button", name="Start our couple").click()
    link = inviter.get_by_label("Invitation link").input_value()
    page = new_page(**page_options)
    page.goto(link)
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    sign_up(page, mailbox, name=name, email=email)
    page.get_by_role("button", name="Accept and pair up").click()
    expect(page.get_by_role("heading", name=re.compile("You're paired with"))).to_be_visible()
    return page


def ask_to_talk(page: Page, *, partner: str, topic: str) -> None:
    """From home, as a partner in English: an Intentional Dialogue on `topic`, asked of
    `partner` (their display name)."""
    page.goto("/")
    page.get_by_role("link", name="Start a dialogue").click()
    page.get_by_label("Intentional Dialogue").check()
    page.get_by_label("What would you like to talk about?").fill(topic)
    page.get_by_role("button", name=f"Ask {partner} to talk").click()


def screenshot(page: Page, artifacts_dir, name: str) -> None:
    """Save the page at phone and desktop widths (look at them when changing templates)."""
    size = page.viewport_size
    for width in (375, 1100):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=artifacts_dir / f"home-{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def tab_to(page: Page, name: str, limit: int = 25) -> None:
    """Press Tab until the focused element is the one named `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.innerText || document.activeElement.value")
        if focused and focused.strip() == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_it_pairs_two_people_in_two_browsers(new_page, mailbox, artifacts_dir):
    alice = new_page()
    alice.goto("/")
    alice.get_by_role("main").get_by_role("link", name="Create an account").click()
    sign_up(alice, mailbox, name="Alice", email="alice@example.com")
    expect(alice.get_by_role("heading", name="Hello, Alice")).to_be_visible()
    expect(alice.get_by_text("You're not paired with your partner yet")).to_be_visible()
    screenshot(alice, artifacts_dir, "1-single")

    # The keyboard alone reaches the primary button, sees where it is, and presses it.
    tab_to(alice, "Start our couple")
    outline = alice.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "keyboard focus must be visible"
    alice.locator("form:has(button.primary)").screenshot(path=artifacts_dir / "focus-start.png")
    alice.keyboard.press("Enter")

    expect(alice.get_by_text("Your couple is ready. Send the link below")).to_be_visible()
    link = alice.get_by_label("Invitation link").input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/invite/[\w-]{40,}/", link)
    alice.get_by_role("button", name="Copy link").click()
    expect(alice.get_by_role("button", name="Copied")).to_be_visible()
    screenshot(alice, artifacts_dir, "2-waiting")

    bob = new_page(viewport="phone")
    bob.goto(link)
    expect(bob.get_by_role("heading", name="Alice invites you to pair up")).to_be_visible()
    bob.screenshot(path=artifacts_dir / "invitation-375.png", full_page=True)
    bob.get_by_role("main").get_by_role("link", name="Create an account").click()
    bob.screenshot(path=artifacts_dir / "signup-375.png", full_page=True)
    sign_up(bob, mailbox, name="Bob", email="bob@example.com", shots=artifacts_dir)

    # Straight back to the invitation, logged in.
    expect(bob.get_by_role("heading", name="Alice invites you to pair up")).to_be_visible()
    expect(bob.get_by_text("You're logged in as bob@example.com")).to_be_visible()
    bob.get_by_role("button", name="Accept and pair up").click()
    expect(bob.get_by_text("You're now paired with Alice.")).to_be_visible()
    expect(bob.get_by_role("heading", name="You're paired with Alice")).to_be_visible()
    screenshot(bob, artifacts_dir, "3-paired")

    alice.reload()
    expect(alice.get_by_role("heading", name="You're paired with Bob")).to_be_visible()
    expect(alice.get_by_label("Invitation link")).to_have_count(0)

    # The server wrote to the test database this process sees.
    a, b = User.objects.get(email="alice@example.com"), User.objects.get(email="bob@example.com")
    assert selectors.partner_of(user=a) == b
    assert b.emailaddress_set.get().verified


def test_it_offers_the_invitation_again_after_logging_in_elsewhere(new_page, mailbox):
    """Opened while logged out, then the person logs in from the menu instead of the link."""
    alice = new_page()
    alice.goto("/accounts/signup/")
    sign_up(alice, mailbox, name="Alice", email="alice@example.com")
    alice.get_by_role("button", name="Start our couple").click()
    link = alice.get_by_label("Invitation link").input_value()

    bob = new_page(viewport="phone")
    bob.goto(link)
    # The header's link carries no ?next=, and still leads straight back to the invitation.
    bob.get_by_role("navigation", name="Account").get_by_role(
        "link", name="Create an account"
    ).click()
    sign_up(bob, mailbox, name="Bob", email="bob@example.com")
    expect(bob.get_by_role("heading", name="Alice invites you to pair up")).to_be_visible()
    bob.goto("/")  # and home offers it again, with no form to start another couple
    expect(bob.get_by_role("heading", name="You have an invitation")).to_be_visible()
    expect(bob.get_by_text("Alice invited you to pair up.")).to_be_visible()
    expect(bob.get_by_role("button", name="Start our couple")).to_have_count(0)
    bob.get_by_role("link", name="See the invitation").click()
    bob.get_by_role("button", name="Accept and pair up").click()
    expect(bob.get_by_role("heading", name="You're paired with Alice")).to_be_visible()


def test_a_brand_new_couple_goes_from_sign_up_to_their_first_step_seen_live(new_page, mailbox):
    """Nothing prepared: two new accounts in two languages and time zones sign up, pair,
    answer the private questions, and the first step of their first dialogue appears live on
    the other screen."""
    mara = new_page(viewport="phone", timezone_id="Europe/Madrid")
    mara.goto("/accounts/signup/")
    sign_up(mara, mailbox, name="Mara", email="mara@example.com")
    mara.get_by_label("Your partner's email (optional)").fill("leo@example.com")
    mara.get_by_role("button", name="Start our couple").click()
    link = mara.get_by_label("Invitation link").input_value()

    leo = new_page(locale="es-ES", timezone_id="America/Mexico_City")
    leo.goto(link)
    leo.get_by_role("main").get_by_role("link", name="Crear una cuenta").click()
    for field, value in (("display_name", "Leo"), ("email", "leo@example.com")):
        leo.locator(f"input[name={field}]").fill(value)
    leo.locator("input[name=password1]").fill(PASSWORD)
    leo.locator("input[name=password2]").fill(PASSWORD)
    leo.get_by_role("button", name="Crear una cuenta").click()
    leo.locator("input[name=code]").fill(mailbox.wait_for(to="leo@example.com").code())
    leo.locator("main form button[type=submit]").first.click()
    leo.get_by_role("button", name="Aceptar y formar pareja").click()
    expect(leo.get_by_role("heading", name="Formas pareja con Mara")).to_be_visible()

    for page, ready in ((mara, "I'm ready to start"), (leo, "Puedo empezar")):
        page.goto("/safety/")
        for question in ("afraid", "hurt", "control", "addiction", "crisis"):
            page.check(f"input[name={question}][value=no]")
        page.locator("main form button[type=submit]").first.click()
        page.get_by_role("button", name=ready).click()

    ask_to_talk(mara, partner="Leo", topic="How we plan weekends")

    leo.goto("/")
    leo.get_by_role("link", name="Abrir el diálogo").click()
    expect(leo.get_by_text("How we plan weekends").first).to_be_visible()
    leo.get_by_role("button", name="Ahora puedo").click()
    mara_sends = mara.locator("form:has(input[name=move][value=send])")
    mara_sends.locator("textarea[name=text]").fill("When you plan without me, I feel left out.")
    mara_sends.locator("button[type=submit]").click()
    # On Leo's screen without a reload: the step, and it's Leo's move to mirror it.
    expect(leo.locator(".turn-text", has_text="When you plan without me")).to_be_visible()
    expect(leo.locator("form:has(input[name=move][value=mirror])")).to_be_visible()

    mara_user, leo_user = (User.objects.get(email=f"{n}@example.com") for n in ("mara", "leo"))
    assert selectors.partner_of(user=mara_user) == leo_user
    assert (mara_user.time_zone, leo_user.time_zone) == ("Europe/Madrid", "America/Mexico_City")
    assert leo_user.language == "es"
