"""Fixtures for the whole suite: people in every role, and clients logged in as them.

Roles (STYLE.md: every view is tried as each):
    anonymous             nobody logged in (user None)
    single_partner        a partner with no couple
    partner_a, partner_b  the two partners of `couple` (partner_a started it)
    other_partner         a partner in another couple
    therapist             a verified therapist, linked to nobody
    unverified_therapist  a therapist staff haven't verified yet
    staff                 a staff user
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from couples.models import Couple, User
from tests.browser.chromium import SKIP_REASON_PREFIX
from tests.factories import (
    StaffFactory,
    TherapistFactory,
    UnverifiedTherapistFactory,
    UserFactory,
    make_couple,
)
from tests.mfa import give_mfa

ROLES = [
    "anonymous",
    "single_partner",
    "partner_a",
    "partner_b",
    "other_partner",
    "therapist",
    "unverified_therapist",
    "staff",
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits live in the cache; each test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer. channels-redis keeps asyncio locks bound to the
    event loop that first used them: a lock still held by an earlier test's socket would
    fail a later test (each async test has its own loop)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
async def _sockets_closed_after_test(monkeypatch):
    """Every websocket an async test opened is closed at its end the way a server closes it
    (`websocket.disconnect`), so its consumer leaves its groups and stops in this test's event
    loop. Left to pytest-asyncio's teardown, a consumer is cancelled mid-command instead, and
    a Redis read then only gives up after REDIS_SOCKET_TIMEOUT (30 s) per socket."""
    from channels.testing import WebsocketCommunicator

    opened: list[WebsocketCommunicator] = []
    original = WebsocketCommunicator.__init__

    def remember(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(WebsocketCommunicator, "__init__", remember)
    yield
    for communicator in opened:
        if not communicator.future.done():
            with contextlib.suppress(Exception):
                await communicator.disconnect(timeout=5)


@pytest.fixture
def couple(db) -> Couple:
    couple, _, _ = make_couple(
        UserFactory(email="alice@example.com", display_name="Alice"),
        UserFactory(email="bob@example.com", display_name="Bob"),
    )
    return couple


@pytest.fixture
def partner_a(couple: Couple) -> User:
    return couple.memberships.get(user__email="alice@example.com").user


@pytest.fixture
def partner_b(couple: Couple) -> User:
    return couple.memberships.get(user__email="bob@example.com").user


@pytest.fixture
def other_partner(db) -> User:
    _, other, _ = make_couple(
        UserFactory(email="olga@example.com", display_name="Olga"),
        UserFactory(email="omar@example.com", display_name="Omar"),
    )
    return other


@pytest.fixture
def single_partner(db) -> User:
    return UserFactory(email="sasha@example.com", display_name="Sasha")


@pytest.fixture
def therapist(db) -> User:
    user = TherapistFactory(email="dr.tess@example.com", display_name="Dr. Tess")
    give_mfa(user)  # therapists must have two-factor before any page
    return user


@pytest.fixture
def unverified_therapist(db) -> User:
    user = UnverifiedTherapistFactory(email="dr.uma@example.com", display_name="Dr. Uma")
    give_mfa(user)
    return user


@pytest.fixture
def staff(db) -> User:
    user = StaffFactory(email="stan@example.com", display_name="Stan")
    give_mfa(user)
    return user


@pytest.fixture
def client_as(db) -> Callable[[User | None], Client]:
    """client_as(user) -> a fresh test Client logged in as user (anonymous for None)."""

    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def user_in_role(request) -> Callable[[str], User | None]:
    """user_in_role("partner_b") -> that role's user (None for "anonymous")."""

    def get(role: str) -> User | None:
        return None if role == "anonymous" else request.getfixturevalue(role)

    return get


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if SKIP_REASON_PREFIX in str(getattr(report, "longrepr", ""))
    ]
    if not skipped:
        return
    reason = str(skipped[0].longrepr[2]) if isinstance(skipped[0].longrepr, tuple) else ""
    reason = reason.removeprefix("Skipped: ")
    bar = "!" * 78
    terminalreporter.write_line("")
    lines = [bar, f"!!!!! {reason} !!!!!", f"!!!!! {len(skipped)} browser test(s) did not run"]
    for line in [*lines, bar]:
        terminalreporter.write_line(line, red=True, bold=True)


def pytest_collection_modifyitems(config, items) -> None:
    # Everything under tests/browser/ is a browser test, and browser tests run last: once
    # Playwright's sync API starts, an event loop runs in the main thread for the rest of the
    # session, which would break async tests (and Django's async-safety checks) after it.
    browser_dir = Path(__file__).parent / "browser"
    for item in items:
        if browser_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
        elif inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.insert(0, "_sockets_closed_after_test")
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_runtest_setup(item) -> None:
    if item.get_closest_marker("browser"):
        from tests.browser.chromium import skip_or_fail_without_chromium

        skip_or_fail_without_chromium()
