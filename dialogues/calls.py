"""Calls beside a dialogue: the signalling of a peer-to-peer WebRTC call (a full mesh of at most
three: both partners and the therapist they consented to), carried over the sockets the pages
already hold, and the ICE servers each browser is given.

Media never passes through us: browsers exchange offers, answers and ICE candidates through
their dialogue socket (the partners') or console socket (the therapist's), and connect to each
other (or through TURN). What we relay is addressed to one peer's channel, never broadcast to
the dialogue's group; only who is in the call (names, ids) goes to the group. Each socket keeps
its own roster of the call, learnt from the group (`call.joined`, `call.left`, presence) and
from the replies of those in the call (`call.here`), so joining, leaving and relaying read
nothing from the database. A socket that closes leaves the call with it (its presence.bye), so
whatever closes a socket (consent withdrawn, link ended, logout, deactivation) ends that
person's call; a dialogue that ends ends every call on it (`call.end`).

Browser -> server frames: {"type": "call", "call": "join" | "leave" | "offer" | "answer" |
"ice", "to": <peer id>, "sdp": ..., "candidate": ...}. Server -> browser frames are JSON (the
page's HTML swaps never start with "{"): {"call": "ice-config" | "roster" | "offer" | "answer" |
"ice" | "refused" | "ended" | "waiting" | "admitted", ...}. Peer ids are random per join
(never a user id); of two peers the one with the smaller id makes the offer.

A session a therapist booked has a waiting room (therapists/ registers `must_wait`): a partner
who joins is refused with "waiting" until let in; the consoles are told who waits. (The
session itself waits too: `selectors.partner_held`, asked at the one door and by the panel.)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils.translation import gettext_lazy

from dialogues.selectors import FACILITATOR
from live import clock, dialogue_group, send_after_commit
from live.consumer import CLOSE_TOO_MANY

MAX_PEOPLE = 3  # a full mesh: both partners and their therapist
MAX_CALL_FRAME_BYTES = 20 * 1024  # an offer's SDP is a few kB (Chromium's: 5-7 with video)
MAX_SDP = 16_000
MAX_CANDIDATE = 1_000
CALL_RATE = (120, 10.0)  # call frames per 10 s per socket: a burst of ICE candidates fits
KINDS = ("join", "leave", "offer", "answer", "ice")
MEDIA = ("video", "audio")

# Refusals: a code the page can act on, and what the person reads.
REFUSALS = {
    "malformed": gettext_lazy("That call message could not be read."),
    "too_large": gettext_lazy("That call message is too large."),
    "too_many": gettext_lazy("Too many call messages at once. Please wait a moment."),
    "not_in_call": gettext_lazy("Join the call first."),
    "no_such_peer": gettext_lazy("That person is no longer in the call."),
    "full": gettext_lazy("The call is full: at most three people."),
    "elsewhere": gettext_lazy("You are already in this call in another window."),
    "closed": gettext_lazy("This dialogue has ended, so its call has too."),
    "waiting": gettext_lazy("Your therapist will let you in shortly."),
}

# Sent once a partner is let into a booked session's call from its waiting room (therapists/),
# after the commit: a push ("your therapist let you in") may listen. Arguments:
# session_public_id, user_pk.
call_admitted = Signal()

# Whether a partner must wait to join a dialogue's call (the waiting room; therapists/ registers
# it from apps.ready): (session_public_id=, user_pk=) -> True: wait. Asked when joining only.
MustWait = Callable[..., bool]
_waiting_rooms: list[MustWait] = []


def waiting_room_register(must_wait: MustWait) -> None:
    if must_wait not in _waiting_rooms:
        _waiting_rooms.append(must_wait)


def must_wait(*, session_public_id: str, user_pk: int) -> bool:
    return any(w(session_public_id=session_public_id, user_pk=user_pk) for w in _waiting_rooms)


def call_admit_publish(*, public_id: str, user_pk: int, slot: str) -> None:
    """A partner was let in (in a transaction): their waiting page joins once it commits."""
    send_after_commit(
        dialogue_group(public_id), {"type": "call.admitted", "user": user_pk, "slot": slot}
    )
    transaction.on_commit(
        lambda: call_admitted.send(sender=None, session_public_id=public_id, user_pk=user_pk)
    )


def dialogue_calls_end(*, public_id: str) -> None:
    """The dialogue ended: every call on it ends, once the change commits."""
    send_after_commit(dialogue_group(public_id), {"type": "call.end"})


# --- ICE servers ------------------------------------------------------------------------------


def turn_credentials(*, secret: str, expires: int, opaque: str) -> tuple[str, str]:
    """coturn's REST-API credentials (`use-auth-secret`): the username carries its expiry
    (Unix seconds), the credential is base64(HMAC-SHA1(secret, username))."""
    username = f"{expires}:{opaque}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_config() -> dict:
    """The RTCPeerConnection configuration for one person joining one call: STUN and TURN from
    settings, TURN with credentials valid for IMAGO_TURN_TTL_HOURS (hours, never days) and an
    opaque id that names no one."""
    servers: list[dict] = []
    if settings.IMAGO_STUN_URLS:
        servers.append({"urls": list(settings.IMAGO_STUN_URLS)})
    if settings.IMAGO_TURN_URLS and settings.IMAGO_TURN_SECRET:
        hours = max(1, min(int(settings.IMAGO_TURN_TTL_HOURS), 24))
        expires = int((clock.now() + timedelta(hours=hours)).timestamp())
        username, credential = turn_credentials(
            secret=settings.IMAGO_TURN_SECRET, expires=expires, opaque=secrets.token_hex(8)
        )
        servers.append(
            {"urls": list(settings.IMAGO_TURN_URLS), "username": username, "credential": credential}
        )
    policy = "relay" if settings.IMAGO_ICE_TRANSPORT_POLICY == "relay" else "all"
    return {"iceServers": servers, "iceTransportPolicy": policy}


# --- frames -------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def refusal(code: str) -> str:
    return json.dumps({"call": "refused", "reason": code, "message": str(REFUSALS[code])})


def _text(value: object, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise Refused("malformed")
    return value


def _peer_id(value: object) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 64 or not value.isalnum():
        raise Refused("malformed")
    return value


def _candidate(value: object) -> dict | None:
    """An RTCIceCandidateInit (None: the end of candidates), only its known fields."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Refused("malformed")
    out: dict = {"candidate": ""}
    if value.get("candidate"):
        out["candidate"] = _text(value["candidate"], MAX_CANDIDATE)
    mid = value.get("sdpMid")
    if mid is not None:
        out["sdpMid"] = _text(mid, 64)
    index = value.get("sdpMLineIndex")
    if index is not None:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64:
            raise Refused("malformed")
        out["sdpMLineIndex"] = index
    fragment = value.get("usernameFragment")
    if fragment is not None:
        out["usernameFragment"] = _text(fragment, 256)
    if "sdpMid" not in out and "sdpMLineIndex" not in out:
        raise Refused("malformed")
    return out


