"""The couples' pages and emails in Spanish for a person whose language is Spanish (and for a
visitor whose browser or footer choice says so), and still in English by default."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from couples import services
from couples.devices import device_name
from couples.models import User
from couples.retention import retention_run
from dialogues import push
from live.session_limits import idle_words
from tests.factories import PASSWORD, make_invitation
from tests.helpers import text_of

pytestmark = pytest.mark.django_db

SIGNUP = reverse("account_signup")
LOGIN = reverse("account_login")


def speaks(person: User, code: str) -> User:
    person.language = code
    person.save(update_fields=["language"])
    return person


def html_lang(response) -> str:
    body = response.content.decode()
    start = body.index("<html lang=") + len('<html lang="')
    return body[start : body.index('"', start)]


# (url name, args, a phrase of the page in English, the same in Spanish)
PAGES = [
    ("couples:account_settings", [], "Your time zone", "Tu zona horaria"),
    ("couples:your_data", [], "Everything you wrote here belongs to you.", "te pertenece"),
    ("couples:account_delete", [], "Keep my account", "Conservar mi cuenta"),
    ("couples:devices", [], "Signed-in devices", "Dispositivos con sesión iniciada"),
]


@pytest.mark.parametrize("name, args, english, spanish", PAGES)
def test_account_pages_are_in_spanish_for_a_spanish_speaker(
    client_as, alex, name, args, english, spanish
):
    page = client_as(speaks(alex, "es")).get(reverse(name, args=args))
    assert page.status_code == 200
    assert html_lang(page) == "es"
    text = text_of(page)
    assert spanish in text and english not in text
    assert "Tus datos" in text and "Ajustes" in text  # the account menu and the header
    assert "Imago acompaña, pero no sustituye, a un terapeuta." in text  # the footer


@pytest.mark.parametrize("name, args, english, spanish", PAGES)
def test_account_pages_stay_in_english_by_default(client_as, alex, name, args, english, spanish):
    page = client_as(alex).get(reverse(name, args=args))
    assert html_lang(page).startswith("en")
    assert english in text_of(page) and spanish not in text_of(page)


def test_the_home_page_of_a_couple_is_in_spanish(client_as, pair, alex, sam):
    text = text_of(client_as(speaks(alex, "es")).get("/"))
    assert "Hola, Alex" in text
    assert "Formas pareja con Sam" in text
    assert "Salir de la pareja" in text
    assert "En pareja desde el" in text  # the date sentence, with a Spanish date
    assert "Leave the couple" not in text


def test_the_waiting_page_and_its_copy_button_are_in_spanish(client_as, single):
    client = client_as(speaks(single, "es"))
    client.post(reverse("couples:start"), {"partner_email": ""})
    page = client.get("/")
    text = text_of(page)
    assert "Esperando a que tu pareja se una" in text
    assert "Ya está todo listo. Envía a tu pareja el enlace de abajo." in text  # the message
    assert "Enlace para que lo compartas tú, válido hasta el" in text
    body = page.content.decode()
    assert 'data-copy="#invite-link" data-copied="Copiado"' in body
    assert ">Copiar enlace<" in body


def test_the_copy_button_says_copied_in_english_by_default(client_as, single):
    client = client_as(single)
    client.post(reverse("couples:start"), {"partner_email": ""})
    assert 'data-copied="Copied"' in client.get("/").content.decode()


def test_the_partner_joined_push_is_in_the_viewers_language(pair, alex, sam):
    spanish = push.render_partner_joined(user=speaks(alex, "es"))
    assert spanish is not None
    assert "Sam se ha unido a ti" in spanish
    assert "Sam ha aceptado tu invitación: ya forman pareja." in spanish
    english = push.render_partner_joined(user=speaks(sam, "en"))
    assert english is not None and "Alex has joined you" in english


def test_the_invitation_page_is_in_spanish_for_a_spanish_speaker(client_as, single):
    _, token = make_invitation()
    page = client_as(speaks(single, "es")).get(reverse("couples:invitation", args=[token]))
    text = text_of(page)
    assert "te invita a formar pareja" in text
    assert "Aceptar y formar pareja" in text


def test_a_refused_invitation_says_why_in_spanish(client_as, alex, sam, pair):
    client = client_as(speaks(sam, "es"))
    _, token = make_invitation()
    response = client.post(reverse("couples:invitation", args=[token]))
    assert "Ya formas parte de una pareja." in text_of(client.get(response["Location"]))


def test_the_login_and_signup_pages_follow_the_browsers_language(client):
    login = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="es")
    assert html_lang(login) == "es"
    assert "¿Primera vez aquí?" in text_of(login)
    signup = client.get(SIGNUP, HTTP_ACCEPT_LANGUAGE="es")
    text = text_of(signup)
    assert "Crear una cuenta" in text and "Tu nombre" in text and "Soy terapeuta" in text
    assert "Create an account" not in text
    assert "New here?" in text_of(Client().get(LOGIN))  # English without a preference


def test_the_footers_choice_sets_the_language_of_the_login_page(client):
    response = client.post(reverse("couples:language"), {"language": "es", "next": LOGIN})
    assert response.status_code == 302 and response["Location"] == LOGIN
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en")  # the choice wins over the browser
    assert "Iniciar sesión" in text_of(page)


def test_an_error_page_is_in_the_visitors_language(client):
    page = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 404
    assert "No encontramos esa página" in text_of(page)


# --- the footer's chooser --------------------------------------------------------------------


def test_an_anonymous_choice_is_kept_in_a_cookie(client):
    client.post(reverse("couples:language"), {"language": "es", "next": "/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "Hablen de manera que cada persona se sienta escuchada." in text_of(client.get("/"))


def test_a_signed_in_choice_is_kept_on_the_account(client_as, alex):
    client = client_as(alex)
    client.post(reverse("couples:language"), {"language": "es", "next": "/"})
    alex.refresh_from_db()
    assert alex.language == "es"
    # Another browser of theirs, with no cookie, speaks it too.
    assert "Tus datos" in text_of(client_as(alex).get(reverse("couples:your_data")))


def test_a_bad_code_is_answered_400_and_changes_nothing(client_as, alex):
    client = client_as(speaks(alex, "en"))
    response = client.post(reverse("couples:language"), {"language": "xx", "next": "/"})
    assert response.status_code == 400
    assert "Please choose a language from the list." in text_of(response)
    # The browser keeps the account's language, unchanged (the middleware remembers it).
    cookie = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    assert cookie is None or cookie.value == "en-gb"
    alex.refresh_from_db()
    assert alex.language == "en"


def test_a_bad_code_from_a_visitor_is_answered_400_in_their_language(client):
    response = client.post(
        reverse("couples:language"), {"language": "klingon"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    assert "Elige un idioma de la lista." in text_of(response)
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.parametrize(
    "next_url, goes_to",
    [
        ("/accounts/login/?next=/", "/accounts/login/?next=/"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("", "/"),
    ],
)
def test_the_chooser_goes_back_only_to_this_site(client, next_url, goes_to):
    response = client.post(reverse("couples:language"), {"language": "es", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == goes_to


# --- a new account speaks its sign-up page's language ----------------------------------------


def test_signing_up_on_a_spanish_page_makes_a_spanish_account(client):
    client.post(reverse("couples:language"), {"language": "es", "next": SIGNUP})
    data = {
        "display_name": "Nuria",
        "email": "nuria@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    client.post(SIGNUP, data, HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get(email="nuria@example.com").language == "es"
    [message] = mail.outbox
    assert message.body.startswith("Hola, te escribimos desde Imago:")
    assert "introdúcelo en la ventana abierta de tu navegador" in message.body  # allauth's


def test_signing_up_on_an_english_page_makes_an_english_account(client):
    data = {
        "display_name": "Newt",
        "email": "newt@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    client.post(SIGNUP, data, HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get(email="newt@example.com").language.startswith("en")
    assert mail.outbox[0].body.startswith("Hello from Imago,")


# --- emails in the recipient's language ------------------------------------------------------


def test_allauths_emails_go_in_the_language_of_the_addresss_account(client, alex):
    speaks(alex, "es")
    client.post(reverse("account_reset_password"), {"email": alex.email}, HTTP_ACCEPT_LANGUAGE="en")
    [message] = mail.outbox
    assert message.to == [alex.email]
    assert message.body.startswith("Hola, te escribimos desde Imago:")


def test_allauths_emails_to_an_unknown_address_go_in_the_pages_language(client):
    client.post(
        reverse("account_reset_password"),
        {"email": "nobody@example.com"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    [message] = mail.outbox
    assert message.body.startswith("Hola, te escribimos desde Imago:")


def test_a_security_notification_is_in_the_persons_language(client_as, alex):
    client = client_as(speaks(alex, "es"))
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "a new Pa55word!", "password2": "a new Pa55word!"},
    )
    [message] = mail.outbox
    assert message.subject == "[Imago] Se cambió tu contraseña"
    assert message.body.startswith("Hola, Alex:")
    assert "Se acaba de cambiar la contraseña de tu cuenta de Imago." in message.body
    assert "Cuándo: " in message.body and " de 20" in message.body  # a Spanish date


def test_an_invitation_email_goes_in_the_inviters_language(
    single, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.couple_create(user=speaks(single, "es"), partner_email="pat@example.com")
    [message] = mail.outbox
    assert message.subject == "[Imago] Sasha te invita a formar pareja en Imago"
    assert "Para formar pareja, abre este enlace" in message.body


def test_an_invitation_email_is_in_english_from_an_english_inviter(
    single, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), translation.override("es"):
        services.couple_create(user=speaks(single, "en"), partner_email="pat@example.com")
    [message] = mail.outbox
    assert message.subject == "[Imago] Sasha invites you to pair up"


def test_retention_warnings_go_in_each_recipients_language(pair, alex, sam):
    speaks(alex, "es")
    speaks(sam, "en")
    services.couple_leave(user=alex)
    pair.refresh_from_db()
    assert pair.ended_at is not None
    due = timedelta(days=settings.RETENTION_ENDED_COUPLE_DAYS - settings.RETENTION_WARNING_DAYS)
    with translation.override("en"):
        assert retention_run(now=pair.ended_at + due + timedelta(days=1)).couples_warned == 1
    to = {message.to[0]: message for message in mail.outbox}
    spanish, english = to[alex.email], to[sam.email]
    assert spanish.subject.startswith("[Imago] Lo que escribiste en una pareja que terminó")
    assert spanish.body.startswith("Hola, Alex:")
    assert "se borrará definitivamente" in spanish.body
    assert english.subject == "[Imago] What you wrote in an ended couple will be erased"
    assert "it will be erased for good" in english.body


# --- words made in Python --------------------------------------------------------------------


def test_device_names_and_idle_limits_are_said_in_the_active_language(settings):
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
    settings.SESSION_IDLE_SECONDS_PARTNER = 4 * 3600
    settings.SESSION_IDLE_SECONDS_STRICT = 60
    with translation.override("es"):
        assert device_name(agent) == "Firefox en Windows"
        assert device_name("") == "Un navegador desconocido"
        assert idle_words(strict=False) == "4 horas"
        assert idle_words(strict=True) == "1 minuto"
    assert device_name(agent) == "Firefox on Windows"
    assert idle_words(strict=False) == "4 hours"
