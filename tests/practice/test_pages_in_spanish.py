"""The practice pages speak the viewer's language: every page, the home page's section, the
progress charts (titles, tooltips, dates, numbers), forms' and services' errors and the
messages after a write are in Spanish for a partner whose language is "es", and in English
for everyone else. What people wrote stays as they wrote it; an erasure note is shown in the
viewer's language."""

from __future__ import annotations

import json
import re

import pytest
from django.http import HttpResponse
from django.utils import timezone, translation

from practice import selectors, services
from practice.models import Agreement, ChildhoodReflection
from tests.helpers import form_token, text_of
from tests.practice.conftest import REQUEST, SAM_ITEM
from tests.practice.test_progress import closed_dialogue

pytestmark = pytest.mark.django_db

# Each page: (url, a Spanish text it shows, the English text it shows instead).
PAGES = [
    ("/between/caring/", "Gestos de cariño", "Caring behaviours"),
    ("/between/caring/", "Siento tu cariño cuando …", "I feel loved when you …"),
    ("/between/exits/", "Cerrar salidas", "Closing exits"),
    ("/between/exits/", "Una de mis salidas", "An exit of mine"),
    ("/between/reflection/", "Tu reflexión sobre la infancia", "Your childhood reflection"),
    (
        "/between/reflection/",
        "Lo bueno de las personas que te criaron",
        "The good in the people who raised you",
    ),
    ("/between/progress/", "Cuánto sintieron que se les escuchaba", "How heard you felt"),
    ("/between/progress/", "Gestos de cariño ofrecidos", "Caring behaviours given"),
]
SPANISH_MONTHS = [
    "ene",
    "feb",
    "mar",
    "abr",
    "may",
    "jun",
    "jul",
    "ago",
    "sep",
    "oct",
    "nov",
    "dic",
]


def read(response) -> str:
    """The page's text as a reader sees it: a span marking the language of someone's words
    is not a gap in the sentence (text_of reads every tag as a space)."""
    return text_of(HttpResponse(re.sub(rb"</?span\b[^>]*>", b"", response.content)))


def speaks_spanish(*people) -> None:
    for person in people:
        person.language = "es"
        person.save()


@pytest.mark.parametrize(("url", "spanish", "english"), PAGES)
def test_each_practice_page_is_in_spanish_for_a_spanish_speaker(
    client_as, pair, alex, url, spanish, english
):
    speaks_spanish(alex)
    response = client_as("alex").get(url)
    assert response.status_code == 200
    text = text_of(response)
    assert spanish in text and english not in text


@pytest.mark.parametrize(("url", "spanish", "english"), PAGES)
def test_each_practice_page_stays_in_english_by_default(client_as, pair, url, spanish, english):
    text = text_of(client_as("alex").get(url))
    assert english in text and spanish not in text


def test_the_home_pages_practice_section_is_in_each_partners_language(
    client_as, alex, sam, agreement
):
    speaks_spanish(alex)
    alex_home = text_of(client_as("alex").get("/"))
    sam_home = read(client_as("sam").get("/"))
    # Alex asked for it (Spanish), Sam agreed to it (English); the request is as Alex wrote it.
    assert f"Sam se comprometió a: «{REQUEST}»" in alex_home
    assert "Envía a Sam un mensaje de aprecio de una línea" in alex_home
    assert "Entre diálogos" in alex_home and "Between dialogues" not in alex_home
    assert f"You agreed to: “{REQUEST}”" in sam_home and "Mark today done" in sam_home
    assert "Entre diálogos" not in sam_home


def test_the_home_sections_dates_and_plurals_are_spanish(client_as, alex, sam, agreement):
    speaks_spanish(sam)
    services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)
    text = text_of(client_as("sam").get("/"))
    month = SPANISH_MONTHS[agreement.ends_on.month - 1]
    assert f"durante 14 días, hasta el {agreement.ends_on.day} {month}." in text
    assert "Cumplido 1 de 1 día hasta ahora." in text and "Cumplido hoy" in text


def test_the_progress_charts_are_in_spanish_with_spanish_dates(client_as, pair, alex, sam):
    speaks_spanish(alex)
    session = closed_dialogue(alex, sam, (3, 5))
    page = client_as("alex").get("/between/progress/").content.decode()
    day = timezone.localtime(session.created_at).date()
    label = f"{day.day} {SPANISH_MONTHS[day.month - 1]}"
    # The dots' tooltips, the axis' labels, the charts' titles and the table beside them.
    assert f"Alex, {label}: 3 de 5</title>" in page and f"Sam, {label}: 5 de 5</title>" in page
    assert f">{label}</text>" in page
    assert "Cuánto sintió cada miembro de la pareja que se le escuchaba" in page
    assert "La tabla que sigue da todos los valores." in page
    assert "3 de 5" in text_of(client_as("alex").get("/between/progress/"))
    assert " of 5" not in page
    # SVG coordinates are never localized ("12,5" would break the drawing).
    coordinates = re.findall(r'\b(?:cx|cy|x|y|width|height|y1|y2)="([^"]+)"', page)
    assert coordinates and all("," not in value for value in coordinates)


