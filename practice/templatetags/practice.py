from django import template
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from couples.models import Couple
from couples.selectors import partners_of
from practice import selectors
from practice.models import Agreement
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


@register.filter
def agreed(agreement: Agreement) -> SafeString:
    """What a partner agreed to, phrased in the reader's language (an exit closed: "close my
    exit: …"), around the words a person wrote, as written (marked with their writer's
    language where it isn't the page's)."""
    words = written(agreement.text)
    writer = agreement.writer
    lang = writer.language_code if writer is not None else ""
    if words == agreement.text and lang and lang != translation.get_language():
        shown = format_html('<span lang="{}">{}</span>', lang, words)
    else:  # in the page's language (or an erasure's note, already in the reader's language)
        shown = conditional_escape(words)
    before, _mark, after = agreement.phrased("\x00").partition("\x00")
    return format_html("{}{}{}", before, shown, after)
