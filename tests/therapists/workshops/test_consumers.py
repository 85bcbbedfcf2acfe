"""The workshop's sockets as each role: the presenter's board (a changed card arrives alone,
progress only, never text) and a partner's room (presence, the presenter's messages, the
call back to the group)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from dialogues import services as dialogue_services
from tests.factories import practise
from tests.helpers import form_token, with_form_token
from tests.sockets import drain, open_socket, receive_until
from tests.therapists.workshops.conftest import ROLES
from therapists.workshops import services
from therapists.workshops.models import Participant

# Alex and Sam joined the `workshop` of every test here, neither checked in.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("workshops_joined")]


@pytest.fixture(autouse=True)
async def _close_the_sync_threads_connections():
    yield
    await sync_to_async(connections.close_all)()


def board_path(workshop) -> str:
    return f"/ws/therapist/workshops/{workshop.public_id}/"


def room_path(workshop) -> str:
    return f"/ws/workshops/{workshop.public_id}/"


@pytest.mark.parametrize("role", ROLES)
async def test_the_board_socket_is_the_presenters_only(workshop, person, role):
    ws, connected, code = await open_socket(board_path(workshop), person(role))
    if role == "presenter":
        assert connected
        assert "workshop-board" in await ws.receive_from()
    else:
        assert not connected
        assert code in (4401, 4403)
    await ws.disconnect()


@pytest.mark.parametrize("role", ROLES)
async def test_the_room_socket_is_the_participants_only(workshop, person, role):
    ws, connected, code = await open_socket(room_path(workshop), person(role))
    if role == "participant":
        assert connected
        assert "workshop-room" in await ws.receive_from()
    else:
        assert not connected
        assert code in (4401, 4403)
    await ws.disconnect()


@pytest.mark.parametrize("bad", ["nope", "x" * 40, "%3Cb%3E"])
async def test_an_unknown_workshop_refuses_both_sockets(workshop, therapist, alex, bad):
    sockets = ((f"/ws/therapist/workshops/{bad}/", therapist), (f"/ws/workshops/{bad}/", alex))
    for path, who in sockets:
        ws, connected, code = await open_socket(path, who)
        assert not connected and code == 4403
        await ws.disconnect()


async def test_a_partner_opening_the_room_checks_in_on_the_board_card_alone(
    workshop, therapist, alex
):
    board, connected, _code = await open_socket(board_path(workshop), therapist)
    assert connected
    await drain(board)
    room, connected, _code = await open_socket(room_path(workshop), alex)
    assert connected
    card = await receive_until(board, 'id="card-')
    assert "workshop-board" not in card  # one card, not the whole board
    assert 'class="here"' in card and "Alex" in card
    assert 'id="board-counts"' in card
    assert await database_sync_to_async(
        Participant.objects.filter(partner=alex, present=True).exists
    )()
    # Checked in: leaving the page (for the practice, or a phone asleep) changes nothing.
    await room.disconnect()
    assert await board.receive_nothing(timeout=0.3)
    await board.disconnect()


async def test_help_reaches_the_board_at_once_and_not_the_other_couples(
    workshop, therapist, alex, sam
):
    board, _c, _code = await open_socket(board_path(workshop), therapist)
    await drain(board)
    await database_sync_to_async(services.help_ask)(user=sam, workshop_public_id=workshop.public_id)
    card = await receive_until(board, "help")
    assert "We&#x27;d like help" in card or "We'd like help" in card
    await board.disconnect()


async def test_the_board_follows_each_couples_steps_without_their_words(
    workshop, practising, therapist, alex, sam
):
    session = practising
    board, _c, _code = await open_socket(board_path(workshop), therapist)
    await drain(board)
    sender = alex if session.partner_a_id == alex.pk else sam
    move = database_sync_to_async(with_form_token(dialogue_services.move_submit))
    await move(
        session_public_id=session.public_id,
        user=sender,
        move="send",
        payload={"text": "I feel a secret thing when we rush"},
    )
    card = await receive_until(board, 'id="card-')
    assert "secret" not in card
    assert "workshop-board" not in card
    # Anything else the dialogue's group carries never reaches the board either.
    assert await board.receive_nothing(timeout=0.3)
    await board.disconnect()


async def test_the_room_hears_messages_and_the_call_back_to_the_group(workshop, therapist, alex):
    room, connected, _code = await open_socket(room_path(workshop), alex)
    assert connected
    await drain(room)
    await database_sync_to_async(services.workshop_announce)(
        workshop=workshop, kind="message", text="Take a breath together", token=form_token()
    )
    assert "Take a breath together" in await receive_until(room, "Take a breath")
    segment = await database_sync_to_async(practise)(workshop)
    await database_sync_to_async(services.segment_start)(
        workshop=workshop, segment_public_id=segment.public_id
    )
    await drain(room)
    await database_sync_to_async(services.workshop_reconvene)(workshop=workshop)
    assert "Back to the group" in await receive_until(room, "Back to the group")
    await room.disconnect()


async def test_ending_the_couple_closes_the_room_socket(workshop, alex, sam):
    from couples import services as couple_services

    room, connected, _code = await open_socket(room_path(workshop), alex)
    assert connected
    await drain(room)
    await database_sync_to_async(couple_services.couple_leave)(user=sam)
    output = await room.receive_output(timeout=3)
    while output["type"] != "websocket.close":
        output = await room.receive_output(timeout=3)
    assert output["code"] == 4403


async def test_a_presenter_without_their_second_factor_gets_no_board(workshop, therapist):
    await database_sync_to_async(therapist.authenticator_set.all().delete)()
    ws, connected, code = await open_socket(board_path(workshop), therapist)
    assert (connected, code) == (False, 4403)
    await ws.disconnect()


async def test_the_presenters_console_opens_only_with_both_consents_and_closes_on_withdrawal(
    workshop, practising, therapist, alex, sam
):
    session = practising
    console = f"/ws/therapist/dialogues/{session.public_id}/"
    ws, connected, code = await open_socket(console, therapist)
    assert (connected, code) == (False, 4403)
    await ws.disconnect()
    allow = database_sync_to_async(services.reading_set)
    await allow(user=alex, workshop_public_id=workshop.public_id, allow=True)
    ws, connected, code = await open_socket(console, therapist)
    assert (connected, code) == (False, 4403)  # one partner is not enough
    await ws.disconnect()
    await allow(user=sam, workshop_public_id=workshop.public_id, allow=True)
    ws, connected, _code = await open_socket(console, therapist)
    assert connected
    await drain(ws)
    await allow(user=sam, workshop_public_id=workshop.public_id, allow=False)
    output = await ws.receive_output(timeout=3)
    while output["type"] != "websocket.close":
        output = await ws.receive_output(timeout=3)
    assert output["code"] == 4403


async def test_a_partner_who_leaves_shows_absent_on_the_board(workshop, therapist, alex, settings):
    settings.IMAGO_GONE_AFTER = 0.05  # a page changing reconnects within it (10 s when served)
    board, _c, _code = await open_socket(board_path(workshop), therapist)
    await drain(board)
    room, connected, _code = await open_socket(room_path(workshop), alex)
    assert connected
    here = await receive_until(board, "card-")
    assert 'Alex<span class="visually-hidden"> (here)' in here and " away" not in here
    await drain(room)
    await room.disconnect()  # Alex closed the page, and holds no other
    gone = await receive_until(board, "card-")
    assert 'Alex<span class="visually-hidden"> (not here)' in gone and "wcard away" in gone
    assert not await database_sync_to_async(Participant.objects.filter(present=True).exists)()
    await board.disconnect()


async def test_a_partner_with_another_page_open_stays_present(workshop, therapist, alex, settings):
    settings.IMAGO_GONE_AFTER = 0.05
    first, connected, _code = await open_socket(room_path(workshop), alex)
    second, connected_too, _code = await open_socket(room_path(workshop), alex)
    assert connected and connected_too
    await drain(first)
    await drain(second)
    await first.disconnect()
    assert await second.receive_nothing(timeout=0.3)  # nothing changed for the room
    present = Participant.objects.filter(partner=alex, present=True).exists
    assert await database_sync_to_async(present)()
    await second.disconnect()
