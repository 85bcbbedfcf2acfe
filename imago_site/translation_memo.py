"""Each translation object remembers the messages it has translated.

Django translates a message by walking a chain: the language's merged catalogue, then a
fallback catalogue for every installed app that ships the base language (six for en-gb
here), then, for any other language, the default language's whole chain again. A message in
the language the code is written in is in none of them, so every `{% translate %}` walks the
whole chain (~10 µs here); one step renders ~110 of them for its three audiences
(`bench/step_cost.py --profile`). Catalogues don't change while a process runs, and Django
builds a new translation object when settings that shape them change, so a memo per object
gives the same answers as Django's own lookup without the walk.

Only `gettext` is remembered (`pgettext` and the `{% translate %}` tag go through it); the
memo stops growing at `LIMIT` messages per language, in case something ever translates
strings that are not from the code.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import trans_real

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


def install() -> None:
    """Called once from an app's ready(); calling it again changes nothing."""
    if trans_real.DjangoTranslation.gettext is not _gettext:
        trans_real.DjangoTranslation.gettext = _gettext  # type: ignore[method-assign]
