"""Translation at the cost of a dictionary lookup: two changes to how Django finds the
words and the time zone, installed once when the apps are ready (couples/apps.py). Both keep
Django's answers; tests/live/test_i18n.py holds them to it.

1. Each translation object remembers what it translated. Django translates a message by
   walking a chain: the language's merged catalogue, then a fallback catalogue for every
   installed app that ships the base language (six for en-gb here), then, for any other
   language, the default language's whole chain again. A message in the language the code is
   written in is in none of them, so every `{% translate %}` walked the whole chain (~5 µs
   here); one step renders ~110 of them for its three audiences (`bench/step_cost.py
   --profile`). Catalogues don't change while a process runs, and Django builds new
   translation objects when settings that shape them change, so a memo per object answers
   as Django's own lookup does. The memo stops growing at `LIMIT` messages per language, in
   case something ever translates strings that are not from the code.

2. The active language and time zone are kept in ContextVars. Django keeps each in an
   asgiref `Local`, whose every read takes a lock and two failed attribute lookups (~2.5 µs,
   once per translated message) and every write copies its storage (a time zone override,
   once per rendered fragment, cost ~7 µs). On Python 3.11 a ContextVar is what that `Local`
   amounts to: local to each thread and each asyncio task, carried into `sync_to_async` and
   `async_to_sync` calls with the context they copy, and carried back by asgiref's own
   context restore. (asgiref also
   tags its storage with the thread that owns it, for Pythons whose new threads inherit
   their parent's context, as 3.14's free-threaded build does; there Django's `Local` is
   kept.)

Measured with `bench/step_cost.py --steps 150` (docs/performance.md): Python calls per move
22.7k → 16.25k; a move's CPU 7.9-8.8 → 6.0-6.6 ms for the first two steps.
"""

from __future__ import annotations

import contextvars
import sys
from typing import Any

from django.utils import timezone
from django.utils.translation import trans_real

from live import fast

LIMIT = 20_000

_walk = trans_real.DjangoTranslation.gettext  # the inherited lookup, through the fallbacks


def _gettext(self: Any, message: str) -> str:
    memo: dict[str, str] | None = self.__dict__.get("_imago_memo")
    if memo is None:
        memo = self.__dict__.setdefault("_imago_memo", {})
    try:
        return memo[message]
    except KeyError:
        pass
    result = _walk(self, message)
    if len(memo) < LIMIT:
        memo[message] = result
    return result


_UNSET = object()


class ContextValue:
    """Stands in for the `Local` that is `trans_real._active` or `timezone._active`: Django
    reads, sets and deletes its `value` attribute, nothing else."""

    __slots__ = ("_var",)

    def __init__(self, name: str) -> None:
        self._var: contextvars.ContextVar[Any] = contextvars.ContextVar(name)

    @property
    def value(self) -> Any:
        found = self._var.get(_UNSET)
        if found is _UNSET:
            raise AttributeError("value")
        return found

    @value.setter
    def value(self, translation: Any) -> None:
        self._var.set(translation)

    @value.deleter
    def value(self) -> None:
        if self._var.get(_UNSET) is _UNSET:
            raise AttributeError("value")
        self._var.set(_UNSET)


def install() -> None:
    """Called from an app's ready(); calling it again changes nothing. (When translation
    settings change in a test, or the development reloader sees a catalogue change, Django
    puts a new `Local` in place: only slower, the same answers.) Not with the fast path off
    (live/fast.py): Django's own lookups then."""
    if not fast.on("i18n"):
        return
    if trans_real.DjangoTranslation.gettext is not _gettext:
        trans_real.DjangoTranslation.gettext = _gettext  # type: ignore[method-assign]
    inherit = getattr(sys.flags, "thread_inherit_context", False)  # new threads share values
    if inherit:
        return
    if not isinstance(trans_real._active, ContextValue):  # type: ignore[attr-defined]
        trans_real._active = ContextValue("imago.translation")  # type: ignore[attr-defined]
    if not isinstance(timezone._active, ContextValue):  # type: ignore[attr-defined]
        timezone._active = ContextValue("imago.timezone")  # type: ignore[attr-defined]
