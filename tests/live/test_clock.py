"""The one clock: every time the app reads is `live.clock.now()`, so a test (or a server told
by IMAGO_CLOCK_FILE) that moves the clock moves it everywhere at once."""

import ast
import tomllib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from live import clock

ROOT = Path(__file__).resolve().parents[2]
# Every floor the import contract names (a new app is scanned from the day it is added).
APP_CODE = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]
# Calls that read the time behind the clock's back (with no argument: "now").
BARE = {("timezone", "now"), ("timezone", "localdate"), ("timezone", "localtime")}
NOW = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today")}


def _reads_of_the_time(source: str) -> list[str]:
    """Each place the source reads the time itself, as "line name"."""
    found = []
    # Parsed in a thread of its own: CPython 3.11's parser can trip over the recursion count
    # left in a thread that ran other tests ("AST constructor recursion depth mismatch").
    with ThreadPoolExecutor(1) as pool:
        tree = pool.submit(ast.parse, source).result()
    for node in ast.walk(tree):
        # timezone.now and datetime.now, called or passed (a field's default=timezone.now)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            if pair == ("timezone", "now") or pair in NOW:
                found.append(f"{node.lineno} {pair[0]}.{pair[1]}")
        # timezone.localdate() and localtime() with no moment given: today, by the wall clock
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            name = (func.value.id, func.attr) if isinstance(func.value, ast.Name) else None
            if name in BARE and name != ("timezone", "now") and not node.args:
                found.append(f"{node.lineno} {name[0]}.{name[1]}()")
    return sorted(found)


def test_app_code_reads_the_time_only_through_the_one_clock():
    found = [
        f"{path.relative_to(ROOT)}:{read}"
        for package in APP_CODE
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts and path != ROOT / "live" / "clock.py"
        for read in _reads_of_the_time(path.read_text())
    ]
    assert found == [], "read the time with live.clock.now():\n" + "\n".join(found)


def test_the_scan_finds_every_way_of_reading_the_time_and_leaves_the_rest():
    source = (
        "a = timezone.now()\n"
        "b = timezone.localdate()\n"
        "c = timezone.localdate(a)\n"  # a given moment: fine
        "d = models.DateTimeField(default=timezone.now)\n"
        "e = datetime.now(UTC)\n"
        "f = clock.now()\n"
    )
    assert _reads_of_the_time(source) == [
        "1 timezone.now",
        "2 timezone.localdate()",
        "4 timezone.now",
        "5 datetime.now",
    ]


@pytest.fixture
def fixed_clock():
    yield
    clock.clock_set(None)


def test_a_set_clock_is_what_the_app_reads(fixed_clock):
    moment = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    clock.clock_set(moment)
    assert clock.now() == moment
    with pytest.raises(ValueError):
        clock.clock_set(datetime(2030, 1, 2))  # naive
