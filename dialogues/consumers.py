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
form's HTTP post, which remains the fallback when the socket is down). "call" frames are the
signalling of the call beside the dialogue (dialogues/calls.py, mixed in here).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from channels.db import database_sync_to_async
from django.utils.translation import gettext

from couples.models import User, is_public_id
from couples.selectors import couple_for
from dialogues import calls, push, selectors, services
from dialogues.forms import move_posted
from dialogues.selectors import FACILITATOR, PARTNER
from live import auth_session_group, couple_group, dialogue_group, places
from live.consumer import CLOSE_FORBIDDEN, CLOSE_TOO_MANY, CLOSE_UNAUTHENTICATED, LiveConsumer

logger = logging.getLogger("imago.dialogues")

MAX_FRAME_BYTES = 1024
MAX_MOVE_FRAME_BYTES = 64 * 1024  # a move's text and requests, JSON-escaped
TYPING_EVERY = 2.0  # seconds between forwarded "writing…" hints

SNAPSHOT_EVERY = 1.0  # seconds: a socket's snapshot requests beyond one a second are merged


async def _not_this_sockets_link(self, event) -> None:
    """A therapist's access through one link ended: every socket of theirs hears it, on their
    own group; only the console on that link and the dashboard act on it."""


class DialogueConsumer(calls.CallSignalling, LiveConsumer):
    """One partner's browser tab on one dialogue page."""

    therapist_access_ended = _not_this_sockets_link

    _snapshot_due: asyncio.Task | None = None

    role = PARTNER
    # A socket joins its groups first, then checks access and renders its snapshot in one
    # trip to the database: a step saved meanwhile arrives as a group message (skipped when
    # the snapshot has it already), and access that ends meanwhile is either seen by the
    # check or arrives as its event (on groups known before the read: the dialogue's, the
    # person's own and their login's).

    def listening(self) -> list[str]:
        """A change is rendered for this socket's audience while it is open: its partner (by
        pk: known before the session is read) or the facilitators (push.render_change)."""
        audience = str(self.user.pk) if self.role == PARTNER else FACILITATOR
        return [places.listening_key(dialogue_group(self.public_id), audience)]

    def _authorize(self) -> dict | None:
        """Who this socket may watch (runs in a database thread). None: refuse. With the
        snapshot to send, rendered from the same read."""
        session = selectors.dialogue_for(public_id=self.public_id, user=self.user)
        if session is None:
            return None
        slot = session.slot_of(self.user)
        partner = session.partner_in("b" if slot == "a" else "a")
        snapshot = push.render_snapshot_of(session=session, user=self.user)
        return {
            "session": session,
            "partners": {partner.pk: partner.display_name} if partner else {},
            "snapshot": snapshot,
            # In a booked session's waiting room (read by the snapshot's panel already).
            "held": selectors.partner_held(session=session, user_pk=self.user.pk),
        }

    async def connect(self) -> None:
        self.user = self.authenticated_user()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.public_id = self.scope["url_route"]["kwargs"]["public_id"]
        if not is_public_id(self.public_id):
            await self.close(code=CLOSE_FORBIDDEN)  # no such dialogue: not worth a query
            return
        if not await self.join(
            dialogue_group(self.public_id), auth_session_group(self.session_key())
        ):
            return
        allowed = await database_sync_to_async(self._authorize)()
        if allowed is None:
            await self.leave()
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
        self.call_open = session.is_live or session.is_planned
        self.held = self.role == PARTNER and bool(allowed.get("held"))
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
        if self.held:  # the consoles show who waits to be let in
            await self.channel_layer.group_send(self.group, self._waiting_event(arrived=True))

    async def disconnect(self, code) -> None:
        if self._snapshot_due is not None:
            self._snapshot_due.cancel()
        self.call_me = None  # its presence.bye drops it from every roster
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
        limit = MAX_MOVE_FRAME_BYTES if self.role == PARTNER else calls.MAX_CALL_FRAME_BYTES
        frame = None
        if bytes_data is None and text_data is not None and len(text_data) <= limit:
            with contextlib.suppress(ValueError):
                frame = json.loads(text_data)
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "call" and isinstance(frame, dict):  # its own size cap, rate and refusals
            await self.call_receive(frame, size=len(text_data))
            return
        if not self.frame_allowed():
            await self.close(code=CLOSE_TOO_MANY)
            return
        if frame is None:
            return  # ignored: no harm, no change
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
        await self._shown(rendered.seq, rendered.panel_key, held=rendered.held)
        await self.send(rendered.html)

    async def _shown(self, seq: int, panel_key: str, *, held: bool) -> None:
        """What this page shows now. A partner whose page has just turned into the waiting
        room (the booked session opened while they were on it) is announced to the consoles,
        as one who arrives in it is."""
        self.last_seq, self.panel_key = seq, panel_key
        if held and not self.held and self.role == PARTNER:
            self.held = True
            await self.channel_layer.group_send(self.group, self._waiting_event(arrived=True))

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
            posted = move_posted(frame)
            result = await database_sync_to_async(services.move_submit)(
                session_public_id=self.public_id,
                user=self.user,
                move=posted.move,
                payload=posted.payload,
                at=posted.at,
                token=posted.token,
                for_partner=posted.for_partner,
            )
        except services.DialogueError as error:
            html = await database_sync_to_async(push.render_panel)(
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
            await self._shown(event["seq"], fragment["panel_key"], held=fragment.get("held", False))
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
            await self._shown(rendered.seq, rendered.panel_key, held=rendered.held)
            await self.send(rendered.html)

    async def call_admitted(self, event) -> None:
        """Let in from a booked session's waiting room: besides the call, this partner's page
        shows their move panel now, in place of the waiting screen (no reload)."""
        await super().call_admitted(event)
        if self.role == PARTNER and event.get("user") == self.user.pk:
            self.held = False
            await self._snapshot_soon()

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
        await self.call_greet(event["channel"])
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
        await self.call_gone(channel)
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


class HomeConsumer(LiveConsumer):
    """The home page: hears when the couple's dialogues start, pause or end, and, while the
    person waits for their partner to accept the invitation, when the partner joins."""

    therapist_access_ended = _not_this_sockets_link

    async def connect(self) -> None:
        self.user = self.authenticated_user()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        couple = await database_sync_to_async(couple_for)(user=self.user)
        if couple is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await self.join(couple_group(couple.pk), auth_session_group(self.session_key())):
            return
        await self.accept()
        # The page waiting for the partner says so (?waiting=1): if they joined while this
        # socket was away (or before it connected), the page goes on at once, as a snapshot.
        self.waiting = b"waiting=1" in self.scope.get("query_string", b"").split(b"&")
        if self.waiting:
            await self.couple_changed({})

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if not self.frame_allowed():
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
