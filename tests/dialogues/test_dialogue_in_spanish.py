"""The dialogue in each partner's own language: the page, its pushed fragments, the start
page, the transcript, refusals and emails in Spanish for a partner whose language is "es",
while the other partner (the site's default) reads the same dialogue in English — and what
each one wrote is shown as written, marked with its author's language."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse
from django.utils import translation

from couples.models import User
from dialogues import push, reminders, selectors, services
from dialogues.models import Reminder
from dialogues.services import DialogueError
from live import clock
from tests.helpers import move

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def spanish_sam(sam: User) -> User:
    sam.language = "es"
    sam.save()
    return sam


@pytest.fixture
def held_clock():
    clock.clock_set(NOW)
    yield
    clock.clock_set(None)


def url(name, session):
    return reverse(f"dialogues:{name}", args=[session.public_id])


def begun(dialogue, alex, sam):
    """Sam accepted; Alex sent the first message; now it is Sam's move."""
    move(dialogue, sam, "accept_now")
    return move(dialogue, alex, "send", text="I feel unheard on Sundays.")


def test_the_dialogue_page_is_in_spanish_for_a_spanish_speaker(
    client_as, dialogue, alex, spanish_sam
):
    body = client_as("sam").get(url("detail", dialogue)).content.decode()
    assert "Acuerdos básicos" in body
    assert "Conectando…" in body
    assert 'data-connected="Conectado"' in body
    assert 'data-many="Mostrar los {n} pasos anteriores"' in body
    assert "Ground rules" not in body and "Connecting…" not in body


def test_the_dialogue_page_stays_in_english_by_default(client_as, dialogue, alex, spanish_sam):
    body = client_as("alex").get(url("detail", dialogue)).content.decode()
    assert "Ground rules" in body
    assert 'data-connected="Connected"' in body
    assert 'data-one="Show 1 earlier step"' in body
    assert "Acuerdos básicos" not in body


def test_the_scripts_texts_come_translated_from_the_page(client_as, dialogue, alex, spanish_sam):
    """The countdown formats and the tab title/notification the script shows."""
    begun(dialogue, alex, spanish_sam)
    body = client_as("sam").get(url("detail", dialogue)).content.decode()
    assert 'data-your-move-title="● Te toca — Imago"' in body
    assert 'data-your-move-body="Te toca: {step}."' in body
    assert 'data-disconnected="Desconectado.' in body


def test_what_each_partner_wrote_carries_its_authors_language(
    client_as, dialogue, alex, spanish_sam
):
    begun(dialogue, alex, spanish_sam)
    move(dialogue, spanish_sam, "mirror", text="Te sientes ignorado los domingos.")
    for who in ("alex", "sam"):
        body = client_as(who).get(url("detail", dialogue)).content.decode()
        assert re.search(
            r'<blockquote class="turn-text" lang="es">Te sientes ignorado los domingos\.', body
        )
        assert re.search(
            r'<blockquote class="turn-text" lang="en-gb">I feel unheard on Sundays\.', body
        )
        assert '<h1 class="topic" lang="en-gb">Sunday mornings</h1>' in body


def test_a_snapshot_is_rendered_in_each_viewers_language(dialogue, alex, spanish_sam):
    begun(dialogue, alex, spanish_sam)
    with translation.override("en"):  # whatever the socket's thread holds
        for_sam = push.render_snapshot(public_id=dialogue.public_id, user=spanish_sam)
        for_alex = push.render_snapshot(public_id=dialogue.public_id, user=alex)
    assert for_sam is not None and for_alex is not None
    assert "Te toca" in for_sam.html and "La conversación hasta ahora" in for_sam.html
    assert "Conversation so far" not in for_sam.html
    assert "Conversation so far" in for_alex.html and "Te toca" not in for_alex.html
    assert "Le toca a Sam" not in for_alex.html  # Alex reads "Sam's move"
    assert "Sam&#x27;s move" in for_alex.html or "Sam's move" in for_alex.html


def test_an_update_is_rendered_in_each_viewers_language(dialogue, alex, spanish_sam):
    result = begun(dialogue, alex, spanish_sam)
    after = result.session.seq - 1
    with translation.override("en"):
        for_sam = push.render_update(
            public_id=dialogue.public_id, user=spanish_sam, after=after, panel_key=""
        )
        for_alex = push.render_update(
            public_id=dialogue.public_id, user=alex, after=after, panel_key=""
        )
    assert for_sam is not None and for_alex is not None
    assert "Te toca" in for_sam.html and "Your move" not in for_sam.html
    assert "Le toca a Sam" not in for_alex.html and "Sam" in for_alex.html
    assert 'lang="en-gb">I feel unheard on Sundays.' in for_sam.html


