"""The waiting room holds a booked session, not only its call: once a therapist's session
opens, a partner the therapist hasn't let in sees a calm waiting screen instead of the move
panel and changes nothing (form, socket frame, time-out), until let in, live. A couple's own
dialogue has no waiting room. Tried as each role."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from dialogues import selectors, services
from dialogues.models import Turn
from live import clock
from tests.factories import TherapistFactory
from tests.helpers import form_token, move
from tests.sockets import console_path, open_socket, path_of, receive_until
from therapists import services as therapist_services
from therapists.models import CallAdmission

WAITS = "Your therapist will let you in shortly."
REFUSED = "You are in the waiting room"
SENT = "When the week is busy I feel far from you."


@pytest.fixture
def opened(link, pair, therapist, sam):
    """Dr. Rivera booked a session with the couple (Sam sends first) and it has opened."""
    clock.clock_set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    try:
        booked = therapist_services.facilitated_book(
            therapist=therapist,
            couple=pair,
            kind="intentional",
            first=sam.public_id,
            day="2026-12-03",
            time="13:00",
            minutes=60,
        )
        therapist_services.facilitated_open(session_public_id=booked.public_id, therapist=therapist)
    finally:
        clock.clock_set(None)
    booked.refresh_from_db()
    assert booked.is_live and booked.step == "send"
    return booked


def admit(session, therapist, who):
    return therapist_services.call_admit(
        session_public_id=session.public_id, therapist=therapist, who=who, token=form_token()
    )


def held(session, user) -> bool:
    session.refresh_from_db()
    return selectors.partner_held(session=session, user_pk=user.pk)


# --- the service: the one door refuses a partner who waits -------------------------------


@pytest.mark.django_db
def test_a_waiting_partner_moves_nothing_until_let_in_then_moves(opened, therapist, sam):
    turns = Turn.objects.filter(session=opened).count()
    with pytest.raises(services.DialogueError, match=REFUSED):
        move(opened, sam, "send", text=SENT)
    assert Turn.objects.filter(session=opened).count() == turns
    assert admit(opened, therapist, who=opened.slot_of(sam)) == [sam.pk]
    assert move(opened, sam, "send", text=SENT).created
    assert opened.step == "mirror"


@pytest.mark.django_db
def test_one_partner_let_in_leaves_the_other_waiting(opened, therapist, alex, sam):
    admit(opened, therapist, who=opened.slot_of(sam))
    move(opened, sam, "send", text=SENT)
    assert not held(opened, sam) and held(opened, alex)
    with pytest.raises(services.DialogueError, match=REFUSED):
        move(opened, alex, "mirror", text="You feel far from me.")
    admit(opened, therapist, who="both")  # Sam again, and Alex: Alex only is new
    assert move(opened, alex, "mirror", text="You feel far from me.").created


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["session_pause", "session_end"])
def test_a_waiting_partner_can_not_pause_or_end_the_session_either(opened, alex, change):
    with pytest.raises(services.DialogueError, match=REFUSED):
        getattr(services, change)(session_public_id=opened.public_id, user=alex)
    opened.refresh_from_db()
    assert opened.status == "active"


@pytest.mark.django_db
def test_the_therapist_is_never_held_and_may_pause_while_partners_wait(opened, therapist):
    from dialogues.services import decide_pause

    services.session_change(
        session_public_id=opened.public_id,
        user=therapist,
        decide=decide_pause,
        as_facilitator=True,
    )
    opened.refresh_from_db()
    assert opened.status == "paused"
    assert not selectors.partner_held(session=opened, user_pk=therapist.pk)


@pytest.mark.django_db
def test_a_couples_own_dialogue_and_a_session_not_open_yet_hold_no_one(
    dialogue, link, therapist, pair, alex, sam
):
    assert not held(dialogue, alex) and not held(dialogue, sam)
    move(dialogue, sam, "accept_now")  # as ever
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    booked = therapist_services.facilitated_book(
        therapist=therapist, couple=pair, day=day, time="13:00", minutes=60
    )
    assert not held(booked, alex)  # planned: its card, not a waiting room, yet


@pytest.mark.django_db
def test_when_the_therapists_access_ends_nobody_is_left_waiting(opened, link, alex, sam):
    """Nobody could let them in any more: they go on as a couple (the console closes by its
    own event, as today)."""
    therapist_services.consent_withdraw(user=alex, link_public_id=link.public_id)
    assert set(CallAdmission.objects.values_list("partner_id", flat=True)) == {alex.pk, sam.pk}
    assert move(opened, sam, "send", text=SENT).created


@pytest.mark.django_db
def test_a_facilitated_move_reads_exactly_one_thing_more_who_is_let_in(
    opened, therapist, sam, django_assert_num_queries
):
    admit(opened, therapist, who="both")
    opened.refresh_from_db()
    # The unfacilitated move's six (tests/dialogues/test_hot_path.py), and the admissions.
    with django_assert_num_queries(7):
        services.move_submit(
            session_public_id=opened.public_id,
            user=sam,
            move="send",
            payload={"text": SENT},
            at=opened.step_seq,
            token=form_token(),
        )


# --- the page, as each role ---------------------------------------------------------------


def page(client, session) -> tuple[int, str]:
    response = client.get(f"/dialogues/{session.public_id}/")
    return response.status_code, response.content.decode()


@pytest.mark.django_db
def test_a_waiting_partner_sees_the_waiting_screen_and_no_move_panel(opened, client_as, sam):
    status, html = page(client_as(sam), opened)
    assert status == 200
    assert WAITS in html and "Let both in" not in html
    assert 'name="move"' not in html  # no move form at all
    for action in ("pause", "end", "aloud"):  # nor a time-out, an end, saying it aloud
        assert f'action="/dialogues/{opened.public_id}/{action}/"' not in html
    assert "In the waiting room" in html  # the status line says so too


@pytest.mark.django_db
def test_a_partner_let_in_sees_their_move_panel(opened, client_as, therapist, sam):
    admit(opened, therapist, who=opened.slot_of(sam))
    status, html = page(client_as(sam), opened)
    assert status == 200 and WAITS not in html and 'name="move"' in html
    assert f'action="/dialogues/{opened.public_id}/pause/"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["outsider", "staff", "unverified_therapist"])
def test_no_one_else_sees_the_session(opened, client_as, role):
    assert page(client_as(role), opened)[0] == 404


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(opened, client_as):
    response = client_as(None).get(f"/dialogues/{opened.public_id}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_the_linked_therapist_sees_who_waits_and_an_unlinked_one_nothing(
    opened, client_as, therapist
):
    console = client_as(therapist).get(f"/therapist/dialogues/{opened.public_id}/")
    html = console.content.decode()
    assert "Waiting room" in html and "Let both in" in html and "Let Sam in" in html
    other = TherapistFactory(email="other@example.com", display_name="Dr. Other")
    assert client_as(other).get(f"/therapist/dialogues/{opened.public_id}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, status",
    [
        ("", 422),
        ("x" * 20_000, 422),
        ("a\x00b", 400),  # refused before any view (imago_site/middleware.py)
        ("<script>alert(1)</script>", 422),
        (SENT, 422),
    ],
)
def test_a_waiting_partners_post_gets_the_waiting_message_and_saves_nothing(
    opened, client_as, sam, text, status
):
    turns = Turn.objects.filter(session=opened).count()
    client = client_as(sam)
    for _twice in range(2):  # a double click: the same answer, still nothing saved
        response = client.post(
            f"/dialogues/{opened.public_id}/move/",
            {"move": "send", "text": text, "at": opened.step_seq, "token": form_token()},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == status
        html = response.content.decode()
        assert "<script>alert" not in html
        if status == 422:
            assert REFUSED in html and WAITS in html and 'name="move"' not in html
    assert Turn.objects.filter(session=opened).count() == turns


# --- the socket: refused frames, and let in live -------------------------------------------


@pytest.fixture
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_connections")
async def test_over_the_socket_a_waiting_partner_is_refused_then_let_in_live(
    opened, therapist, alex, sam
):
    s, connected, _ = await open_socket(path_of(opened), sam)
    assert connected
    assert WAITS in await receive_until(s, WAITS)
    a, connected, _ = await open_socket(path_of(opened), alex)
    assert connected
    await receive_until(a, WAITS)
    step_seq = opened.step_seq
    frame = {"type": "move", "move": "send", "text": SENT, "at": step_seq}
    await s.send_to(text_data=json.dumps({**frame, "token": form_token()}))
    refusal = await receive_until(s, REFUSED)
    assert WAITS in refusal and 'name="move"' not in refusal
    assert not await database_sync_to_async(Turn.objects.filter(move="send").exists)()
    # Let Sam in: Sam's page shows the move panel, with no reload; Alex still waits.
    await database_sync_to_async(admit)(opened, therapist, opened.slot_of(sam))
    panel = await receive_until(s, 'name="move"')
    assert WAITS not in panel
    await s.send_to(text_data=json.dumps({**frame, "token": form_token()}))
    await receive_until(s, SENT)
    assert await database_sync_to_async(Turn.objects.filter(move="send").exists)()
    # Alex sees Sam's step, and still the waiting screen, until let in too.
    assert WAITS in await receive_until(a, SENT)
    await database_sync_to_async(admit)(opened, therapist, opened.slot_of(alex))
    assert WAITS not in await receive_until(a, 'name="move"')
    for ws in (s, a):
        await ws.disconnect()


@pytest.mark.django_db
def test_another_couples_partner_is_not_found_whether_or_not_anyone_waits(opened, outsider):
    with pytest.raises(services.DialogueNotFound):
        move(opened, outsider, "send", text=SENT)
    assert not selectors.partner_held(session=opened, user_pk=outsider.pk)


async def call_frame(ws, kind: str, limit: int = 20) -> dict:
    for _ in range(limit):
        text = await ws.receive_from(timeout=3)
        if text.startswith("{") and json.loads(text).get("call") == kind:
            return json.loads(text)
    raise AssertionError(f"never received a {kind!r} call frame")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_connections")
async def test_the_console_sees_a_partner_arrive_in_the_waiting_room_and_only_the_console(
    opened, therapist, alex, sam
):
    t, connected, _ = await open_socket(console_path(opened), therapist)
    assert connected
    s, connected, _ = await open_socket(path_of(opened), sam)
    assert connected
    slot = await database_sync_to_async(opened.slot_of)(sam)
    waiting = {"call": "waiting", "slot": slot, "name": "Sam", "arrived": True}
    assert await call_frame(t, "waiting") == waiting
    # A console opened later is told too; Alex's page is not.
    t2, _, _ = await open_socket(console_path(opened), therapist)
    assert await call_frame(t2, "waiting") == waiting
    a, _, _ = await open_socket(path_of(opened), alex)
    while not await a.receive_nothing(timeout=0.3):
        assert not (await a.receive_from()).startswith('{"call": "waiting"')
    for ws in (t, t2, s, a):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_connections")
async def test_a_partner_on_the_page_before_it_opens_is_announced_when_it_opens(
    link, pair, therapist, alex, sam
):
    """Found as a brand-new therapist would: the partners wait on the booked session's page,
    the therapist begins it early, and the console must say who is waiting to be let in."""

    def book():
        return therapist_services.facilitated_book(
            therapist=therapist,
            couple=pair,
            kind="intentional",
            first=sam.public_id,
            day=(clock.now() + timedelta(days=1)).date().isoformat(),
            time="13:00",
            minutes=60,
        )

    booked = await database_sync_to_async(book)()
    s, connected, _ = await open_socket(path_of(booked), sam)
    assert connected
    t, connected, _ = await open_socket(console_path(booked), therapist)
    assert connected
    await database_sync_to_async(therapist_services.facilitated_open)(
        session_public_id=booked.public_id, therapist=therapist
    )
    assert WAITS in await receive_until(s, WAITS)
    slot = await database_sync_to_async(booked.slot_of)(sam)
    assert await call_frame(t, "waiting") == {
        "call": "waiting",
        "slot": slot,
        "name": "Sam",
        "arrived": True,
    }
    for ws in (s, t):
        await ws.disconnect()
