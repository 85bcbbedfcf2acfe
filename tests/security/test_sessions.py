"""Logins in the shared cache, written through to the database (settings.SESSION_ENGINE is
cached_db wherever there is Redis): read without a query, and every way a login ends takes
its cached copy with it, so no worker goes on trusting a login that is over."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from couples import services
from couples.devices import device_id
from tests.couples.test_devices import URL, _as_phone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cached_sessions(settings):
    settings.SESSION_ENGINE = "security.sessions"


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(URL).status_code == 200  # read once: in the cache from now on
    return client


def _signed_in(client) -> bool:
    return client.get(URL).status_code == 200  # the devices page asks for a login


def _cached(client) -> bool:
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    return cache.get(KEY_PREFIX + client.cookies["sessionid"].value) is not None


def test_a_login_is_read_from_the_cache_not_the_table(alex):
    client = _login(alex)
    assert _cached(client)
    with CaptureQueriesContext(connection) as seen:
        assert client.get(URL).status_code == 200
    assert not [q for q in seen.captured_queries if "django_session" in q["sql"]]


def test_ending_every_login_of_a_person_drops_the_cached_copies_too(alex, sam):
    laptop, phone, sams = _login(alex), _login(alex), _login(sam)
    services.user_sessions_end(user=alex)  # as deactivation and deletion do
    alex.refresh_from_db()
    assert alex.is_active  # so only the ended login can keep them out
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _signed_in(sams)


def test_signing_out_another_device_drops_its_cached_copy(alex):
    laptop, phone = _login(alex), _login(alex)
    assert laptop.post(URL, {"device": device_id(_as_phone(phone))}).status_code == 302
    assert not _cached(phone)
    assert not _signed_in(phone) and _signed_in(laptop)


def test_logging_out_drops_the_cached_copy_and_a_replayed_cookie_is_nobody(alex):
    client = _login(alex)
    cookie = client.cookies["sessionid"].value
    assert client.post(reverse("account_logout")).status_code == 302
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert not _signed_in(replay)


@pytest.mark.django_db(transaction=True)  # requests in other threads see the login
def test_requests_read_logins_through_the_one_cache_object_of_the_process(alex, monkeypatch):
    """Django's `caches["default"]` is one object per thread and async context, each with a
    Redis pool of its own: under ASGI every request would open a connection to read its
    login. The store uses the process's shared one (`live.socket_cache`)."""
    from django.core.cache import caches

    client = _login(alex)
    made = []
    original = caches.create_connection
    monkeypatch.setattr(
        caches, "create_connection", lambda alias: made.append(alias) or original(alias)
    )
    codes = []
    for _ in range(3):  # each in a thread of its own, as ASGI's requests come in contexts
        thread = threading.Thread(target=lambda: codes.append(client.get(URL).status_code))
        thread.start()
        thread.join()
    assert codes == [200, 200, 200]
    assert made == []


def test_a_logout_while_the_cache_is_away_is_not_undone_when_it_answers_again(alex, monkeypatch):
    """The cached copy a logout couldn't delete (Redis away) is dropped at the next contact,
    before anything is read there: the ended login never comes back from the cache."""
    import redis.exceptions

    from live import strict_socket_cache

    client = _login(alex)
    cookie = client.cookies["sessionid"].value

    def away(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Redis is away")

    with monkeypatch.context() as patch:
        patch.setattr(strict_socket_cache(), "delete", away)
        assert client.post(reverse("account_logout")).status_code == 302
    assert _cached_key(cookie)  # left behind while the cache was away

    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert not _signed_in(replay)
    assert not _cached_key(cookie)


def _cached_key(session_key: str) -> bool:
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    return cache.get(KEY_PREFIX + session_key) is not None
