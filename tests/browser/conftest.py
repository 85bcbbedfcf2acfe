"""Browser-test infrastructure: a real ASGI server, real Chromium, and the emails it sent.

How to write a browser test::

    import pytest

    pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

    def test_it_pairs_two_people(live_server_url, new_page, mailbox):
        alice = new_page()                   # own BrowserContext: own cookies
        bob = new_page(viewport="phone")     # 375 x 800
        alice.goto("/accounts/signup/")      # relative to live_server_url
        ...
        code = mailbox.wait_for(to="alice@example.com").code()

Fixtures:

- ``live_server_url`` (session): base URL of uvicorn serving imago_site.asgi in a
  subprocess, on the test database pytest-django created, with websockets. Emails go
  to files that ``mailbox`` reads. With REDIS_URL/CHANNELS_PREFIX set, the server uses
  the same Redis channel layer as the tests.
- **Use ``transactional_db``** in every test that talks to the server: the server is
  another process and only sees committed data (plain ``db`` keeps everything in a
  transaction that is rolled back). The tables are emptied after each such test.
- ``mailbox`` (function): the emails the server sent during this test, newest last.
  ``mailbox.messages()`` -> list[Mail]; ``mailbox.wait_for(to=..., subject=...)`` polls
  for one; ``Mail.text``, ``Mail.first_link()``, ``Mail.code()``.
- ``browser`` (session): Chromium launched by Playwright (headless).
- ``new_page`` (function): ``new_page(viewport="desktop"|"phone"|(w, h))`` -> a Page in a
  fresh BrowserContext (separate cookies: one per person), base URL set, 10 s default
  timeout. All are closed at test end; if the test failed, a screenshot of each page is
  saved in ``artifacts/``.
- ``page_as`` (function): ``page_as(user, viewport="desktop")`` -> a page from ``new_page``,
  already logged in as ``user`` (a real session cookie): for people made by the root
  conftest's fixtures (alex, sam, therapist, ...) rather than signed up in the browser.
- ``server_clock`` (function): ``server_clock(moment)`` sets the time the server's services
  read (live/clock.py) and this process's; real time again after the test.
- ``artifacts_dir`` (session): ``artifacts/`` at the repository root (gitignored), for
  screenshots a test wants to keep.

Without Chromium these tests are skipped (loudly); with IMAGO_REQUIRE_BROWSER=1 they fail.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.chromium import LAUNCH_ARGS, chromium_path, skip_or_fail_without_chromium
from tests.helpers import first_link, login_cookie, verification_code

REPO_ROOT = Path(__file__).resolve().parents[2]
VIEWPORTS = {"desktop": (1100, 900), "phone": (375, 800)}
DEFAULT_TIMEOUT_MS = 10_000
SERVER_START_TIMEOUT_S = 30
SERVER_CLOCK_FILE = Path(tempfile.gettempdir()) / f"imago-test-clock-{os.getpid()}"


def base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _vapid_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return base64url(public), base64url(private)


SERVER_VAPID = _vapid_pair()  # the live server's VAPID keys (public, private)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so fixtures can tell whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(settings_dict: dict) -> str:
    """DATABASE_URL for the test database pytest-django created (after django_db_setup)."""
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(settings_dict["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError("The live server needs a file SQLite test database.")
        return f"sqlite:///{Path(name).resolve()}"
    if engine == "django.db.backends.postgresql":
        from urllib.parse import quote

        user = quote(settings_dict.get("USER") or "", safe="")
        password = settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"
    raise RuntimeError(f"No live-server support for {engine}")


@pytest.fixture
def server_clock() -> Iterator[Callable[[object], None]]:
    """server_clock(moment) sets the time the live server's services read (an aware
    datetime; None: real time again), and this process's too. Reset after the test."""
    from live import clock

    def set_to(moment) -> None:
        SERVER_CLOCK_FILE.write_text(moment.isoformat() if moment is not None else "")
        clock.clock_set(moment)  # type: ignore[arg-type]

    set_to(None)
    yield set_to
    set_to(None)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = REPO_ROOT / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def _email_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="imago-emails-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class LiveServer:
    """uvicorn serving imago_site.asgi in a subprocess; its output goes to a temp file."""

    def __init__(self, *, database_url: str, email_dir: Path) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(email_dir),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.url,
            "PYTHONUNBUFFERED": "1",
            "IMAGO_LIVE_TEST_SERVER": "1",  # see tests/settings.py
            # The server's clock (live/clock.py): real time while the file is empty.
            "IMAGO_CLOCK_FILE": str(SERVER_CLOCK_FILE),
            # Web Push: a key pair of the session's own, and our push service on loopback.
            "VAPID_PUBLIC_KEY": SERVER_VAPID[0],
            "VAPID_PRIVATE_KEY": SERVER_VAPID[1],
            "PUSH_HTTP_ENDPOINTS": "1",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the server must keep Django's checks
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        command = [sys.executable, "-m", "uvicorn", "imago_site.asgi:application"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--ws", "websockets"]
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        """The last few kB the server printed (its log and any traceback)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-8000:]

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"The live server died (exit {self.process.returncode}):\n{self.output()}",
                pytrace=False,
            )

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            self.check_alive()
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(
                        f"The live server didn't answer within {SERVER_START_TIMEOUT_S} s:\n"
                        f"{self.output()}",
                        pytrace=False,
                    )
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, _email_dir: Path) -> Iterator[LiveServer]:
    """The running server (see LiveServer); most tests only need live_server_url.

    (Not named live_server: that is pytest-django's threaded WSGI server, without websockets.)
    """
    skip_or_fail_without_chromium()
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    server = LiveServer(database_url=database_url, email_dir=_email_dir)
    try:
        server.wait_until_ready()
        yield server
    finally:
        # Before django_db_setup's teardown drops the test database the server is using.
        server.stop()


@pytest.fixture(scope="session")
def live_server_url(asgi_server: LiveServer) -> str:
    """Base URL of the live ASGI server, e.g. http://127.0.0.1:43121 (no trailing slash)."""
    return asgi_server.url


@pytest.fixture(autouse=True)
def _browser_test_setup(request, monkeypatch) -> None:
    # Once Playwright's sync API has started, an event loop runs in this thread for the rest
    # of the session, and Django refuses ORM calls from the test body ("async context").
    # The test thread never awaits anything, so allow them, for browser tests only (the root
    # conftest runs browser tests last, so no other test sees that loop).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The server is another process: it sees only committed rows. Tests that use it get
    # transactional_db even if they forgot to ask (asking explicitly is still clearer).
    if "asgi_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")


@dataclass(frozen=True)
class Mail:
    """One email the server sent."""

    to: str
    subject: str
    text: str  # the decoded plain-text body

    def first_link(self) -> str:
        return first_link(self.text)

    def code(self) -> str:
        """allauth's verification code, e.g. "TPHK-JGWV"."""
        return verification_code(self.text)


class Mailbox:
    """The emails the live server wrote (filebased backend) during the current test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def clear(self) -> None:
        for path in self.directory.glob("*"):
            path.unlink()

    def messages(self) -> list[Mail]:
        mails = []
        for path in sorted(self.directory.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    mails.append(self._parse(chunk))
        return mails

    @staticmethod
    def _parse(raw: bytes) -> Mail:
        message = email.message_from_bytes(raw.lstrip(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        return Mail(to=str(message["To"]), subject=str(message["Subject"]), text=text)

    def wait_for(self, *, to: str = "", subject: str = "", timeout: float = 10) -> Mail:
        """The newest email to `to` whose subject contains `subject`, waiting for it to come."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                mail
                for mail in self.messages()
                if to.lower() in mail.to.lower() and subject.lower() in mail.subject.lower()
            ]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                seen = [(m.to, m.subject) for m in self.messages()]
                raise AssertionError(f"No email to {to!r} about {subject!r}; got {seen}")
            time.sleep(0.1)


