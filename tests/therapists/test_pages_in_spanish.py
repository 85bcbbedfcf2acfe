"""The therapists' pages, forms, messages and emails in their reader's language: Spanish for a
person whose language is "es" (the therapist's dashboard, couple page with the booking form,
console and transcript; the partners' therapist section and messages; the invitation email in
its recipient's language), English by default — with a held clock, so dates can be read."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import translation

from dialogues.models import DialogueSession
from live import clock
from tests.factories import TherapistFactory
from tests.helpers import form_token, page_token, text_of
from therapists import services as therapist_services
from therapists.models import TherapistLink

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # a Tuesday
BOOKING = {"day": "2026-12-03", "time": "13:00", "minutes": "60", "kind": "intentional"}


@pytest.fixture(autouse=True)
def held_clock():
    clock.clock_set(NOW)
    yield
    clock.clock_set(None)


def speaks(language: str, *people) -> None:
    for person in people:
        person.language = language
        person.save(update_fields=["language"])


@pytest.fixture
def access_since(link):
    """Dr. Rivera's access to Alex and Sam began on 3 November 2026."""
    TherapistLink.objects.filter(pk=link.pk).update(
        activated_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    )
    return link


# --- the therapist's pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, shown, not_shown",
    [
        (
            "es",
            [
                "Tus parejas",
                "Parejas vinculadas",
                "Con acceso desde el 3 nov 2026, 09:30.",
                "Esperando el consentimiento",
                "Crear un código de vinculación",
                "Tareas: ninguna asignada.",
            ],
            ["Linked couples", "Make a link code", "Access since"],
        ),
        (
            "",
            [
                "Your couples",
                "Linked couples",
                "Access since 3 Nov 2026, 09:30.",
                "Waiting for consent",
                "Make a link code",
                "Homework: none assigned.",
            ],
            ["Parejas vinculadas", "Con acceso"],
        ),
    ],
)
def test_the_dashboard_is_in_the_therapists_language(
    access_since, therapist, client_as, language, shown, not_shown
):
    speaks(language, therapist)
    page = text_of(client_as(therapist).get(reverse("therapists:dashboard")))
    for text in shown:
        assert text in page
    for text in not_shown:
        assert text not in page


@pytest.mark.parametrize(
    "language, shown, not_shown",
    [
        (
            "es",
            [
                "Con acceso desde el 3 de noviembre de 2026, 09:30, con el consentimiento",
                "Preguntas de seguridad",
                "Sesiones facilitadas",
                "No hay ninguna sesión programada.",
                "Programar una sesión",
                "Fecha",
                "Duración",
                "1 hora y media",
                "Comparte primero",
                "Reloj de 24 horas, tu hora (UTC).",
                "Asignar una tarea",
                "Solo tú puedes ver tus notas.",
                "Terminar tu acceso a esta pareja",
            ],
            ["Facilitated sessions", "Book a session", "Length"],
        ),
        (
            "",
            [
                "Access since 3 November 2026, 09:30, with both partners' consent.",
                "Safety questions",
                "Facilitated sessions",
                "No session booked.",
                "Book a session",
                "Length",
                "1½ hours",
                "Shares first",
                "24-hour clock, your time (UTC).",
                "Assign homework",
                "Only you can see your notes.",
            ],
            ["Sesiones facilitadas", "Duración"],
        ),
    ],
)
def test_the_couple_page_and_its_booking_form_are_in_the_therapists_language(
    access_since, pair, therapist, client_as, language, shown, not_shown
):
    speaks(language, therapist)
    page = text_of(client_as(therapist).get(reverse("therapists:couple", args=[pair.public_id])))
    for text in shown:
        assert text in page
    for text in not_shown:
        assert text not in page


