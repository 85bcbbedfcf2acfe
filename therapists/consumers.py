"""The therapist's sockets: the console (a linked therapist watching a couple's live
dialogue) and the dashboard (their couples, kept up to date).

The console is the partners' dialogue socket seen from the facilitator's seat: every step, the
step machine's state, and which partners are on the page. Access is checked when it connects,
and it closes at once when access ends (a partner withdraws consent, the link ends, the
therapist is un-verified, switched off or deleted: `therapist.access_ended` on the therapist's
own group, naming the link; `auth.revoked` for the account).

The dashboard listens to each couple the therapist may read now (their home pages' group, and
the group only the couple's therapists hear), and to the therapist's own group (their links,
and access through one ending). Every message carries ids only; on each one the dashboard's
fragments are rendered again from PostgreSQL, through the one access check, so a couple whose
access ended is dropped (its groups left) and a newly linked one is joined.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from couples.models import User
from dialogues import push
from dialogues import selectors as dialogue_selectors
from dialogues.consumers import DialogueConsumer
from dialogues.models import DialogueSession
from dialogues.selectors import FACILITATOR
from live import (
    auth_session_group,
    couple_group,
    couple_therapists_group,
    dashboard_group,
)
from live.consumer import CLOSE_FORBIDDEN, CLOSE_TOO_MANY, CLOSE_UNAUTHENTICATED, LiveConsumer
from security.audit import audit
from therapists import selectors, services
from therapists.forms import LinkCodeForm
from therapists.selectors import therapist_access_link
from therapists.workshops import selectors as workshop_selectors

DASHBOARD = "therapists/_dashboard.html"


class FacilitatorConsumer(DialogueConsumer):
    """A linked therapist's console on a couple's live dialogue: sees every step, shown to the
    partners as present. Closed at once when either partner withdraws consent."""

    role = FACILITATOR
    link_id = ""

    def _authorize(self) -> dict | None:
        """Access and the snapshot from one read, after the socket joined the therapist's own
        group: a link that ends from then on closes it by event (`therapist_access_ended`)."""
        session = dialogue_selectors.session_with_partners(self.public_id)
        link = (
            therapist_access_link(therapist=self.user, couple_id=session.couple_id)
            if session is not None
            else None
        )  # the one access check, once
        if session is None:
            return None
        if link is None:  # a workshop's presenter, if both partners allow reading
            place = workshop_selectors.presenter_reading(
                therapist=self.user, couple_id=session.couple_id
            )
            if place is None:
                return None
            self.link_id = workshop_selectors.reading_access_id(place)
        else:
            self.link_id = link.public_id
        partners = {
            p.pk: p.display_name for p in (session.partner_a, session.partner_b) if p is not None
        }
        snapshot = push.render_snapshot_of(session=session, user=self.user, role=FACILITATOR)
        self._read_audited(session)
        return {"session": session, "partners": partners, "snapshot": snapshot}

    def _snapshot_read(self) -> push.Rendered | None:
        """A snapshot asked for on an open console (its page saw a gap): the whole transcript
        delivered again, so a read of its own, audited as the first one was."""
        session = dialogue_selectors.dialogue_for_viewer(
            public_id=self.public_id, user=self.user, role=FACILITATOR
        )
        if session is None:
            return None
        rendered = push.render_snapshot_of(session=session, user=self.user, role=FACILITATOR)
        self._read_audited(session)
        return rendered

    def _read_audited(self, session: DialogueSession) -> None:
        """Every snapshot of a couple's dialogue delivered to a therapist is a read, audited
        like the console page's (therapists/views.py). The steps forwarded to an open console
        afterwards are part of the read its snapshot began."""
        audit(
            action="therapist.read",
            actor=self.user,
            target=session,
            request=self.scope,
            what="console",
            via="socket",
        )

    async def therapist_access_ended(self, event) -> None:
        if event.get("link") == self.link_id:
            await self.close(code=CLOSE_FORBIDDEN)

    async def send_presence(self, part: str = "all") -> None:
        online = set(self.present.values())
        await self.send(
            push.render_partners_presence(
                partners=[(name, pk in online) for pk, name in self.watched.items()],
                language=self.language,
            )
        )


def _may_have_dashboard(user: User) -> bool:
    """The dashboard's own door (as `views.therapist_only`): an active, verified therapist."""
    return user.is_active and user.is_therapist and not user.is_staff and user.is_verified_therapist


