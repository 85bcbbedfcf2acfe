"""`{% turns_html turns %}`: the dialogue's turns, each rendered once per reader (see
dialogues/turn_html.py) from the page's own `turn` partial."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from dialogues import turn_html
from dialogues.models import Turn
from dialogues.selectors import turn_view

register = template.Library()

TURN = "dialogues/dialogue.html#turn"


@register.simple_tag(takes_context=True)
def turns_html(context: template.Context, turns: list[Turn]) -> SafeString:
    viewer = context["viewer"]
    assert context.template is not None  # a tag renders inside a template
    partial = context.template.engine.get_template(TURN)

    def render(turn: Turn) -> str:
        with context.push(t=turn_view(turn, viewer=viewer)):
            return partial.render(context)

    return turn_html.turns_html(turns, viewer=viewer, render=render)
