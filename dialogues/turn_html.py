"""Each turn's HTML, rendered once per reader and then kept in this worker's memory.

A turn never changes once it is saved, except when words in it are erased (its author's
account deletion, a gift quoting them, or retention). So the HTML of one turn as one person
reads it (in their language and time zone, with the names as they are now) can be rendered
once and reused by every page, snapshot and update that shows it again: a 200-turn page, or
a connect storm's snapshots, then cost dictionary lookups instead of 200 renders.

The cache is this process's memory only, bounded (`IMAGO_TURN_HTML_CACHE` entries, least
recently used first out), never Redis or disk: it holds what couples wrote. Only the turns a
caller already read from PostgreSQL (and may show) are looked up, so a deleted turn is never
served; the key holds what the HTML depends on, so an erased turn or a changed name renders
afresh. Nothing is logged from here.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from django.conf import settings
from django.core.signals import setting_changed
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from dialogues.models import Turn

_cache: OrderedDict[Hashable, SafeString] = OrderedDict()
_lock = threading.Lock()


def _digest(turn: Turn) -> bytes:
    """What the turn says now, as a digest (the key never holds the words themselves)."""
    return hashlib.blake2b(f"{turn.text}\x00{turn.data!r}".encode(), digest_size=16).digest()


def _key(turn: Turn, viewer) -> tuple:
    """Everything one turn's HTML depends on: the turn (and what it says now), its reader,
    their language and zone, and the names in it."""
    actor, private_for = turn.actor, turn.visible_to
    return (
        turn.pk,
        turn.created_at,  # an id given again (a rolled-back test database) is another turn
        _digest(turn),  # words erased since it was rendered
        getattr(viewer, "pk", None),
        getattr(viewer, "time_zone", ""),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        (actor.display_name, actor.language_code) if actor is not None else None,
        private_for.display_name if private_for is not None else None,
        turn.made_by.display_name if turn.made_by_id is not None and turn.made_by else None,
    )


def turns_html(turns: Iterable[Turn], *, viewer, render: Callable[[Turn], str]) -> SafeString:
    """The HTML of these turns for `viewer`, in order: from memory, or `render(turn)` (then
    kept) for those not rendered for them yet."""
    size = settings.IMAGO_TURN_HTML_CACHE
    parts = []
    for turn in turns:
        key = _key(turn, viewer)
        with _lock:
            html = _cache.get(key)
            if html is not None:
                _cache.move_to_end(key)
        if html is None:
            html = mark_safe(render(turn))  # noqa: S308 (a template's own output)
            if size > 0:
                with _lock:
                    _cache[key] = html
                    while len(_cache) > size:
                        _cache.popitem(last=False)
        parts.append(html)
    return mark_safe("".join(parts))  # noqa: S308 (templates' own output, joined)


def forget_all() -> None:
    """Empty this worker's cache (tests; a changed setting)."""
    with _lock:
        _cache.clear()


def cached_count() -> int:
    with _lock:
        return len(_cache)


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in ("IMAGO_TURN_HTML_CACHE", "TEMPLATES", "LANGUAGES", "TIME_ZONE"):
        forget_all()


setting_changed.connect(_on_setting_changed)
