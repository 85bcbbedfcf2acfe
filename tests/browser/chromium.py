"""Where Debian's Chromium is, and what to do when it isn't there.

Browser tests use the system Chromium (never `playwright install`). Without it they
are skipped, and the run ends with a loud banner; with IMAGO_REQUIRE_BROWSER=1
(set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_PATH = "/usr/bin/chromium"
# Chromium in a container: no sandbox, no GPU, and no phoning home during tests.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON_PREFIX = "BROWSER TESTS SKIPPED"


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_PATH


def chromium_found() -> bool:
    path = Path(chromium_path())
    return path.is_file() and os.access(path, os.X_OK)


def browser_required() -> bool:
    return os.environ.get("IMAGO_REQUIRE_BROWSER", "") in {"1", "true", "yes", "on"}


def missing_message() -> str:
    return (
        f"{SKIP_REASON_PREFIX}: Chromium not found at {chromium_path()} "
        "— install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH"
    )


def skip_or_fail_without_chromium() -> None:
    """Call before using the browser: skips (or, in CI, fails) when Chromium is missing."""
    if chromium_found():
        return
    if browser_required():
        pytest.fail(f"IMAGO_REQUIRE_BROWSER=1 but {missing_message()}", pytrace=False)
    pytest.skip(missing_message())
