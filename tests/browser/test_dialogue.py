"""Two partners, two browsers: every step of a dialogue appears in the other browser without a
reload, and a reloaded page comes back exactly where the dialogue is."""

import pytest
from playwright.sync_api import expect

from dialogues.models import Turn

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def act(
    page, other, button, text=None, feelings=(), items=(), choice=None, rating=None, shows=None
):
    """Make a move in `page`'s browser; `other` then shows `shows` without a reload.

    A check's correction ("Not quite") opens behind its button first, and is then sent by the
    one send button of its box."""
    panel = page.locator("#move-panel")
    opener = panel.locator("details.opens-first > summary", has_text=button)
    plain = panel.get_by_role("button", name=button, exact=True)
    opener.or_(plain).first.wait_for()
    if opener.count():
        opener.click()
        form = panel.locator("details.opens-first[open] form.move-form")
        send = form.locator("button[type=submit]")
    else:
        form = panel.locator("form.move-form").filter(
            has=page.get_by_role("button", name=button, exact=True)
        )
        send = form.get_by_role("button", name=button, exact=True)
    if text is not None:
        form.locator("textarea").fill(text)
    for word in feelings:
        form.locator(f"input[name=feelings][value='{word}']").check()
    for i, item in enumerate(items):
        form.locator("input[name=items]").nth(i).fill(item)
    if choice is not None:
        form.locator("input[name=choice]").nth(choice).check()
    if rating is not None:
        form.locator(f"input[name=rating][value='{rating}']").check()
    send.click()
    expect(other.locator("#transcript")).to_contain_text(shows or text or button)


def turn_ids(page) -> list[str]:
    return page.locator("#transcript > li").evaluate_all("els => els.map(e => e.id)")


@pytest.fixture
def two_partners(dialogue, alex, sam, page_as):
    session = dialogue
    a = page_as(alex)
    s = page_as(sam, viewport="phone")
    a.goto(f"/dialogues/{session.public_id}/")
    s.goto(f"/dialogues/{session.public_id}/")
    expect(a.locator("#presence")).to_contain_text("Sam is here")
    expect(s.locator("#presence")).to_contain_text("Alex is here")
    return session, a, s


def test_a_complete_intentional_dialogue_live_in_two_browsers(two_partners, artifacts_dir):
    _session, a, s = two_partners
    act(s, a, "I'm available now")
    act(a, s, "Send", text="When you sleep in, I feel lonely.")
    act(s, a, "Mirror back", text="You feel lonely when I sleep in.")
    act(a, s, "Not quite", text="Not quite: on Sundays especially.")
    act(s, a, "Mirror back", text="On Sundays especially, you feel lonely.")
    act(a, s, "Yes, you got it")
    act(s, a, "Is there more?")
    act(a, s, "Yes, there's more")
    act(a, s, "Send", text="I miss our breakfasts.")
    act(s, a, "Mirror back", text="You miss our breakfasts.")
    act(a, s, "Yes, you got it", shows="You miss our breakfasts.")
    act(s, a, "Is there more?", shows="You miss our breakfasts.")
    act(a, s, "That's all")
    act(s, a, "Share summary", text="Lonely on Sundays, missing breakfasts.")
    act(a, s, "Yes, you got it all")
    act(s, a, "Share validation", text="You make sense: breakfasts were our time.")
    act(a, s, "Thank you", text="Thank you.")
    act(s, a, "Share empathy", text="I imagine you feel lonely and sad.", feelings=("sad",))
    act(a, s, "Yes, that's it")
    act(
        a,
        s,
        "Make requests",
        items=("Breakfast together this Sunday?", "Wake me at nine?"),
        shows="Wake me at nine?",
    )
    act(s, a, "Give this gift", choice=1, shows="Gift")
    act(a, s, "Switch roles")
    expect(s.locator("#move-panel")).to_contain_text("Sending")
    act(s, a, "Send", text="I feel rushed on weekday mornings.")
    act(a, s, "Mirror back", text="You feel rushed on weekday mornings.")
    act(s, a, "Yes, you got it", shows="rushed on weekday mornings.")
    act(a, s, "Is there more?", shows="rushed on weekday mornings.")
    act(s, a, "That's all")
    act(a, s, "Share summary", text="Weekday mornings feel rushed.")
    act(s, a, "Yes, you got it all")
    act(a, s, "Share validation", text="That makes sense.")
    act(s, a, "Thank you", text="Thanks.")
    act(a, s, "Share empathy", text="Stressed.", feelings=("overwhelmed",))
    act(s, a, "Yes, that's it")
    act(s, a, "No requests this time")
    act(a, s, "Move to closing")
    act(a, s, "Share and close", text="I appreciate your patience.", rating=5)
    act(s, a, "Share and close", text="I appreciate your honesty.", rating=4)
    for page in (a, s):
        expect(page.locator("#status-bar")).to_contain_text("Complete")
    a.screenshot(path=artifacts_dir / "dialogue-complete-1100.png", full_page=True)
    expected = [f"turn-{seq}" for seq in Turn.objects.order_by("seq").values_list("seq", flat=True)]
    assert turn_ids(a) == turn_ids(s) == expected


def test_a_reloaded_page_continues_where_the_dialogue_is(two_partners):
    _session, a, s = two_partners
    act(s, a, "I'm available now")
    act(a, s, "Send", text="When you sleep in, I feel lonely.")
    s.reload()
    expect(s.locator("#move-panel")).to_contain_text("Mirroring")
    expect(a.locator("#presence")).to_contain_text("Sam is here")
    act(s, a, "Mirror back", text="You feel lonely when I sleep in.")
    act(a, s, "Yes, you got it")
    expected = [f"turn-{seq}" for seq in Turn.objects.order_by("seq").values_list("seq", flat=True)]
    assert turn_ids(a) == turn_ids(s) == expected


def test_moves_travel_over_the_open_socket_and_only_the_start_over_http(two_partners):
    """A move goes over the socket the page holds; the move that begins the dialogue goes as
    the form's HTTP post (it may first suggest a cooling pause)."""
    _session, a, s = two_partners
    posts = []
    for page in (a, s):
        page.on(
            "request",
            lambda r: posts.append(r.url) if r.method == "POST" and "/move/" in r.url else None,
        )
    act(s, a, "I'm available now")
    act(a, s, "Send", text="When you sleep in, I feel lonely.")
    act(s, a, "Mirror back", text="You feel lonely when I sleep in.")
    act(a, s, "Yes, you got it")
    assert len(posts) == 1  # only "I'm available now"
    expected = [f"turn-{seq}" for seq in Turn.objects.order_by("seq").values_list("seq", flat=True)]
    assert turn_ids(a) == turn_ids(s) == expected
