"""The one switch for the hot path's measured shortcuts: `settings.IMAGO_FAST_PATH`.

Each shortcut stands beside Django's or Channels' plain way of doing the same thing, and
takes the plain way when the switch is off (FAST_PATH=0), so both are tested (CI runs the
hot-path and socket tests twice) and measured (bench/, docs/performance.md):

- `live.prepared`: a move's reads and writes compiled to SQL once (plain: the queryset, save());
- `live.i18n`: translations looked up once, language and time zone in ContextVars (plain:
  Django's lookups and asgiref Locals);
- the render thread (`dialogues.push.render_change_soon`): a step rendered while PostgreSQL
  flushes its commit (plain: rendered after the commit);
- `LiveConsumer.dispatch` forwards a push without Channels' hop to the database thread
  (plain: Channels' own dispatch).
"""

from __future__ import annotations

from django.conf import settings


def on() -> bool:
    return bool(getattr(settings, "IMAGO_FAST_PATH", True))