def test_a_pushed_change_gives_each_partner_their_own_language(dialogue, alex, spanish_sam):
    move(dialogue, spanish_sam, "accept_now")
    dialogue.refresh_from_db()
    result = move(dialogue, alex, "send", text="I feel unheard on Sundays.")
    with translation.override("en"):
        fragments = push.render_change(session=result.session, turn=result.turn)
    slot_of_sam = result.session.slot_of(spanish_sam)
    slot_of_alex = result.session.slot_of(alex)
    assert fragments[slot_of_sam]["lang"] == "es"
    for_sam = fragments[slot_of_sam]["html"] + fragments[slot_of_sam]["panel"]
    for_alex = fragments[slot_of_alex]["html"] + fragments[slot_of_alex]["panel"]
    assert "Te toca" in for_sam and "Your move" not in for_sam
    assert "Te toca" not in for_alex
    assert 'lang="en-gb">I feel unheard on Sundays.' in for_sam
    # Not only the templates' words: the sentences the context builds (what Alex did, the
    # stems, the waiting text) are Sam's language too, though the step came from Alex's.
    from tests.imago_site.test_spanish_everywhere import english_in

    written = ["I feel unheard on Sundays.", alex.display_name, spanish_sam.display_name]
    assert english_in(for_sam, written) == []


def test_the_start_page_is_in_spanish(client_as, pair, alex, spanish_sam):
    body = client_as("sam").get(reverse("dialogues:new")).content.decode()
    assert "Empezar un diálogo con Alex" in body
    assert "¿De qué te gustaría hablar?" in body
    assert "Pedirle a Alex que hablen" in body
    english = client_as("alex").get(reverse("dialogues:new")).content.decode()
    assert "Start a dialogue with Sam" in english
    assert "What would you like to talk about?" in english


def test_the_transcript_is_in_spanish(client_as, dialogue, alex, spanish_sam):
    begun(dialogue, alex, spanish_sam)
    body = client_as("sam").get(url("transcript", dialogue)).content.decode()
    assert "Volver al inicio" in body and "Ir al diálogo en curso" in body
    assert "Habla: <strong>Alex</strong>" in body
    assert "Escucha: <strong>Tú</strong>" in body
    assert 'lang="en-gb">I feel unheard on Sundays.' in body
    english = client_as("alex").get(url("transcript", dialogue)).content.decode()
    assert "Sending: <strong>You</strong>" in english and "Back home" in english


def test_a_refusal_is_in_the_language_it_was_raised_in(dialogue, spanish_sam):
    with translation.override("es"), pytest.raises(DialogueError) as refused:
        services.dialogue_start(user=spanish_sam, kind="intentional", topic="Otra cosa")
    with translation.override("en"):  # read later, in another language: it stays as raised
        assert refused.value.message == (
            "Ya tienes un diálogo en curso. Complétalo o termínalo antes de empezar otro."
        )
    with translation.override("en"), pytest.raises(DialogueError) as english:
        services.dialogue_start(user=spanish_sam, kind="intentional", topic="Another thing")
    assert english.value.message.startswith("You already have a dialogue in progress.")


def your_move_email(session, person):
    reminder = Reminder.objects.create(
        session=session,
        person=person,
        kind=Reminder.Kind.YOUR_MOVE,
        due_at=clock.now(),
        planned_for=f"step:{session.step_seq}",
    )
    with translation.override("en"):  # the sender's thread: the recipient's language wins
        return reminders.reminder_email(reminder)


def test_the_your_move_emails_are_in_the_recipients_language(dialogue, alex, spanish_sam):
    asked = your_move_email(dialogue, spanish_sam)
    assert asked.subject == "[Imago] A Alex le gustaría hablar"
    assert asked.body.startswith("Hola, Sam:")
    assert "Dile si ahora es buen momento o propón otro." in asked.body
    begun(dialogue, alex, spanish_sam)
    dialogue.refresh_from_db()
    message = your_move_email(dialogue, spanish_sam)
    assert message.subject == "[Imago] Te toca"
    assert "Te toca en tu" in message.body and "con Alex." in message.body
    assert "It's your move" not in message.body
    move(dialogue, spanish_sam, "mirror", text="Te sientes ignorado.")
    dialogue.refresh_from_db()
    english = your_move_email(dialogue, alex)
    assert english.subject == "[Imago] It's your move"
    assert english.body.startswith("Hello Alex,")


def test_the_appointment_and_reminder_emails_are_in_the_recipients_language(
    held_clock, dialogue, alex, spanish_sam
):
    spanish_sam.time_zone = "Europe/Madrid"
    spanish_sam.save()
    move(dialogue, spanish_sam, "propose_time", time="20:00")
    dialogue.refresh_from_db()
    planned = Reminder.objects.get(kind=Reminder.Kind.SCHEDULED, person=spanish_sam)
    with translation.override("en"):
        message = reminders.reminder_email(planned)
    assert message is not None
    # 20:00 in Madrid on Tuesday 1 December, with Spanish day and month names.
    assert message.subject == "[Imago] Diálogo con Alex: mar 1 de dic, 20:00 (Europe/Madrid)"
    assert "Se abrirá solo a esa hora" in message.body
    before = Reminder.objects.get(kind=Reminder.Kind.REMINDER, person=spanish_sam)
    clock.clock_set(NOW + timedelta(minutes=45))  # 20:00 in Madrid is 19:00 UTC
    with translation.override("en"):
        reminder = reminders.reminder_email(before)
    assert reminder is not None
    assert reminder.subject == "[Imago] En 15 minutos: tu diálogo con Alex"
    for_alex = Reminder.objects.get(kind=Reminder.Kind.SCHEDULED, person=alex)
    with translation.override("es"):
        english = reminders.reminder_email(for_alex)
    assert english is not None
    assert english.subject.startswith("[Imago] Dialogue with Sam: Tue 1 Dec")


