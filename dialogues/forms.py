from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from dialogues import protocol
from dialogues.services import MAX_TOPIC


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
    # An appointment at a time of day ("20:00") wins over the suggestions beside it.
    at = data.get("time_at")
    if isinstance(at, str) and at.strip():
        payload["time"] = at.strip()
    return payload


def posted_at(data: Mapping[str, Any]) -> int | None:
    try:
        return int(str(data.get("at", "")))
    except ValueError:
        return None
