"""Websockets: push server-rendered fragments to the people in a dialogue.

Permission is checked when a socket connects; it is closed by an event when access ends
(logout, deactivation, deletion: `auth.revoked`; a therapist's access through one link:
`therapist.access_ended`, on the therapist's own group).
A step is rendered once per audience when it commits and arrives in the group message: a
socket that follows forwards its audience's HTML as it is (no query); after a gap, and on
(re)connect, it renders from PostgreSQL. The socket a move came in on shows it at once.

The browser sends small frames: "typing" (no text, ever), "snapshot" (I saw a gap), "ping",
"due" (the countdown to the appointed time reached zero: open it if the time has come),
and "move" (a partner's move over the open socket, the same service, token and errors as the
form's HTTP post, which remains the fallback when the socket is down).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from importlib import import_module

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from couples import session_limits
from couples.models import User, is_public_id
from couples.selectors import couple_for, two_factor_missing, two_factor_required
from dialogues import layer_watch, places, push, selectors, services
from dialogues.forms import move_payload, posted_at
from dialogues.selectors import FACILITATOR, PARTNER
from imago_site.live import (
    auth_session_group,
    couple_group,
    dialogue_group,
    user_group,
)

logger = logging.getLogger("imago.dialogues")

MAX_FRAME_BYTES = 1024
MAX_MOVE_FRAME_BYTES = 64 * 1024  # a move's text and requests, JSON-escaped
RATE_LIMIT = (30, 10.0)  # at most 30 client frames per 10 seconds per connection
TYPING_EVERY = 2.0  # seconds between forwarded "writing…" hints

SESSION_TICK = 60.0  # seconds between a quiet socket's looks at its login's deadline
SNAPSHOT_EVERY = 1.0  # seconds: a socket's snapshot requests beyond one a second are merged

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY = 4429


def _stored_session(session_key: str | None) -> dict:
    """The login session as it is now in the session store ({} once it is gone)."""
    if not session_key:
        return {}
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return dict(store.load())


class _Base(AsyncWebsocketConsumer):
    """Shared by every consumer: a login that ends (logout, deactivation, signed out from the
    devices page, 12 hours, or its idle limit) closes its sockets with 4401. A partner's open
    socket is itself activity: it keeps its login from going idle."""

    groups_joined: list[str]
    _session_deadline: float | None = None
    _session_watch: asyncio.Task | None = None
    _snapshot_due: asyncio.Task | None = None
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

    def _authenticated_user(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return user

    async def websocket_connect(self, message) -> None:
        self.user = user = self._authenticated_user()
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
            data = await database_sync_to_async(_stored_session)(self._session_key())
            if data.get("_auth_user_id") != str(user.pk):
                return False  # logged out, flushed or deleted meanwhile
        else:
            data = await self._session_data()
        strict = session_limits.is_strict(user)
        # A partner's open live page counts as activity (couples/session_limits.py).
        live_at = None if strict else await session_limits.alive_seen(self._session_key())
        if session_limits.expiry_reason(data, strict=strict, live_at=live_at) is not None:
            return False
        self._session_deadline = session_limits.deadline(data, strict=strict, live_at=live_at)
        return True

    async def _session_data(self) -> dict:
        """The login session as this socket's connection loaded it. Channels' auth middleware
        has read it already (to find the user), so it is usually in memory: no trip to the
        database thread, which a connect storm would otherwise queue on."""
        store = self.scope["session"]
        loaded = getattr(store, "_session_cache", None)  # SessionBase's own cache, once read
        if isinstance(loaded, dict):
            return dict(loaded)
        return await database_sync_to_async(lambda: dict(store.items()))()

    async def _mark_live(self) -> None:
        """This partner's page is open: their login is not idle (therapists' and staff's
        sockets don't count, see couples/session_limits.py)."""
        if not session_limits.is_strict(self.user):
            await session_limits.live_mark(self._session_key())

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
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message.get('type')}")
        # Not Channels' own dispatch: it first hops to the one sync thread to close old
        # database connections, for every frame and push. Our database work all runs in
        # database_sync_to_async, which closes them itself, so a forwarded push stays here.
        await handler(message)

    # --- how many sockets one person (and one login) may hold, across every worker ---------

    def _leases(self) -> list[tuple[str, int]]:
        keys = [(places.person_key(self.user.pk), settings.IMAGO_MAX_SOCKETS_PER_PERSON)]
        if login := auth_session_group(self._session_key()):
            keys.append((places.login_key(login), settings.IMAGO_MAX_SOCKETS_PER_LOGIN))
        return keys

    async def _claim(self, *, renew: bool = False) -> bool:
        """Take (or renew) this socket's place; False when the person or the login already
        holds as many sockets as allowed. Counted atomically across every worker; a dead
        worker's places stop counting within seconds (dialogues/places.py)."""
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

    async def _join(self, *groups: str | None) -> bool:
        """Join the groups, or refuse: close 4429 when this person already holds as many
        sockets as allowed, 4403 when they lack the second factor they must have. True when
        joined."""
        self.groups_joined = []
        if not await self._claim():
            await self.close(code=CLOSE_TOO_MANY)
            return False
        self._claimed = True
        for group in (*groups, user_group(self.user.pk)):
            if group:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
        if await self._two_factor_missing():
            await self._leave()
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        layer_watch.register(self)
        await self._mark_live()
        if self._session_deadline is not None and self._session_watch is None:
            self._session_watch = asyncio.ensure_future(self._watch_session())
        return True

    async def _two_factor_missing(self) -> bool:
        """The pages' rule (`couples.selectors.two_factor_missing`): therapists and staff read
        nothing without their second factor. Asked once the socket is in the person's own
        group, so an authenticator removed from then on closes it by event (couples/signals.py);
        partners cost no query."""
        if not two_factor_required(user=self.user):
            return False
        return await database_sync_to_async(two_factor_missing)(user=self.user)

    async def rejoin(self) -> None:
        """After Redis forgot the groups (see layer_watch): join again, show what was missed."""
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.catch_up()

    async def catch_up(self) -> None:
        pass

    async def disconnect(self, code) -> None:
        await self._leave()

    async def _leave(self) -> None:
        """Undo `_join`: its places, its groups, its watch (once; safe to call again)."""
        layer_watch.unregister(self)
        if getattr(self, "_claimed", False):
            self._claimed = False
            await self._release()
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

    async def therapist_access_ended(self, event) -> None:
        """A therapist's access through one link ended: every socket of theirs hears it, on
        their own group; the console on that link and the dashboard act on it."""

    def _frame_allowed(self) -> bool:
        now = time.monotonic()
        window = getattr(self, "_window", [])
        window = [t for t in window if now - t < RATE_LIMIT[1]]
        window.append(now)
        self._window = window
        return len(window) <= RATE_LIMIT[0]

    def _session_key(self) -> str | None:
        session = self.scope.get("session")
        return getattr(session, "session_key", None)


