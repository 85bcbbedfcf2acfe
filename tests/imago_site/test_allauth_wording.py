"""allauth's pages in our voice (locale_allauth/): sentence case in English, "tú" in Spanish;
and Cancel on the new-password page goes back instead of logging the person out."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.helpers import text_of
from tests.mfa import give_mfa

pytestmark = pytest.mark.django_db

WORDING = Path(settings.BASE_DIR) / "locale_allauth"
CATALOGUES = sorted(WORDING.glob("*/LC_MESSAGES/django.po"))
SIGN_UP = {"display_name": "Nell", "password1": PASSWORD, "password2": PASSWORD}


def _title_cased(po: Path) -> list[str]:
    """allauth's Title Case msgids that this catalogue rewords."""
    ids = re.findall(r'^msgid "(.+)"$', po.read_text(), re.M)
    return [i for i in ids if re.search(r"\b[A-Za-z][\w-]* [A-Z][a-z]", i)]


def _reset_link(user) -> str:
    key = default_token_generator.make_token(user)
    return reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )


def _pages(language: str) -> dict[str, str]:
    """The visible text of the allauth pages people see, in `language`."""
    headers = {"Accept-Language": language}
    anonymous = Client(headers=headers)
    texts = {
        name: text_of(anonymous.get(reverse(name)))
        for name in ("account_login", "account_signup", "account_reset_password")
    }
    person = UserFactory(email=f"words.{language}@example.com", language=language)
    signed_in = Client(headers=headers)
    signed_in.force_login(person)
    # Asking for a reset while logged in says so ("You are already logged in as …").
    texts["reset, logged in"] = text_of(signed_in.get(reverse("account_reset_password")))
    texts["reset done"] = text_of(anonymous.get(reverse("account_reset_password_done")))
    new_password = anonymous.get(_reset_link(person), follow=True)
    texts["new password"] = text_of(new_password)
    newcomer = Client(headers=headers)
    newcomer.post(reverse("account_signup"), {**SIGN_UP, "email": f"new.{language}@example.com"})
    texts["email code"] = text_of(newcomer.get(reverse("account_email_verification_sent")))
    give_mfa(person)
    for name in (
        "account_email",
        "account_change_password",
        "mfa_index",
        "account_reauthenticate",
        "mfa_generate_recovery_codes",
    ):
        texts[name] = text_of(signed_in.get(reverse(name)))
    return texts


def test_allauths_pages_speak_in_sentence_case():
    pages = _pages("en")
    title_cased = _title_cased(WORDING / "en/LC_MESSAGES/django.po")
    assert "Reset My Password" in title_cased and "New Password (again)" in title_cased
    for name, text in pages.items():
        found = [words for words in title_cased if words in text]
        assert found == [], name
    assert "Reset my password" in pages["account_reset_password"]
    assert "New password (again)" in pages["new password"]
    assert "Enter email verification code" in pages["email code"]
    assert "Remember me" in pages["account_login"]
    assert "Two-factor authentication" in pages["mfa_index"]


def test_allauths_pages_say_tu_in_spanish():
    pages = _pages("es")
    usted = re.compile(
        r"\b(su|sus|Su|usted|Introduzca|Ingrese|Ha olvidado|Olvidó|Verifique|Ya ha iniciado)\b"
    )
    for name, text in pages.items():
        assert usted.search(text) is None, (name, usted.search(text))
    assert "Restablecer mi contraseña" in pages["account_reset_password"]
    assert "Nueva contraseña (otra vez)" in pages["new password"]
    assert "¿Olvidaste tu contraseña?" in pages["account_login"]
    assert "Introduce el código de verificación del correo" in pages["email code"]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_the_compiled_wording_is_up_to_date(po: Path, tmp_path: Path):
    if not shutil.which("msgfmt"):
        pytest.skip("GNU gettext is missing")
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(po)], check=True)
    assert compiled.read_bytes() == po.with_suffix(".mo").read_bytes(), (
        "run `make messages` and commit the .mo"
    )


@pytest.mark.parametrize(("logged_in", "back"), [(False, "account_login"), (True, "home")])
def test_cancel_on_the_new_password_page_goes_back_without_logging_out(client, logged_in, back):
    person = UserFactory(email="cancel@example.com")
    if logged_in:
        client.force_login(person)
    page = client.get(_reset_link(person), follow=True)
    html = page.content.decode()
    assert "Choose a new password" in text_of(page)
    cancel = re.search(r'<a href="([^"]+)" class="button secondary"\s*>\s*Cancel', html)
    assert cancel is not None and cancel.group(1) == reverse(back)
    assert reverse("account_logout") not in html.split('id="main"', 1)[-1].split("</main>")[0]
    if logged_in:
        client.get(cancel.group(1))
        assert client.get(reverse("account_email")).status_code == 200  # still logged in
