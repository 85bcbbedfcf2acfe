"""Withdrawing consent never depends on Redis: with the channel layer's Redis down, the link
ends in PostgreSQL at once, and the therapist's open console is closed once Redis is back
(the notification is sent again, and the console's catch-up finds no access)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from tests.sockets import console_path, drain, open_socket
from therapists import services as therapist_services
from therapists.models import TherapistLink

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_the_sync_threads_connections():
    yield
    await sync_to_async(connections.close_all)()


async def test_consent_withdrawn_while_redis_is_down_ends_the_link_and_closes_the_console(
    private_layer, live, link, therapist, sam
):
    ws, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    await drain(ws)

    private_layer.stop()
    await database_sync_to_async(therapist_services.consent_withdraw)(
        user=sam, link_public_id=link.public_id
    )
    await database_sync_to_async(link.refresh_from_db)()
    assert link.status == TherapistLink.Status.ENDED  # in PostgreSQL, whatever Redis does

    await asyncio.sleep(4)  # down a while: more than one look of the layer watch
    private_layer.start()
    closed = await ws.receive_output(timeout=30)
    while closed["type"] != "websocket.close":
        closed = await ws.receive_output(timeout=30)
    assert closed == {"type": "websocket.close", "code": 4403}
