"""The presenter's and the partners' workshop forms (the services check everything again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dialogues import protocol
from therapists.forms import OneTimeForm, with_limit
from therapists.workshops.models import Announcement, Segment


def _https_only(value: str) -> None:
    if value and not value.lower().startswith("https://"):
        raise forms.ValidationError(_("Please give a secure link (starting with https://)."))


class WorkshopForm(OneTimeForm):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=120,
        error_messages={
            "required": gettext_lazy("Please give the workshop a title."),
            "max_length": with_limit(
                gettext_lazy("Please keep the title under %(limit)s characters."), 120
            ),
        },
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": gettext_lazy("Please give the date and time."),
            "invalid": gettext_lazy("Please give a date and time."),
        },
    )
    stream_url = forms.URLField(
        label=gettext_lazy("Link to your own stream (optional)"),
        help_text=gettext_lazy("Shown to participants. We don't stream video ourselves."),
        required=False,
        max_length=500,
        validators=[_https_only],
        assume_scheme="https",
        error_messages={"invalid": gettext_lazy("Please give a whole link (https://…).")},
    )


class SegmentForm(OneTimeForm):
    kind = forms.ChoiceField(label=gettext_lazy("Segment"), choices=())
    text = forms.CharField(
        label=gettext_lazy("What you teach or say (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": with_limit(
                gettext_lazy("Please keep it under %(limit)s characters."), 1000
            )
        },
    )
    dialogue_kind = forms.ChoiceField(
        label=gettext_lazy("Dialogue to practise"),
        required=False,
        choices=(),
    )
    minutes = forms.IntegerField(
        label=gettext_lazy("Minutes"),
        required=False,
        min_value=1,
        max_value=180,
        error_messages={
            "min_value": gettext_lazy("Please give between 1 and 180 minutes."),
            "max_value": gettext_lazy("Please give between 1 and 180 minutes."),
            "invalid": gettext_lazy("Please give between 1 and 180 minutes."),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = Segment.Kind.choices
        dialogue = self.fields["dialogue_kind"]
        assert isinstance(dialogue, forms.ChoiceField)
        dialogue.choices = [("", "—")] + [(k.value, i.title) for k, i in protocol.KINDS.items()]

    def clean(self):
        data = super().clean() or {}
        if data.get("kind") == "practise":
            if not data.get("dialogue_kind"):
                self.add_error("dialogue_kind", _("Please choose the dialogue to practise."))
            if not data.get("minutes"):
                self.add_error("minutes", _("Please give the practice's length in minutes."))
        return data


class WorkshopJoinForm(OneTimeForm):
    code = forms.CharField(
        label=gettext_lazy("Workshop code"),
        max_length=20,
        error_messages={
            "required": gettext_lazy("Please enter the code the presenter gave you."),
            "max_length": gettext_lazy("That doesn't look like a workshop code."),
        },
    )
    accept = forms.BooleanField(
        label=gettext_lazy(
            "I accept that the presenter sees whether we're here, which step of the practice "
            "we're in and when we ask for help — never what we write."
        ),
        error_messages={"required": gettext_lazy("Please accept this to join.")},
    )


class AnnounceForm(OneTimeForm):
    kind = forms.ChoiceField(widget=forms.HiddenInput, choices=())
    text = forms.CharField(
        label=gettext_lazy("Message to everyone"),
        required=False,
        max_length=280,
        error_messages={
            "max_length": with_limit(
                gettext_lazy("Please keep your message under %(limit)s characters."), 280
            )
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = Announcement.Kind.choices
        kind.initial = Announcement.Kind.MESSAGE
