"""A failure a library logs over and over, said once a minute.

While a Redis shard is away, channels-redis's pub/sub receive loop logs "Unexpected exception
in receive task" with a 40-line traceback every second in every worker (seen in
`bench/two_hosts.sh` with a shard killed: 24 tracebacks a host in a 10-s outage). The first
is what an operator needs; the rest bury the layer watch's own lines ("channel layer back").
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

# Kinds remembered at most (a library logging ever-new messages can't grow this without end).
_KINDS = 256


class Repeats(logging.Filter):
    """Lets a record through, with its traceback, then holds back records of the same kind
    (logger, message, exception class) for `every` seconds; the next one let through says how
    many were held back."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every = every
        self._clock = clock
        self._lock = threading.Lock()  # handlers are called from any thread
        self._seen: dict[tuple, tuple[float, int]] = {}  # kind: (let through at, held since)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[0] if record.exc_info else None
        kind = (record.name, record.msg, error)
        now = self._clock()
        with self._lock:
            said_at, held = self._seen.get(kind, (-math.inf, 0))
            if now - said_at < self.every:
                self._seen[kind] = (said_at, held + 1)
                return False
            if kind not in self._seen and len(self._seen) >= _KINDS:
                self._seen.clear()
            self._seen[kind] = (now, 0)
        if held:
            record.msg = f"{record.msg} [{held} more like this held back since the last]"
        return True
