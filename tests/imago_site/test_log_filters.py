"""A failure logged over and over (channels-redis's receive loop while a Redis shard is away)
reaches the log once a minute, the first time with its traceback."""

from __future__ import annotations

import logging
import secrets
import sys

import redis.exceptions

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


def test_the_site_logs_channels_redis_failures_once_a_minute():
    """The logging the site starts with (settings.LOGGING), as configured: channels-redis's
    records go only through a handler holding back repeats; our own lines are not held."""
    library = logging.getLogger("channels_redis")
    assert library.propagate is False and library.handlers
    ours = logging.getLogger("imago")
    assert not any(isinstance(f, Repeats) for h in ours.handlers for f in h.filters)
    # its own kind, whatever other tests logged in the last minute
    message = f"Unexpected exception in receive task ({secrets.token_hex(4)})"
    let_through = 0
    for _ in range(5):  # the receive loop, once a second while the shard is away
        try:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        except redis.exceptions.ConnectionError:
            record = library.makeRecord(
                "channels_redis.pubsub", logging.ERROR, __file__, 1, message, (), sys.exc_info()
            )
        let_through += all(handler.filter(record) for handler in library.handlers)
    assert let_through == 1