@pytest.fixture
def mailbox(live_server_url: str, _email_dir: Path) -> Mailbox:
    box = Mailbox(_email_dir)
    box.clear()
    return box


@pytest.fixture(scope="session")
def browser() -> Iterator:
    skip_or_fail_without_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(request, browser, asgi_server: LiveServer, artifacts_dir: Path) -> Iterator[Callable]:
    """new_page(viewport="desktop"|"phone"|(w, h), **context_options) -> a Page in its own
    BrowserContext (options as Playwright's new_context takes them, e.g. timezone_id)."""
    contexts = []

    def make(viewport: str | tuple[int, int] = "desktop", **options):
        width, height = VIEWPORTS[viewport] if isinstance(viewport, str) else viewport
        context = browser.new_context(
            base_url=asgi_server.url, viewport={"width": width, "height": height}, **options
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make

    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for number, context in enumerate(contexts, start=1):
        if failed:
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            for index, page in enumerate(context.pages):
                try:
                    page.screenshot(
                        path=artifacts_dir / f"FAILED-{name}-person{number}-{index}.png",
                        full_page=True,
                    )
                except Exception as error:  # a crashed page must not hide the real failure
                    sys.stderr.write(f"Couldn't save a screenshot: {error}\n")
        context.close()
    asgi_server.check_alive()


@pytest.fixture
def page_as(new_page, asgi_server: LiveServer) -> Callable:
    """page_as(user, viewport="desktop") -> a Page in its own BrowserContext, logged in as user."""

    def make(user, viewport: str | tuple[int, int] = "desktop"):
        page = new_page(viewport=viewport)
        cookie = {"name": "sessionid", "value": login_cookie(user), "url": asgi_server.url}
        page.context.add_cookies([cookie])
        return page

    return make
