"""The switch for the hot path's measured shortcuts: `settings.IMAGO_FAST_PATH` (env FAST_PATH).

Each shortcut stands beside Django's or Channels' plain way of doing the same thing, and
takes the plain way when it is off, so both are tested (CI runs the hot-path and socket tests
with FAST_PATH=0 too) and measured one by one (bench/step_cost.py, docs/performance.md):

- "prepared" (`live.prepared`): a move's reads and writes compiled to SQL once (plain: the
  queryset, save());
- "i18n" (`live.i18n`): translations looked up once, language and time zone in ContextVars
  (plain: Django's lookups and asgiref Locals);
- "dispatch" (`LiveConsumer.dispatch`): a push forwarded without Channels' hop to the database
  thread (plain: Channels' own dispatch);
- "audiences" (`dialogues.push.render_change`): a change rendered only for the audiences a
  socket listens as, and its author's (plain: for every audience).

The setting names them: `1` (all, the default), `0` (none), `prepared,i18n` (only those),
`-dispatch` or `-dispatch,-i18n` (all but those). True and False, or a set of names, work too.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SHORTCUTS = frozenset({"prepared", "i18n", "dispatch", "audiences"})

_ALL = {"1", "true", "yes", "on", ""}
_NONE = {"0", "false", "no", "off"}


@lru_cache(maxsize=16)
def _parse(value: str) -> frozenset[str]:
    words = [word.strip().lower() for word in value.split(",")]
    if len(words) == 1 and words[0] in _ALL:
        return SHORTCUTS
    if len(words) == 1 and words[0] in _NONE:
        return frozenset()
    without = {word[1:] for word in words if word.startswith("-")}
    only = {word for word in words if word and not word.startswith("-")}
    unknown = sorted((without | only) - SHORTCUTS)
    if unknown or (without and only) or not (without or only):
        raise ImproperlyConfigured(
            f"FAST_PATH={value!r}: give 1, 0, shortcut names or -names "
            f"(unknown: {', '.join(unknown) or 'none'}; names: {', '.join(sorted(SHORTCUTS))})"
        )
    return frozenset(SHORTCUTS - without if without else only)


def shortcuts(value: bool | str | Iterable[str] | None = None) -> frozenset[str]:
    """The shortcuts that setting value (the current setting when None) turns on."""
    if value is None:
        value = getattr(settings, "IMAGO_FAST_PATH", True)
    if isinstance(value, bool):
        return SHORTCUTS if value else frozenset()
    if isinstance(value, str):
        return _parse(value)
    return _parse(",".join(sorted(value)) or "0")


def on(name: str) -> bool:
    """Whether the shortcut `name` is on (a name outside SHORTCUTS is a programming error)."""
    if name not in SHORTCUTS:
        raise ValueError(f"no shortcut named {name!r}")
    return name in shortcuts()
