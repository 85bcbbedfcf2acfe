from django import template
from django.utils.translation import gettext as _

from couples.models import Couple
from couples.selectors import partners_of
from practice import selectors
from practice.services import PURGED_NOTE, REMOVED_NOTE

register = template.Library()


@register.simple_tag
def heard_trend(couple: Couple) -> tuple[str, str]:
    """(sparkline points, a sentence) of the couple's felt-heard ratings (dashboard)."""
    return selectors.heard_sparkline(couple=couple, partners=partners_of(couple=couple))


@register.filter
def written(text: str) -> str:
    """What a person wrote, as it is; the note an erasure stored (in English, as stored) in
    the viewer's language."""
    if text == REMOVED_NOTE:
        return _("(removed by its author)")
    if text == PURGED_NOTE:
        return _("(erased after the retention period)")
    return text
