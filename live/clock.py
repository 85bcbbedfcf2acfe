"""The one clock that scheduled work reads: `now()`.

Services that decide by the time (an appointment's moment, a reminder being due, a dialogue
opening) ask `now()` rather than `timezone.now()`, so tests can move time: `clock_set` in
the test process, or `IMAGO_CLOCK_FILE` (an ISO time in a file) for a server in another
process. Neither exists in production.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

_fixed: datetime | None = None


def now() -> datetime:
    if _fixed is not None:
        return _fixed
    path = getattr(settings, "IMAGO_CLOCK_FILE", "")
    if path:
        try:
            text = Path(path).read_text().strip()
        except OSError:
            text = ""
        if text:
            return datetime.fromisoformat(text)
    return timezone.now()


def clock_set(moment: datetime | None) -> None:
    """Tests: fix the clock at this aware moment (None: the real time again)."""
    global _fixed
    if moment is not None and timezone.is_naive(moment):
        raise ValueError("the clock needs an aware datetime")
    _fixed = moment