def test_the_progress_bars_speak_spanish(client_as, pair, alex, sam, sam_shared):
    speaks_spanish(alex)
    services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    page = client_as("alex").get("/between/progress/").content.decode()
    assert ": Alex 1</title>" in page
    assert "Gestos de cariño ofrecidos cada semana, por miembro de la pareja" in page


def test_the_therapists_sparkline_sentence_is_spanish_with_spanish_decimals(
    client_as, pair, link, alex, sam, therapist
):
    speaks_spanish(therapist)
    closed_dialogue(alex, sam, (2, 3))
    closed_dialogue(alex, sam, (4, 5))
    page = client_as("therapist").get("/therapist/").content.decode()
    assert "Escucha percibida en los últimos 2 diálogos, cada uno sobre 5: 2,5; 4,5." in page


def test_the_sparkline_sentence_counts_one_dialogue():
    with translation.override("es"):
        assert (
            translation.ngettext(
                "Felt heard in the last dialogue: %(ratings)s of 5.",
                "Felt heard in the last %(count)s dialogues, each out of 5: %(ratings)s.",
                1,
            )
            % {"count": 1, "ratings": "4"}
            == "Escucha percibida en el último diálogo: 4 de 5."
        )


def test_a_forms_errors_are_in_spanish(client_as, pair, alex):
    speaks_spanish(alex)
    response = client_as("alex").post("/between/caring/items/", {"token": form_token(), "text": ""})
    assert response.status_code == 400
    text = text_of(response)
    assert "Escribe una cosa concreta." in text and "Este campo es obligatorio." in text
    response = client_as("alex").post(
        "/between/exits/add/", {"token": form_token(), "text": "x" * 201}
    )
    assert response.status_code == 400
    assert "Nombra la salida en pocas palabras." in text_of(response)


def test_a_forms_errors_stay_in_english_by_default(client_as, pair):
    response = client_as("alex").post("/between/caring/items/", {"token": form_token(), "text": ""})
    text = text_of(response)
    assert "Please write one specific thing." in text and "This field is required." in text


