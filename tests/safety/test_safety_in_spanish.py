"""The private safety page, its questions, answers, messages and support lines, the check-in and
the admin's support lines, in Spanish for a person whose language is Spanish (and in English
by default). The stored answers stay the same codes in every language."""

import html

import pytest
from django.urls import reverse
from django.utils import translation

from safety import selectors as safety
from safety.models import SafetyScreening, SupportResource
from tests.factories import screen

PAGE = reverse("safety:page")


def speaks_spanish(person):
    person.language = "es"
    person.save()
    return person


def page_of(client):
    response = client.get(PAGE)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_questions_are_asked_in_spanish(client_as, unscreened):
    alex, _sam = unscreened
    body = page_of(client_as(speaks_spanish(alex)))
    assert "Solo para ti" in body and "Unas preguntas antes de tu primer diálogo" in body
    with translation.override("es"):
        for question in safety.QUESTIONS:
            assert str(question.text) in body
    assert "¿Alguna vez sientes miedo de tu pareja?" in body
    assert ">A veces</label>" in body and ">Saltar</label>" in body and ">No lo sé</label>" in body
    assert 'value="sometimes"' in body  # the stored values stay as they are
    assert "Guardar mis respuestas" in body and "Líneas de ayuda" in body
    for english in ("Just for you", "Do you ever feel afraid", "Save my answers", "Skip<"):
        assert english not in body


def test_the_page_stays_english_by_default(client_as, unscreened):
    _alex, sam = unscreened
    body = page_of(client_as(sam))
    assert "Just for you" in body and "Do you ever feel afraid of your partner?" in body
    assert "Solo para ti" not in body


def test_answers_and_care_are_shown_in_spanish(client_as, unscreened):
    alex, _sam = unscreened
    client = client_as(speaks_spanish(alex))
    response = client.post(reverse("safety:answer"), {"afraid": "often", "crisis": "no"})
    assert response.status_code == 302
    assert SafetyScreening.objects.get(user=alex).answers == {"afraid": "often", "crisis": "no"}
    body = page_of(client)
    assert "Gracias por contárnoslo" in body
    assert "<dd>A menudo</dd>" in body and "<dd>No</dd>" in body
    assert "<dd>Sin responder</dd>" in body
    assert "Quiero seguir de todos modos" in body


def test_a_refused_answer_is_explained_in_spanish(client_as, unscreened):
    alex, _sam = unscreened
    response = client_as(speaks_spanish(alex)).post(reverse("safety:answer"), {"afraid": "maybe"})
    assert response.status_code == 422
    body = html.unescape(response.content.decode())
    assert "Elige una de las respuestas ofrecidas, o sáltate la pregunta." in body


def test_the_partner_not_ready_line_and_next_step_are_in_spanish(client_as, unscreened):
    alex, sam = unscreened
    speaks_spanish(alex)
    screen(alex)
    body = page_of(client_as(alex))
    assert "Tu pareja todavía no está lista para empezar." in body
    assert "Tu página de inicio mostrará «Empezar un diálogo» en cuanto los dos puedan." in body
    screen(sam)
    body = page_of(client_as(alex))
    assert "Sam también puede empezar." in body and ">Empezar un diálogo</a>" in body


def test_the_fallback_support_lines_are_in_spanish(client_as, unscreened):
    alex, _sam = unscreened
    SupportResource.objects.all().delete()
    body = page_of(client_as(speaks_spanish(alex)))
    assert "Tu número local de emergencias" in body and "Una línea de crisis cerca de ti" in body
    assert "findahelpline.com" in body


def test_the_check_in_speaks_spanish():
    with translation.override("es"):
        checkin = safety.checkin_read({"halt": ["hungry", "tired"], "intensity": "9"})
        assert checkin.halt_labels == ["hambre", "cansancio"]
        assert checkin.advice == ["comer algo", "descansar"]
        assert [str(label) for _value, label in safety.HALT] == [
            "Hambre",
            "Enojo",
            "Soledad",
            "Cansancio",
        ]
        with pytest.raises(safety.SafetyError) as refused:
            safety.checkin_read({"intensity": "11"})
        assert refused.value.message == "Elige un número del 1 al 10, o déjalo en blanco."
    assert safety.checkin_read({"halt": ["angry"]}).halt_labels == ["angry"]


def test_the_admin_names_the_support_lines_in_spanish(client_as, staff):
    staff.is_superuser = True
    speaks_spanish(staff)
    client = client_as(staff)
    index = html.unescape(client.get("/admin/").content.decode())
    assert "Líneas de ayuda" in index and "Seguridad" in index
    form = html.unescape(client.get("/admin/safety/supportresource/add/").content.decode())
    assert "Nombre del país" in form and "Línea de crisis" in form
    assert "Código de país de dos letras" in form
