import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from couples.models import Invitation, User

# Longer addresses would overflow the column (a 500 on PostgreSQL) and aren't valid anyway.
EMAIL_MAX_LENGTH = Invitation._meta.get_field("email").max_length
USER_EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


def form_token() -> str:
    """A new one-time id for one showing of a write form (as a move's form has)."""
    return secrets.token_urlsafe(16)


class FormTokenField(forms.CharField):
    """A write form's hidden one-time token (services require it: couples.models.
    form_token_given). Each showing of the form gets a new one. Shown again after an error,
    the form keeps the token it was posted with (nothing was saved with it), or, when it was
    posted without one, carries a new one: else every later try would be refused again."""

    def __init__(self, *, max_length: int, **kwargs) -> None:
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(required=False, max_length=max_length, **kwargs)

    def bound_data(self, data, initial):
        return data if isinstance(data, str) and data.strip() else initial


class SignupDetailsForm(forms.Form):
    """Extra sign-up fields for allauth: how you're shown, and whether you're a therapist."""

    display_name = forms.CharField(
        max_length=60,
        label=_("Your name"),
        help_text=_("How your partner (and therapist) will see you."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    is_therapist = forms.BooleanField(
        required=False,
        label=_("I'm a therapist"),
        help_text=_("Therapist accounts are checked by our team before they can link to couples."),
    )

    field_order = ["display_name", "email", "password1", "password2", "is_therapist"]

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Please tell us your name."))
        return name

    def clean(self) -> dict:
        # allauth's email field allows 320 characters and would silently cut the address to
        # fit our 254-character column, leaving an account under an email nobody owns.
        cleaned_data = super().clean()
        assert cleaned_data is not None  # Form.clean returns cleaned_data
        assert USER_EMAIL_MAX_LENGTH is not None  # an EmailField always has one
        if len(cleaned_data.get("email") or "") > USER_EMAIL_MAX_LENGTH:
            self.add_error(
                "email",
                _("Please use an email address of at most %(limit)s characters.")
                % {"limit": USER_EMAIL_MAX_LENGTH},
            )
        return cleaned_data

    def signup(self, request, user: User) -> None:
        user.display_name = self.cleaned_data["display_name"]
        user.kind = User.Kind.THERAPIST if self.cleaned_data["is_therapist"] else User.Kind.PARTNER
        user.save(update_fields=["display_name", "kind"])


class StartCoupleForm(forms.Form):
    partner_email = forms.EmailField(
        required=False,
        max_length=EMAIL_MAX_LENGTH,
        label=_("Your partner's email (optional)"),
        help_text=_("We'll email them the link. You can also copy it and send it yourself."),
    )


class InviteForm(forms.Form):
    partner_email = forms.EmailField(
        required=False,
        max_length=EMAIL_MAX_LENGTH,
        label=_("Your partner's email (optional)"),
    )


class DeleteAccountForm(forms.Form):
    """Deleting an account is confirmed with its password."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That password isn't right. Nothing was deleted."))
        return password
