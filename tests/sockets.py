"""Websocket tests through the real ASGI stack (origin check, session auth): open a socket as
someone, read what it receives."""

from __future__ import annotations

import re
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from imago_site.asgi import application


def _logged_in_client(user) -> tuple[Client, bytes]:
    client = Client()
    client.force_login(user)
    return client, f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(
    path, user=None, origin="http://localhost", *, same_login_as=None, timeout: float = 1
):
    """(communicator, connected, close code) for `user` (None: anonymous), logged in afresh or
    on the login of `same_login_as` (another communicator). The communicator's http_client is a
    test Client on the same login, to act over HTTP in the same session."""
    headers = [(b"host", b"localhost")]
    if origin:
        headers.append((b"origin", origin.encode()))
    client = cookie = None
    if same_login_as is not None:
        client, cookie = same_login_as.http_client, same_login_as.cookie
    elif user is not None:
        client, cookie = await database_sync_to_async(_logged_in_client)(user)
    if cookie is not None:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=timeout)
    communicator.http_client, communicator.cookie = client, cookie
    return communicator, connected, code


async def logged_in(user) -> SimpleNamespace:
    """A login of `user`, to open sockets on with `same_login_as` (logging in is not part of
    what they cost)."""
    client, cookie = await database_sync_to_async(_logged_in_client)(user)
    return SimpleNamespace(http_client=client, cookie=cookie)


async def open_socket_reading(path, user):
    """(communicator, the tables its connect read, in order) for `user`, logged in beforehand
    (logging in is not part of what a connect costs); the socket must be accepted."""
    login = await logged_in(user)
    with QueriesInEveryThread() as seen:
        communicator, connected, code = await open_socket(path, same_login_as=login)
    assert connected, code
    return communicator, seen.tables()


def login_read() -> list[str]:
    """The query that reads a login: one on the database store, none where logins are read
    from the shared cache (with Redis: security/sessions.py)."""
    from django.conf import settings

    return ["django_session"] if settings.SESSION_ENGINE.endswith(".db") else []


def path_of(session) -> str:
    """The partners' socket for a dialogue."""
    return f"/ws/dialogues/{session.public_id}/"


def console_path(session) -> str:
    """The therapist's console socket for a dialogue."""
    return f"/ws/therapist/dialogues/{session.public_id}/"


def marker(html: str) -> dict:
    found = re.search(r'id="sync"[^>]*data-kind="(\w+)" data-from="(\d+)" data-seq="(\d+)"', html)
    assert found, html[:200]
    return {"kind": found[1], "from": int(found[2]), "seq": int(found[3])}


async def receive_until(communicator, needle: str, limit: int = 10) -> str:
    """Messages until one contains `needle` (presence and typing hints may come first)."""
    for _ in range(limit):
        message = await communicator.receive_from(timeout=3)
        if needle in message:
            return message
    raise AssertionError(f"never received {needle!r}")


async def drain(communicator):
    while not await communicator.receive_nothing(timeout=0.3):
        await communicator.receive_from()


async def forget_group(group: str) -> set[str]:
    """What a lost membership (or a Redis restart) does to a group: its sockets stay open but
    hear nothing sent to it. Returns the channels that were in it (`remember_group` puts them
    back), whichever channel layer the run uses."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if hasattr(layer, "ring_size"):  # channels-redis's core layer: the group lives in Redis
        key = layer._group_key(group)
        connection = layer.connection(layer.consistent_hash(group))
        channels = {c.decode() for c in await connection.zrange(key, 0, -1)}
        await connection.delete(key)
        return channels
    if type(layer).__name__ == "RedisPubSubChannelLayer":  # the process's own subscribers
        return set(layer.groups.pop(layer._get_group_channel_name(group), set()))
    return set(layer.groups.pop(group, {}))  # the in-memory layer


async def remember_group(group: str, channels: set[str]) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    for channel in channels:
        await layer.group_add(group, channel)


class QueriesInEveryThread:
    """The SQL run while it is open, by any thread: a socket's database work runs in Channels'
    database threads, each on its own connection, which django_assert_num_queries can't see."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __enter__(self) -> QueriesInEveryThread:
        from django.db.backends import utils

        self._utils = utils
        self._original = original = utils.CursorWrapper.execute  # the debug wrapper calls it too
        sql = self.sql

        def execute(cursor, query, params=None):
            sql.append(str(query))
            return original(cursor, query, params)

        utils.CursorWrapper.execute = execute  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc) -> None:
        self._utils.CursorWrapper.execute = self._original  # type: ignore[method-assign]

    def tables(self) -> list[str]:
        """The first table each statement names, in order."""
        return [
            (re.search(r'FROM "(\w+)"', q) or re.search(r'"(\w+)"', q) or [q[:20], q[:20]])[1]
            for q in self.sql
        ]