def _watchable(*, therapist: User) -> dict[str, int] | None:
    """The couples this therapist may read now, by link: {link public id: couple id}. None
    when they may have no live dashboard at all."""
    therapist.refresh_from_db(fields=["therapist_verified_at", "is_active", "kind", "is_staff"])
    if not _may_have_dashboard(therapist):
        return None
    return {
        link.public_id: link.couple_id
        for link in selectors.therapist_couples(therapist=therapist)
        if link.couple_id is not None
    }


def render_dashboard(*, therapist: User) -> str | None:
    """The dashboard's live fragments as they are now (None: no dashboard for this person;
    `therapist` as `_watchable` just read it)."""
    if not _may_have_dashboard(therapist):
        return None
    context = {
        "user": therapist,
        **selectors.dashboard(therapist=therapist),
        "link_code_form": LinkCodeForm(),
    }
    services.dashboard_satisfaction_read(therapist=therapist, couples=context["couples"])
    # push.render_to_string renders in the context's user's own zone.
    return push.render_to_string(f"{DASHBOARD}#dashboard_couples", context) + (
        push.render_to_string(f"{DASHBOARD}#dashboard_links", context)
    )


class DashboardConsumer(LiveConsumer):
    """A verified therapist's dashboard: couples start, pause and end dialogues, a partner's
    safety questions need attention, links come and go: each shows at once."""

    async def connect(self) -> None:
        self.user = self.authenticated_user()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        links = await database_sync_to_async(_watchable)(therapist=self.user)
        if links is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.watching: dict[str, list[str]] = {}  # link public id -> the groups it adds
        if not await self.join(
            dashboard_group(self.user.pk), auth_session_group(self.session_key())
        ):
            return
        await self.accept()
        await self._watch(links)
        await self.send_snapshot()

    async def _watch(self, links: dict[str, int]) -> None:
        """Listen to exactly these couples: leave those no longer readable, join new ones."""
        for link_id in [lid for lid in self.watching if lid not in links]:
            await self._drop(link_id)
        for link_id, couple_id in links.items():
            if link_id in self.watching:
                continue
            groups = [couple_group(couple_id), couple_therapists_group(couple_id)]
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
            self.watching[link_id] = groups

    async def _drop(self, link_id: str) -> None:
        for group in self.watching.pop(link_id, []):
            await self.channel_layer.group_discard(group, self.channel_name)
            if group in self.groups_joined:
                self.groups_joined.remove(group)

    async def send_snapshot(self) -> None:
        html = await database_sync_to_async(render_dashboard)(therapist=self.user)
        if html is None:  # no longer a verified therapist
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send(html)

    async def refresh(self) -> None:
        """Something about the therapist's couples changed (ids only): which couples they may
        read, then what the dashboard shows, both from the database."""
        links = await database_sync_to_async(_watchable)(therapist=self.user)
        if links is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self._watch(links)
        await self.send_snapshot()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if not self.frame_allowed():
            await self.close(code=CLOSE_TOO_MANY)

    async def catch_up(self) -> None:
        await self.refresh()

    async def couple_changed(self, event) -> None:
        await self.refresh()

    async def couple_ended(self, event) -> None:
        await self.refresh()

    async def dashboard_changed(self, event) -> None:
        await self.refresh()

    async def therapist_access_ended(self, event) -> None:
        """Access through one link ended: that couple's groups are left at once, before
        anything else about it can arrive, and the dashboard shows it gone."""
        link_id = event.get("link")
        if isinstance(link_id, str):
            await self._drop(link_id)
        await self.refresh()
