"""A session a therapist booked has no topic anyone wrote: its title ("Session with Dr
Rivera") is phrased when read, in the reader's language (DialogueSession.title). Rows written
before stored that phrase as the topic, in the first partner's language: empty them. A topic
that is not exactly the phrase (in a language offered when this was written) stays."""

from django.db import migrations

MAX_TOPIC = 200
# The phrase as it was stored, in each language then offered (frozen: the catalogue may change).
STORED_PHRASES = ("Session with %(name)s", "Sesión con %(name)s")


def _booked(apps):
    """(session, its therapist's name) for each booked session (reading only the columns
    needed: other apps' tables may be at a later state)."""
    DialogueSession = apps.get_model("dialogues", "DialogueSession")
    User = apps.get_model("couples", "User")
    rows = DialogueSession.objects.filter(scheduled_by__isnull=False).only(
        "pk", "topic", "scheduled_by_id"
    )
    ids = {s.scheduled_by_id for s in rows}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "display_name"))
    return [(s, names.get(s.scheduled_by_id, "")) for s in rows]


def empty_booked_titles(apps, schema_editor):
    for session, name in _booked(apps):
        if session.topic in {(p % {"name": name})[:MAX_TOPIC] for p in STORED_PHRASES}:
            session.topic = ""
            session.save(update_fields=["topic"])


def name_booked_titles(apps, schema_editor):
    """Back to a stored phrase, in English (the language it was stored in is not kept)."""
    for session, name in _booked(apps):
        if not session.topic:
            session.topic = (STORED_PHRASES[0] % {"name": name})[:MAX_TOPIC]
            session.save(update_fields=["topic"])


class Migration(migrations.Migration):
    dependencies = [
        ("dialogues", "0009_alter_dialoguesession_created_at_and_more"),
    ]

    operations = [
        migrations.RunPython(empty_booked_titles, name_booked_titles),
    ]
