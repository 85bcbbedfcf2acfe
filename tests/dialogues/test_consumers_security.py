"""Sockets close when their login ends: deactivation, account deletion, 12 hours, 30 idle
minutes for therapists and staff; cross-origin handshakes are refused on every route."""

import asyncio

import pytest
from channels.db import database_sync_to_async

import live
from couples import services as couple_services
from live import consumer as live_consumer
from live import session_limits
from live.consumer import CLOSE_UNAUTHENTICATED
from tests.mfa import give_mfa
from tests.sockets import drain, open_socket, path_of, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_with(ws, timeout=3.0) -> int | None:
    """The close code, if the server closes the socket within `timeout`."""
    deadline = asyncio.get_event_loop().time() + timeout
    while asyncio.get_event_loop().time() < deadline:
        try:
            output = await ws.receive_output(timeout=deadline - asyncio.get_event_loop().time())
        except TimeoutError:
            return None
        if output["type"] == "websocket.close":
            return output.get("code")
    return None


@pytest.mark.parametrize("path", ["dialogue", "/ws/home/"])
@pytest.mark.parametrize("origin", ["http://evil.example", "https://localhost.evil.example"])
async def test_cross_origin_handshakes_are_refused(dialogue, alex, path, origin):
    ws, connected, _ = await open_socket(
        path_of(dialogue) if path == "dialogue" else path, alex, origin=origin
    )
    assert not connected
    await ws.disconnect()


async def test_deactivation_closes_every_socket_of_that_person(dialogue, alex, sam, staff):
    page, home, partner = (
        await open_socket(path_of(dialogue), alex),
        await open_socket("/ws/home/", alex),
        await open_socket(path_of(dialogue), sam),
    )
    assert page[1] and home[1] and partner[1]
    for ws in (page[0], home[0], partner[0]):
        await drain(ws)
    await database_sync_to_async(couple_services.user_deactivate)(user=alex, by=staff)
    assert await closed_with(page[0]) == CLOSE_UNAUTHENTICATED
    assert await closed_with(home[0]) == CLOSE_UNAUTHENTICATED
    while not await partner[0].receive_nothing(timeout=0.5):  # the partner stays connected
        assert (await partner[0].receive_output())["type"] != "websocket.close"
    for ws in (page[0], home[0], partner[0]):
        await ws.disconnect()


async def test_account_deletion_closes_the_sockets(dialogue, alex, sam):
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    await database_sync_to_async(couple_services.account_delete)(user=alex)
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
    await ws.disconnect()


async def test_a_socket_closes_on_its_next_frame_once_the_login_is_12_hours_old(
    dialogue, alex, monkeypatch
):
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    later = session_limits.now() + 12 * 3600 + 60
    monkeypatch.setattr(session_limits, "now", lambda: later)
    await ws.send_to(text_data='{"type": "ping"}')
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
    await ws.disconnect()


async def test_a_quiet_socket_closes_too_when_the_login_runs_out(dialogue, alex, monkeypatch):
    monkeypatch.setattr(live_consumer, "SESSION_TICK", 0.2)
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    later = session_limits.now() + 12 * 3600 + 60
    monkeypatch.setattr(session_limits, "now", lambda: later)
    # No frame from the browser: the consumer's own timer notices within a couple of seconds.
    assert await closed_with(ws, timeout=4) == CLOSE_UNAUTHENTICATED
    await ws.disconnect()