def test_a_services_refusal_is_in_spanish(client_as, pair, alex, sam, agreement):
    speaks_spanish(alex, sam)
    response = client_as("sam").post(
        f"/between/agreements/{agreement.public_id}/days/", {"days": "0"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Elige un número de días entre 1 y 90." in text_of(response)
    exit_ = services.exit_add(user=alex, text="el móvil en la cena", token=form_token())
    response = client_as("alex").post(
        f"/between/exits/{exit_.public_id}/close/", {"how": "shut", "days": "0"}
    )
    assert response.status_code == 400 and "Elige entre 1 y 90 días." in text_of(response)


def test_the_message_after_a_write_is_in_spanish(client_as, pair, alex, sam):
    speaks_spanish(alex)
    services.caring_item_add(user=alex, text="me preguntas por mi día", token=form_token())
    response = client_as("alex").post("/between/caring/share/", follow=True)
    assert "Compartiste tu lista con Sam." in text_of(response)
    response = client_as("alex").post(
        "/between/caring/items/", {"token": form_token(), "text": "me escuchas"}, follow=True
    )
    assert "Se añadió a tu lista." in text_of(response)


def test_an_exit_closed_in_spanish_is_agreed_in_the_givers_words(client_as, pair, alex, sam):
    speaks_spanish(alex)
    exit_ = services.exit_add(user=alex, text="el móvil en la cena", token=form_token())
    response = client_as("alex").post(
        f"/between/exits/{exit_.public_id}/close/", {"how": "lessen", "days": "7"}, follow=True
    )
    assert "Acordado. Sam lo ve y puede enviarte un mensaje de aprecio." in text_of(response)
    agreed = Agreement.objects.get(exit=exit_)
    assert (agreed.pledge, agreed.text) == ("lessen", "el móvil en la cena")  # meaning, words
    assert "Te comprometiste a reducir mi salida: el móvil en la cena" in text_of(response)


def test_an_exit_closed_in_spanish_reads_in_english_for_the_english_partner(
    client_as, pair, alex, sam
):
    """Mara (English) reads what Jonah (Spanish) agreed to in English, around his own words,
    which stay as he wrote them and are marked as Spanish."""
    speaks_spanish(alex)
    exit_ = services.exit_add(user=alex, text="el móvil en la cena", token=form_token())
    client_as("alex").post(f"/between/exits/{exit_.public_id}/close/", {"how": "shut", "days": "7"})
    home = client_as("sam").get("/")
    assert "Alex agreed to: “close my exit: el móvil en la cena”" in read(home)
    assert "cerrar mi salida" not in home.content.decode()
    assert '<span lang="es">el móvil en la cena</span>' in home.content.decode()
    exits = client_as("sam").get("/between/exits/")
    assert "Alex agreed to close my exit: el móvil en la cena" in read(exits)
    progress = client_as("sam").get("/between/progress/")
    assert "Alex agreed to: “close my exit: el móvil en la cena”" in read(progress)
    # And the giver reads it in Spanish.
    assert "«cerrar mi salida: el móvil en la cena»" in read(client_as("alex").get("/"))


def test_an_exit_closed_in_english_reads_in_spanish_for_the_spanish_partner(
    client_as, pair, alex, sam
):
    speaks_spanish(alex)
    exit_ = services.exit_add(user=sam, text="the phone at dinner", token=form_token())
    client_as("sam").post(
        f"/between/exits/{exit_.public_id}/close/", {"how": "lessen", "days": "7"}
    )
    home = client_as("alex").get("/")
    assert "«reducir mi salida: the phone at dinner»" in read(home)
    assert "reduce my exit" not in home.content.decode()
    assert '<span lang="en-gb">the phone at dinner</span>' in home.content.decode()
    assert "Sam se comprometió a reducir mi salida: the phone at dinner" in read(
        client_as("alex").get("/between/exits/")
    )


def test_a_therapist_reads_an_exit_closed_in_spanish_in_their_own_language(
    client_as, link, therapist, alex, sam
):
    speaks_spanish(alex)
    exit_ = services.exit_add(user=alex, text="el móvil en la cena", token=form_token())
    services.exit_close(user=alex, exit_public_id=exit_.public_id, how="shut", days=7)
    page = client_as(therapist).get(f"/therapist/couples/{link.couple.public_id}/")
    assert "“close my exit: el móvil en la cena”" in read(page)
    assert '<span lang="es">el móvil en la cena</span>' in page.content.decode()


def test_the_export_keeps_the_words_and_phrases_the_pledge_in_the_readers_language(pair, alex, sam):
    speaks_spanish(alex)
    exit_ = services.exit_add(user=alex, text="el móvil en la cena", token=form_token())
    services.exit_close(user=alex, exit_public_id=exit_.public_id, how="shut", days=7)
    with translation.override("en"):
        (row,) = selectors.agreements_export(user=sam)
    assert (row["text"], row["pledge"]) == ("el móvil en la cena", "shut")
    assert row["agreed_to"] == "close my exit: el móvil en la cena"
    with translation.override("es"):
        (row,) = selectors.agreements_export(user=alex)
    assert row["agreed_to"] == "cerrar mi salida: el móvil en la cena"


def test_an_erasure_note_is_shown_in_the_viewers_language(client_as, alex, sam, agreement):
    speaks_spanish(sam)
    Agreement.objects.filter(pk=agreement.pk).update(text=services.REMOVED_NOTE)
    assert "«(eliminado por quien lo escribió)»" in text_of(client_as("sam").get("/"))
    assert f"“{services.REMOVED_NOTE}”" in text_of(client_as("alex").get("/"))


def test_what_a_partner_wrote_is_shown_as_written(client_as, pair, alex, sam_shared):
    speaks_spanish(alex)
    text = text_of(client_as("alex").get("/between/caring/"))
    assert "Sam siente tu cariño cuando:" in text and f"«{SAM_ITEM}»" in text


def test_the_reflection_shares_and_its_questions_follow_the_readers_language(
    client_as, pair, alex, sam
):
    speaks_spanish(sam)
    services.reflection_save(user=alex, answers={"wanted_most": "to be heard"})
    response = client_as("alex").post(
        "/between/reflection/share/", {"audience": "partner", "shared": "1"}, follow=True
    )
    assert "Shared with Sam." in text_of(response)
    text = text_of(client_as("sam").get("/between/reflection/"))
    assert "Lo que Alex comparte contigo" in text
    assert "Lo que más deseabas en tu infancia y no recibiste" in text and "to be heard" in text


def test_the_reflection_export_holds_plain_strings(pair, alex):
    services.reflection_save(user=alex, answers={"reactions": "went quiet"})
    with translation.override("es"):
        exported = selectors.reflection_export(user=alex)
    assert json.loads(json.dumps(exported))[0]["answers"] == [
        {"question": "Cómo reaccionabas entonces", "answer": "went quiet"}
    ]
    assert ChildhoodReflection.objects.get().answers == {"reactions": "went quiet"}