def test_the_calendar_feed_is_in_its_owners_language(
    held_clock, link, pair, therapist, alex, spanish_sam, client_as
):
    """A calendar app fetches the feed without the person's cookie or browser language."""
    from couples import services as couple_services
    from therapists import services as therapist_services

    therapist_services.facilitated_book(
        therapist=therapist,
        couple=pair,
        kind="intentional",
        first=spanish_sam.public_id,
        day="2026-12-03",
        time="13:00",
        minutes=60,
    )
    token = couple_services.calendar_feed_new(user=spanish_sam)
    feed = client_as(None).get(f"/calendar/{token}.ics", HTTP_ACCEPT_LANGUAGE="en")
    event = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")[0]
    assert str(event["summary"]).endswith("como terapeuta")
    assert str(event["description"]).startswith("Abre el diálogo: ")
    english = client_as(None).get(
        f"/calendar/{couple_services.calendar_feed_new(user=alex)}.ics",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    event = icalendar.Calendar.from_ical(english.content).walk("VEVENT")[0]
    assert str(event["description"]).startswith("Open the dialogue: ")


def test_what_you_did_is_said_to_you_and_what_they_did_of_them(dialogue, alex, spanish_sam):
    """Spanish conjugates for "you": Sam reads "Tú reflejaste", Alex (in Spanish too) reads
    "Sam reflejó"; English says "You mirrored" / "Sam mirrored"."""
    from dialogues import protocol, selectors
    from dialogues.models import Turn

    begun(dialogue, alex, spanish_sam)
    move(dialogue, spanish_sam, "mirror", text="Te sientes sin escuchar los domingos.")
    turn = Turn.objects.get(session=dialogue, move="mirror")
    mirror = protocol.STEPS[turn.step].move("mirror")
    with translation.override("es"):
        mine = selectors.turn_view(turn, viewer=spanish_sam)
        theirs = selectors.turn_view(turn, viewer=alex)
        assert (mine.actor_name, mine.phrase) == ("Tú", mirror.my_phrase)
        assert theirs.phrase == mirror.phrase
        assert mine.phrase != theirs.phrase
    with translation.override("en-gb"):
        assert selectors.turn_view(turn, viewer=spanish_sam).phrase == "mirrored"


def test_a_booked_sessions_title_is_in_each_readers_language(
    pair, alex, spanish_sam, link, therapist, client_as
):
    """No one wrote a booked session's title: it is stored as meaning (no topic, booked by the
    therapist) and phrased for whoever reads it, not in the language of the partner who
    starts."""
    from therapists import services as therapist_services

    day = (datetime.now(ZoneInfo("UTC")) + timedelta(days=3)).date().isoformat()
    booked = therapist_services.facilitated_book(
        therapist=therapist,
        couple=pair,
        day=day,
        time="18:00",
        minutes=60,
        first=spanish_sam.public_id,
    )
    assert booked.topic == ""
    with translation.override("es"):
        assert booked.title == f"Sesión con {therapist.display_name}"
    with translation.override("en-gb"):
        assert booked.title == f"Session with {therapist.display_name}"
    url = f"/dialogues/{booked.public_id}/"
    english = client_as(alex).get(url).content.decode()
    assert f'<h1 class="topic">Session with {therapist.display_name}</h1>' in english
    assert "Sesión con" not in english
    spanish = client_as(spanish_sam).get(url).content.decode()
    assert f'<h1 class="topic">Sesión con {therapist.display_name}</h1>' in spanish
    console = client_as(therapist).get(f"/therapist/dialogues/{booked.public_id}/")
    assert f"Session with {therapist.display_name}" in console.content.decode()
    with translation.override("es"):
        (exported,) = selectors.dialogues_export(user=spanish_sam)
    assert exported["topic"] == f"Sesión con {therapist.display_name}"


def test_a_said_aloud_step_reads_in_spanish(client_as, pair, alex, spanish_sam):
    from tests.helpers import play, text_of

    session = services.dialogue_start(user=alex, kind="intentional", topic="Domingos", aloud=True)
    play(session, [(spanish_sam, "accept_now", {}), (alex, "send", {})])
    page = text_of(
        client_as(spanish_sam).get(reverse("dialogues:detail", args=[session.public_id]))
    )
    assert "Dilo en voz alta:" in page and "Ya lo he dicho" in page
    assert "Escríbelo también (opcional)" in page and "En voz alta" in page
    play(session, [(spanish_sam, "mirror", {})])
    transcript = text_of(
        client_as(spanish_sam).get(reverse("dialogues:transcript", args=[session.public_id]))
    )
    assert "reflejaste, en voz alta." in transcript
