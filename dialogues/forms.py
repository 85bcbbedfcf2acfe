from django import forms

from dialogues import protocol
from dialogues.services import MAX_TOPIC


class StartDialogueForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k.value, info.title) for k, info in protocol.KINDS.items()],
        widget=forms.RadioSelect,
        initial=protocol.Kind.INTENTIONAL.value,
        label="Kind of dialogue",
        error_messages={
            "required": "Please choose a kind of dialogue.",
            "invalid_choice": "Please choose one of the kinds of dialogue listed.",
        },
    )
    topic = forms.CharField(
        max_length=MAX_TOPIC,
        label="What would you like to talk about?",
        help_text="One short sentence, about one topic. Your partner sees it when you ask.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Please name the topic in a short sentence."},
    )


def move_payload(post) -> dict:
    """The protocol payload from a posted move form (the protocol validates it)."""
    payload: dict[str, object] = {}
    for name in protocol.FIELD_NAMES:
        if name in ("feelings", "items"):
            values = post.getlist(name)
            if values:
                payload[name] = values
        elif name in post:
            payload[name] = post.get(name)
    return payload


def posted_at(post) -> int | None:
    try:
        return int(post.get("at", ""))
    except ValueError:
        return None