class DialogueConsumer(_Base):
    """One partner's browser tab on one dialogue page."""

    role = PARTNER
    # A socket joins its groups first, then checks access and renders its snapshot in one
    # trip to the database: a step saved meanwhile arrives as a group message (skipped when
    # the snapshot has it already), and access that ends meanwhile is either seen by the
    # check or arrives as its event (on groups known before the read: the dialogue's, the
    # person's own and their login's).

    def _authorize(self) -> dict | None:
        """Who this socket may watch (runs in a database thread). None: refuse. With the
        snapshot to send, rendered from the same read."""
        session = selectors.dialogue_for(public_id=self.public_id, user=self.user)
        if session is None:
            return None
        slot = session.slot_of(self.user)
        partner = session.partner_in("b" if slot == "a" else "a")
        return {
            "session": session,
            "partners": {partner.pk: partner.display_name} if partner else {},
            "snapshot": push.render_snapshot_of(session=session, user=self.user),
        }

    async def connect(self) -> None:
        self.user = self._authenticated_user()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.public_id = self.scope["url_route"]["kwargs"]["public_id"]
        if not is_public_id(self.public_id):
            await self.close(code=CLOSE_FORBIDDEN)  # no such dialogue: not worth a query
            return
        if not await self._join(
            dialogue_group(self.public_id), auth_session_group(self._session_key())
        ):
            return
        allowed = await database_sync_to_async(self._authorize)()
        if allowed is None:
            await self._leave()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        session = allowed["session"]
        # Whose fragments this socket forwards: the partner's slot, or the facilitators'.
        self.audience = session.slot_of(self.user) if self.role == PARTNER else FACILITATOR
        # The people whose presence this person is shown: user pk -> name.
        self.watched: dict[int, str] = allowed["partners"]
        self.partner_pk = next(iter(self.watched), None) if self.role == PARTNER else None
        # The language of every fragment this socket renders (active since websocket_connect).
        self.language = self.user.language_code
        self.partner_name = self.watched.get(self.partner_pk) or gettext("Your partner")
        self.group = session.group_name
        self.present: dict[str, int] = {}  # channel -> user pk, for the people watched
        self.facilitators: dict[str, int] = {}  # channel -> therapist pk (partners only)
        self.facilitator_names: dict[int, str] = {}
        self.last_seq = 0
        self.panel_key = ""
        self.last_typing = 0.0
        await self.accept()
        snapshot = allowed["snapshot"]
        self._last_snapshot = time.monotonic()
        self.last_seq, self.panel_key = snapshot.seq, snapshot.panel_key
        await self.send(snapshot.html)
        await self.send_presence()
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "presence.hello",
                "user": self.user.pk,
                "channel": self.channel_name,
                "role": self.role,
            },
        )

    async def disconnect(self, code) -> None:
        if self._snapshot_due is not None:
            self._snapshot_due.cancel()
        if hasattr(self, "group") and getattr(self, "user", None):
            await self.channel_layer.group_send(
                self.group,
                {
                    "type": "presence.bye",
                    "user": self.user.pk,
                    "channel": self.channel_name,
                    "role": self.role,
                },
            )
        await super().disconnect(code)

    # --- frames from the browser ---------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if not self._frame_allowed():
            await self.close(code=CLOSE_TOO_MANY)
            return
        limit = MAX_MOVE_FRAME_BYTES if self.role == PARTNER else MAX_FRAME_BYTES
        if bytes_data is not None or text_data is None or len(text_data) > limit:
            return  # ignored: no harm, no change
        try:
            frame = json.loads(text_data)
        except ValueError:
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "move" and self.role == PARTNER:
            await self.move(frame)
            return
        if len(text_data) > MAX_FRAME_BYTES:
            return
        if kind == "typing" and self.role == PARTNER:
            now = time.monotonic()
            if now - self.last_typing >= TYPING_EVERY:
                self.last_typing = now
                await self.channel_layer.group_send(
                    self.group, {"type": "typing.hint", "user": self.user.pk}
                )
        elif kind == "snapshot":
            await self._snapshot_soon()
        elif kind == "due":
            await self._open_if_due()
        elif kind == "ping":
            await self.send('<div id="pong" hx-swap-oob="true"></div>')

    async def _open_if_due(self) -> None:
        """The page's countdown to the appointed time reached zero. If the time has come (by
        our clock, not the browser's), the dialogue opens now, through the same door as the
        background job's opening (whichever comes first; the other changes nothing), and
        publishes to every page of it as any change does: the job may run in a process whose
        push can't reach these sockets (`make run`'s worker). Otherwise a snapshot shows how
        things stand (not due yet, a partner not ready, opened already)."""
        try:
            result = await database_sync_to_async(services.session_open_due)(
                session_public_id=self.public_id
            )
        except services.DialogueError:
            result = None
        if result is None or not result.created:
            await self._snapshot_soon()

    # --- what we send ----------------------------------------------------------------------

    async def _snapshot_soon(self) -> None:
        """A snapshot the browser asked for: at once, or, within a second of the last one, once
        that second is over (many requests make one render)."""
        wait = getattr(self, "_last_snapshot", 0.0) + SNAPSHOT_EVERY - time.monotonic()
        if wait <= 0:
            await self.send_snapshot()
        elif self._snapshot_due is None:
            self._snapshot_due = asyncio.ensure_future(self._snapshot_after(wait))

    async def _snapshot_after(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._snapshot_due = None
        await self.send_snapshot()

    async def send_snapshot(self) -> None:
        self._last_snapshot = time.monotonic()
        rendered = await database_sync_to_async(self._snapshot_read)()
        if rendered is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.last_seq, self.panel_key = rendered.seq, rendered.panel_key
        await self.send(rendered.html)

    def _snapshot_read(self) -> push.Rendered | None:
        """The snapshot to send now (in a database thread; None: no longer allowed)."""
        return push.render_snapshot(public_id=self.public_id, user=self.user, role=self.role)

    async def move(self, frame: dict) -> None:
        """A move sent over this socket. On success this socket shows the step at once, from
        the fragment rendered for its audience at commit (the group message that brings it to
        the others then finds it shown). A refusal goes to this socket only, as the move
        panel with the message (a stale form is replaced by the current one; otherwise what
        the person wrote is kept)."""
        try:
            result = await database_sync_to_async(services.move_submit)(
                session_public_id=self.public_id,
                user=self.user,
                move=str(frame.get("move") or "")[:40],
                payload=move_payload(frame),
                at=posted_at(frame),
                token=str(frame.get("token") or ""),
            )
        except services.DialogueError as error:
            html = await database_sync_to_async(push.render_refusal)(
                public_id=self.public_id,
                user=self.user,
                error=error.message,
                posted_text="" if error.stale else str(frame.get("text") or ""),
            )
            if html is None:
                await self.close(code=CLOSE_FORBIDDEN)
                return
            self.panel_key = ""  # the panel shown now is the refusal: the next step replaces it
            await self.send(html)
            return
        if result.created and result.turn is not None:
            seq = result.session.seq
            await self.dialogue_changed(
                {
                    "seq": seq,
                    "prev": seq - 1,
                    "actor": self.user.pk,
                    "by_facilitator": False,
                    "fragments": result.fragments,
                }
            )

    async def catch_up(self) -> None:
        await self.dialogue_changed({"seq": self.last_seq + 1})  # renders only what is new

    def _follows(self, event: dict) -> dict | None:
        """This socket's fragment of the change, if it can be forwarded as it is: rendered for
        its audience, and following what this socket last showed."""
        fragment = (event.get("fragments") or {}).get(self.audience)
        if fragment is None or event.get("prev") != self.last_seq:
            return None
        if fragment.get("lang") != self.language:
            return None  # rendered in another language (a console, a language just changed)
        if self.role == FACILITATOR and event.get("by_facilitator"):
            # Rendered as the therapist who acted: theirs to forward, another's to re-render.
            return fragment if event.get("actor") == self.user.pk else None
        return fragment

    async def dialogue_changed(self, event) -> None:
        if event.get("seq", 0) <= self.last_seq:
            return  # already shown (a snapshot or an earlier update covered it)
        fragment = self._follows(event)
        if fragment is not None:
            html = fragment["html"]
            if fragment["panel_key"] != self.panel_key:
                html += fragment["panel"]
            self.last_seq, self.panel_key = event["seq"], fragment["panel_key"]
            await self.send(html)
            return
        rendered = await database_sync_to_async(push.render_update)(
            public_id=self.public_id,
            user=self.user,
            after=self.last_seq,
            panel_key=self.panel_key,
            role=self.role,
        )
        if rendered is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if rendered.html:
            self.last_seq, self.panel_key = rendered.seq, rendered.panel_key
            await self.send(rendered.html)

    # --- presence: who else is on this dialogue now ---------------------------------------

    async def send_presence(self, part: str = "all") -> None:
        """`part`: "people" (the partner), "facilitators" (a therapist), or "all"."""
        if part in ("all", "people"):
            online = set(self.present.values())
            await self.send(
                push.render_presence(
                    partner_name=self.partner_name,
                    online=self.partner_pk in online,
                    language=self.language,
                )
            )
        if part in ("all", "facilitators"):
            names = sorted({self.facilitator_names[pk] for pk in self.facilitators.values()})
            await self.send(push.render_facilitator_presence(names=names, language=self.language))

    async def _arrived(self, event) -> str | None:
        """Note who arrived; which part of the presence shown to this person changed."""
        channel, user, role = event["channel"], event["user"], event.get("role", PARTNER)
        if role == FACILITATOR:
            if self.role != PARTNER or channel in self.facilitators:
                return None
            if user not in self.facilitator_names:
                self.facilitator_names[user] = await database_sync_to_async(_therapist_name)(user)
            had = set(self.facilitators.values())
            self.facilitators[channel] = user
            return "facilitators" if user not in had else None
        if user in self.watched and channel not in self.present:
            had = set(self.present.values())
            self.present[channel] = user
            return "people" if user not in had else None
        return None

    async def presence_hello(self, event) -> None:
        if event["channel"] == self.channel_name:
            return
        changed = await self._arrived(event)
        if changed:
            await self.send_presence(changed)
        # Tell the newcomer we are here too.
        await self.channel_layer.send(
            event["channel"],
            {
                "type": "presence.here",
                "user": self.user.pk,
                "channel": self.channel_name,
                "role": self.role,
            },
        )

    async def presence_here(self, event) -> None:
        changed = await self._arrived(event)
        if changed:
            await self.send_presence(changed)

    async def presence_bye(self, event) -> None:
        channel = event["channel"]
        if channel in self.present:
            user = self.present.pop(channel)
            if user not in self.present.values():
                await self.send_presence("people")
        elif channel in self.facilitators:
            user = self.facilitators.pop(channel)
            if user not in self.facilitators.values():
                await self.send_presence("facilitators")

    async def typing_hint(self, event) -> None:
        if event["user"] == self.partner_pk or (
            self.role == FACILITATOR and event["user"] in self.watched
        ):
            await self.send(
                push.render_typing(partner_name=self.watched[event["user"]], language=self.language)
            )


def _therapist_name(pk: int) -> str:
    user = User.objects.filter(pk=pk).only("display_name").first()
    if user is None:
        return gettext("Your therapist")
    return gettext("%(name)s (therapist)") % {"name": user.display_name}


class HomeConsumer(_Base):
    """The home page: hears when the couple's dialogues start, pause or end, and, while the
    person waits for their partner to accept the invitation, when the partner joins."""

    async def connect(self) -> None:
        self.user = self._authenticated_user()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        couple = await database_sync_to_async(couple_for)(user=self.user)
        if couple is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await self._join(couple_group(couple.pk), auth_session_group(self._session_key())):
            return
        await self.accept()
        # The page waiting for the partner says so (?waiting=1): if they joined while this
        # socket was away (or before it connected), the page goes on at once, as a snapshot.
        self.waiting = b"waiting=1" in self.scope.get("query_string", b"").split(b"&")
        if self.waiting:
            await self.couple_changed({})

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if not self._frame_allowed():
            await self.close(code=CLOSE_TOO_MANY)

    async def catch_up(self) -> None:
        await self.couple_changed({})

    async def couple_changed(self, event) -> None:
        if getattr(self, "waiting", False):
            html = await database_sync_to_async(push.render_partner_joined)(user=self.user)
            if html:  # from now on the page shows the dialogues, like any paired home page
                self.waiting = False
                await self.send(html)
            return
        html = await database_sync_to_async(push.render_home)(user=self.user)
        if html:
            await self.send(html)

    async def couple_ended(self, event) -> None:
        """The couple this socket was opened for has ended: show the page as it is now, and
        close (what it listened to is no longer this person's)."""
        await self.couple_changed(event)
        await self.close(code=CLOSE_FORBIDDEN)
