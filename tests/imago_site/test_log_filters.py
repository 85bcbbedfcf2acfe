"""A failure logged over and over (channels-redis's receive loop while a Redis shard is away)
reaches the log once a minute, the first time with its traceback."""

from __future__ import annotations

import logging
import logging.config
import sys

import redis.exceptions
from django.conf import settings

from imago_site.log_filters import Repeats


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(msg: str = "Unexpected exception in receive task", error=ConnectionError):
    try:
        raise error("Connection closed by server.")
    except error:
        return logging.getLogger("channels_redis.pubsub").makeRecord(
            "channels_redis.pubsub", logging.ERROR, __file__, 1, msg, (), sys.exc_info()
        )


def test_the_first_failure_passes_with_its_traceback_and_repeats_within_a_minute_are_held():
    clock = _Clock()
    repeats = Repeats(every=60, clock=clock)
    first = _record()
    assert repeats.filter(first) and first.exc_info is not None
    assert first.getMessage() == "Unexpected exception in receive task"
    for _ in range(59):
        clock.now += 1
        assert not repeats.filter(_record())


def test_after_a_minute_the_next_one_passes_saying_how_many_were_held_back():
    clock = _Clock()
    repeats = Repeats(every=60, clock=clock)
    repeats.filter(_record())
    for _ in range(3):
        clock.now += 10
        repeats.filter(_record())
    clock.now += 30
    later = _record()
    assert repeats.filter(later)
    assert later.getMessage() == (
        "Unexpected exception in receive task [3 more like this held back since the last]"
    )
    clock.now += 60
    quiet = _record()
    assert repeats.filter(quiet) and "held back" not in quiet.getMessage()


def test_another_message_or_another_error_is_its_own_kind():
    repeats = Repeats(every=60, clock=_Clock())
    assert repeats.filter(_record())
    assert repeats.filter(_record(msg="Unexpected exception while cleaning-up channel:"))
    assert repeats.filter(_record(error=TimeoutError))
    assert not repeats.filter(_record(error=TimeoutError))


def test_the_site_logs_channels_redis_failures_once_a_minute(capfd):
    logging.config.dictConfig(settings.LOGGING)  # a fresh filter, as a worker starts with
    log = logging.getLogger("channels_redis.pubsub")
    for _ in range(5):  # the receive loop, once a second while the shard is away
        try:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        except redis.exceptions.ConnectionError:
            log.exception("Unexpected exception in receive task")
    logging.getLogger("imago.live").warning("channel layer back")
    err = capfd.readouterr().err
    assert err.count("Unexpected exception in receive task") == 1
    assert err.count("Traceback (most recent call last)") == 1
    assert "channel layer back" in err  # our own lines are not held back
