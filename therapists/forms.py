from django import forms
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from couples.forms import USER_EMAIL_MAX_LENGTH, FormTokenField, form_token
from dialogues import protocol
from practice.models import PRACTICES
from therapists.models import FORM_TOKEN, MAX_INSTRUCTIONS, MAX_NOTE, MAX_TITLE, limit_text


def with_limit(message: Promise, limit: int) -> str:
    """A lazy error message naming a length limit (`%(limit)s`), in the reader's language."""
    return lazy(lambda: str(message) % {"limit": limit_text(limit)}, str)()


class OneTimeForm(forms.Form):
    """A form that saves something: it carries a hidden one-time `token`, made each time the
    form is shown, so a replayed or double-clicked post saves nothing twice (the service looks
    for what that token saved). A form shown again after an error keeps its token: nothing
    was saved with it."""

    token = FormTokenField(max_length=FORM_TOKEN)

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
        label=gettext_lazy("Your message"),
        max_length=protocol.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("Please write a short message first."),
            "max_length": with_limit(
                gettext_lazy("Please keep your message under %(limit)s characters."),
                protocol.MAX_TEXT,
            ),
        },
    )
    # Translators: whom the therapist's coaching message goes to.
    to = forms.ChoiceField(label=pgettext_lazy("recipient", "To"), required=False)

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)
        names = [name for _slot, name in partners]
        self.to_choices: list[tuple[str, str]] = [("", _("Both partners"))] + [
            (slot, _("Only %(name)s") % {"name": name}) for slot, name in partners
        ]
        to.choices = self.to_choices
        # For each choice: who will read the message, and the send button's words.
        both = (
            _("%(first)s and %(second)s will both read this.")
            % {"first": names[0], "second": names[1]}
            if len(names) == 2
            else _("Both partners will read this.")
        )
        self.readers = {"": (both, _("Send to both"))}
        for slot, name in partners:
            others = [n for s, n in partners if s != slot]
            self.readers[slot] = (
                _("Only %(name)s will read this; %(other)s won't see it.")
                % {"name": name, "other": others[0]}
                if others
                else _("Only %(name)s will read this.") % {"name": name},
                _("Send to %(name)s only") % {"name": name},
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
        label=gettext_lazy("Private note"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Only you can see your notes. Never the couple, never our staff."),
        error_messages={
            "required": gettext_lazy("Please write the note first."),
            "max_length": with_limit(
                gettext_lazy("Please keep it under %(limit)s characters."), MAX_NOTE
            ),
        },
    )


class HomeworkForm(OneTimeForm):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=MAX_TITLE,
        error_messages={"required": gettext_lazy("Please give the homework a short title.")},
    )
    instructions = forms.CharField(
        label=gettext_lazy("Instructions"),
        required=False,
        max_length=MAX_INSTRUCTIONS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    due_date = forms.DateField(
        label=gettext_lazy("Due date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("Please enter a date like 2025-06-30.")},
    )
    dialogue_kind = forms.ChoiceField(
        label=gettext_lazy("A dialogue to practise (optional)"),
        required=False,
        choices=[("", pgettext_lazy("no kind of dialogue", "None"))]
        + [(k.value, info.title) for k, info in protocol.KINDS.items()],
        help_text=gettext_lazy("A completed dialogue of this kind marks the homework done."),
    )
    practice = forms.ChoiceField(
        label=gettext_lazy("A practice between dialogues (optional)"),
        required=False,
        choices=[("", pgettext_lazy("no practice", "None")), *PRACTICES.items()],
        help_text=gettext_lazy(
            "Done by itself once the couple records it this many times within a week."
        ),
    )
    practice_target = forms.IntegerField(
        label=gettext_lazy("How many times a week"),
        required=False,
        min_value=1,
        max_value=14,
        error_messages={
            "min_value": gettext_lazy("Please choose 1 to 14."),
            "max_value": gettext_lazy("Please choose 1 to 14."),
        },
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("practice") and not data.get("practice_target"):
            self.add_error("practice_target", _("Please say how many times a week."))
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
        label=gettext_lazy("Kind of dialogue"),
        choices=_kinds_with_therapist_first,
        error_messages={
            "invalid_choice": gettext_lazy("Please choose one of the kinds of dialogue listed.")
        },
    )
    first = forms.ChoiceField(
        label=gettext_lazy("Who goes first (in a Parent-Child Dialogue: who speaks as the child)")
    )
    topic = forms.CharField(
        label=gettext_lazy("What it is about, in a few words"),
        max_length=200,
        help_text=gettext_lazy(
            "Both partners see it; the partner who listens first is asked if now is good."
        ),
        error_messages={"required": gettext_lazy("Please name what the dialogue is about.")},
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
        label=gettext_lazy("Link code from your therapist"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "placeholder": "ABCDE-FGHJK",
                "autocapitalize": "characters",
            }
        ),
    )


class TherapistInviteForm(OneTimeForm):
    email = forms.EmailField(
        label=gettext_lazy("Your therapist's email"), max_length=USER_EMAIL_MAX_LENGTH
    )


SESSION_LENGTHS = [
    (30, gettext_lazy("30 minutes")),
    (45, gettext_lazy("45 minutes")),
    (60, gettext_lazy("1 hour")),
    (90, gettext_lazy("1½ hours")),
]


class BookingForm(forms.Form):
    """A facilitated session: a date and time in the therapist's own zone, a length, the
    kind of dialogue and who shares first. The service checks the rest (not past, within a
    year, no overlap); the same booking posted twice saves one."""

    day = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": gettext_lazy("Please choose a date."),
            "invalid": gettext_lazy("Please enter a date like 2026-12-08."),
        },
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        # Our own 24-hour field: a browser's <input type=time> shows "--:-- --" (12-hour) by
        # its own locale, whatever the page's language.
        widget=forms.TimeInput(
            attrs={
                "placeholder": pgettext_lazy("time format", "hh:mm"),
                "autocomplete": "off",
                "maxlength": 8,
            },
            format="%H:%M",
        ),
        error_messages={
            "required": gettext_lazy("Please choose a time."),
            "invalid": gettext_lazy("Please enter a time like 18:00."),
        },
    )
    minutes = forms.TypedChoiceField(
        # Translators: how long a booked session lasts.
        label=pgettext_lazy("duration", "Length"),
        choices=SESSION_LENGTHS,
        coerce=int,
        initial=60,
        error_messages={"invalid_choice": gettext_lazy("Please choose one of the lengths listed.")},
    )

    def __init__(self, *args, zone_name: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if zone_name:
            self.fields["time"].help_text = _("24-hour clock, your time (%(zone)s).") % {
                "zone": zone_name
            }
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
        label=gettext_lazy("Kind of dialogue"),
        choices=[(k.value, info.title) for k, info in protocol.KINDS.items()],
        initial=protocol.Kind.INTENTIONAL.value,  # what a booked session usually is
        error_messages={
            "invalid_choice": gettext_lazy("Please choose one of the kinds of dialogue listed.")
        },
    )
    first = forms.ChoiceField(label=gettext_lazy("Shares first"), choices=())

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        first = self.fields["first"]
        assert isinstance(first, forms.ChoiceField)
        first.choices = [(p.public_id, p.display_name) for p in partners]
        first.error_messages["invalid_choice"] = _("Please choose which partner shares first.")
        self.order_fields(["day", "time", "minutes", "kind", "first"])


class CallAdmitForm(OneTimeForm):
    """Let one partner (their slot) or both into a booked session's call."""

    who = forms.ChoiceField(
        choices=[("a", "a"), ("b", "b"), ("both", "both")],
        error_messages={"invalid_choice": gettext_lazy("Please choose whom to let in.")},
    )
