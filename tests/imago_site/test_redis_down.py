"""With Redis down, whatever PostgreSQL can do still works: signed-in pages, moves and
withdrawing consent are served from the database (live/cache.py, security/sessions.py),
never a 500. Against a real redis-server of the test's own, stopped mid-test."""

from __future__ import annotations

import logging

import pytest
from channels.layers import channel_layers
from django.test import Client
from django.urls import reverse

from dialogues.models import Turn
from tests.factories import PASSWORD, link_with_consent
from tests.helpers import form_token
from tests.redis_server import PrivateRedis
from therapists.models import TherapistLink

DEVICES = "/accounts/sessions/"  # a page only for the signed-in

pytestmark = pytest.mark.django_db(transaction=True)  # the pub/sub publisher runs after commit


@pytest.fixture
def redis(settings):
    """Everything that uses Redis in production (the cache, the logins in it, the channel
    layer) on a private redis-server; stopped by the test."""
    with PrivateRedis() as server:
        settings.CACHES = {
            "default": {
                "BACKEND": "live.cache.RedisCache",
                "LOCATION": server.url,
                "KEY_PREFIX": "down",
                "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
            }
        }
        settings.SESSION_ENGINE = "security.sessions"
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [server.url], "prefix": "down"},
            }
        }
        channel_layers.backends.clear()
        yield server
        channel_layers.backends.clear()


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200  # the login is in Redis from now on
    return client


def test_home_a_move_and_withdrawing_consent_work_with_redis_down(
    redis, dialogue, therapist, alex, sam, caplog
):
    link = link_with_consent(therapist, alex, sam)
    as_alex, as_sam = _signed_in(alex), _signed_in(sam)
    redis.stop()
    caplog.set_level(logging.WARNING)

    assert as_alex.get("/").status_code == 200
    page = as_sam.get(reverse("dialogues:detail", args=[dialogue.public_id]))
    assert page.status_code == 200
    response = as_sam.post(
        reverse("dialogues:move", args=[dialogue.public_id]),
        {"move": "accept_now", "at": str(dialogue.step_seq), "token": form_token()},
    )
    assert response.status_code in (200, 302)
    assert Turn.objects.filter(session=dialogue, move="accept_now").exists()  # saved

    response = as_sam.post(reverse("therapists:consent_withdraw", args=[link.public_id]))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.status == TherapistLink.Status.ENDED  # in PostgreSQL, Redis or not

    # One line says the cache is away, not one per request.
    said = [r for r in caplog.records if r.name == "imago.cache"]
    assert len(said) == 1 and said[0].levelno == logging.WARNING


def test_logging_in_and_out_work_with_redis_down_and_a_logout_stays_out(redis, pair, alex):
    redis.stop()
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "alex@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:300]
    assert client.get(DEVICES).status_code == 200
    cookie = client.cookies["sessionid"].value
    assert client.post(reverse("account_logout")).status_code == 302

    redis.start()  # back (empty, as a restarted Redis is)
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get(DEVICES).status_code == 302  # to the login page: nobody


def test_a_login_in_redis_is_encrypted_and_holds_no_email(redis, pair, alex):
    import redis as redis_py

    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "alex@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    session = client.session
    assert "alex@example.com" in str(dict(session.items()))  # what a login holds (allauth)
    assert client.get(DEVICES).status_code == 200
    raw = redis_py.Redis.from_url(redis.url)
    keys = raw.keys("down:*cached_db*")
    assert keys
    for key in keys:
        value = raw.get(key)
        assert b"alex@example.com" not in value and b"_auth_user_id" not in value
