"""The site's own messages (a login ended, two-factor required) in the person's language."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from live import session_limits
from tests.factories import TherapistFactory
from tests.helpers import text_of

pytestmark = pytest.mark.django_db


def idle(client, *, seconds: float) -> None:
    session = client.session
    now = time.time()
    session[session_limits.LOGIN_AT] = now - seconds - 60
    session[session_limits.SEEN_AT] = now - seconds
    session.save()


@pytest.mark.parametrize(
    "language, says",
    [
        ("es", "Por tu seguridad, cerramos tu sesión tras 4 horas sin actividad."),
        ("en", "For your safety you were logged out after 4 hours without activity."),
    ],
)
def test_an_idle_logout_is_explained_in_the_persons_language(client_as, alex, language, says):
    alex.language = language
    alex.save(update_fields=["language"])
    client = client_as(alex)
    idle(client, seconds=4 * 3600 + 60)
    response = client.get("/")
    assert response.status_code == 302
    assert says in text_of(client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language))


def test_the_end_of_a_12_hour_login_is_explained_in_spanish(client_as, alex):
    alex.language = "es"
    alex.save(update_fields=["language"])
    client = client_as(alex)
    idle(client, seconds=0)
    session = client.session
    session[session_limits.LOGIN_AT] = time.time() - 13 * 3600
    session.save()
    response = client.get("/")
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="es")
    assert "Tu sesión terminó al cabo de 12 horas. Vuelve a iniciar sesión." in text_of(page)


def test_a_therapist_without_two_factor_is_asked_for_it_in_spanish(client_as):
    therapist = TherapistFactory(email="nuevo.dr@example.com", display_name="Dr. Nuevo", mfa=False)
    therapist.language = "es"
    therapist.save(update_fields=["language"])
    client = client_as(therapist)
    response = client.get("/")
    assert response["Location"] == reverse("mfa_activate_totp")
    text = text_of(client.get(response["Location"]))
    assert "Primero configura la verificación en dos pasos" in text
    assert "Configurar la verificación en dos pasos" in text  # the page itself
    assert "Abre una aplicación de autenticación en tu teléfono" in text
