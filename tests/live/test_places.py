"""Socket places (live/places.py): counted in one atomic step across every worker, given
back exactly once, and a dead worker's places freed within seconds. On a redis-server of the
test's own where Redis is used (REDIS_URL set), else on the process's own count."""

from __future__ import annotations

import asyncio
import os

import pytest
from asgiref.sync import sync_to_async

from live import places
from tests.redis_server import PrivateRedis
from tests.sockets import logged_in, open_socket, path_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_redis(settings):
    """Places counted in a private Redis when the run uses Redis (none are left from other
    tests or runs; nothing shared is touched)."""
    if not settings.REDIS_URL:
        yield None
        return
    with PrivateRedis() as server:
        settings.REDIS_URL = server.url
        yield server


async def test_twenty_sockets_connecting_at_once_on_one_login_leave_exactly_eight(
    dialogue, alex, settings
):
    settings.IMAGO_MAX_SOCKETS_PER_LOGIN = 8
    settings.IMAGO_MAX_SOCKETS_PER_PERSON = 12
    login = await logged_in(alex)
    opened = await asyncio.gather(
        *(open_socket(path_of(dialogue), same_login_as=login, timeout=30) for _ in range(20))
    )
    accepted = [ws for ws, connected, _code in opened if connected]
    assert len(accepted) == 8
    assert {code for _ws, connected, code in opened if not connected} == {4429}
    for ws in accepted:
        await ws.disconnect()


async def test_sockets_closing_at_once_leave_no_ghost_places(dialogue, alex, settings):
    settings.IMAGO_MAX_SOCKETS_PER_LOGIN = 8
    settings.IMAGO_MAX_SOCKETS_PER_PERSON = 12
    first, second = await logged_in(alex), await logged_in(alex)
    sockets = [
        await open_socket(path_of(dialogue), same_login_as=login, timeout=10)
        for login in [first] * 6 + [second] * 6
    ]
    assert all(connected for _ws, connected, _code in sockets)
    await asyncio.gather(*(ws.disconnect() for ws, _connected, _code in sockets))

    assert await sync_to_async(places.held)(places.person_key(alex.pk)) == 0
    fresh = await logged_in(alex)  # a new login has every place there is
    again = [
        await open_socket(path_of(dialogue), same_login_as=fresh, timeout=10) for _ in range(8)
    ]
    assert all(connected for _ws, connected, _code in again)
    for ws, _connected, _code in again:
        await ws.disconnect()


def test_a_dead_workers_places_stop_counting_once_its_heartbeat_lapses(own_redis, monkeypatch):
    if own_redis is None:
        pytest.skip("one process without Redis: there is no other worker to die")
    counts = [(places.login_key("auth.one-login"), 2)]
    dead = f"gone-host.{os.getpid()}.deadbeef"  # a worker killed with its sockets open
    with monkeypatch.context() as patch:
        patch.setattr(places, "WORKER", dead)
        assert places.claim(counts, channel="a") and places.claim(counts, channel="b")
    assert not places.claim(counts, channel="c")  # full while that worker is alive

    client, _claim, _count = places._client(places._redis_url())
    client.delete(places._beat_prefix() + dead)  # what HEARTBEAT_TTL seconds of silence do
    assert places.held(counts[0][0]) == 0
    assert places.claim(counts, channel="c")  # the page reconnects at once


def test_a_place_is_given_back_once_and_a_second_release_takes_no_other(own_redis):
    counts = [(places.login_key("auth.login"), 2)]
    assert places.claim(counts, channel="a") and places.claim(counts, channel="b")
    keys = [counts[0][0]]
    places.release(keys, channel="a")
    places.release(keys, channel="a")  # a close handled twice
    assert places.held(keys[0]) == 1


def test_with_redis_unreachable_a_socket_is_let_in(own_redis):
    if own_redis is None:
        pytest.skip("without Redis there is nothing to be unreachable")
    own_redis.stop()
    assert places.claim([(places.person_key(1), 1)], channel="a")
    assert places.held(places.person_key(1)) == 0


def test_twenty_claims_at_the_same_moment_take_exactly_the_places_there_are(own_redis):
    """As 20 sockets of one login reaching different workers at once: read, count and take
    are one step, so none of them counts places another is taking."""
    import threading

    counts = [(places.login_key("auth.crowded"), 8), (places.person_key(7), 12)]
    start = threading.Barrier(20)
    taken: list[bool] = []

    def connect(n: int) -> None:
        start.wait()
        taken.append(places.claim(counts, channel=f"socket-{n}"))

    threads = [threading.Thread(target=connect, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 8
    assert places.held(counts[0][0]) == 8 and places.held(counts[1][0]) == 8


async def test_a_page_reconnecting_just_after_its_worker_died_waits_and_gets_in(
    own_redis, monkeypatch
):
    """Its old places still count for a few seconds (the dead worker's heartbeat hasn't
    lapsed yet): the reconnect waits for that instead of being refused."""
    if own_redis is None:
        pytest.skip("one process without Redis: there is no other worker to die")
    counts = [(places.login_key("auth.reconnecting"), 1)]
    dead = f"gone-host.{os.getpid()}.deadbeef"
    with monkeypatch.context() as patch:
        patch.setattr(places, "WORKER", dead)
        assert await sync_to_async(places.claim)(counts, channel="old")
    client, _claim, _count = places._client(places._redis_url())

    async def heartbeat_lapses():
        await asyncio.sleep(1.5)
        await sync_to_async(client.delete)(places._beat_prefix() + dead)

    lapse = asyncio.ensure_future(heartbeat_lapses())
    assert await places.aclaim(counts, channel="new")
    await lapse
    await places.arelease([counts[0][0]], channel="new")


def test_an_audience_is_listened_as_while_a_socket_holds_its_place(own_redis):
    group = "dialogue.abc"
    listening = [(places.listening_key(group, "7"), places.NO_LIMIT)]
    assert places.listening(group, ["7", "8", "facilitator"]) == set()
    assert places.claim(listening, channel="a") and places.claim(listening, channel="b")
    assert places.listening(group, ["7", "8", "facilitator"]) == {"7"}
    places.release([listening[0][0]], channel="a")
    assert places.listening(group, ["7", "8"]) == {"7"}  # the other tab still listens
    places.release([listening[0][0]], channel="b")
    assert places.listening(group, ["7", "8"]) == set()


def test_with_redis_unreachable_every_audience_counts_as_listening(own_redis):
    if own_redis is None:
        pytest.skip("without Redis there is nothing to be unreachable")
    own_redis.stop()
    # A render too many costs time; one too few would cost a socket a read of the database.
    assert places.listening("dialogue.abc", ["7", "facilitator"]) == {"7", "facilitator"}


async def test_a_dialogue_socket_listens_as_its_partner_and_a_console_as_the_facilitators(
    dialogue, alex, therapist, link
):
    from live import dialogue_group
    from tests.sockets import console_path

    group = dialogue_group(dialogue.public_id)
    everyone = [str(dialogue.partner_a_id), str(dialogue.partner_b_id), "facilitator"]
    listening = sync_to_async(places.listening)
    page, connected, code = await open_socket(path_of(dialogue), alex, timeout=10)
    assert connected, code
    console, connected, code = await open_socket(console_path(dialogue), therapist, timeout=10)
    assert connected, code
    assert await listening(group, everyone) == {str(alex.pk), "facilitator"}
    await console.disconnect()
    assert await listening(group, everyone) == {str(alex.pk)}
    await page.disconnect()
    assert await listening(group, everyone) == set()
