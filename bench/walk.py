#!/usr/bin/env python
"""The walk of one move through the code: which of our files it passes through, in order.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imago_stepcost FAST_PATH=0 \
        .venv/bin/python bench/walk.py [--list]

Makes a couple and a dialogue (as bench/step_cost.py does), then traces one move sent as the
page sends it over its socket, and one posted over HTTP, from the frame or request to the
database and the push, recording every change of the innermost frame's file among the
project's own Python files (not Django's, not templates, not bench/ or tests/). Printed per
road: stops (each change of file), files, and returns (stops in a file already left). Run it
with FAST_PATH=0, so a step is rendered in the thread that made it and each road is one walk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import step_cost  # noqa: E402


def ours(filename: str) -> str | None:
    path = Path(filename)
    if not filename.endswith(".py") or REPO not in path.parents:
        return None
    relative = path.relative_to(REPO)
    if relative.parts[0] in (".venv", "bench", "tests"):
        return None
    return str(relative)


class Walk:
    """Per thread: the files the innermost of our frames was in, each change one stop."""

    def __init__(self) -> None:
        self.stops: dict[int, list[str]] = {}
        self.order: list[int] = []

    def _innermost(self, frame) -> str | None:
        while frame is not None:
            name = ours(frame.f_code.co_filename)
            if name is not None:
                return f"{name}:{frame.f_code.co_name}" if self.names else name
            frame = frame.f_back
        return None

    def profile(self, frame, event, arg) -> None:
        if event not in ("call", "return"):
            return
        where = self._innermost(frame if event == "call" else frame.f_back)
        if where is None:
            return
        thread = threading.get_ident()
        stops = self.stops.setdefault(thread, [])
        if thread not in self.order:
            self.order.append(thread)
        file = where.split(":")[0]
        if not stops or stops[-1].split(":")[0] != file:
            stops.append(where)

    def forget(self) -> None:
        self.stops, self.order = {}, []

    def __enter__(self):
        self.names = True
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)
        return self

    def __exit__(self, *exc) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]

    def report(self, road: str, *, listing: bool) -> None:
        walk = [stop for thread in self.order for stop in self.stops[thread]]
        files, seen, returns = set(), set(), 0
        for stop in walk:
            file = stop.split(":")[0]
            returns += file in seen
            seen.add(file)
            files.add(file)
        print(f"{road}: {len(walk)} stops in {len(files)} files, {returns} returns")
        if listing:
            for stop in walk:
                print("   ", stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the stops")
    args = parser.parse_args()
    step_cost.setup()
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from imago_site.asgi import application

    people, session, cleanup = step_cost.dialogue_for_bench()
    alex, sam = people[:2]

    client = Client(HTTP_HOST="localhost")
    client.force_login(alex)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    text = "When the week gets busy I feel far from you."

    async def socket_move() -> Walk:
        headers = [(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", cookie)]
        socket = WebsocketCommunicator(application, f"/ws/dialogues/{session.public_id}/", headers)
        frame = {"type": "move", "move": "send", "token": secrets.token_urlsafe(16), "text": text}
        # Traced from before the connect, so that the threads it starts are traced too; what
        # the connect itself walked is then forgotten.
        with Walk() as walk:
            connected, code = await socket.connect(timeout=60)
            assert connected, code
            while 'data-kind="snapshot"' not in await socket.receive_from(timeout=60):
                pass
            await asyncio.sleep(0.2)
            walk.forget()
            await socket.send_to(text_data=json.dumps(frame))
            while 'data-kind="update"' not in await socket.receive_from(timeout=60):
                pass
        await socket.disconnect()
        return walk

    try:
        asyncio.run(socket_move()).report("socket move", listing=args.list)
        sam_client = Client(HTTP_HOST="localhost")
        sam_client.force_login(sam)
        url = f"/dialogues/{session.public_id}/move/"
        with Walk() as walk:
            response = sam_client.post(
                url,
                {"move": "mirror", "token": secrets.token_urlsafe(16), "text": text},
                HTTP_HX_REQUEST="true",
            )
        assert response.status_code == 200, response.status_code
        walk.report("HTTP move", listing=args.list)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
