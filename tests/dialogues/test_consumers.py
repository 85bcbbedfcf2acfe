"""The dialogue websocket, through the real ASGI stack (origin check, session auth)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from couples import services as couple_services
from dialogues import services
from dialogues.consumers import MAX_FRAME_BYTES
from live.consumer import CLOSE_TOO_MANY
from safety import services as safety_services
from tests.factories import UserFactory, make_invitation
from tests.helpers import rendered_for, with_form_token
from tests.sockets import drain, marker, open_socket, path_of, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


submit = database_sync_to_async(with_form_token(services.move_submit))


# --- who may connect ---------------------------------------------------------------------


async def test_each_partner_gets_a_snapshot_on_connect(dialogue, alex, sam):
    for person in (alex, sam):
        ws, connected, _ = await open_socket(path_of(dialogue), person)
        assert connected
        snapshot = await ws.receive_from()
        assert marker(snapshot) == {"kind": "snapshot", "from": 1, "seq": 1}
        assert "Sunday mornings" in snapshot and 'id="move-panel"' in snapshot
        await ws.disconnect()


async def test_the_snapshot_is_rendered_for_its_reader(dialogue, alex, sam):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    for_alex, for_sam = await ws_a.receive_from(), await ws_b.receive_from()
    assert "Sam is looking at your request to talk" in for_alex
    assert "I&#x27;m available now" in for_sam or "I'm available now" in for_sam
    assert 'name="move" value="accept_now"' in for_sam
    assert 'name="move"' not in for_alex
    await ws_a.disconnect()
    await ws_b.disconnect()


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
async def test_it_refuses_anyone_outside_the_couple(dialogue, outsider, who):
    user = outsider if who == "outsider" else None
    ws, connected, _ = await open_socket(path_of(dialogue), user)
    assert not connected
    await ws.disconnect()


async def test_it_refuses_an_unknown_dialogue(alex, pair):
    ws, connected, _ = await open_socket("/ws/dialogues/not-a-real-id/", alex)
    assert not connected
    await ws.disconnect()


async def test_it_refuses_a_cross_origin_handshake(dialogue, alex):
    ws, connected, _ = await open_socket(path_of(dialogue), alex, origin="https://evil.example")
    assert not connected
    await ws.disconnect()


async def test_a_deactivated_person_is_refused(dialogue, alex):
    alex.is_active = False
    await database_sync_to_async(alex.save)()
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert not connected
    await ws.disconnect()


# --- live steps ----------------------------------------------------------------------------


async def test_both_partners_receive_each_step_and_an_outsider_nothing(
    dialogue, alex, sam, outsider
):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    other = await database_sync_to_async(services.dialogue_start)(
        user=outsider, kind="intentional", topic="Elsewhere"
    )
    ws_o, connected, _ = await open_socket(path_of(other), outsider)
    assert connected
    for ws in (ws_a, ws_b, ws_o):
        await drain(ws)

    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1)
    for ws in (ws_a, ws_b):
        update = await receive_until(ws, 'id="sync"')
        assert marker(update) == {"kind": "update", "from": 2, "seq": 2}
        assert 'id="turn-2"' in update and "beforeend:#transcript" in update
    assert await ws_o.receive_nothing(timeout=0.5)

    await submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "When you <b>sleep</b> in, I feel lonely."},
        at=2,
    )
    for ws in (ws_a, ws_b):
        update = await receive_until(ws, 'id="sync"')
        assert marker(update)["seq"] == 3
        assert "When you &lt;b&gt;sleep&lt;/b&gt; in, I feel lonely." in update
        assert "<b>sleep</b>" not in update
    sam_view = update
    assert 'name="move" value="mirror"' in sam_view  # Sam's panel now asks Sam to mirror
    assert "Alex" in sam_view and "I feel lonely" in sam_view  # announced to screen readers
    assert await ws_o.receive_nothing(timeout=0.5)
    for ws in (ws_a, ws_b, ws_o):
        await ws.disconnect()


async def test_a_panel_is_not_resent_while_the_readers_options_are_unchanged(dialogue, alex, sam):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws_a)
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1)
    first = await receive_until(ws_a, 'id="sync"')
    assert 'id="move-panel"' in first  # Alex may now send
    await database_sync_to_async(services.session_pause)(
        session_public_id=dialogue.public_id, user=sam
    )
    paused = await receive_until(ws_a, 'id="sync"')
    assert "Time-out" in paused
    await ws_a.disconnect()


async def test_a_client_that_saw_a_gap_gets_a_snapshot(dialogue, alex):
    ws, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws)
    await ws.send_to(text_data=json.dumps({"type": "snapshot"}))
    snapshot = await receive_until(ws, 'id="sync"')
    assert marker(snapshot)["kind"] == "snapshot"
    await ws.disconnect()


async def test_a_reconnecting_browser_gets_every_step_it_missed(dialogue, alex, sam):
    ws, _, _ = await open_socket(path_of(dialogue), alex)
    await ws.disconnect()
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1)
    await submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "Missed while away."},
        at=2,
    )
    ws, _, _ = await open_socket(path_of(dialogue), alex)
    snapshot = await ws.receive_from()
    assert marker(snapshot) == {"kind": "snapshot", "from": 1, "seq": 3}
    assert snapshot.count('<li id="turn-') == 3 and "Missed while away." in snapshot
    await ws.disconnect()


# --- presence and writing hints ------------------------------------------------------------


async def test_each_sees_whether_the_other_is_here(dialogue, alex, sam):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws_a)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    assert "Sam is here" in await receive_until(ws_a, "presence")
    assert "Alex is here" in await receive_until(ws_b, "is here")
    await ws_b.disconnect()
    assert "Sam is not on this page" in await receive_until(ws_a, "presence")
    await ws_a.disconnect()


async def test_typing_sends_a_hint_and_never_text(dialogue, alex, sam):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_a)
    await drain(ws_b)
    await ws_a.send_to(text_data=json.dumps({"type": "typing", "text": "secret draft"}))
    hint = await receive_until(ws_b, 'id="typing"')
    assert "Alex is writing" in hint and "secret draft" not in hint
    assert await ws_a.receive_nothing(timeout=0.3)  # not echoed to the writer
    # Throttled: a burst of typing frames gives no second hint right away.
    for _ in range(5):
        await ws_a.send_to(text_data=json.dumps({"type": "typing"}))
    assert await ws_b.receive_nothing(timeout=0.5)
    await ws_a.disconnect()
    await ws_b.disconnect()


# --- bad frames ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        json.dumps({"type": "unknown", "move": "accept_now"}),
        json.dumps({"type": "typing", "pad": "x" * MAX_FRAME_BYTES}),
        " ",
        "null",
    ],
)
async def test_malformed_or_oversized_frames_are_ignored_without_harm(dialogue, sam, frame):
    ws, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws)
    await ws.send_to(text_data=frame)
    assert await ws.receive_nothing(timeout=0.5)
    await ws.send_to(text_data=json.dumps({"type": "snapshot"}))  # still connected and well
    assert marker(await receive_until(ws, 'id="sync"'))["seq"] == 1
    await ws.disconnect()


async def test_binary_frames_are_ignored(dialogue, sam):
    ws, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws)
    await ws.send_to(bytes_data=b"\x00\x01")
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_a_flood_of_frames_closes_the_connection(dialogue, sam):
    ws, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws)
    for _ in range(40):
        await ws.send_to(text_data='{"type": "ping"}')
    for _ in range(60):
        output = await ws.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            assert output["code"] == CLOSE_TOO_MANY
            break
    else:
        raise AssertionError("the connection was not closed")


# --- logging out ---------------------------------------------------------------------------


async def test_logging_out_closes_that_browsers_socket(dialogue, alex):
    ws, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws)
    await database_sync_to_async(ws.http_client.logout)()
    for _ in range(10):
        output = await ws.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            assert output["code"] == 4401
            break
    else:
        raise AssertionError("the socket stayed open after logout")


# --- home page -----------------------------------------------------------------------------


async def test_the_partner_hears_on_the_home_page_when_a_dialogue_starts(pair, alex, sam):
    ws, connected, _ = await open_socket("/ws/home/", sam)
    assert connected
    await database_sync_to_async(services.dialogue_start)(
        user=alex, kind="intentional", topic="Sunday mornings"
    )
    update = await receive_until(ws, "home-dialogues")
    assert "Alex would like to talk" in update
    assert "Sunday mornings" not in update  # the topic is shown on the dialogue page itself
    await ws.disconnect()


WAITING = "/ws/home/?waiting=1"  # the home page of a partner whose partner hasn't joined yet


@pytest.fixture
def waiting(single, db):
    """Sasha started a couple and made an invitation link; nobody has accepted it yet."""
    _, token = make_invitation(single)
    return token


accept = database_sync_to_async(couple_services.invitation_accept)


async def test_the_waiting_page_goes_on_when_the_partner_accepts(waiting, single, outsider):
    ws, connected, _ = await open_socket(WAITING, single)
    assert connected
    assert await ws.receive_nothing(timeout=0.3)  # still waiting: nothing to show
    other, _, _ = await open_socket("/ws/home/", outsider)  # another couple's home page
    robin = await database_sync_to_async(UserFactory)(display_name="Robin")
    await accept(user=robin, token=waiting)
    update = await receive_until(ws, "couple-status")
    assert "Robin has joined you" in update
    assert 'id="home-dialogues"' in update and "Answer the private questions" in update
    assert "Robin has accepted your invitation" in update  # announced once, politely
    assert await other.receive_nothing(timeout=0.5)  # no one else hears of it
    # From now on it is a paired home page: news replaces the dialogues' card only.
    await database_sync_to_async(safety_services.screening_save)(user=single, answers={})
    await database_sync_to_async(safety_services.screening_set_ready)(user=single, ready=True)
    update = await receive_until(ws, "home-dialogues")
    assert "couple-status" not in update
    await ws.disconnect()
    await other.disconnect()


async def test_a_waiting_page_reconnecting_after_the_partner_joined_goes_on_at_once(
    waiting, single
):
    robin = await database_sync_to_async(UserFactory)(display_name="Robin")
    await accept(user=robin, token=waiting)  # while the page's socket was away
    ws, connected, _ = await open_socket(WAITING, single)
    assert connected
    assert "Robin has joined you" in await ws.receive_from(timeout=5)
    await ws.disconnect()
    # The invited partner, and a paired home page, get no such message.
    for person in (robin, single):
        ws, connected, _ = await open_socket("/ws/home/", person)
        assert connected and await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()


async def test_the_home_socket_refuses_people_without_a_couple(alex):
    ws, connected, _ = await open_socket("/ws/home/", alex)
    assert not connected
    await ws.disconnect()


async def test_the_channel_layer_carries_ids_and_rendered_fragments_only(
    dialogue, alex, sam, monkeypatch
):
    layer = get_channel_layer()
    sent = []
    original = layer.group_send

    async def spy(group, message):
        sent.append(message)
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", spy)
    ws, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws)
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1)
    await submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "private-words-here"},
        at=2,
    )
    await receive_until(ws, "private-words-here")
    # Words travel only inside the fragments already rendered for each audience (encrypted
    # on Redis: tests/imago_site/test_channel_layer.py); everything else is ids.
    ids = {"type", "session", "seq", "prev", "user", "channel", "role", "actor", "by_facilitator"}
    without_fragments = [{k: v for k, v in m.items() if k != "fragments"} for m in sent]
    assert sent and "private-words-here" not in repr(without_fragments)
    assert all(set(m) <= ids for m in without_fragments)
    carried = [m["fragments"] for m in sent if "fragments" in m]
    assert carried and set(carried[-1]) == rendered_for("a")  # Alex's page, Alex's move
    await ws.disconnect()


# --- said aloud, and together on one device -----------------------------------------------


def _aloud_together(alex, sam):
    session = services.dialogue_start(user=alex, kind="intentional", topic="Sundays", aloud=True)
    couple_services.device_sharing_allow(user=sam)
    services.session_together(session_public_id=session.public_id, user=alex, on=True)
    session.refresh_from_db()
    return session


async def test_a_move_for_the_partner_over_one_device_is_theirs_and_live_on_their_page(
    pair, alex, sam
):
    from dialogues.models import Turn

    session = await database_sync_to_async(_aloud_together)(alex, sam)
    ws_a, _, _ = await open_socket(path_of(session), alex)
    ws_b, _, _ = await open_socket(path_of(session), sam)
    snapshot = await ws_a.receive_from()
    assert "Sam's move" in snapshot and 'name="for" value="partner"' in snapshot
    await drain(ws_a)
    await drain(ws_b)
    frame = {"type": "move", "move": "accept_now", "at": session.step_seq, "token": "ws-for-1"}
    await ws_a.send_to(text_data=json.dumps({**frame, "for": "partner"}))
    for ws, line in ((ws_a, "(on your device)"), (ws_b, "(on Alex&#x27;s device)")):
        update = await receive_until(ws, 'id="sync"')
        assert line in update or line.replace("&#x27;", "'") in update
    turn = await database_sync_to_async(
        lambda: Turn.objects.select_related("actor", "made_by").get(move="accept_now")
    )()
    assert (turn.actor, turn.made_by) == (sam, alex)
    await ws_a.disconnect()
    await ws_b.disconnect()


async def test_withdrawn_permission_ends_one_device_live_and_refuses_the_next_move(pair, alex, sam):
    session = await database_sync_to_async(_aloud_together)(alex, sam)
    ws_a, _, _ = await open_socket(path_of(session), alex)
    await drain(ws_a)
    await database_sync_to_async(couple_services.device_sharing_revoke)(user=sam)
    update = await receive_until(ws_a, 'id="sync"')
    assert "ended taking turns together on one device" in update
    assert 'name="for"' not in update.split('id="move-panel"')[-1]
    frame = {"type": "move", "move": "accept_now", "at": session.step_seq, "token": "ws-for-2"}
    await ws_a.send_to(text_data=json.dumps({**frame, "for": "partner"}))
    refusal = await receive_until(ws_a, 'id="move-panel"')
    assert "isn&#x27;t on for this dialogue" in refusal or "isn't on for this dialogue" in refusal
    await ws_a.disconnect()


async def test_a_socket_move_said_aloud_needs_no_text(pair, alex, sam):
    session = await database_sync_to_async(services.dialogue_start)(
        user=alex, kind="appreciation", topic="Thanks", aloud=True
    )
    await submit(session_public_id=session.public_id, user=sam, move="accept_now")
    await database_sync_to_async(session.refresh_from_db)()
    ws_a, _, _ = await open_socket(path_of(session), alex)
    ws_b, _, _ = await open_socket(path_of(session), sam)
    await drain(ws_a)
    await drain(ws_b)
    frame = {"type": "move", "move": "appreciate", "at": session.step_seq, "token": "ws-aloud"}
    await ws_a.send_to(text_data=json.dumps(frame))
    update = await receive_until(ws_b, 'id="sync"')
    assert "Alex shared an appreciation, aloud." in update
    await ws_a.disconnect()
    await ws_b.disconnect()
