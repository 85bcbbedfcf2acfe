"""The base of every live socket: `LiveConsumer`.

What every socket of the app shares, whatever it shows: the person's login (its limits close
the socket, by event or at the next frame), the places one person and one login may hold
(`live.places`), a rate limit on frames, the connect checks the apps register (a therapist
without their second factor is refused: `couples`), joining groups so that access ending
reaches the socket as an event, and the Redis-restart watch (`live.layer_watch`), which
rejoins and calls `catch_up` after an interruption. Apps subclass `LiveConsumer` and use its
public methods; they never reach into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation

from live import auth_session_group, fast, layer_watch, places, session_limits, user_group

RATE_LIMIT = (30, 10.0)  # at most 30 client frames per 10 seconds per connection
SESSION_TICK = 60.0  # seconds between a quiet socket's looks at its login's deadline

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY = 4429

ConnectCheck = Callable[[Any], Awaitable[bool]]  # (the person) -> refuse?
_connect_checks: list[ConnectCheck] = []


def connect_check_register(check: ConnectCheck) -> None:
    """An app's rule that refuses a person's sockets (True: refuse, close 4403), asked on every
    connect: how a lower floor's rule (couples: the second factor) reaches every socket without
    the kernel importing the app. Registered once, from the app's `ready()`."""
    if check not in _connect_checks:
        _connect_checks.append(check)


PersonGone = Callable[[int], Awaitable[None]]  # (the person's pk)
_gone_listeners: list[PersonGone] = []
_gone_checks: set[asyncio.Task] = set()  # held here, or the loop might collect them


def person_gone_register(listener: PersonGone) -> None:
    """`listener(pk)` is awaited once a socket of that person closed and, `settings.
    IMAGO_GONE_AFTER` seconds later, they hold no socket anywhere (every worker counted): a
    page changing or a phone's connection blinking is not leaving. How an app hears that
    someone left (a workshop's presence) without the kernel knowing the app."""
    if listener not in _gone_listeners:
        _gone_listeners.append(listener)


async def _maybe_gone(pk: int, after: float) -> None:
    await asyncio.sleep(after)
    key = places.person_key(pk)
    if await sync_to_async(places.held, thread_sensitive=False)(key) == 0:
        for listener in list(_gone_listeners):
            await listener(pk)


def _stored_session(session_key: str | None) -> dict:
    """The login session as it is now in the session store ({} once it is gone)."""
    if not session_key:
        return {}
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return dict(store.load())


