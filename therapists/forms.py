import secrets

from django import forms

from couples.forms import USER_EMAIL_MAX_LENGTH
from dialogues import protocol
from practice.models import PRACTICES
from therapists.models import FORM_TOKEN, MAX_INSTRUCTIONS, MAX_NOTE, MAX_TITLE


def form_token() -> str:
    """A new one-time id for one showing of a form (as a move's form has)."""
    return secrets.token_urlsafe(16)


class OneTimeForm(forms.Form):
    """A form that saves something: it carries a hidden one-time `token`, made each time the
    form is shown, so a replayed or double-clicked post saves nothing twice (the service looks
    for what that token saved). A form shown again after an error keeps its token: nothing
    was saved with it."""

    token = forms.CharField(required=False, max_length=FORM_TOKEN, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        token = self.fields["token"]
        token.initial = form_token()
        # Several such forms share a page (notes and homework): each hidden input its own id.
        token.widget.attrs["id"] = f"{type(self).__name__.lower()}-token"


class LinkCodeForm(OneTimeForm):
    """The therapist's "Make a link code" button: nothing but its token."""


class CoachingForm(OneTimeForm):
    text = forms.CharField(
        label="Your message",
        max_length=protocol.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Please write a short message first.",
            "max_length": f"Please keep your message under {protocol.MAX_TEXT:,} characters.",
        },
    )
    to = forms.ChoiceField(label="To", required=False)

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)
        names = dict(partners)
        both = " and ".join(names.values())
        self.to_choices: list[tuple[str, str]] = [("", "Both partners")] + [
            (slot, f"Only {name}") for slot, name in partners
        ]
        to.choices = self.to_choices
        # For each choice: who will read the message, and the send button's words.
        self.readers = {"": (f"{both or 'Both partners'} will both read this.", "Send to both")}
        for slot, name in partners:
            others = [n for s, n in partners if s != slot]
            self.readers[slot] = (
                f"Only {name} will read this" + (f"; {others[0]} won't see it." if others else "."),
                f"Send to {name} only",
            )

    def choices_shown(self) -> list[dict]:
        """The "To" choices as the console shows them, with who reads each and the button's
        words; `chosen` is the one in force (the last one used, until changed)."""
        value = str(self["to"].value() or "")
        chosen = value if value in dict(self.to_choices) else ""
        return [
            {
                "value": v,
                "label": label,
                "readers": self.readers[v][0],
                "button": self.readers[v][1],
                "chosen": v == chosen,
            }
            for v, label in self.to_choices
        ]


class NoteForm(OneTimeForm):
    text = forms.CharField(
        label="Private note",
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only you can see your notes. Never the couple, never our staff.",
        error_messages={
            "required": "Please write the note first.",
            "max_length": f"Please keep it under {MAX_NOTE:,} characters.",
        },
    )


class HomeworkForm(OneTimeForm):
    title = forms.CharField(
        label="Title",
        max_length=MAX_TITLE,
        error_messages={"required": "Please give the homework a short title."},
    )
    instructions = forms.CharField(
        label="Instructions",
        required=False,
        max_length=MAX_INSTRUCTIONS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    due_date = forms.DateField(
        label="Due date (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Please enter a date like 2025-06-30."},
    )
    dialogue_kind = forms.ChoiceField(
        label="A dialogue to practise (optional)",
        required=False,
        choices=[("", "None")] + [(k.value, info.title) for k, info in protocol.KINDS.items()],
        help_text="A completed dialogue of this kind marks the homework done.",
    )
    practice = forms.ChoiceField(
        label="A practice between dialogues (optional)",
        required=False,
        choices=[("", "None"), *PRACTICES.items()],
        help_text="Done by itself once the couple records it this many times within a week.",
    )
    practice_target = forms.IntegerField(
        label="How many times a week",
        required=False,
        min_value=1,
        max_value=14,
        error_messages={
            "min_value": "Please choose 1 to 14.",
            "max_value": "Please choose 1 to 14.",
        },
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("practice") and not data.get("practice_target"):
            self.add_error("practice_target", "Please say how many times a week.")
        if not data.get("practice"):
            data["practice_target"] = None
        return data


def _kinds_with_therapist_first() -> list[tuple[str, str]]:
    """The kinds a therapist may start, those best done with a therapist first."""
    kinds = sorted(protocol.KINDS.values(), key=lambda info: not info.with_therapist)
    return [(info.kind.value, info.title) for info in kinds]


class FacilitatedStartForm(forms.Form):
    """A therapist starts a dialogue for the couple, with them present."""

    kind = forms.ChoiceField(
        label="Kind of dialogue",
        choices=_kinds_with_therapist_first,
        error_messages={"invalid_choice": "Please choose one of the kinds of dialogue listed."},
    )
    first = forms.ChoiceField(
        label="Who goes first (in a Parent-Child Dialogue: who speaks as the child)"
    )
    topic = forms.CharField(
        label="What it is about, in a few words",
        max_length=200,
        help_text="Both partners see it; the partner who listens first is asked if now is good.",
        error_messages={"required": "Please name what the dialogue is about."},
    )

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.partners = {p.public_id: p for p in partners}
        first = self.fields["first"]
        assert isinstance(first, forms.ChoiceField)
        first.choices = [(p.public_id, p.display_name) for p in partners]


class TherapistCodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        label="Link code from your therapist",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "placeholder": "ABCDE-FGHJK",
                "autocapitalize": "characters",
            }
        ),
    )


class TherapistInviteForm(OneTimeForm):
    email = forms.EmailField(label="Your therapist's email", max_length=USER_EMAIL_MAX_LENGTH)


SESSION_LENGTHS = [(30, "30 minutes"), (45, "45 minutes"), (60, "1 hour"), (90, "1½ hours")]


class BookingForm(forms.Form):
    """A facilitated session: a date and time in the therapist's own zone, a length, the
    kind of dialogue and who shares first. The service checks the rest (not past, within a
    year, no overlap); the same booking posted twice saves one."""

    day = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Please choose a date.",
            "invalid": "Please enter a date like 2026-12-08.",
        },
    )
    time = forms.TimeField(
        label="Time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": "Please choose a time.",
            "invalid": "Please enter a time like 18:00.",
        },
    )
    minutes = forms.TypedChoiceField(
        label="Length",
        choices=SESSION_LENGTHS,
        coerce=int,
        initial=60,
        error_messages={"invalid_choice": "Please choose one of the lengths listed."},
    )

    def __init__(self, *args, zone_name: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if zone_name:
            self.fields["time"].help_text = f"Your time ({zone_name})."
        prefix = f"{self.prefix}-" if self.prefix else ""
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"{prefix}book-{name}")

    def cleaned_strings(self) -> dict:
        data = self.cleaned_data
        return {
            "day": data["day"].isoformat(),
            "time": data["time"].strftime("%H:%M"),
            "minutes": data["minutes"],
        }


class NewBookingForm(BookingForm):
    kind = forms.ChoiceField(
        label="Kind of dialogue",
        choices=[(k.value, info.title) for k, info in protocol.KINDS.items()],
        initial=protocol.Kind.INTENTIONAL.value,  # what a booked session usually is
        error_messages={"invalid_choice": "Please choose one of the kinds of dialogue listed."},
    )
    first = forms.ChoiceField(label="Shares first", choices=())

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        first = self.fields["first"]
        assert isinstance(first, forms.ChoiceField)
        first.choices = [(p.public_id, p.display_name) for p in partners]
        first.error_messages["invalid_choice"] = "Please choose which partner shares first."
        self.order_fields(["day", "time", "minutes", "kind", "first"])
