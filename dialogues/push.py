"""Fragments pushed over the websocket, from the same partials as the page.

A change is rendered once per audience as it commits (`render_change`: partner "a", partner
"b", and the facilitators, those with a page open and its author's; once the commit is done),
from the objects the transaction already holds, and the HTML travels in the group
message; each socket forwards its audience's fragment when it follows what that socket last
showed. A socket renders from PostgreSQL (`render_update`,
`render_snapshot`) only when it connects, asks for a snapshot, or has missed a step.

Each message starts with a sync marker carrying the session's sequence numbers, so a browser
that sees a gap asks for a snapshot. A turn this person may not see (a therapist's private
word to the other partner) is simply absent from what they get, while the marker still
advances past it: each person's view stays contiguous.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from django.template.loader import render_to_string as _render
from django.utils import timezone, translation
from django.utils.html import format_html

import live
from couples.languages import language_of
from couples.models import User
from dialogues import protocol, selectors
from dialogues.models import DialogueSession, Turn
from dialogues.selectors import FACILITATOR, PARTNER
from live import fast, places

PAGE = "dialogues/dialogue.html"
logger = logging.getLogger("imago.dialogues")
R = TypeVar("R")


@dataclass
class Rendered:
    html: str
    seq: int
    panel_key: str
    live: bool
    held: bool = False  # a partner in a booked session's waiting room (not let in yet)


@contextmanager
def _seen_by(person: object | None, *, language: str | None = None) -> Iterator[str]:
    """Everything rendered inside, the context's sentences as well as the templates, in this
    person's language and time zone, whatever the caller's are: a step is pushed from the
    request of whoever made it, and the other partner may speak another language. Yields the
    language."""
    zone = getattr(person, "zone", None)
    if language is None:
        language = language_of(person) if person is not None else translation.get_language()
    with timezone.override(zone or timezone.get_default_timezone()), translation.override(language):
        yield language


def render_to_string(template: str, context: dict, *, language: str | None = None) -> str:
    """Render in the viewer's own language and time zone (the context's `viewer` or `user`;
    `language` for a fragment that names no one, like presence)."""
    with _seen_by(context.get("viewer") or context.get("user"), language=language):
        return _render(template, context)


def _in_their_language(render: Callable[..., R]) -> Callable[..., R]:
    """A render for `user`, everything it builds seen by them (`_seen_by`)."""

    @functools.wraps(render)
    def wrapper(*args, **kwargs) -> R:
        with _seen_by(kwargs["user"]):
            return render(*args, **kwargs)

    return wrapper


def _marker(kind: str, first: int, seq: int) -> str:
    return format_html(
        '<div id="sync" hx-swap-oob="true" data-kind="{}" data-from="{}" data-seq="{}"></div>',
        kind,
        first,
        seq,
    )


@_in_their_language
def render_snapshot(*, public_id: str, user: User, role: str = PARTNER) -> Rendered | None:
    """The whole live part of the page, as it is now (None if the person may not see it)."""
    session = selectors.dialogue_for_viewer(public_id=public_id, user=user, role=role)
    if session is None:
        return None
    return _snapshot(session=session, user=user, role=role)


@_in_their_language
def render_snapshot_of(*, session: DialogueSession, user: User, role: str = PARTNER) -> Rendered:
    """The same, for a session the caller has just read and checked this person's access to
    (a partner's socket connecting: one trip to the database, not two)."""
    return _snapshot(session=session, user=user, role=role)


def _snapshot(*, session: DialogueSession, user: User, role: str) -> Rendered:
    turns = selectors.turns_of(session=session, viewer=user)
    context = selectors.dialogue_context(session=session, viewer=user, turns=turns, role=role)
    html = _marker("snapshot", 1, session.seq) + _render(f"{PAGE}#live", context)
    if role == FACILITATOR:  # beside the transcript on the console, not inside #live
        html += _render(f"{PAGE}#console_state", context)
    return Rendered(html, session.seq, context["panel_key"], session.is_live, _held(context))


def _held(context: dict) -> bool:
    panel = context.get("panel")  # a partner's; a console has none
    return bool(panel is not None and panel.held)


@_in_their_language
def render_update(
    *, public_id: str, user: User, after: int, panel_key: str, role: str = PARTNER
) -> Rendered | None:
    """What changed since turn `after`: new turns, the status bar, and the move panel if the
    person's options changed (so a half-written answer isn't replaced needlessly)."""
    session = selectors.dialogue_for_viewer(public_id=public_id, user=user, role=role)
    if session is None:
        return None
    if session.seq <= after:
        return Rendered("", after, panel_key, session.is_live)
    turns = selectors.turns_of(session=session, viewer=user, after=after)
    context = selectors.dialogue_context(session=session, viewer=user, turns=turns, role=role)
    html = _update_parts(context, after=after, seq=session.seq)
    if context["panel_key"] != panel_key:
        html += _panel_html(context, role)
    return Rendered(html, session.seq, context["panel_key"], session.is_live, _held(context))


def _update_parts(context: dict, *, after: int, seq: int) -> str:
    """The new turns, the status bar, the announcement and an empty "writing…" line (whoever
    was writing has posted): one render of the partials the page is made of. Called seen by
    its viewer (`_seen_by`), as `_panel_html` is."""
    return _marker("update", after + 1, seq) + _render(f"{PAGE}#step_update", context)


def _panel_html(context: dict, role: str) -> str:
    panel = "console_state" if role == FACILITATOR else "move_panel"
    return _render(f"{PAGE}#{panel}", context)


def _audience(session: DialogueSession, turn: Turn, viewer: User, role: str, after: int) -> dict:
    with _seen_by(viewer) as language:  # once for the context and both renders
        visible = turn.visible_to_id is None or viewer.pk in (turn.visible_to_id, turn.actor_id)
        context = selectors.dialogue_context(
            session=session, viewer=viewer, turns=[turn] if visible else [], role=role
        )
        return {
            "html": _update_parts(context, after=after, seq=session.seq),
            "panel": _panel_html(context, role),
            "panel_key": context["panel_key"],
            "held": _held(context),
            "lang": language,  # a socket in another language renders its own
        }


class _Onlooker:
    """The facilitators' audience: sees every turn meant for both, and as nobody's own."""

    pk = 0  # matches no one (not even a deleted actor, whose id is None)
    display_name = ""
    language = ""  # the site's default: a console in another language renders its own
    is_authenticated = True

    @property
    def zone(self):
        """Times are rendered in the default zone (render_to_string), and say so."""
        return timezone.get_default_timezone()


def change_published(*, session: DialogueSession, turn: Turn, author: str | None) -> dict:
    """A committed change, rendered (`render_change`, for the audiences with a page open and
    its `author`'s) and sent to the dialogue's sockets. If rendering fails, the sockets still
    hear that something changed (ids only) and read it from the database. The fragments."""
    message: dict[str, object] = {
        "type": "dialogue.changed",
        "session": session.public_id,  # for sockets hearing several dialogues (a workshop board)
        "seq": session.seq,
        "prev": session.seq - 1,
        "actor": turn.actor_id,
        "by_facilitator": turn.actor_role == FACILITATOR,
    }
    fragments: dict[str, dict] = {}
    try:
        audiences = audiences_listening(session=session, author=author)
        fragments = render_change(session=session, turn=turn, audiences=audiences)
        message["fragments"] = fragments
    except Exception:
        logger.exception("rendering a change failed", extra={"session": session.public_id})
    live.send(live.dialogue_group(session.public_id), message)
    return fragments


def audiences_listening(*, session: DialogueSession, author: str | None) -> set[str] | None:
    """The audiences a change of this session is rendered for (`render_change`): those some
    socket listens as now (`places.listening`, one trip to Redis), and `author`'s, the page
    that made the change (it shows its fragment at once, over HTTP too). None, all of them,
    with the shortcut "audiences" off. A socket that connects meanwhile finds no fragment of
    its own and renders the change from the database."""
    if not fast.on("audiences"):
        return None
    pks = {str(pk): s for s in protocol.SLOTS if (pk := session.partner_pk(s)) is not None}
    listened = places.listening(live.dialogue_group(session.public_id), [*pks, FACILITATOR])
    wanted = {pks.get(a, FACILITATOR) for a in listened}
    if author is not None:
        wanted.add(author)
    return wanted


def render_change(
    *, session: DialogueSession, turn: Turn, audiences: set[str] | None = None
) -> dict[str, dict]:
    """One committed change, rendered once for each audience: "a" and "b" (the partners) and
    "facilitator" (or only those of `audiences`). `session` and `turn` are the objects the
    transaction saved, with the partners (and the actor) loaded: nothing is read again.

    The facilitators' fragment is rendered as the therapist who acted, when one did (their own
    coaching reads "You"); another therapist's console renders that step from the database."""
    after = session.seq - 1
    wanted = {*protocol.SLOTS, FACILITATOR} if audiences is None else audiences
    fragments = {
        slot: _audience(session, turn, partner, PARTNER, after)
        for slot in protocol.SLOTS
        if slot in wanted and (partner := session.partner_in(slot)) is not None
    }
    if FACILITATOR in wanted:
        onlooker = turn.actor if turn.actor_role == FACILITATOR else _Onlooker()
        fragments[FACILITATOR] = _audience(session, turn, onlooker, FACILITATOR, after)  # type: ignore[arg-type]
    return fragments


@_in_their_language
def render_panel(
    *,
    public_id: str,
    user: User,
    error: str = "",
    posted_text: str = "",
    cooling: object | None = None,
) -> str | None:
    """The move panel as it is now for this person: after a move refused (over the socket or
    the page's HTTP fallback) with the message and what they wrote, or with the pause a hot
    check-in suggests (`cooling`, safety's CheckIn). None if they may not see the dialogue."""
    session = selectors.dialogue_for(public_id=public_id, user=user)
    if session is None:
        return None
    context = selectors.dialogue_context(session=session, viewer=user, turns=[])
    context.update({"error": error, "posted_text": posted_text, "cooling": cooling})
    return render_to_string(f"{PAGE}#move_panel", context)


def render_presence(*, partner_name: str, online: bool, language: str) -> str:
    return render_to_string(
        f"{PAGE}#presence",
        {"partner_name": partner_name, "partner_online": online},
        language=language,
    )


def render_facilitator_presence(*, names: list[str], language: str) -> str:
    """For partners: which therapist is present on the console now."""
    return render_to_string(
        f"{PAGE}#facilitator_presence", {"facilitator_names": names}, language=language
    )


def render_partners_presence(*, partners: list[tuple[str, bool]], language: str) -> str:
    """For the therapist: which partners are on the dialogue page now."""
    return render_to_string(
        f"{PAGE}#partners_presence", {"partners_online": partners}, language=language
    )


def render_typing(*, partner_name: str, language: str) -> str:
    return render_to_string(f"{PAGE}#typing", {"typing_name": partner_name}, language=language)


# Apps above this one add their own home-page sections to the home socket's pushes: each
# renderer takes (user=, couple=) and returns HTML whose top elements carry ids to swap.
_HOME_PARTS: list[Callable[..., str]] = []


def home_part_register(render: Callable[..., str]) -> None:
    if render not in _HOME_PARTS:
        _HOME_PARTS.append(render)


@_in_their_language
def render_home(*, user: User) -> str | None:
    from couples.selectors import couple_for

    couple = couple_for(user=user)
    context = {"user": user, "couple": couple, **selectors.home_dialogues(user=user, couple=couple)}
    html = render_to_string("dialogues/_home.html#home_dialogues", context)
    return html + "".join(part(user=user, couple=couple) for part in _HOME_PARTS)


@_in_their_language
def render_partner_joined(*, user: User) -> str | None:
    """For the page waiting for the partner: once they have joined, what replaces the waiting
    card (who joined, and the couple's dialogues with the next step). None while waiting."""
    from couples.selectors import couple_for, partner_of

    couple = couple_for(user=user)
    partner = partner_of(user=user, couple=couple) if couple else None
    if couple is None or partner is None:
        return None
    context = {
        "user": user,
        "couple": couple,
        "partner": partner,
        **selectors.home_dialogues(user=user, couple=couple),
    }
    return render_to_string("couples/_partner_joined.html", context)
