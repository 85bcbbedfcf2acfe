"""What the websockets push about safety: the other partner hears only "ready" or "not ready
yet", and a time-out's readiness reaches both live."""

import html
import re

import pytest
from channels.db import database_sync_to_async

from dialogues import services
from safety import services as safety_services
from tests.factories import screen
from tests.helpers import form_token, with_form_token
from tests.sockets import drain, open_socket, path_of, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

REVEALING = re.compile(
    r"afraid|hurt|threat|addict|crisis|helpline|attention|concern|support line|often"
    r"|telling us|answered|questions|out of 10|maybe not",
    re.I,
)


def neutral(body: str) -> str:
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'name="token" value="[^"]+"', "", body)


async def messages_until_quiet(ws) -> list[str]:
    received = []
    while not await ws.receive_nothing(timeout=0.5):
        received.append(await ws.receive_from())
    return received


async def test_the_home_page_hears_only_whether_the_partner_is_ready(pair, alex, sam):
    ws, connected, _ = await open_socket("/ws/home/", alex)
    assert connected
    act = database_sync_to_async
    await act(safety_services.screening_save)(
        user=sam, answers={"afraid": "often", "crisis": "yes"}
    )
    not_ready_concern = await messages_until_quiet(ws)
    await act(safety_services.screening_set_ready)(user=sam, ready=True)
    ready = await receive_until(ws, "home-dialogues")
    assert "Start a dialogue" in ready
    await act(safety_services.screening_save)(
        user=sam, answers={"afraid": "no"}
    )  # calm, not ready yet
    not_ready_calm = await receive_until(ws, "home-dialogues")
    await act(safety_services.screening_set_ready)(user=sam, ready=True)
    await receive_until(ws, "home-dialogues")
    await act(safety_services.screening_save)(
        user=sam, answers={"hurt": "yes"}
    )  # concern, not ready
    not_ready_again = await receive_until(ws, "home-dialogues")

    assert "Your partner isn't ready to start yet." in html.unescape(not_ready_calm)
    assert neutral(not_ready_again) == neutral(not_ready_calm)  # the same, whatever the reason
    for message in [*not_ready_concern, ready, not_ready_calm, not_ready_again]:
        assert not REVEALING.search(message), REVEALING.search(message)
    await ws.disconnect()


async def test_the_dialogue_snapshot_says_only_not_ready_yet(dialogue, alex, sam):
    snapshots = {}
    for state in ("calm", "concern"):
        await database_sync_to_async(screen)(sam, concern=state == "concern", ready=False)
        ws, connected, _ = await open_socket(path_of(dialogue), alex)
        assert connected
        snapshots[state] = await receive_until(ws, 'data-kind="snapshot"')
        await ws.disconnect()
    assert "Your partner isn't ready to start yet." in html.unescape(snapshots["calm"])
    assert neutral(snapshots["calm"]) == neutral(snapshots["concern"])
    assert not REVEALING.search(snapshots["concern"])


async def test_a_time_out_resumes_live_only_when_both_are_ready(dialogue, alex, sam):
    await database_sync_to_async(with_form_token(services.move_submit))(
        session_public_id=dialogue.public_id, user=sam, move="accept_now"
    )
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    for ws in (ws_a, ws_b):
        await drain(ws)
    act = database_sync_to_async
    await act(services.session_pause)(session_public_id=dialogue.public_id, user=alex)
    for ws in (ws_a, ws_b):
        update = await receive_until(ws, 'id="move-panel"')
        assert "breath-circle" in update and 'role="timer"' in update
        assert "ready to go on" in update

    await act(services.session_resume)(session_public_id=dialogue.public_id, user=alex)
    mine = await receive_until(ws_a, 'id="move-panel"')
    theirs = await receive_until(ws_b, 'id="move-panel"')
    assert "You're ready. Waiting for Sam…" in html.unescape(mine)
    assert "Alex is ready when you are." in theirs and 'name="move"' not in theirs
    assert "Time-out" in theirs  # still paused

    await act(services.session_resume)(session_public_id=dialogue.public_id, user=sam)
    updates = [await receive_until(ws, 'id="move-panel"') for ws in (ws_a, ws_b)]
    for update in updates:
        assert "breath-circle" not in update and "resumed the dialogue" in update
    assert 'name="move" value="send"' in updates[0]  # Alex may send again
    assert 'name="move"' not in updates[1]
    for ws in (ws_a, ws_b):
        await ws.disconnect()


async def test_a_receivers_check_in_pushes_nothing(dialogue, alex, sam, client_as):
    from django.urls import reverse

    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws_a)

    def post_hot_check_in():
        return client_as(sam).post(
            reverse("dialogues:move", args=[dialogue.public_id]),
            {
                "token": form_token(),
                "move": "accept_now",
                "at": "1",
                "intensity": "10",
                "halt": ["angry"],
            },
            HTTP_HX_REQUEST="true",
        )

    response = await database_sync_to_async(post_hot_check_in)()
    assert b"Maybe not right now" in response.content
    assert await ws_a.receive_nothing(timeout=0.7)
    await ws_a.disconnect()
