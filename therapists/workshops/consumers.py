"""The workshop's sockets, on the live kernel.

The presenter's board joins the workshop's board group, where each changed card arrives
rendered once (`workshop.card`: help asked, presence, a practice started) and the plan's
changes as ids (`workshop.plan`: the board is drawn again). It also listens to the current
practice dialogues' groups: on a step it draws that one couple's card again (progress only,
from the database; what those groups carry for the partners is never forwarded).

A partner's room page joins the room group (the segment, messages, timer) and the couple's
own group (their practice started, paused or resumed). Opening it checks the partner in:
"here" on the board until they hold no page of the app open anywhere for
`IMAGO_GONE_AFTER` seconds (live.consumer's `person_gone`, then
`services.presence_gone`), so it doesn't flicker off when a phone's connection
blinks or the partner moves to their practice dialogue's page.
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async

from live import (
    auth_session_group,
    couple_group,
    dialogue_group,
    workshop_board_group,
    workshop_room_group,
)
from live.consumer import CLOSE_FORBIDDEN, CLOSE_TOO_MANY, CLOSE_UNAUTHENTICATED, LiveConsumer
from therapists.workshops import selectors, services
from therapists.workshops.models import Practice


class _IgnoresOthers(LiveConsumer):
    """Listens to groups other sockets also hear: a message it has no handler for is not for
    it (the partners' typing hints, presence, calls)."""

    async def dispatch(self, message) -> None:
        kind = message.get("type", "")
        if (
            not kind.startswith("websocket.")
            and getattr(self, get_handler_name(message), None) is None
        ):
            return
        await super().dispatch(message)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if not self.frame_allowed():
            await self.close(code=CLOSE_TOO_MANY)

    # A burst of changes is drawn once: a practice's start tells each page the room changed
    # and its couple did, and 120 pages drawing twice kept the last one waiting seconds.
    _stale = False
    _drawing: asyncio.Task | None = None

    def redraw_soon(self) -> None:
        """Draw again (`redraw`); what arrives before its read starts is in the same drawing."""
        self._stale = True
        if self._drawing is None or self._drawing.done():
            self._drawing = asyncio.ensure_future(self._redraw_while_stale())

    async def _redraw_while_stale(self) -> None:
        while self._stale:
            await self.redraw()

    def read_starts(self) -> None:
        """Called (in the database thread) as a drawing's read begins."""
        self._stale = False

    async def redraw(self) -> None:
        raise NotImplementedError

    async def disconnect(self, code) -> None:
        drawing, self._drawing = self._drawing, None
        if drawing is not None and not drawing.done():
            drawing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drawing
        await super().disconnect(code)


def _board_snapshot(user, public_id: str) -> tuple[str, dict[str, int]] | None:
    workshop = selectors.workshop_for_presenter(user=user, public_id=public_id)
    if workshop is None:
        return None
    sessions = {
        public: attendance
        for public, attendance in Practice.objects.filter(segment=workshop.current).values_list(
            "session__public_id", "attendance_id"
        )
    }
    return selectors.render_board(workshop=workshop), sessions


def _card_for(user, public_id: str, attendance_id: int) -> str | None:
    workshop = selectors.workshop_for_presenter(user=user, public_id=public_id)
    if workshop is None:
        return None
    return selectors.render_card(workshop=workshop, attendance_id=attendance_id)


class BoardConsumer(_IgnoresOthers):
    """The presenter's live board."""

    async def connect(self) -> None:
        self.user = self.authenticated_user()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.public_id = self.scope["url_route"]["kwargs"]["public_id"]
        self.sessions: dict[str, int] = {}
        snapshot = await database_sync_to_async(_board_snapshot)(self.user, self.public_id)
        if snapshot is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await self.join(
            workshop_board_group(self.public_id), auth_session_group(self.session_key())
        ):
            return
        await self.accept()
        await self._show(snapshot)

    async def _show(self, snapshot: tuple[str, dict[str, int]]) -> None:
        html, sessions = snapshot
        for public_id in [p for p in self.sessions if p not in sessions]:
            group = dialogue_group(public_id)
            await self.channel_layer.group_discard(group, self.channel_name)
            if group in self.groups_joined:
                self.groups_joined.remove(group)
        for public_id in sessions:
            if public_id not in self.sessions:
                group = dialogue_group(public_id)
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
        self.sessions = sessions
        await self.send(html)

    def _snapshot(self) -> tuple[str, dict[str, int]] | None:
        self.read_starts()
        return _board_snapshot(self.user, self.public_id)

    async def redraw(self) -> None:
        snapshot = await database_sync_to_async(self._snapshot)()
        if snapshot is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self._show(snapshot)

    async def catch_up(self) -> None:
        self.redraw_soon()

    async def workshop_plan(self, event) -> None:
        self.redraw_soon()

    async def workshop_card(self, event) -> None:
        html = event.get("html")
        if isinstance(html, str) and html:
            await self.send(html)

    async def dialogue_changed(self, event) -> None:
        """A couple's practice moved: its card (progress only), from the database."""
        attendance_id = self.sessions.get(event.get("session", ""))
        if attendance_id is None:
            return
        html = await database_sync_to_async(_card_for)(self.user, self.public_id, attendance_id)
        if html is None:
            await self.close(code=CLOSE_FORBIDDEN)
        elif html:
            await self.send(html)


def _room_for(user, public_id: str, *, present: bool | None = None) -> tuple[int, str] | None:
    if present is not None:
        services.presence_set(user=user, workshop_public_id=public_id, present=present)
    found = selectors.participant_in(user=user, workshop_public_id=public_id)
    if found is None:
        return None
    workshop, participant = found
    return participant.attendance.couple_id, selectors.render_room(
        workshop=workshop, participant=participant
    )


class RoomConsumer(_IgnoresOthers):
    """A partner's workshop page: the room, and their own practice."""

    async def connect(self) -> None:
        self.user = self.authenticated_user()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.public_id = self.scope["url_route"]["kwargs"]["public_id"]
        found = await database_sync_to_async(_room_for)(self.user, self.public_id)
        if found is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        couple_id, _html = found
        if not await self.join(
            workshop_room_group(self.public_id),
            couple_group(couple_id),
            auth_session_group(self.session_key()),
        ):
            return
        await self.accept()
        await self.refresh(present=True)

    async def refresh(self, present: bool | None = None) -> None:
        found = await database_sync_to_async(self._room)(present)
        if found is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send(found[1])

    def _room(self, present: bool | None) -> tuple[int, str] | None:
        self.read_starts()
        return _room_for(self.user, self.public_id, present=present)

    async def redraw(self) -> None:
        await self.refresh()

    async def catch_up(self) -> None:
        self.redraw_soon()

    async def workshop_room(self, event) -> None:
        self.redraw_soon()

    async def couple_changed(self, event) -> None:
        self.redraw_soon()

    async def couple_ended(self, event) -> None:
        await self.close(code=CLOSE_FORBIDDEN)
