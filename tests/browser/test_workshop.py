"""A workshop in browsers: the presenter and three couples (one partner of each in a browser,
the other driven through the services). A practice starts for every couple, the board shows
each couple's steps live, a couple asks for help, the group is called back (every dialogue
paused), resumed, and the workshop ends.

The room-wide jobs (start, pause, resume) are run here, in the test process, as the job
worker would: with the in-memory channel layer their pushes can't reach the server's
sockets, so the pages that wait for them are reloaded (with Redis they arrive live)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from couples.models import Couple
from dialogues.models import DialogueSession
from tests.factories import UserFactory, make_couple, make_workshop, screen
from therapists.workshops import services
from therapists.workshops.models import Practice, SegmentRun, Workshop

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def shots(page: Page, artifacts_dir, name: str, widths=(375, 1280)) -> None:
    size = page.viewport_size
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"workshop-{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def partner_of(couple: Couple, person):
    return next(m.user for m in couple.memberships.all() if m.user_id != person.pk)


def test_a_presenter_runs_a_practice_for_three_couples(
    therapist, pair, alex, sam, outsider, page_as, artifacts_dir
):
    _c, ann, ben = make_couple(UserFactory(display_name="Ann"), UserFactory(display_name="Ben"))
    screen(ann)
    screen(ben)
    pat = partner_of(outsider.memberships.get().couple, outsider)
    workshop = make_workshop(therapist, minutes=12)
    for person in (sam, pat, ben):  # one partner of each couple accepts through the services
        services.workshop_join(user=person, code=workshop.code)

    # The presenter's board, and one partner of each couple joining in a browser.
    t = page_as(therapist)
    t.set_viewport_size({"width": 1280, "height": 900})
    t.goto(f"/therapist/workshops/{workshop.public_id}/")
    expect(t.locator("#workshop-board")).to_contain_text("No couple has joined yet")
    partners = {}
    for person in (alex, outsider, ann):
        page = page_as(person, viewport="phone")
        page.goto(f"/workshops/join/{workshop.code}/")
        page.get_by_label("I accept that the presenter sees").check()
        page.get_by_role("button", name="Join", exact=True).click()
        expect(page).to_have_url(f"/workshops/{workshop.public_id}/")
        expect(page.locator("#workshop-room")).to_contain_text("hasn't started yet")
        partners[person.display_name] = page
    t.reload()
    cards = t.locator(".wcard")
    expect(cards).to_have_count(3)
    expect(t.locator("#board-counts")).to_contain_text("3 couples here")  # the pages are open

    # Start the first practice: one click, one job for the room (run here, as the worker).
    t.get_by_label("Who sends first").first.select_option(
        label="The partner who has been the sender less often"
    )
    t.get_by_role("button", name="Start segment 2").click()
    expect(t.locator(".workshop-now")).to_contain_text("Intentional Dialogue")
    run = SegmentRun.objects.get()
    assert services.practice_run(run_id=run.pk).started == 3
    t.reload()
    expect(t.locator("#board-counts")).to_contain_text("3")
    for page in partners.values():
        page.reload()
        page.get_by_role("link", name="Open your practice dialogue").click()
        expect(page.locator("#move-panel")).to_be_visible()
        # Named for the workshop and its place in the plan, not "Session with your therapist".
        expect(page.locator("h1.topic")).to_have_text(
            "Intentional Dialogue — Getting the Love You Want, practice 1"
        )
    shots(partners["Alex"], artifacts_dir, "practice-dialogue")

    # Alex sends first (the rule: neither has sent yet, Alex started the couple): the board's
    # card follows live, with no words on it.
    session = Practice.objects.get(attendance__couple=pair).session
    assert session.partner_a == alex
    panel = partners["Alex"].locator("#move-panel")
    panel.locator("form.move-form textarea").first.fill("A private sentence for the test")
    panel.get_by_role("button", name="Send", exact=True).click()
    card = t.locator(".wcard", has_text="Alex")
    expect(card).to_contain_text("Mirroring")
    expect(t.locator("#workshop-board")).not_to_contain_text("A private sentence")

    # Ann and Ben ask for help from Ann's page: their card comes first, at once.
    partners["Ann"].goto(f"/workshops/{workshop.public_id}/")
    partners["Ann"].get_by_role("button", name="We'd like help").click()
    expect(partners["Ann"].locator("#workshop-room")).to_contain_text("knows you'd like help")
    first = t.locator(".wcard.asking")
    expect(first).to_contain_text("Ann")
    expect(t.locator("#board-counts")).to_contain_text("1 asking for help")
    shots(t, artifacts_dir, "board")
    first.get_by_role("button", name="Seen").click()
    expect(t.locator(".wcard.asking")).to_have_count(0)

    # Back to the group: the room says so at once; the job pauses every practice.
    partners["Alex"].goto(f"/workshops/{workshop.public_id}/")
    t.get_by_role("button", name="Back to the group").click()
    expect(partners["Alex"].locator("#workshop-room")).to_contain_text("Back to the group")
    shots(partners["Alex"], artifacts_dir, "back-to-the-group", widths=(375,))
    assert services.practices_pause(workshop_id=workshop.pk) == 3
    assert all(p.session.is_paused for p in Practice.objects.select_related("session"))
    partners["Ann"].goto(
        f"/dialogues/{Practice.objects.get(attendance__couple=ann.memberships.get().couple).session.public_id}/"
    )
    expect(partners["Ann"].locator("#status-bar")).to_contain_text("Time-out")

    # Resume, then end: the couples keep their dialogues.
    t.reload()
    t.get_by_role("button", name="Resume the practice").click()
    assert services.practices_resume(workshop_id=workshop.pk) == 3
    assert DialogueSession.objects.filter(status="active").count() == 3
    t.get_by_text("Workshop details").click()
    t.get_by_role("button", name="End the workshop").click()
    expect(t.locator(".workshop-now")).to_contain_text("The workshop has ended")
    assert Workshop.objects.get().state == Workshop.State.ENDED
    partners["Alex"].goto(f"/workshops/{workshop.public_id}/")
    expect(partners["Alex"].locator("#workshop-room")).to_contain_text("Your practice dialogues")
    assert DialogueSession.objects.filter(couple=pair).count() == 1


FIRST_ON_SCREEN_ASKS = """() => {
  const cards = [...document.querySelectorAll('.wcard')];
  if (cards.length !== 60) return false;
  const top = cards.map(c => [c, c.getBoundingClientRect()])
    .sort((x, y) => x[1].top - y[1].top || x[1].left - y[1].left)[0][0];
  return top.classList.contains('asking');
}"""


def test_the_board_stays_readable_with_sixty_couples(therapist, page_as, artifacts_dir):
    """60 couples at 1280 px and on a tablet: every card on the page, none wider than the
    screen, the asking first. Their practice moves are driven through the services."""
    from dialogues import services as dialogue_services
    from tests.helpers import form_token

    workshop = make_workshop(therapist)
    couples = []
    for i in range(60):
        _c, a, b = make_couple(
            UserFactory(display_name=f"Partner {i:02d}A"),
            UserFactory(display_name=f"Partner {i:02d}B"),
        )
        screen(a)
        screen(b)
        for person in (a, b):
            services.workshop_join(user=person, code=workshop.code)
        services.presence_set(user=a, workshop_public_id=workshop.public_id, present=True)
        couples.append((a, b))
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=workshop.segments.get(position=2).public_id
    )
    assert services.practice_run(run_id=run.pk).started == 60
    for a, _b in couples[::3]:  # a third of them a step further
        session = Practice.objects.get(attendance__couple=a.memberships.get().couple).session
        dialogue_services.move_submit(
            session_public_id=session.public_id,
            user=session.partner_a,
            move="send",
            payload={"text": "words"},
            token=form_token(),
        )
    for a, _b in couples[40:42]:
        services.help_ask(user=a, workshop_public_id=workshop.public_id)

    t = page_as(therapist)
    for width, height in ((1280, 900), (1024, 768), (768, 1024)):
        t.set_viewport_size({"width": width, "height": height})
        t.goto(f"/therapist/workshops/{workshop.public_id}/")
        expect(t.locator(".wcard")).to_have_count(60)
        assert t.evaluate("document.documentElement.scrollWidth") <= width
        # The asking come first on screen (CSS order), whatever the socket redraws.
        t.wait_for_function(FIRST_ON_SCREEN_ASKS)
        t.screenshot(path=artifacts_dir / f"workshop-board-60-{width}.png", full_page=True)
    expect(t.locator("#board-counts")).to_contain_text("60 couples here")
    expect(t.locator("#board-counts")).to_contain_text("2 asking for help")
    # A couple with no step for four minutes moves up and says so, by the page's own clock.
    quiet = t.locator(".wcard[data-last-step]").last
    quiet.evaluate("card => card.setAttribute('data-last-step', '2000-01-01T00:00:00+00:00')")
    expect(quiet).to_have_class(re.compile(r"\bstuck\b"), timeout=8000)
    expect(quiet).to_contain_text("No step for a while")


def test_brand_new_partners_join_a_workshop_from_their_home_page(
    therapist, new_page, mailbox, artifacts_dir
):
    """Two people sign up (no time zone chosen, no second factor), try the code before they
    are paired, pair, and join; not having answered the safety questions, they are told why
    their practice hasn't started rather than given one."""
    from tests.browser.test_pairing import sign_up

    workshop = make_workshop(therapist)
    alice = new_page(viewport="phone")
    alice.goto("/accounts/signup/")
    sign_up(alice, mailbox, name="Alice", email="alice@example.com")
    alice.goto(f"/workshops/join/{workshop.code}/")
    alice.get_by_label("I accept that the presenter sees").check()
    alice.get_by_role("button", name="Join", exact=True).click()
    expect(alice.get_by_role("alert")).to_contain_text("pair your account with your partner")

    alice.goto("/")
    alice.get_by_role("button", name="Start our couple").click()
    link = alice.get_by_label("Invitation link").input_value()
    bob = new_page()
    bob.goto(link)
    bob.get_by_role("main").get_by_role("link", name="Create an account").click()
    sign_up(bob, mailbox, name="Bob", email="bob@example.com")
    bob.get_by_role("button", name="Accept and pair up").click()
    expect(bob.get_by_role("heading", name="You're paired with Alice")).to_be_visible()

    for page in (alice, bob):
        page.goto("/")
        page.get_by_role("link", name="Join a workshop with its code").click()
        page.get_by_label("Workshop code").fill(workshop.code.lower())
        page.get_by_label("I accept that the presenter sees").check()
        page.get_by_role("button", name="Join", exact=True).click()
        expect(page).to_have_url(f"/workshops/{workshop.public_id}/")
    expect(bob.locator("#workshop-room")).to_contain_text("hasn't started yet")
    services.segment_start(
        workshop=workshop, segment_public_id=workshop.segments.get(position=2).public_id
    )
    assert services.practice_run(run_id=SegmentRun.objects.get().pk).started == 0
    bob.reload()
    expect(bob.locator("#workshop-room")).to_contain_text("said you're ready on your home page")
    shots(bob, artifacts_dir, "new-partner-waiting", widths=(375, 1280))