class LiveConsumer(AsyncWebsocketConsumer):
    """The base of every socket of the app. A subclass's `connect` finds its person
    (`authenticated_user`), `join`s its groups (places counted, the registered connect checks
    asked once the socket hears its person's events), checks what it may show, and accepts.
    A login that ends (logout, deactivation, signed out from the devices page, 12 hours, or its
    idle limit) closes the socket with 4401, by event (`auth.revoked`) or at its next frame or
    tick; a partner's open socket is itself activity: it keeps its login from going idle."""

    groups_joined: list[str]
    _session_deadline: float | None = None
    _session_watch: asyncio.Task | None = None
    _accepted = False

    async def accept(self, subprotocol=None, headers=None) -> None:
        self._accepted = True
        await super().accept(subprotocol, headers)

    async def __call__(self, scope, receive, send):
        try:
            return await super().__call__(scope, receive, send)
        finally:  # also when the consumer died (e.g. Redis went away under it)
            layer_watch.unregister(self)
            if getattr(self, "_claimed", False):  # its place, given back once
                self._claimed = False
                with contextlib.suppress(Exception):
                    await self._release()

    def authenticated_user(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return user

    async def websocket_connect(self, message) -> None:
        self.user = user = self.authenticated_user()
        if user is not None and not await self._session_still_good(user, reload=False):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if user is not None:
            # Everything this socket renders or says is in the person's language: Channels
            # runs every handler in this task, and database threads copy its context.
            translation.activate(user.language_code)
        await super().websocket_connect(message)

    async def _session_still_good(self, user, *, reload: bool) -> bool:
        """Check the login's limits; remember when to look again."""
        if reload:
            await self._mark_live()  # this socket is itself a partner's open page
            data = await database_sync_to_async(_stored_session)(self.session_key())
            if data.get("_auth_user_id") != str(user.pk):
                return False  # logged out, flushed or deleted meanwhile
        else:
            data = await self._session_data()
        strict = session_limits.is_strict(user)
        # A partner's open live page counts as activity (live/session_limits.py).
        live_at = None if strict else await session_limits.alive_seen(self.session_key())
        if session_limits.expiry_reason(data, strict=strict, live_at=live_at) is not None:
            return False
        self._session_deadline = session_limits.deadline(data, strict=strict, live_at=live_at)
        return True

    async def _session_data(self) -> dict:
        """The login session as this socket's connection loaded it. Channels' auth middleware
        has read it already (to find the user), so it is usually in memory: no trip to the
        database thread, which a connect storm would otherwise queue on."""
        return dict(await self.scope["session"].aitems())

    async def _mark_live(self) -> None:
        """This partner's page is open: their login is not idle (therapists' and staff's
        sockets don't count, see live/session_limits.py)."""
        if not session_limits.is_strict(self.user):
            await session_limits.live_mark(self.session_key())

    async def dispatch(self, message) -> None:
        # Cheap on every frame and event: a float comparison; the store is read only once the
        # remembered deadline has passed (the person may have been active over HTTP meanwhile).
        deadline = self._session_deadline
        if (
            deadline is not None
            and message.get("type") != "websocket.disconnect"
            and session_limits.now() > deadline
            and not await self._session_still_good(self.user, reload=True)
        ):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        kind = message.get("type", "")
        if not self._accepted and not kind.startswith("websocket."):
            return  # a group event queued while a refused socket was being checked
        if not fast.on("dispatch"):
            await super().dispatch(message)
            return
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message.get('type')}")
        # Not Channels' own dispatch: it first hops to the one sync thread to close old
        # database connections, for every frame and push. Our database work all runs in
        # database_sync_to_async, which closes them itself, so a forwarded push stays here.
        await handler(message)

    # --- how many sockets one person (and one login) may hold, across every worker ---------

    def listening(self) -> list[str]:
        """What this socket listens as, for as long as it is open: places (`places.listening_key`)
        held without a limit, so a change is rendered only for the audiences someone listens
        as (`places.listening`). Known when it joins; none by default."""
        return []

    def _leases(self) -> list[tuple[str, int]]:
        keys = [(places.person_key(self.user.pk), settings.IMAGO_MAX_SOCKETS_PER_PERSON)]
        if login := auth_session_group(self.session_key()):
            keys.append((places.login_key(login), settings.IMAGO_MAX_SOCKETS_PER_LOGIN))
        keys.extend((key, places.NO_LIMIT) for key in self.listening())
        return keys

    async def _claim(self, *, renew: bool = False) -> bool:
        """Take (or renew) this socket's place; False when the person or the login already
        holds as many sockets as allowed. Counted atomically across every worker; a dead
        worker's places stop counting within seconds (live/places.py)."""
        return await places.aclaim(self._leases(), channel=self.channel_name, renew=renew)

    async def _release(self) -> None:
        keys = [key for key, _limit in self._leases()]
        await places.arelease(keys, channel=self.channel_name)

    async def _watch_session(self) -> None:
        """Close a quiet socket too, when its login runs out (a float comparison per tick)."""
        while self._session_deadline is not None:
            await asyncio.sleep(SESSION_TICK)
            await self._claim(renew=True)
            await self._mark_live()
            if session_limits.now() > self._session_deadline and not (
                await self._session_still_good(self.user, reload=True)
            ):
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return

    async def join(self, *groups: str | None) -> bool:
        """Join the groups, or refuse: close 4429 when this person already holds as many
        sockets as allowed, 4403 when a connect check refuses them (asked once the socket is in
        the person's own group, so what changes from then on reaches it as an event). True
        when joined."""
        self.groups_joined = []
        if not await self._claim():
            await self.close(code=CLOSE_TOO_MANY)
            return False
        self._claimed = True
        for group in (*groups, user_group(self.user.pk)):
            if group:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
        if await self._refused_at_connect():
            await self.leave()
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        layer_watch.register(self)
        await self._mark_live()
        if self._session_deadline is not None and self._session_watch is None:
            self._session_watch = asyncio.ensure_future(self._watch_session())
        return True

    async def _refused_at_connect(self) -> bool:
        """Whether a registered connect check refuses this person (`connect_check_register`)."""
        for check in _connect_checks:
            if await check(self.user):
                return True
        return False

    async def rejoin(self) -> None:
        """After Redis forgot the groups (see layer_watch): join again, show what was missed."""
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.catch_up()

    async def catch_up(self) -> None:
        pass

    async def disconnect(self, code) -> None:
        await self.leave()

    async def leave(self) -> None:
        """Undo `join`: its places, its groups, its watch (once; safe to call again)."""
        layer_watch.unregister(self)
        if getattr(self, "_claimed", False):
            self._claimed = False
            await self._release()
            after = settings.IMAGO_GONE_AFTER if _gone_listeners else None
            if after is not None and (user := getattr(self, "user", None)) is not None:
                check = asyncio.ensure_future(_maybe_gone(user.pk, after))
                _gone_checks.add(check)
                check.add_done_callback(_gone_checks.discard)
        watch, self._session_watch = self._session_watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        groups, self.groups_joined = getattr(self, "groups_joined", []), []
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def auth_revoked(self, event) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)

    def frame_allowed(self) -> bool:
        now = time.monotonic()
        window = getattr(self, "_window", [])
        window = [t for t in window if now - t < RATE_LIMIT[1]]
        window.append(now)
        self._window = window
        return len(window) <= RATE_LIMIT[0]

    def session_key(self) -> str | None:
        session = self.scope.get("session")
        return getattr(session, "session_key", None)