def test_the_console_and_its_coach_box_are_in_spanish_for_a_spanish_speaking_therapist(
    live, therapist, client_as
):
    speaks("es", therapist)
    response = client_as(therapist).get(reverse("therapists:console", args=[live.public_id]))
    html, page = response.content.decode(), text_of(response)
    assert "Consola:" in page and "facilitando" in page
    assert "Salir de la consola" in page and "Conectando…" in page
    assert "Orientar" in page and "<legend>Para</legend>" in html and "Tu mensaje" in page
    assert "Alex y Sam lo leerán." in page and "Enviar a la pareja" in page
    # The other choices' words, which the script shows when the therapist picks one.
    assert 'data-readers="Solo Alex lo leerá; Sam no lo verá."' in html
    assert 'data-button="Enviar solo a Sam"' in html
    assert "Notas privadas sobre este diálogo" in page and "Guardar la nota" in page
    assert "Leave the console" not in page and "will both read this" not in page


def test_the_console_is_in_english_by_default(live, therapist, client_as):
    page = text_of(client_as(therapist).get(reverse("therapists:console", args=[live.public_id])))
    assert "Leave the console" in page and "Alex and Sam will both read this." in page
    assert "Salir de la consola" not in page


@pytest.mark.parametrize(
    "language, shown",
    [
        ("es", ["Transcripción", "3 de noviembre de 2026", "Tus parejas", "Guardar la nota"]),
        ("", ["Transcript", "3 November 2026", "Your couples", "Save note"]),
    ],
)
def test_the_transcript_is_in_the_therapists_language(
    link, dialogue, therapist, client_as, language, shown
):
    DialogueSession.objects.filter(pk=dialogue.pk).update(
        created_at=datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    )
    speaks(language, therapist)
    page = text_of(
        client_as(therapist).get(reverse("therapists:transcript", args=[dialogue.public_id]))
    )
    for text in shown:
        assert text in page


# --- forms' errors and messages ------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, data, message",
    [
        ("es", {"text": ""}, "Escribe primero la nota."),
        ("es", {"text": "x" * 2001}, "Escribe menos de 2\xa0000 caracteres."),
        ("", {"text": ""}, "Please write the note first."),
        ("", {"text": "x" * 2001}, "Please keep it under 2,000 characters."),
    ],
)
def test_a_notes_errors_are_in_the_therapists_language(
    link, pair, therapist, client_as, language, data, message
):
    speaks(language, therapist)
    url = reverse("therapists:couple_note", args=[pair.public_id])
    response = client_as(therapist).post(url, data)
    assert response.status_code == 422
    assert message in response.content.decode()  # the limit written the reader's way


