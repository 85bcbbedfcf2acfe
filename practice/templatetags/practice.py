from django import template

from couples.models import Couple
from couples.selectors import partners_of
from practice import selectors

register = template.Library()


@register.simple_tag
def heard_trend(couple: Couple) -> tuple[str, str]:
    """(sparkline points, a sentence) of the couple's felt-heard ratings (dashboard)."""
    return selectors.heard_sparkline(couple=couple, partners=partners_of(couple=couple))