def frame_clean(frame: dict) -> dict:
    """The frame as it will be relayed (only its known fields, checked), or Refused."""
    kind = frame.get("call")
    if kind not in KINDS:
        raise Refused("malformed")
    if kind == "join":
        media = frame.get("media", "video")
        if media not in MEDIA:
            raise Refused("malformed")
        return {"call": kind, "media": media}
    if kind == "leave":
        return {"call": kind}
    clean: dict = {"call": kind, "to": _peer_id(frame.get("to"))}
    if kind in ("offer", "answer"):
        sdp = frame.get("sdp")
        if isinstance(sdp, str) and len(sdp) > MAX_SDP:
            raise Refused("too_large")
        clean["sdp"] = _text(sdp, MAX_SDP)
    else:
        clean["candidate"] = _candidate(frame.get("candidate"))
    return clean


# --- one socket's part in the call ----------------------------------------------------------


@dataclass
class Peer:
    id: str
    user: int
    name: str
    role: str
    media: str


class CallSignalling:
    """Mixed into the dialogue socket (and so the console's): the call's signalling. The socket
    calls `call_receive` with a call frame, `call_greet` when a newcomer says hello,
    `call_gone` when a socket says goodbye, and `call_leave` when it closes."""

    call_open = True  # False once the dialogue has ended (or it never was open)
    call_me: Peer | None = None
    call_waiting: str | None = None  # in the waiting room: the media asked for

    # Provided by the socket.
    channel_layer: Any
    channel_name: str
    group: str
    public_id: str
    user: Any
    role: str

    if TYPE_CHECKING:
        send: Any

    def _call_roster(self) -> dict[str, Peer]:
        roster: dict[str, Peer] | None = getattr(self, "_roster", None)
        if roster is None:
            roster = {}
            self._roster = roster
        return roster

    def call_name(self) -> str:
        return self.user.display_name

    _call_window: list[float]

    def _call_allowed(self) -> bool:
        limit, window = CALL_RATE
        now = time.monotonic()
        stamps = [t for t in getattr(self, "_call_window", []) if now - t < window]
        stamps.append(now)
        self._call_window = stamps
        return len(stamps) <= limit

    async def call_receive(self, frame: dict, *, size: int) -> None:
        """A call frame from this socket's page: relayed to one peer, or refused to this
        socket only."""
        try:
            if not self._call_allowed():
                if len(self._call_window) > 2 * CALL_RATE[0]:  # a flood, not a burst: close
                    await self.close(code=CLOSE_TOO_MANY)
                    return
                raise Refused("too_many")
            if size > MAX_CALL_FRAME_BYTES:
                raise Refused("too_large")
            clean = frame_clean(frame)
            kind = clean["call"]
            if kind == "join":
                await self._call_join(clean["media"])
            elif kind == "leave":
                await self.call_leave()
            else:
                await self._call_relay(clean)
        except Refused as refused:
            await self.send(refusal(refused.code))

    async def _call_join(self, media: str) -> None:
        if not self.call_open:
            raise Refused("closed")
        if self.role != FACILITATOR and _waiting_rooms and self.call_me is None:
            wait = await database_sync_to_async(must_wait)(
                session_public_id=self.public_id, user_pk=self.user.pk
            )
            if wait:
                self.call_waiting = media
                await self.channel_layer.group_send(self.group, self._waiting_event())
                raise Refused("waiting")
        self.call_waiting = None
        roster = self._call_roster()
        if self.call_me is not None:  # joined already (a double click): what it is now
            await self._call_send_roster()
            return
        if any(p.user == self.user.pk for p in roster.values()):
            raise Refused("elsewhere")
        if len(roster) + 1 > MAX_PEOPLE:
            raise Refused("full")
        self.call_me = Peer(
            id=secrets.token_hex(12),
            user=self.user.pk,
            name=self.call_name(),
            role=self.role,
            media=media,
        )
        await self.send(json.dumps({"call": "ice-config", "config": ice_config()}))
        await self.channel_layer.group_send(
            self.group, {"type": "call.joined", "channel": self.channel_name, **self._me()}
        )
        await self._call_send_roster()

    def _me(self) -> dict:
        me = self.call_me
        assert me is not None
        return {"peer": me.id, "user": me.user, "name": me.name, "role": me.role, "media": me.media}

    async def close(self, code=None, reason=None) -> None:
        """Whatever closes the socket (access ended, a logout) ends its call at once, before the
        browser answers the close."""
        with contextlib.suppress(Exception):  # the channel layer away: still close
            await self.call_leave(tell_page=False)
        await super().close(code, reason)  # type: ignore[misc]

    async def call_leave(self, *, tell_page: bool = True) -> None:
        """Leave the call (a click, or the socket closing): the others drop this peer."""
        self.call_waiting = None  # out of the waiting room too
        me, self.call_me = self.call_me, None
        if me is None:
            return
        await self.channel_layer.group_send(
            self.group, {"type": "call.left", "channel": self.channel_name, "peer": me.id}
        )
        if tell_page:
            await self._call_send_roster()

    async def _call_relay(self, clean: dict) -> None:
        if self.call_me is None:
            raise Refused("not_in_call")
        to = clean.pop("to")
        channel = next((c for c, p in self._call_roster().items() if p.id == to), None)
        if channel is None:
            raise Refused("no_such_peer")
        await self.channel_layer.send(
            channel,
            {
                "type": "call.signal",
                "channel": self.channel_name,
                "from": self.call_me.id,
                "to": to,
                "frame": clean,
            },
        )

    async def _call_send_roster(self) -> None:
        me = self.call_me
        peers = [
            {"peer": p.id, "name": p.name, "role": p.role, "media": p.media}
            for p in self._call_roster().values()
        ]
        await self.send(
            json.dumps(
                {
                    "call": "roster",
                    "you": me.id if me else None,
                    "open": self.call_open,
                    "peers": peers,
                }
            )
        )

    def _call_note(self, event: dict) -> bool:
        """Note a peer in the call (from a group message or a reply); True when new."""
        channel = event.get("channel")
        if not isinstance(channel, str) or channel == self.channel_name:
            return False
        roster = self._call_roster()
        known = roster.get(channel)
        if known is not None and known.id == event["peer"]:
            return False
        roster[channel] = Peer(
            id=event["peer"],
            user=event["user"],
            name=event["name"],
            role=event["role"],
            media=event["media"],
        )
        return True

    # --- group and direct messages ---------------------------------------------------------

    async def call_joined(self, event) -> None:
        if event.get("channel") == self.channel_name:
            return
        if self._call_note(event):
            await self._call_send_roster()
        if self.call_me is not None:  # tell the newcomer we are in the call too
            await self.channel_layer.send(
                event["channel"], {"type": "call.here", "channel": self.channel_name, **self._me()}
            )

    async def call_here(self, event) -> None:
        if self._call_note(event):
            await self._call_send_roster()

    async def call_left(self, event) -> None:
        await self.call_gone(event.get("channel"), peer=event.get("peer"))

    async def call_gone(self, channel: object, *, peer: object = None) -> None:
        """That socket left the call, or closed."""
        roster = self._call_roster()
        if not isinstance(channel, str) or channel not in roster:
            return
        if peer is not None and roster[channel].id != peer:
            return  # an earlier join of that socket's, already replaced
        del roster[channel]
        await self._call_send_roster()

    def _waiting_event(self, *, arrived: bool = False) -> dict:
        """`arrived`: on the page of a booked session, not let in (not asking to join the
        call)."""
        return {
            "type": "call.wait",
            "slot": getattr(self, "audience", ""),
            "name": self.call_name(),
            "arrived": arrived,
        }

    async def call_wait(self, event) -> None:
        """A partner is in the waiting room: only a console shows it."""
        if self.role == FACILITATOR:
            frame = {"call": "waiting", "slot": event["slot"], "name": event["name"]}
            if event.get("arrived"):
                frame["arrived"] = True
            await self.send(json.dumps(frame))

    async def call_admitted(self, event) -> None:
        """A partner was let in: their waiting page joins (it asked to already); a console
        shows them admitted."""
        if self.role == FACILITATOR:
            await self.send(json.dumps({"call": "admitted", "slot": event.get("slot", "")}))
        elif event.get("user") == self.user.pk and self.call_waiting is not None:
            media, self.call_waiting = self.call_waiting, None
            await self.send(json.dumps({"call": "admitted", "media": media}))

    async def call_greet(self, channel: str) -> None:
        """A socket arrived on this dialogue: if this one is in the call, say so to it alone
        (and a partner in the waiting room tells a console that arrives)."""
        if self.call_waiting is not None:
            await self.channel_layer.send(channel, self._waiting_event())
        elif getattr(self, "held", False):
            await self.channel_layer.send(channel, self._waiting_event(arrived=True))
        if self.call_me is not None and self.call_open:
            await self.channel_layer.send(
                channel, {"type": "call.here", "channel": self.channel_name, **self._me()}
            )

    async def call_signal(self, event) -> None:
        """An offer, answer or candidate addressed to this socket's peer: forwarded only if it
        is from someone in this call, to this peer as it is now."""
        me = self.call_me
        sender = self._call_roster().get(event.get("channel"))
        if me is None or sender is None or event.get("to") != me.id:
            return
        if sender.id != event.get("from"):
            return
        frame = dict(event["frame"])
        frame["from"] = sender.id
        await self.send(json.dumps(frame))

    async def call_end(self, event) -> None:
        """The dialogue ended: the call ends for everyone on it."""
        self.call_open = False
        was_in = self.call_me is not None
        self.call_me = None
        self._call_roster().clear()
        if was_in:
            await self.send(json.dumps({"call": "ended", "message": str(REFUSALS["closed"])}))
        await self._call_send_roster()
