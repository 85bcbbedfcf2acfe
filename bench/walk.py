#!/usr/bin/env python
"""The walk of one move through the code: which of our files it passes through, in order.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imago_stepcost FAST_PATH=0 \
        .venv/bin/python bench/walk.py [--list]

Makes a couple and a dialogue (as bench/step_cost.py does), then traces one move sent as the
page sends it over its socket, and one posted over HTTP, from the frame or request to the
database and the push, recording every change of the innermost frame's file among the
project's own Python files (not Django's, not templates, not bench/ or tests/). Printed per
road: stops (each change of file), files, and returns (stops in a file already left); and the
calls from one of our files into another, each placed on the layers that pyproject.toml's
import contracts declare (the floors, and the dialogues app's own layers): a call that climbs
from a lower layer into a higher one is named. A one-way road climbs none. Run it with
FAST_PATH=0, so each road is one walk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import sys
import threading
import tomllib
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


def layers() -> list[list[list[str]]]:
    """Each layers contract of pyproject.toml: its layers top to bottom, each a list of
    modules (a layer of siblings, "a | b" or "a : b", is one rank)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    found = []
    for contract in config["contracts"]:
        if contract.get("type") != "layers":
            continue
        containers = contract.get("containers") or [""]
        for container in containers:
            prefix = f"{container}." if container else ""
            found.append(
                [
                    [prefix + name.strip() for name in re.split(r"[|:]", layer)]
                    for layer in contract["layers"]
                ]
            )
    return found


def module_of(file: str) -> str:
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def climbs(caller: str, callee: str, contracts: list[list[list[str]]]) -> bool:
    """Whether a call from `caller` into `callee` (modules) goes up some contract's layers."""

    def rank(module: str, contract: list[list[str]]) -> int | None:
        for number, layer in enumerate(contract):
            if any(module == m or module.startswith(m + ".") for m in layer):
                return number
        return None

    for contract in contracts:
        low, high = rank(caller, contract), rank(callee, contract)
        if low is not None and high is not None and high < low:
            return True
    return False


class Walk:
    """Per thread: the files the innermost of our frames was in, each change one stop."""

    def __init__(self) -> None:
        self.stops: dict[int, list[str]] = {}
        self.order: list[int] = []
        self.calls: dict[tuple[str, str, bool], int] = {}

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
        if event == "call":
            caller = self._innermost(frame.f_back)
            if caller is not None and caller.split(":")[0] != file:
                # Called by our own frame, or by a library's (Django calling a field) on ours.
                direct = frame.f_back is not None and ours(frame.f_back.f_code.co_filename)
                edge = (caller.split(":")[0], file, bool(direct))
                self.calls[edge] = self.calls.get(edge, 0) + 1

    def forget(self) -> None:
        self.stops, self.order, self.calls = {}, [], {}

    def __enter__(self):
        self.names = True
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)
        return self

    def __exit__(self, *exc) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type, unused-ignore]

    def report(self, road: str, *, listing: bool) -> None:
        walk = [stop for thread in self.order for stop in self.stops[thread]]
        files, seen, returns = set(), set(), 0
        for stop in walk:
            file = stop.split(":")[0]
            returns += file in seen
            seen.add(file)
            files.add(file)
        print(f"{road}: {len(walk)} stops in {len(files)} files, {returns} returns")
        contracts = layers()
        up = {
            edge: n
            for edge, n in self.calls.items()
            if climbs(module_of(edge[0]), module_of(edge[1]), contracts)
        }
        print(
            f"  calls between files: {sum(self.calls.values())} over {len(self.calls)} pairs;"
            f" up a layer: {sum(up.values())} over {len(up)} pairs (imports only go down, by"
            " contract: each is code handed down and called back)"
        )
        for (caller, callee, direct), count in sorted(up.items()):
            how = "by our code" if direct else "through a library"
            print(f"    UP {caller} -> {callee} ({count}, {how})")
        if listing:
            for (caller, callee, _direct), count in sorted(self.calls.items()):
                print(f"    {caller} -> {callee} ({count})")
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
