"""`{{ seconds|countdown }}`: how long until a scheduled dialogue opens ("10 min 34 s",
"1 h 05 min"), as imago.js ticks it on, so the page reads right before its script runs."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext

register = template.Library()


@register.filter
def countdown(seconds: object) -> str:
    try:
        s = max(0, int(str(seconds)))
    except ValueError:
        return ""
    h, m, sec = s // 3600, (s % 3600) // 60, s % 60
    # The same formats as the countdown's data-h, data-m and data-s (imago.js fills them).
    if h:
        return pgettext("countdown", "{h} h {m} min").format(h=h, m=f"{m:02d}")
    if m:
        return pgettext("countdown", "{m} min {s} s").format(m=m, s=f"{sec:02d}")
    return pgettext("countdown", "{s} s").format(s=sec)
