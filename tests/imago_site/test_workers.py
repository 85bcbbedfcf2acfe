"""Two separate worker processes on PostgreSQL and Redis: partner A on one, partner B on the
other, and every step made through either reaches both.

Skipped (saying why) unless DATABASE_URL is PostgreSQL and REDIS_URL is set (CI sets both).
"""

from __future__ import annotations

import asyncio
import html
import re

import aiohttp
import pytest
from websockets.asyncio.client import connect

from dialogues.models import Turn
from tests.helpers import login_cookie
from tests.servers import UvicornServer, database_url_for_tests, postgres_and_redis_or_skip

pytestmark = pytest.mark.usefixtures("transactional_db")

MARKER = re.compile(r'id="sync"[^>]*data-kind="(\w+)" data-from="(\d+)" data-seq="(\d+)"')


@pytest.fixture
def two_workers():
    postgres_and_redis_or_skip()
    url = database_url_for_tests()
    servers = [UvicornServer(database_url=url, name=f"worker {n}") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_until_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


class Person:
    """One browser: an HTTP session and a websocket, both on the same worker."""

    def __init__(self, name: str, server: UvicornServer, cookie: str, public_id: str) -> None:
        self.name, self.server, self.public_id = name, server, public_id
        self.http = aiohttp.ClientSession(
            base_url=server.url,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1
            cookies={"sessionid": cookie},
        )
        self.cookie = cookie
        self.csrf = ""
        self.at = ""
        self.ws = None

    async def open(self) -> str:
        page = await self.http.get(f"/dialogues/{self.public_id}/")
        assert page.status == 200, await page.text()
        body = await page.text()
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', body)[1]
        self.ws = await connect(
            f"{self.server.ws_url}/ws/dialogues/{self.public_id}/",
            origin=self.server.url,
            additional_headers={"Cookie": f"sessionid={self.cookie}"},
            open_timeout=10,
        )
        snapshot = await self.next_marked()
        self.remember_panel(snapshot)
        return snapshot

    async def next_marked(self) -> str:
        """The next message with a sync marker (presence and typing hints carry none)."""
        while True:
            message = await asyncio.wait_for(self.ws.recv(), timeout=10)
            if MARKER.search(message):
                return message

    def remember_panel(self, message: str) -> None:
        found = re.search(r'name="at" value="(\d+)"', message)
        if found:
            self.at = found[1]

    async def move(self, move: str, text: str = "") -> None:
        data = {"move": move, "at": self.at, "token": f"{self.name}-{move}-{self.at}"}
        if text:
            data["text"] = text
        response = await self.http.post(
            f"/dialogues/{self.public_id}/move/",
            data=data,
            headers={"X-CSRFToken": self.csrf, "HX-Request": "true", "Origin": self.server.url},
        )
        assert response.status == 200, (response.status, await response.text())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


STEPS = [  # who, move, text
    ("b", "accept_now", ""),
    ("a", "send", "I felt alone on Sunday morning."),
    ("b", "mirror", "If I got it, you felt alone on Sunday morning."),
    ("a", "not_quite", "Not quite: it was the whole morning, not only breakfast."),
    ("b", "mirror", "You felt alone the whole morning, not only at breakfast."),
    ("a", "got_it", ""),
]


def test_each_step_crosses_between_two_worker_processes(two_workers, dialogue, alex, sam):
    worker_1, worker_2 = two_workers
    assert worker_1.process.pid != worker_2.process.pid

    async def run() -> dict[str, list[int]]:
        a = Person("a", worker_1, session_cookie_a, dialogue.public_id)
        b = Person("b", worker_2, session_cookie_b, dialogue.public_id)
        seen = {"a": [], "b": []}
        try:
            for person in (a, b):
                snapshot = await person.open()
                assert MARKER.search(snapshot).groups() == ("snapshot", "1", "1")
            people = {"a": a, "b": b}
            for seq, (who, move, text) in enumerate(STEPS, start=2):
                await people[who].move(move, text)
                for name, person in people.items():
                    update = await person.next_marked()
                    assert MARKER.search(update).groups() == ("update", str(seq), str(seq)), (
                        f"{name} got {MARKER.search(update).groups()} for step {seq} ({move})"
                    )
                    assert f'id="turn-{seq}"' in update
                    if text:
                        assert text in html.unescape(update)
                    seen[name].append(seq)
                    person.remember_panel(update)
            return seen
        finally:
            await a.close()
            await b.close()

    session_cookie_a, session_cookie_b = login_cookie(alex), login_cookie(sam)
    seen = asyncio.run(run())

    committed = list(
        Turn.objects.filter(session=dialogue).order_by("seq").values_list("seq", flat=True)
    )
    assert committed == [1, *seen["a"]] == [1, *seen["b"]] == list(range(1, len(STEPS) + 2))
    # Neither worker hit an error on the way.
    assert worker_1.output().count("Traceback") == worker_2.output().count("Traceback") == 0