async def test_an_expired_login_cant_open_a_socket(dialogue, alex, monkeypatch):
    later = session_limits.now() + 12 * 3600 + 60
    real_now = session_limits.now
    ws, _, _ = await open_socket(path_of(dialogue), alex)  # log in now...
    await ws.disconnect()
    monkeypatch.setattr(session_limits, "now", lambda: later)  # ...then 12 hours pass
    cookie = dict(ws.scope["headers"])[b"cookie"]
    from channels.testing import WebsocketCommunicator

    from imago_site.asgi import application

    again = WebsocketCommunicator(
        application,
        path_of(dialogue),
        headers=[(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", cookie)],
    )
    connected, code = await again.connect()
    assert not connected and code == CLOSE_UNAUTHENTICATED
    await again.disconnect()
    assert real_now() < later


async def test_an_idle_therapist_or_staff_login_is_checked_against_the_store(
    dialogue, alex, monkeypatch, settings
):
    """A partner's idle limit is hours: after 31 quiet minutes the socket stays open."""
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    later = session_limits.now() + 31 * 60
    monkeypatch.setattr(session_limits, "now", lambda: later)
    await ws.send_to(text_data='{"type": "ping"}')
    assert 'id="pong"' in await ws.receive_from(timeout=3)
    await ws.disconnect()


async def test_the_idle_limit_applies_to_strict_people_on_sockets(dialogue, alex, monkeypatch):
    """Therapists and staff: the same rule as over HTTP (the dialogue socket takes partners,
    so the rule is driven through a partner counted as strict)."""
    monkeypatch.setattr(session_limits, "is_strict", lambda user: True)
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    later = session_limits.now() + 31 * 60
    monkeypatch.setattr(session_limits, "now", lambda: later)
    await ws.send_to(text_data='{"type": "ping"}')
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
    await ws.disconnect()


async def test_activity_over_http_keeps_a_strict_socket_open(dialogue, alex, monkeypatch):
    monkeypatch.setattr(session_limits, "is_strict", lambda user: True)
    await database_sync_to_async(give_mfa)(alex)  # strict people have it
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    start = session_limits.now()
    monkeypatch.setattr(session_limits, "now", lambda: start + 20 * 60)
    # A page request in the meantime refreshes the login's last activity...
    response = await database_sync_to_async(ws.http_client.get)("/")
    assert response.status_code == 200
    # ...so 31 minutes after logging in, the socket's login is still good.
    monkeypatch.setattr(session_limits, "now", lambda: start + 31 * 60)
    await ws.send_to(text_data='{"type": "ping"}')
    assert 'id="pong"' in await ws.receive_from(timeout=3)
    await ws.disconnect()


@pytest.mark.parametrize("path", ["dialogue", "/ws/home/"])
async def test_a_partners_open_page_keeps_the_login_alive_past_the_idle_limit(
    dialogue, alex, monkeypatch, path
):
    """An open live page is activity: 5 hours with no page request, and the socket (and a
    page request of the same login) still work, while the 12 hours still hold."""
    ws, connected, _ = await open_socket(path_of(dialogue) if path == "dialogue" else path, alex)
    assert connected
    await drain(ws)
    start = session_limits.now()
    monkeypatch.setattr(session_limits, "now", lambda: start + 5 * 3600)
    await ws.send_to(text_data='{"type": "ping"}')  # the socket looks at its login's limits
    if path == "dialogue":
        assert 'id="pong"' in await receive_until(ws, 'id="pong"')
    else:  # the home page's socket answers no ping: it still hears its couple
        await database_sync_to_async(live.send)(
            live.couple_group(dialogue.couple_id), {"type": "couple.changed"}
        )
        assert "home-dialogues" in await receive_until(ws, "home-dialogues")
    response = await database_sync_to_async(ws.http_client.get)("/")
    assert response.status_code == 200
    monkeypatch.setattr(session_limits, "now", lambda: start + 12 * 3600 + 60)
    await ws.send_to(text_data='{"type": "ping"}')
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
    await ws.disconnect()


async def test_a_quiet_partner_socket_marks_its_login_live_every_tick(dialogue, alex, monkeypatch):
    monkeypatch.setattr(live_consumer, "SESSION_TICK", 0.1)
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    key = ws.http_client.cookies["sessionid"].value
    later = session_limits.now() + 3600
    monkeypatch.setattr(session_limits, "now", lambda: later)
    for _ in range(100):  # the consumer's own timer, no frame from the browser
        if await session_limits.alive_seen(key) == later:
            break
        await asyncio.sleep(0.05)
    assert await session_limits.alive_seen(key) == later
    await ws.disconnect()


async def test_a_therapists_socket_does_not_mark_the_login_live(dialogue, alex, monkeypatch):
    monkeypatch.setattr(session_limits, "is_strict", lambda user: True)
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(ws)
    assert await session_limits.alive_seen(ws.http_client.cookies["sessionid"].value) is None
    await ws.disconnect()


async def test_an_idle_partner_login_cant_open_a_socket(dialogue, alex, monkeypatch):
    """No page open and no request for over 4 hours: the login is over, sockets included."""
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await ws.disconnect()
    await database_sync_to_async(cache_clear)()  # the page's live mark would have lapsed
    later = session_limits.now() + 4 * 3600 + 60
    monkeypatch.setattr(session_limits, "now", lambda: later)
    cookie = dict(ws.scope["headers"])[b"cookie"]
    from channels.testing import WebsocketCommunicator

    from imago_site.asgi import application

    again = WebsocketCommunicator(
        application,
        path_of(dialogue),
        headers=[(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", cookie)],
    )
    connected, code = await again.connect()
    assert not connected and code == CLOSE_UNAUTHENTICATED
    await again.disconnect()


def cache_clear() -> None:
    from django.core.cache import cache

    cache.clear()


# --- the second factor: sockets refuse what pages refuse ------------------------------------


def _made_staff(person) -> None:
    person.is_staff = True
    person.save(update_fields=["is_staff"])


@pytest.mark.parametrize("path", ["dialogue", "/ws/home/"])
async def test_a_staff_member_in_a_couple_needs_their_second_factor_on_sockets(
    dialogue, alex, path
):
    """Staff read nothing without their second factor, their own dialogues included; the
    partners' sockets (dialogue and home page) are the only ones a staff member could open."""
    await database_sync_to_async(_made_staff)(alex)
    where = path_of(dialogue) if path == "dialogue" else path
    ws, connected, code = await open_socket(where, alex)
    assert (connected, code) == (False, 4403)
    await ws.disconnect()
    page = await database_sync_to_async(ws.http_client.get)("/")
    assert page.status_code == 302 and page["Location"] == "/accounts/2fa/totp/activate/"

    await database_sync_to_async(give_mfa)(alex)
    ws, connected, _ = await open_socket(where, alex)
    assert connected
    await ws.disconnect()


@pytest.mark.parametrize("path", ["dialogue", "/ws/home/"])
async def test_partners_need_no_second_factor_on_sockets(dialogue, alex, path):
    ws, connected, _ = await open_socket(path_of(dialogue) if path == "dialogue" else path, alex)
    assert connected
    await ws.disconnect()
