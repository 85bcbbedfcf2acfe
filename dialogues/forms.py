import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from dialogues import protocol
from dialogues.models import MAX_TOPIC


class StartDialogueForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k.value, info.title) for k, info in protocol.KINDS.items()],
        widget=forms.RadioSelect,
        initial=protocol.Kind.INTENTIONAL.value,
        label=_("Kind of dialogue"),
        error_messages={
            "required": _("Please choose a kind of dialogue."),
            "invalid_choice": _("Please choose one of the kinds of dialogue listed."),
        },
    )
    topic = forms.CharField(
        max_length=MAX_TOPIC,
        label=_("What would you like to talk about?"),
        help_text=_("One short sentence, about one topic. Your partner sees it when you ask."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "aria-describedby": "topic-help"}),
        error_messages={"required": _("Please name the topic in a short sentence.")},
    )

    WRITTEN, ALOUD = "written", "aloud"
    way = forms.ChoiceField(
        choices=[
            (WRITTEN, _("We'll write it")),
            (ALOUD, _("We'll say it aloud")),
        ],
        widget=forms.RadioSelect,
        initial=WRITTEN,
        required=False,
        label=_("How will you take your turns?"),
        help_text=_(
            "Said aloud, nobody types: you tap when you've said each step. You can switch at "
            "any time."
        ),
        error_messages={"invalid_choice": _("Please choose to write or to say it aloud.")},
    )

    def kinds(self) -> list[tuple[Any, str, protocol.KindInfo]]:
        """Each kind's radio button, the id of its description and the kind as the protocol
        describes it (its plain description, when to choose it, whether a therapist should be
        there). The button is described by when to choose it (shown beside it) and by the
        whole description (behind a disclosure)."""
        choices = []
        for choice in self["kind"]:
            value = str(choice.data["value"])
            description_id = f"kind-{value}-description"
            described_by = f"kind-{value}-for {description_id}"
            choice.data["attrs"] = {**choice.data["attrs"], "aria-describedby": described_by}
            choices.append((choice, description_id, protocol.KINDS[protocol.Kind(value)]))
        return choices


def _values(data: Mapping[str, Any], name: str) -> list:
    """Every value of a field: from a posted form (a QueryDict) or a socket frame (a dict)."""
    if isinstance(data, QueryDict):
        return data.getlist(name)
    value = data.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def move_payload(data: Mapping[str, Any]) -> dict[str, object]:
    """The protocol payload from a posted move form or a socket frame (the protocol validates
    it)."""
    payload: dict[str, object] = {}
    for name in protocol.FIELD_NAMES:
        if name in ("feelings", "items"):
            values = _values(data, name)
            if values:
                payload[name] = values
        elif name in data:
            payload[name] = data.get(name)
    # An appointment at a time of day ("20:00") wins over the suggestions beside it. A time
    # that can't be read goes on as one (never as bare digits, which mean minutes from now):
    # the service refuses it with its clear message.
    at = data.get("time_at")
    if isinstance(at, str) and at.strip():
        payload["time"] = clock_time(at) or "--:--"
    return payload


_CLOCK = re.compile(r"(\d{1,2})(?:[:.h](\d{2})?)?|(\d{1,2})(\d{2})")


def clock_time(value: str) -> str:
    """A time of day as people type it ("20:00", "20.00", "20h", "2000", "830", "8:30 pm")
    as "HH:MM" on the 24-hour clock; "" when it isn't one."""
    text = value.strip().lower().replace(" ", "")
    half = ""
    for mark in ("a.m.", "p.m.", "am", "pm"):
        if text.endswith(mark):
            half, text = mark[0], text[: -len(mark)]
            break
    match = _CLOCK.fullmatch(text)
    if match is None:
        return ""
    hour = int(match.group(1) or match.group(3))
    minute = int(match.group(2) or match.group(4) or 0)
    if half:
        if not 1 <= hour <= 12:
            return ""
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        return ""
    return f"{hour:02d}:{minute:02d}"


def posted_at(data: Mapping[str, Any]) -> int | None:
    try:
        return int(str(data.get("at", "")))
    except ValueError:
        return None


@dataclass(frozen=True)
class MovePosted:
    """A move as a page sends it, over its socket (a frame) or posted (the form when the
    socket is down): the same fields either way, read here once for both roads, and given to
    `services.move_submit` by name; the protocol judges them."""

    move: str
    payload: dict[str, object]
    at: int | None  # the step the form was made for
    token: str  # the form's one-time token
    for_partner: bool  # together on one device: the other partner's move, made here


def move_posted(data: Mapping[str, Any]) -> MovePosted:
    return MovePosted(
        move=str(data.get("move") or "")[:40],  # no move's name is longer
        payload=move_payload(data),
        at=posted_at(data),
        token=str(data.get("token") or ""),
        for_partner=data.get("for") == "partner",
    )
