"""The people of the whole suite, one meaning per name, and clients logged in as them.

People (tests/factories.py makes them: a verified email, the same password, and two-factor
authentication for therapists and staff):

    alex, sam             two partners, paired only by the `pair` fixture (without it, neither
                          has a couple yet)
    pair                  Alex and Sam's couple (Alex started it); both answered the safety
                          questions and are ready, so a dialogue may start
    dialogue              a dialogue Alex started with Sam ("Sunday mornings")
    paused                that dialogue in a time-out (Sam accepted, then called one)
    outsider              Olly, a partner in another couple (with Pat), also ready
    single                Sasha, a partner with no couple
    therapist             Dr. Rivera, a verified therapist, linked to nobody unless `link` is used
    link                  Dr. Rivera's link to Alex and Sam, both partners consenting
    unverified_therapist  Dr. New, a therapist staff haven't verified yet
    staff                 Stan, a staff user without model permissions
    superuser             Root, a superuser (`root` is a client logged in as Root)

Role matrices (STYLE.md: every view is tried as each role): ROLES names every role once, and
`user_in_role(role)` gives its person (None for "anonymous"). `client_as(who)` is the one way to
get a test Client: logged in as a user, as the person a role or fixture name stands for, or
anonymous (None or "anonymous"). A linked therapist is `therapist` with the `link` fixture;
tests/therapists/conftest.py has the therapists' own matrix (every state a link can be in).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from couples.models import Couple, User
from dialogues import services as dialogue_services
from live import fast
from tests.browser.chromium import SKIP_REASON_PREFIX
from tests.factories import (
    StaffFactory,
    TherapistFactory,
    UnverifiedTherapistFactory,
    UserFactory,
    link_with_consent,
    make_couple,
    screen,
)
from tests.helpers import form_token
from tests.redis_server import private_layer  # noqa: F401 (a fixture: the layer on its own Redis)

# Every role, once. Slices are used: ROLES[1:] is everyone logged in, ROLES[2:] every one of
# them but `single`. A test of the matrix also takes `pair`: alex and sam are its partners.
ROLES = [
    "anonymous",
    "single",
    "alex",
    "sam",
    "outsider",
    "therapist",
    "unverified_therapist",
    "staff",
]


TEST_BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


@pytest.fixture(autouse=True, scope="session")
def _force_login_has_an_address():
    """Client.force_login logs in through a bare HttpRequest; a real login always has the
    browser's address and user agent, which allauth's devices list (user sessions) records."""
    import django.test.client
    from django.http import HttpRequest

    class LoginRequest(HttpRequest):
        def __init__(self) -> None:
            super().__init__()
            self.META.update(REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT=TEST_BROWSER)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(django.test.client, "HttpRequest", LoginRequest)
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits live in the cache; each test starts with none used, and with no
    turn rendered yet."""
    from django.core.cache import cache

    from dialogues import turn_html

    cache.clear()
    turn_html.forget_all()  # the worker's rendered turns (ids come round again in SQLite)
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


# --- people --------------------------------------------------------------------------------


@pytest.fixture
def alex(db) -> User:
    return UserFactory(email="alex@example.com", display_name="Alex")


@pytest.fixture
def sam(db) -> User:
    return UserFactory(email="sam@example.com", display_name="Sam")


@pytest.fixture
def pair(alex: User, sam: User) -> Couple:
    couple, _, _ = make_couple(alex, sam)
    screen(alex)
    screen(sam)
    return couple


@pytest.fixture
def dialogue(pair: Couple, alex: User):
    return dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Sunday mornings")


@pytest.fixture
def paused(dialogue, sam):
    """`dialogue` in a time-out: Sam accepted it, then called one."""
    dialogue_services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    dialogue_services.session_pause(session_public_id=dialogue.public_id, user=sam)
    dialogue.refresh_from_db()
    return dialogue


@pytest.fixture
def outsider(db) -> User:
    """A partner in another couple, ready for dialogue like Alex and Sam."""
    _, olly, pat = make_couple(
        UserFactory(email="olly@example.com", display_name="Olly"),
        UserFactory(email="pat@example.com", display_name="Pat"),
    )
    screen(olly)
    screen(pat)
    return olly


@pytest.fixture
def single(db) -> User:
    return UserFactory(email="sasha@example.com", display_name="Sasha")


@pytest.fixture
def therapist(db) -> User:
    return TherapistFactory(email="dr@example.com", display_name="Dr. Rivera")


@pytest.fixture
def link(therapist: User, pair: Couple, alex: User, sam: User):
    return link_with_consent(therapist, alex, sam)


@pytest.fixture
def unverified_therapist(db) -> User:
    return UnverifiedTherapistFactory(email="new.dr@example.com", display_name="Dr. New")


@pytest.fixture
def staff(db) -> User:
    return StaffFactory(email="stan@example.com", display_name="Stan")


@pytest.fixture
def superuser(db) -> User:
    return StaffFactory(email="root@example.com", display_name="Root", is_superuser=True)


# --- Web Push: our key pair, and a push service of our own ----------------------------------


@pytest.fixture
def vapid(settings):
    from couples import push

    public, private = push.vapid_pair()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    settings.VAPID_SUBJECT = "mailto:push@imago.example"
    settings.IMAGO_PUSH_HTTP_ENDPOINTS = True  # our push service is plain http on loopback
    return public


@pytest.fixture
def service(vapid):
    """A push service of our own on loopback (tests/push_service.py)."""
    from tests.push_service import PushService

    with PushService() as service:
        yield service
    assert not service.errors, service.errors  # every request was a valid, signed push


# --- roles and clients -------------------------------------------------------------------------


@pytest.fixture
def user_in_role(request) -> Callable[[str], User | None]:
    """user_in_role("sam") -> the person of that role or fixture name (None for "anonymous")."""

    def get(role: str) -> User | None:
        return None if role == "anonymous" else request.getfixturevalue(role)

    return get


@pytest.fixture
def client_as(db, user_in_role) -> Callable[[User | str | None], Client]:
    """client_as(who) -> a fresh test Client logged in as who: a user, a role or fixture name
    ("alex", "therapist", ...), or nobody (None or "anonymous")."""

    def make(who: User | str | None) -> Client:
        user = user_in_role(who) if isinstance(who, str) else who
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def root(client_as, superuser: User) -> Client:
    """A client logged in as the superuser."""
    return client_as(superuser)


# --- browser tests run last, and say loudly when they were skipped ----------------------------


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
    # FAST_PATH=0 runs the same tests on Django's plain path (live/fast.py); a test of a
    # shortcut itself has nothing to test where that shortcut is off.
    for item in items:
        if (marker := item.get_closest_marker("shortcut")) is not None:
            (name,) = marker.args
            if not fast.on(name):
                item.add_marker(pytest.mark.skip(reason=f"tests the {name} shortcut, off here"))
        if browser_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
        elif inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.insert(0, "_sockets_closed_after_test")
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
