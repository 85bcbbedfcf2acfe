"""The giver sees the receiver's appreciation live, over the home page's socket."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from practice import services
from tests.helpers import with_form_token
from tests.practice.conftest import REQUEST, give_gift
from tests.sockets import drain, open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_giver_sees_the_appreciation_live(pair, alex, sam):
    await database_sync_to_async(give_gift)(alex, sam)
    from practice.models import Agreement

    agreement = await database_sync_to_async(Agreement.objects.get)()
    ws, connected, _ = await open_socket("/ws/home/", sam)
    assert connected
    await drain(ws)
    await database_sync_to_async(with_form_token(services.agreement_thank))(
        user=alex, agreement_public_id=agreement.public_id, text="Thank you, it meant a lot"
    )
    update = await receive_until(ws, "home-practice")
    assert "Thank you, it meant a lot" in update and REQUEST in update
    assert 'id="home-dialogues"' in update  # the dialogues part comes as before
    await ws.disconnect()


async def test_another_couple_hears_nothing(pair, alex, sam, outsider):
    await database_sync_to_async(give_gift)(alex, sam)
    from practice.models import Agreement

    agreement = await database_sync_to_async(Agreement.objects.get)()
    ws, connected, _ = await open_socket("/ws/home/", outsider)
    assert connected
    await drain(ws)
    await database_sync_to_async(with_form_token(services.agreement_thank))(
        user=alex, agreement_public_id=agreement.public_id, text="zq-not-for-olly"
    )
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()
