"""How long the mirror feedback (dialogues.language.mirror_feedback) takes for a 2,000-character
message and a mirror of about the same length, in English and in Spanish: the page asks for it
as the receiver types, so it must stay well under 5 ms.

    .venv/bin/python bench/mirror_feedback.py

Tiny and single-threaded (no server, no database); prints the median and the slowest of a
few hundred runs: "first time" with no word's stem remembered yet, "as typed" when the words
were seen a moment ago (the page asks again as each word is added)."""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.utils import translation  # noqa: E402

from dialogues import language  # noqa: E402
from dialogues.protocol import MAX_TEXT  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUNS = 200


def _texts(language: str) -> tuple[str, str]:
    """Two different 2,000-character texts with a real vocabulary (far more distinct words
    than a message repeated): the README's prose in English, the catalogue's in Spanish."""
    if language == "en":
        prose = " ".join(
            line
            for doc in ("README.md", "docs/live-dialogue.md", "docs/security.md")
            for line in (ROOT / doc).read_text().splitlines()
            if line[:1].isalpha()
        )
    else:
        po = (ROOT / "locale/es/LC_MESSAGES/django.po").read_text()
        prose = " ".join(re.findall(r'^msgstr "(.{20,})"$', po, re.MULTILINE))
    return prose[:MAX_TEXT], prose[MAX_TEXT : 2 * MAX_TEXT]


def _time(said: str, mirror: str, *, cold: bool) -> list[float]:
    times = []
    for _ in range(RUNS):
        if cold:
            language._STEM_CACHE.clear()  # as if no word had been seen yet
        start = time.perf_counter()  # a benchmark's own stopwatch, not app time
        language.mirror_feedback(said=said, mirror=mirror)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    for code in ("en", "es"):
        said, mirror = _texts(code)
        with translation.override(code):
            language.mirror_feedback(said=said, mirror=mirror)  # its word lists, once
            for cold in (True, False):
                times = _time(said, mirror, cold=cold)
                print(
                    f"{code} {'first time' if cold else 'as typed':10}: {len(said)} + "
                    f"{len(mirror)} characters, {RUNS} runs: median "
                    f"{statistics.median(times):.2f} ms, slowest {max(times):.2f} ms"
                )


if __name__ == "__main__":
    main()
