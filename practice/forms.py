from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from couples.forms import FormTokenField, form_token
from practice.models import (
    FORM_TOKEN,
    MAX_APPRECIATION,
    MAX_CARING,
    MAX_DAYS,
    MAX_EXIT,
    MAX_REFLECTION,
    MIN_DAYS,
    REFLECTION_QUESTIONS,
)


class OneTimeForm(forms.Form):
    """Carries a hidden one-time token, made each time the form is shown, so a replayed or
    double-clicked post saves nothing twice (the service looks for what it saved)."""

    token = FormTokenField(max_length=FORM_TOKEN)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = form_token()


class CaringItemForm(OneTimeForm):
    text = forms.CharField(
        label=_("I feel loved when you …"),
        max_length=MAX_CARING,
        help_text=_("Something specific and positive, that you'd like more of."),
    )


class ThanksForm(OneTimeForm):
    text = forms.CharField(label=_("A one-line appreciation"), max_length=MAX_APPRECIATION)


class DaysForm(forms.Form):
    days = forms.IntegerField(label=_("For how many days"), min_value=MIN_DAYS, max_value=MAX_DAYS)


class ReflectionForm(forms.Form):
    """The childhood reflection worksheet: one box per question, each may stay empty."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for key, question, prompt in REFLECTION_QUESTIONS:
            self.fields[key] = forms.CharField(
                label=question,
                help_text=prompt,
                required=False,
                max_length=MAX_REFLECTION,
                widget=forms.Textarea(attrs={"rows": 4}),
            )


class ExitForm(OneTimeForm):
    text = forms.CharField(
        label=_("An exit of mine"),
        max_length=MAX_EXIT,
        help_text=_("Something you do instead of being with your partner: a few words."),
    )
    avoids = forms.CharField(
        label=_("What I avoid by it (optional)"),
        max_length=MAX_EXIT,
        required=False,
        help_text=_("The closeness, tension or feeling it spares you."),
    )
