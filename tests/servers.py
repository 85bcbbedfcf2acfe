"""Real uvicorn servers in subprocesses, for tests that need separate worker processes.

`UvicornServer` serves imago_site.asgi on a free port of 127.0.0.1 with the test settings,
on the database and Redis the tests use. It polls until the server answers, shows the
server's output when it fails, and kills its whole process group on stop (the uvicorn
supervisor and its workers).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def why_not_postgres_and_redis() -> str:
    """Why tests of several worker processes can't run here ("" when they can)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL (set DATABASE_URL=postgres://…): workers can't share SQLite"
    if not settings.REDIS_URL:
        return "needs Redis (set REDIS_URL=redis://…): workers share live updates through it"
    return ""


def postgres_and_redis_or_skip() -> None:
    """Skip, saying why, unless the tests run on PostgreSQL with a Redis channel layer."""
    if reason := why_not_postgres_and_redis():
        pytest.skip(reason)


# For modules whose session fixtures (a browser) shouldn't even start when they'd be skipped.
needs_postgres_and_redis = pytest.mark.skipif(
    bool(why_not_postgres_and_redis()), reason=why_not_postgres_and_redis() or "-"
)


def database_url_for_tests() -> str:
    """A DATABASE_URL for the test database pytest-django created (PostgreSQL)."""
    from django.db import connection

    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = s.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class UvicornServer:
    """`uvicorn imago_site.asgi:application` on its own port; `workers` > 1 for a supervisor."""

    def __init__(
        self,
        *,
        database_url: str,
        workers: int = 1,
        name: str = "server",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.name = name
        self.workers = workers
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DB_POOL_MIN_SIZE": "1",
            "DB_POOL_MAX_SIZE": "4",  # the machine's PostgreSQL is shared
            "PYTHONUNBUFFERED": "1",
            "IMAGO_LIVE_TEST_SERVER": "1",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "imago_site.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--lifespan",
            "off",
            "--no-access-log",
        ]
        if workers > 1:
            command += ["--workers", str(workers)]
        command += list(extra_args)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one in stop()
        )

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-8000:]

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"{self.name} died (exit {self.process.returncode}):\n{self.output()}",
                pytrace=False,
            )

    def worker_pids(self) -> list[int]:
        """The worker processes (with --workers), or the server itself."""
        if self.workers == 1:
            return [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            return []
        return [p for p in pids if b"spawn_main" in _cmdline(p)]

    def wait_until_ready(self) -> UvicornServer:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            self.check_alive()
            try:
                with urllib.request.urlopen(self.url + "/accounts/login/", timeout=2):
                    if len(self.worker_pids()) >= min(self.workers, 2):
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"{self.name} didn't answer within {START_TIMEOUT_S} s:\n{self.output()}",
                    pytrace=False,
                )
            time.sleep(0.2)

    def wait_for_workers(
        self, count: int, *, exclude: set[int] = frozenset(), timeout: float = START_TIMEOUT_S
    ) -> list[int]:
        """Polls until `count` workers (none of them in `exclude`) are running."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            pids = [p for p in self.worker_pids() if p not in exclude]
            if len(pids) >= count:
                return pids
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{self.name}: {count} workers didn't start:\n{self.output()}", pytrace=False
                )
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        # Workers left behind by a killed supervisor: same process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if not self._log.closed:
            self._log.close()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