@pytest.mark.parametrize(
    "change, message",
    [
        ({"day": ""}, "Elige una fecha."),
        ({"day": "2026-13-45"}, "Escribe una fecha como 2026-12-08."),
        ({"time": "25:99"}, "Escribe una hora como 18:00."),
        ({"minutes": "5"}, "Elige una de las duraciones de la lista."),
        ({"kind": "tango"}, "Elige uno de los tipos de diálogo de la lista."),
        ({"first": "someone-else"}, "Elige qué miembro de la pareja comparte primero."),
    ],
)
def test_a_bookings_errors_are_in_spanish_for_a_spanish_speaking_therapist(
    link, pair, therapist, sam, client_as, change, message
):
    speaks("es", therapist)
    data = {**BOOKING, "first": sam.public_id, **change}
    response = client_as(therapist).post(reverse("therapists:book", args=[pair.public_id]), data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert not DialogueSession.objects.filter(scheduled_for__isnull=False).exists()


@pytest.mark.parametrize(
    "language, message",
    [
        ("es", "Sesión programada para el jue 3 de dic, 13:00 (America/New_York)."),
        ("", "Session booked for Thu 3 Dec, 13:00 (America/New_York)."),
    ],
)
def test_a_booking_is_confirmed_in_the_therapists_language_and_date_format(
    link, pair, therapist, sam, client_as, language, message
):
    therapist.time_zone = "America/New_York"
    therapist.save(update_fields=["time_zone"])
    speaks(language, therapist)
    data = {**BOOKING, "first": sam.public_id}
    url = reverse("therapists:book", args=[pair.public_id])
    response = client_as(therapist).post(url, data, follow=True)
    assert message in text_of(response)


def test_coaching_is_confirmed_in_spanish_for_a_spanish_speaking_therapist(
    live, therapist, client_as
):
    speaks("es", therapist)
    client = client_as(therapist)
    url = reverse("therapists:coach", args=[live.public_id])
    console = client.get(reverse("therapists:console", args=[live.public_id])).content.decode()
    sent = {"text": "Respira", "to": "", "token": page_token(console, url)}
    both = client.post(url, sent, HTTP_HX_REQUEST="true")
    assert "Enviado a los dos miembros de la pareja." in text_of(both)
    sent = {"text": "Despacio", "to": "a", "token": page_token(both.content.decode(), url)}
    alone = client.post(url, sent, HTTP_HX_REQUEST="true")
    assert "Enviado en privado a Alex." in text_of(alone)
    empty = client.post(url, {"text": "", "to": ""}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 422 and "Escribe primero un mensaje breve." in text_of(empty)


def test_a_links_end_reasons_are_shown_in_the_active_language():
    with translation.override("es"):
        assert str(TherapistLink.EndReason.WITHDRAWN.label) == "Consentimiento retirado"
        assert str(TherapistLink.Status.PENDING.label) == "Esperando el consentimiento"
    assert str(TherapistLink.EndReason.WITHDRAWN.label) == "Consent withdrawn"


# --- the partners' side --------------------------------------------------------------------------


def test_a_spanish_speaking_partner_sees_their_therapist_section_in_spanish(
    access_since, alex, client_as
):
    speaks("es", alex)
    page = text_of(client_as(alex).get(reverse("home")))
    assert "Tu terapeuta" in page
    assert "Dr. Rivera (terapeuta) tiene acceso desde el 3 de noviembre de 2026" in page
    assert "Retirar el consentimiento" in page
    assert "Your therapist" not in page


def test_a_spanish_speaking_partners_messages_are_in_spanish(pair, alex, client_as):
    speaks("es", alex)
    client = client_as(alex)
    page = text_of(client.post(reverse("therapists:code_enter"), {"code": ""}, follow=True))
    assert "Escribe el código que te dio tu terapeuta." in page
    page = text_of(
        client.post(reverse("therapists:code_enter"), {"code": "ZZZZZ-ZZZZZ"}, follow=True)
    )
    assert "Ese código no es válido." in page


# --- the invitation email ------------------------------------------------------------------------


def invite(inviter, email: str, capture) -> mail.EmailMessage:
    mail.outbox.clear()
    with capture(execute=True):
        therapist_services.therapist_invite(user=inviter, email=email, token=form_token())
    (message,) = mail.outbox
    return message


SPANISH_SUBJECT = "[Imago] Alex te invita a facilitar sus diálogos"
ENGLISH_SUBJECT = "[Imago] Alex invites you to facilitate their dialogues"


def test_an_invitation_to_an_address_without_an_account_goes_in_the_inviters_language(
    pair, alex, django_capture_on_commit_callbacks
):
    speaks("es", alex)
    assert not get_user_model().objects.filter(email="dr.nueva@example.com").exists()
    assert invite(alex, "dr.nueva@example.com", django_capture_on_commit_callbacks).subject == (
        SPANISH_SUBJECT
    )


def test_an_invitation_to_an_account_goes_in_its_owners_language(
    pair, alex, django_capture_on_commit_callbacks
):
    speaks("es", alex)  # the inviter speaks Spanish; the therapist has no language of their own
    TherapistFactory(email="dr.lee@example.com", display_name="Dr. Lee")
    assert invite(alex, "dr.lee@example.com", django_capture_on_commit_callbacks).subject == (
        ENGLISH_SUBJECT
    )
    TherapistFactory(email="dra.ruiz@example.com", display_name="Dra. Ruiz", language="es")
    speaks("", alex)
    assert invite(alex, "dra.ruiz@example.com", django_capture_on_commit_callbacks).subject == (
        SPANISH_SUBJECT
    )


def test_an_invitation_is_in_english_by_default(pair, alex, django_capture_on_commit_callbacks):
    message = invite(alex, "dr.new@example.com", django_capture_on_commit_callbacks)
    assert message.subject == ENGLISH_SUBJECT
    assert "/therapist/" in message.body
